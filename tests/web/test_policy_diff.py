"""The diff between any two versions of a policy document in the web console, unified or side by side, with the
policy text shown as text."""

from __future__ import annotations

import html

from tests.web.conftest import EDIT, Console, sign_in

DOC = "customer-service-policy"
BANKS = "Banks may take a further 3 to 5 days to show the money"


def _page(console: Console, query: str) -> tuple[int, str]:
    browser = console.client()
    sign_in(browser, "dana.ellis")
    response = browser.get(f"/policies/{DOC}/diff{query}")
    return response.status_code, html.unescape(response.get_data(as_text=True))


def test_two_published_versions_unified_and_side_by_side(console: Console) -> None:
    status, page = _page(console, "?from=1&to=2")
    assert status == 200 and "2 section(s) changed" in page
    assert f"+- The customer is emailed when the refund is issued. {BANKS}" in page
    assert '<span class="removed">-- The customer is emailed when the refund is issued.</span>' in page
    status, split = _page(console, "?from=1&to=2&view=split")
    assert status == 200 and '<tr class="changed">' in split
    assert f'<td class="new">- The customer is emailed when the refund is issued. {BANKS}' in split
    backwards = _page(console, "?from=2&to=1")[1]
    assert f"-- The customer is emailed when the refund is issued. {BANKS}" in backwards
    assert "No changes between these two." in _page(console, "?from=2&to=2")[1]


def test_default_compares_the_published_version_with_the_policy_file(console: Console) -> None:
    assert "No changes between these two." in _page(console, "")[1]
    policy = console.folder / "policies" / f"{DOC}.md"
    policy.write_text(policy.read_text(encoding="utf-8").replace(*EDIT), encoding="utf-8")
    page = _page(console, "")[1]
    line = "- **Social media messaging:** direct messages on Facebook, Instagram and X, and "
    assert "1 section(s) changed" in page and f"-{line}{EDIT[0]}" in page and f"+{line}{EDIT[1]}" in page


def test_a_version_that_does_not_exist_is_explained(console: Console) -> None:
    status, page = _page(console, "?from=7&to=2")
    assert status == 400 and "There is no version '7' to compare from: choose one of 1, 2 or the policy file." in page
    assert _page(console, "?from=1&to=abc")[0] == 400


def test_policy_text_with_html_is_escaped(console: Console) -> None:
    policy = console.folder / "policies" / f"{DOC}.md"
    hostile = "<script>alert(1)</script> and <b>bold</b>"
    policy.write_text(policy.read_text(encoding="utf-8").replace(EDIT[0], hostile), encoding="utf-8")
    for view in ("unified", "split"):
        browser = console.client()
        sign_in(browser, "dana.ellis")
        raw = browser.get(f"/policies/{DOC}/diff?from=2&to=file&view={view}").get_data(as_text=True)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw and "<script>" not in raw and "<b>" not in raw
