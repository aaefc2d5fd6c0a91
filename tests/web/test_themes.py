"""Themes in the web console: list, a theme's page, rename, merge and split through the same workflows as the
CLI's `themes` commands (same refusals, same audit log)."""

from __future__ import annotations

import html

from reviewbot.models import Theme
from tests.web.conftest import Console, post, sign_in


def _largest(console: Console, count: int) -> list[Theme]:
    from reviewbot.store.themes import active_themes

    with console.store.session() as session:
        return sorted(active_themes(session), key=lambda t: -t.size)[:count]


def _audit(console: Console, action: str) -> list[tuple[str, str]]:
    from reviewbot.store.review import audit_log

    with console.store.session() as session:
        return [(e.actor, e.detail) for e in audit_log(session, limit=200) if e.action == action]


def test_themes_list_and_page_show_every_active_theme(console: Console) -> None:
    browser = console.client()
    assert browser.get("/themes").status_code == 302  # signed-in people only
    sign_in(browser, "dana.ellis")
    listing = html.unescape(browser.get("/themes").get_data(as_text=True))
    largest = _largest(console, 3)
    assert all(f"{t.id}: {t.label}" in listing for t in largest)
    page = html.unescape(browser.get(f"/themes/{largest[0].id}").get_data(as_text=True))
    assert f"Most typical of {largest[0].size} items" in page and ", ".join(largest[0].terms) in page
    assert browser.get("/themes/999999").status_code == 404
    # beyond any integer column (SQLite and PostgreSQL refuse the comparison): not found, not a server error
    for path in ("/themes/99999999999999999999", "/tickets/99999999999999999999"):
        assert browser.get(path).status_code == 404


def test_rename_is_audited_and_kept_and_an_empty_name_is_refused(console: Console) -> None:
    theme = _largest(console, 1)[0]
    browser = console.client()
    sign_in(browser, "nina.kowalski")
    page = html.unescape(post(browser, f"/themes/{theme.id}/rename", {"label": "<i>Weekend</i> replies"}))
    assert f"theme {theme.id} is now '<i>Weekend</i> replies'" in page
    assert "<i>Weekend</i>" not in browser.get(f"/themes/{theme.id}").get_data(as_text=True)  # shown as text
    refused = post(browser, f"/themes/{theme.id}/rename", {"label": "  "})
    assert "a theme needs a name" in refused
    with console.store.session() as session:
        renamed = session.get(Theme, theme.id)
        assert renamed is not None and renamed.label == "<i>Weekend</i> replies" and renamed.label_pinned
    assert [actor for actor, _ in _audit(console, "theme_rename")] == ["nina.kowalski"]


def test_merge_folds_the_chosen_themes_in(console: Console) -> None:
    target, source = _largest(console, 2)
    browser = console.client()
    sign_in(browser, "dana.ellis")
    nothing = post(browser, f"/themes/{target.id}/merge", {})
    assert "name at least one theme to merge into the target" in nothing
    beyond = post(browser, f"/themes/{target.id}/merge", {"sources": "99999999999999999999"})
    assert "no active theme 99999999999999999999" in html.unescape(beyond)  # refused, not a server error
    page = post(browser, f"/themes/{target.id}/merge", {"sources": str(source.id)})
    assert f"merged 1 theme(s) into theme {target.id} ({target.size + source.size} items)" in page
    with console.store.session() as session:
        merged = session.get(Theme, source.id)
        assert merged is not None and merged.status == "merged" and merged.merged_into == target.id
    assert _audit(console, "theme_merge") == [("dana.ellis", f"themes {source.id} merged into {target.id}")]
    gone = html.unescape(browser.get(f"/themes/{source.id}").get_data(as_text=True))
    assert f"This theme is merged into\n  theme {target.id}" in gone or "This theme is merged" in gone


def test_split_divides_a_theme_and_a_bad_count_is_refused(console: Console) -> None:
    theme = _largest(console, 1)[0]
    browser = console.client()
    sign_in(browser, "dana.ellis")
    assert "a number of parts from 2 to 6" in post(browser, f"/themes/{theme.id}/split", {"into": "9"})
    page = post(browser, f"/themes/{theme.id}/split", {"into": "2"})
    assert f"theme {theme.id} split into themes {theme.id}, " in page
    assert [actor for actor, _ in _audit(console, "theme_split")] == ["dana.ellis"]


def test_a_nul_character_in_a_form_or_query_is_refused_not_a_server_error(console: Console) -> None:
    """PostgreSQL cannot store NUL: a theme name or dismissal reason holding one ended in "500 Internal Server
    Error" there. A browser never sends one; a crafted request gets a page saying what is wrong."""
    from tests.web.conftest import csrf, ticket_id

    theme = _largest(console, 1)[0]
    browser = console.client()
    sign_in(browser, "dana.ellis")
    number = ticket_id(console, "RB-5")
    for path, page, field in (
        (f"/themes/{theme.id}/rename", f"/themes/{theme.id}", "label"),
        (f"/tickets/{number}/dismiss", f"/tickets/{number}", "reason"),
    ):
        token = csrf(browser.get(page).get_data(as_text=True))
        response = browser.post(path, data={field: "late\x00refunds", "csrf_token": token})
        assert response.status_code == 400, path
        assert "holds a NUL character" in html.unescape(response.get_data(as_text=True))
    assert browser.get("/inbox?state=\x00").status_code == 400
    with console.store.session() as session:
        unchanged = session.get(Theme, theme.id)
        assert unchanged is not None and "refunds" not in unchanged.label
    assert _audit(console, "theme_rename") == []
