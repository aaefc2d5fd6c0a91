"""The web console through Flask's test client: signing in, every action going through the workflows with their
rules and audit log, and the security a browser relies on (CSRF, session, CSP, text rendered as text)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from reviewbot.errors import ConfigError
from tests.web.conftest import EDIT, PASSWORD, Console, csrf, post, set_web_toml, sign_in, ticket_id


def _state(console: Console, ref: str) -> str:
    from reviewbot.store.tickets import get_ticket

    with console.store.session() as session:
        found = get_ticket(session, ref)
        assert found is not None
        return found.state


def _open_tickets(console: Console, but: str) -> list[int]:
    from reviewbot.store.tickets import list_tickets

    with console.store.session() as session:
        return [t.id or 0 for t in list_tickets(session, "open") if t.tracker_ref != but]


def test_pages_need_a_session_and_a_right_password(console: Console) -> None:
    browser = console.client()
    assert browser.get("/tickets").headers["Location"].startswith("/sign-in")
    wrong = sign_in(browser, "nina.kowalski", "not the password")
    assert wrong.status_code == 401 and "Wrong name or password" in wrong.get_data(as_text=True)
    nobody = sign_in(browser, "mallory", PASSWORD)
    assert nobody.status_code == 401
    assert browser.get("/tickets").status_code == 302

    assert sign_in(browser, "nina.kowalski").status_code == 303
    inbox = browser.get("/tickets").get_data(as_text=True)
    assert "nina.kowalski" in inbox and "RB-5" in inbox


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r/x",
        "/\\evil.example",
        "https://evil.example",
        "/ /evil.example",
        "javascript:alert(1)",
    ],
)
def test_after_signing_in_next_never_leads_off_the_site(console: Console, target: str) -> None:
    # browsers drop tabs and newlines from a URL: "/<tab>/evil.example" became "//evil.example", another host;
    # "/<CR>/x" broke the response header (a 500)
    browser = console.client()
    page = browser.get("/sign-in", query_string={"next": target}).get_data(as_text=True)
    response = browser.post(
        "/sign-in",
        data={"person": "nina.kowalski", "password": PASSWORD, "csrf_token": csrf(page), "next": target},
    )
    assert response.status_code == 303 and response.headers["Location"] == "/tickets"


def test_after_signing_in_next_leads_to_the_page_asked_for(console: Console) -> None:
    browser = console.client()
    page = browser.get("/sign-in").get_data(as_text=True)
    data = {"person": "nina.kowalski", "password": PASSWORD, "csrf_token": csrf(page), "next": "/themes?sort=size"}
    assert browser.post("/sign-in", data=data).headers["Location"] == "/themes?sort=size"


def test_session_cookie_is_httponly_lax_and_secure_unless_plain_http_is_allowed(demo_folder: Path) -> None:
    from reviewbot.settings import load_settings
    from reviewbot.store import Store
    from reviewbot.web import create_app
    from reviewbot.web.auth import set_password

    settings = load_settings(demo_folder)
    store = Store(settings.db_url)
    set_password(store, settings, "nina.kowalski", PASSWORD, "dana.ellis")
    app = create_app(settings, store)
    browser = app.test_client()
    page = browser.get("/sign-in", base_url="https://localhost").get_data(as_text=True)
    response = browser.post(
        "/sign-in",
        data={"person": "nina.kowalski", "password": PASSWORD, "csrf_token": csrf(page)},
        base_url="https://localhost",
        headers={"Referer": "https://localhost/sign-in"},
    )
    cookie = response.headers["Set-Cookie"]
    assert "reviewbot_session=" in cookie and "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    store.dispose()


def test_the_session_secret_must_come_from_the_environment(demo_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reviewbot.settings import load_settings
    from reviewbot.store import Store
    from reviewbot.web import create_app

    monkeypatch.delenv("REVIEWBOT_WEB_SECRET")
    settings = load_settings(demo_folder)
    store = Store(settings.db_url)
    with pytest.raises(ConfigError, match="REVIEWBOT_WEB_SECRET is not set"):
        create_app(settings, store)
    monkeypatch.setenv("REVIEWBOT_WEB_SECRET", "short")
    with pytest.raises(ConfigError, match="shorter than 32"):
        create_app(settings, store)
    store.dispose()


def test_unknown_web_setting_is_a_config_error_with_its_line(demo_folder: Path) -> None:
    from reviewbot.settings import load_settings
    from reviewbot.web.config import web_options

    set_web_toml(demo_folder, "trusted_headr = 'X-User'")
    with pytest.raises(ConfigError) as caught:
        web_options(load_settings(demo_folder))
    assert "trusted_headr" in str(caught.value) and "reviewbot.toml:" in str(caught.value)


def test_every_page_has_a_strict_content_security_policy(console: Console) -> None:
    browser = console.client()
    for response in (browser.get("/sign-in"), browser.get("/static/style.css")):
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy
        assert response.headers["X-Frame-Options"] == "DENY"
    sign_in(browser, "dana.ellis")
    page = browser.get(f"/tickets/{ticket_id(console, 'RB-5')}")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "<script" not in page.get_data(as_text=True)  # no inline (nor any) script
    assert page.headers["Cache-Control"] == "no-store"


def test_post_without_csrf_token_or_session_is_refused(console: Console) -> None:
    number = ticket_id(console, "RB-5")
    stranger = console.client()
    assert stranger.post(f"/tickets/{number}/triage").status_code == 400  # no token
    page = stranger.get("/sign-in").get_data(as_text=True)
    assert stranger.post(f"/tickets/{number}/triage", data={"csrf_token": csrf(page)}).status_code == 401

    owner = console.client()
    sign_in(owner, "dana.ellis")
    refused = owner.post(f"/tickets/{number}/triage", data={"assignee": "nina.kowalski"})
    assert refused.status_code == 400 and "CSRF" in refused.get_data(as_text=True)
    forged = owner.post(f"/tickets/{number}/triage", data={"csrf_token": "forged"})
    assert forged.status_code == 400
    assert _state(console, "RB-5") == "open"  # nothing happened


def test_triage_move_dismiss_go_through_the_workflows_and_the_audit_log(console: Console) -> None:
    from reviewbot.store.review import audit_log

    owner = console.client()
    sign_in(owner, "dana.ellis")
    number = ticket_id(console, "RB-5")
    page = post(owner, f"/tickets/{number}/triage", {"assignee": "nina.kowalski"})
    assert "RB-5 is triaged and assigned to nina.kowalski" in page
    again = post(owner, f"/tickets/{number}/triage")
    assert "ticket RB-5 is triaged; it cannot become triaged" in html.unescape(again)  # the workflow's own words

    other, third = _open_tickets(console, but="RB-5")[:2]
    assert "is dismissed" in post(owner, f"/tickets/{other}/dismiss", {"reason": "covered by the FAQ"})
    no_reason = post(owner, f"/tickets/{third}/dismiss", {"reason": " "})
    assert "a dismissal needs a reason" in no_reason
    assert _state(console, str(other)) == "dismissed" and _state(console, str(third)) == "open"

    with console.store.session() as session:
        trail = audit_log(session, ticket_id=number)
    assert [(e.actor, e.action) for e in reversed(trail)][:2] == [
        ("dana.ellis", "transition"),
        ("dana.ellis", "assign"),
    ]


def test_move_to_another_section_by_its_owner_only(console: Console) -> None:
    from reviewbot.store.tickets import get_ticket

    number = ticket_id(console, "RB-5")
    target = {"target": "customer-service-policy:escalation-and-complaint-handling", "reason": "about complaints"}
    agent = console.client()
    sign_in(agent, "priya.n")
    refused = html.unescape(post(agent, f"/tickets/{number}/move", target))
    assert "priya.n may not move RB-5" in refused

    owner = console.client()
    sign_in(owner, "dana.ellis")
    page = html.unescape(post(owner, f"/tickets/{number}/move", target))
    assert "RB-5 moved from communication-channels to escalation-and-complaint-handling" in page
    with console.store.session() as session:
        moved = get_ticket(session, "RB-5")
        assert moved is not None and moved.section_id == "escalation-and-complaint-handling"


def test_an_approver_sees_no_sign_off_buttons_while_changes_are_requested(console: Console) -> None:
    number = ticket_id(console, "RB-5")
    owner, nina = console.client(), console.client()
    sign_in(owner, "dana.ellis")
    sign_in(nina, "nina.kowalski")
    post(owner, f"/tickets/{number}/triage", {"assignee": "nina.kowalski"})
    policy = console.folder / "policies" / "customer-service-policy.md"
    policy.write_text(policy.read_text(encoding="utf-8").replace(*EDIT), encoding="utf-8")
    post(nina, f"/tickets/{number}/sign", {"decision": "request_changes", "comment": "say which hours"})
    page = html.unescape(nina.get(f"/tickets/{number}").get_data(as_text=True))
    assert 'value="approve"' not in page  # the workflow would refuse it: "it cannot be signed now"
    assert "Nothing to sign while the ticket is changes requested" in page
    assert "once the section is edited, the next sync asks the approvers again" in page
    owner_page = owner.get(f"/tickets/{number}").get_data(as_text=True)
    assert 'value="triage"' not in owner_page and f"/tickets/{number}/assign" in owner_page  # triaged already


def test_only_listed_approvers_sign_and_two_approvals_approve(console: Console) -> None:
    number = ticket_id(console, "RB-5")
    owner = console.client()
    sign_in(owner, "dana.ellis")
    post(owner, f"/tickets/{number}/triage", {"assignee": "nina.kowalski"})
    policy = console.folder / "policies" / "customer-service-policy.md"
    policy.write_text(policy.read_text(encoding="utf-8").replace(*EDIT), encoding="utf-8")

    outsider = console.client()
    sign_in(outsider, "sam.okafor")
    page = outsider.get(f"/tickets/{number}").get_data(as_text=True)
    assert "You are not an approver of this section" in page and 'value="approve"' not in page
    refused = post(outsider, f"/tickets/{number}/sign", {"decision": "approve"})  # posted anyway: the rule holds
    assert "sam.okafor is not an approver of section communication-channels" in html.unescape(refused)

    nina, marta = console.client(), console.client()
    sign_in(nina, "nina.kowalski")
    sign_in(marta, "marta.silva")
    ticket_page = nina.get(f"/tickets/{number}").get_data(as_text=True)
    assert "every direct message gets a reply within 4 hours" in ticket_page  # the diff since it opened
    no_comment = post(marta, f"/tickets/{number}/sign", {"decision": "reject"})
    assert "say why in a comment" in no_comment
    assert "RB-5: 1 of 2 approvals" in post(nina, f"/tickets/{number}/sign", {"decision": "approve"})
    twice = html.unescape(post(nina, f"/tickets/{number}/sign", {"decision": "approve"}))
    assert "nina.kowalski already signed RB-5" in twice
    done = post(marta, f"/tickets/{number}/sign", {"decision": "approve", "comment": "Weekend staffing agreed"})
    assert "RB-5 is approved" in done
    assert _state(console, "RB-5") == "approved"


def test_publish_and_acknowledge(console: Console) -> None:
    from reviewbot.store.policies import acks

    document = "customer-service-policy"
    owner = console.client()
    sign_in(owner, "dana.ellis")
    nothing = post(owner, f"/policies/{document}/publish", page=f"/policies/{document}")
    assert "nothing to publish" in nothing

    agent = console.client()
    sign_in(agent, "priya.n")
    policy_page = agent.get(f"/policies/{document}").get_data(as_text=True)
    assert "I have read version 2" in policy_page and "priya.n" in policy_page
    acked = post(agent, f"/policies/{document}/ack", page=f"/policies/{document}")
    assert "priya.n acknowledged customer-service-policy version 2" in acked
    assert "I have read version" not in acked  # done: no button any more
    outsider = console.client()
    sign_in(outsider, "sam.okafor")
    refused = post(outsider, f"/policies/{document}/ack", page=f"/policies/{document}")
    assert "sam.okafor was not asked to acknowledge" in refused
    with console.store.session() as session:
        assert [a.person for a in acks(session, document, 2)] == ["priya.n"]


def test_quote_with_html_renders_as_text(console: Console) -> None:
    from reviewbot.models import ReviewTicket

    number = ticket_id(console, "RB-5")
    hostile = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    with console.store.session() as session:
        ticket = session.get(ReviewTicket, number)
        assert ticket is not None
        evidence = dict(ticket.evidence)
        evidence["quotes"] = [{**evidence["quotes"][0], "text": hostile}]
        evidence["theme"] = {**evidence["theme"], "label": "<b>bold</b>"}
        ticket.evidence = evidence
        session.add(ticket)
    browser = console.client()
    sign_in(browser, "dana.ellis")
    page = browser.get(f"/tickets/{number}").get_data(as_text=True)
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in page
    assert "<script>" not in page and "<img" not in page and "<b>bold</b>" not in page


def test_inbox_filters_and_sorts(console: Console) -> None:
    browser = console.client()
    sign_in(browser, "dana.ellis")
    everything = browser.get("/tickets").get_data(as_text=True)
    assert everything.count('href="/tickets/') >= 5
    only = browser.get("/tickets?section=communication-channels").get_data(as_text=True)
    assert "RB-5" in only and only.count('href="/tickets/') < everything.count('href="/tickets/')
    assert "No review tickets match" in browser.get("/tickets?state=published").get_data(as_text=True)
    high = browser.get("/tickets?priority=high").get_data(as_text=True)
    assert 'class="prio medium"' not in high and 'class="prio low"' not in high
    by_age = browser.get("/tickets?sort=age").get_data(as_text=True)
    assert by_age.count('href="/tickets/') == everything.count('href="/tickets/')


def test_sign_in_link_works_once(console: Console) -> None:
    from reviewbot.web.auth import new_sign_in_link

    token = new_sign_in_link(console.store, console.settings, "marta.silva", "dana.ellis", 30)
    browser = console.client()
    confirm = browser.get(f"/sign-in/link/{token}")  # only a button: a link scanner does not use it up
    assert confirm.status_code == 200
    used = browser.post(f"/sign-in/link/{token}", data={"csrf_token": csrf(confirm.get_data(as_text=True))})
    assert used.status_code == 303
    assert "marta.silva" in browser.get("/tickets").get_data(as_text=True)

    other = console.client()
    page = other.get(f"/sign-in/link/{token}").get_data(as_text=True)
    again = other.post(f"/sign-in/link/{token}", data={"csrf_token": csrf(page)})
    assert again.status_code == 401 and "unknown, used or expired" in again.get_data(as_text=True)


def test_trusted_header_only_when_configured(demo_folder: Path) -> None:
    from reviewbot.settings import load_settings
    from reviewbot.store import Store
    from reviewbot.web import create_app

    settings = load_settings(demo_folder)
    store = Store(settings.db_url)
    plain = create_app(settings, store).test_client()
    assert plain.get("/tickets", headers={"X-Forwarded-User": "dana.ellis"}).status_code == 302  # ignored

    set_web_toml(demo_folder, 'trusted_header = "X-Forwarded-User"\ninsecure_http = true')
    settings = load_settings(demo_folder)
    proxied = create_app(settings, store).test_client()
    page = proxied.get("/tickets", headers={"X-Forwarded-User": "dana.ellis"})
    assert page.status_code == 200 and "dana.ellis" in page.get_data(as_text=True)
    stranger = proxied.get("/sign-in", headers={"X-Forwarded-User": "mallory"}).get_data(as_text=True)
    assert "mallory" in stranger and "not a person of this workspace" in stranger
    assert proxied.get("/tickets").status_code == 302
    store.dispose()


def test_expired_sign_in_link_is_refused(console: Console) -> None:
    from datetime import UTC, datetime, timedelta

    import time_machine

    from reviewbot.web.auth import new_sign_in_link

    token = new_sign_in_link(console.store, console.settings, "marta.silva", "dana.ellis", 1)
    browser = console.client()
    page = browser.get(f"/sign-in/link/{token}").get_data(as_text=True)
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=2)):
        late = browser.post(f"/sign-in/link/{token}", data={"csrf_token": csrf(page)})
    assert late.status_code == 401 and "unknown, used or expired" in late.get_data(as_text=True)


def test_someone_removed_from_the_workspace_is_signed_out(console: Console) -> None:
    from reviewbot.settings import load_settings
    from reviewbot.web import create_app

    browser = console.client()
    sign_in(browser, "priya.n")
    assert browser.get("/tickets").status_code == 200
    toml = console.folder / "reviewbot.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('"priya.n", ', ""), encoding="utf-8")
    assert "priya.n" not in load_settings(console.folder).roles["agents"]
    console.app = create_app(load_settings(console.folder), console.store)  # a restart with the new configuration
    again = console.app.test_client()
    again.set_cookie("reviewbot_session", browser.get_cookie("reviewbot_session").value)
    assert again.get("/tickets").status_code == 302  # back to the sign-in page


def test_an_agent_sees_no_owner_actions_and_posting_them_anyway_is_refused(console: Console) -> None:
    from reviewbot.store.themes import active_themes

    document = "customer-service-policy"
    number = ticket_id(console, "RB-5")
    policy = console.folder / "policies" / "customer-service-policy.md"
    policy.write_text(policy.read_text(encoding="utf-8").replace(*EDIT), encoding="utf-8")  # something to publish
    with console.store.session() as session:
        first, second = sorted(active_themes(session), key=lambda t: -t.size)[:2]

    agent = console.client()
    sign_in(agent, "priya.n")
    ticket_page = agent.get(f"/tickets/{number}").get_data(as_text=True)
    assert "/triage" not in ticket_page and "/dismiss" not in ticket_page and "/move" not in ticket_page
    assert "/publish" not in agent.get(f"/policies/{document}").get_data(as_text=True)
    assert "/rename" not in agent.get(f"/themes/{first.id}").get_data(as_text=True)
    ticket_actions = {
        "triage": {"assignee": "priya.n"},
        "assign": {"assignee": "priya.n"},
        "dismiss": {"reason": "not for me"},
    }
    for action, form in ticket_actions.items():
        refused = html.unescape(post(agent, f"/tickets/{number}/{action}", form))
        assert f"priya.n may not {action} RB-5 (the owners and approvers of its section or document" in refused
    refused = html.unescape(post(agent, f"/policies/{document}/publish", page=f"/policies/{document}"))
    who = "the owner of the published version and admins may: dana.ellis"
    assert f"priya.n may not publish customer-service-policy ({who})" in refused
    for action, form in (("rename", {"label": "Mine"}), ("merge", {"sources": str(second.id)}), ("split", {})):
        refused = html.unescape(post(agent, f"/themes/{first.id}/{action}", form))
        assert f"priya.n may not {action} theme" in refused and "admins and the owners and approvers" in refused
    assert _state(console, "RB-5") == "open"
    assert not (console.folder / "publish" / f"{document}-v3.md").exists()

    approver = console.client()  # nina.kowalski approves RB-5's section: she triages it and curates themes
    sign_in(approver, "nina.kowalski")
    ticket_page = approver.get(f"/tickets/{number}").get_data(as_text=True)
    assert "/triage" in ticket_page and "/dismiss" in ticket_page and "/move" in ticket_page
    assert "/rename" in approver.get(f"/themes/{first.id}").get_data(as_text=True)
    assert "/publish" not in approver.get(f"/policies/{document}").get_data(as_text=True)  # she does not own it
    assert "RB-5 is triaged" in post(approver, f"/tickets/{number}/triage")
    owner = console.client()
    sign_in(owner, "dana.ellis")
    assert "/publish" in owner.get(f"/policies/{document}").get_data(as_text=True)


def test_a_resolved_ticket_shows_the_effect_of_its_version(console: Console) -> None:
    """As `tickets show` does: RB-1 was resolved by version 2, whose after-window has closed."""
    browser = console.client()
    sign_in(browser, "dana.ellis")
    page = browser.get(f"/tickets/{ticket_id(console, 'RB-1')}").get_data(as_text=True)
    effect = re.search(r'<p class="effect" id="effect">([^<]*)</p>', page)
    assert effect and effect.group(1).startswith("Effect of version 2 (28 days before vs 28 days after publishing on")
    assert "improved: &#34;chat queue" in effect.group(1) and "p &lt; 0.001, fell" in effect.group(1)
    assert 'id="effect"' not in browser.get(f"/tickets/{ticket_id(console, 'RB-5')}").get_data(as_text=True)


def test_a_closed_ticket_is_reopened_from_its_page_by_its_owner_only(console: Console) -> None:
    """A published change that did not help: the owner reopens the ticket from the console, as `tickets reopen`."""
    from reviewbot.store.tickets import get_ticket
    from reviewbot.workflows.review import settle

    number = ticket_id(console, "RB-5")
    with console.store.session() as session:
        ticket = get_ticket(session, "RB-5")
        assert ticket is not None
        settle(session, ticket, "closed", "dana.ellis", "published in version 2", force=True)
    agent = console.client()
    sign_in(agent, "priya.n")
    assert "Reopen</button>" not in agent.get(f"/tickets/{number}").get_data(as_text=True)
    assert "priya.n may not reopen RB-5" in html.unescape(post(agent, f"/tickets/{number}/reopen", {"reason": "x"}))

    owner = console.client()
    sign_in(owner, "dana.ellis")
    page = owner.get(f"/tickets/{number}").get_data(as_text=True)
    assert "Reopen</button>" in page and "Dismiss</button>" not in page  # a closed ticket is not dismissed
    assert "reopening needs a reason" in post(owner, f"/tickets/{number}/reopen", {"reason": " "})
    assert "RB-5 is open again" in post(owner, f"/tickets/{number}/reopen", {"reason": "complaints did not drop"})


def test_naming_oneself_approver_in_the_file_shows_no_sign_off_and_posting_is_refused(console: Console) -> None:
    number = ticket_id(console, "RB-5")
    policy = console.folder / "policies" / "customer-service-policy.md"
    text = policy.read_text(encoding="utf-8").replace(*EDIT)
    named = "approvers: [digital-channels-lead, contact-centre-manager, sam.okafor]\n    sign_off: 1"
    policy.write_text(text.replace("approvers: [digital-channels-lead, contact-centre-manager]", named), "utf-8")

    sam = console.client()
    sign_in(sam, "sam.okafor")
    page = sam.get(f"/tickets/{number}").get_data(as_text=True)  # the page reads the file as it is now
    assert "You are not an approver of this section" in page and 'value="approve"' not in page
    refused = html.unescape(post(sam, f"/tickets/{number}/sign", {"decision": "approve"}))
    assert "sam.okafor is not an approver of section communication-channels" in refused
    assert _state(console, "RB-5") == "open"


def test_policy_pages_show_the_owner_in_force_and_what_publishing_changes(console: Console) -> None:
    """The file names a new owner and new approvers for section 7: until it is published the console names the
    people who hold authority, and lists the change as pending."""
    policy = console.folder / "policies" / "customer-service-policy.md"
    text = policy.read_text(encoding="utf-8")
    text = text.replace("\nowner: head-of-customer-experience\n", "\nowner: compliance-lead\n")
    text = text.replace(
        "    approvers: [digital-channels-lead, contact-centre-manager]\n",
        "    approvers: [digital-channels-lead, compliance-lead]\n",
    )
    policy.write_text(text, encoding="utf-8")
    browser = console.client()
    sign_in(browser, "nina.kowalski")
    page = html.unescape(browser.get("/policies/customer-service-policy").get_data(as_text=True))  # reads the file
    assert "Pending publish" in page
    assert "communication-channels: approvers: digital-channels-lead, contact-centre-manager -> " in page
    assert "the document: owner: head-of-customer-experience -> compliance-lead" in page
    listed = browser.get("/policies").get_data(as_text=True)
    assert "<td>head-of-customer-experience</td>" in listed and "compliance-lead" not in listed


def test_a_ticket_page_says_which_sign_offs_no_longer_count(console: Console, cli) -> None:  # type: ignore[no-untyped-def]
    policy = console.folder / "policies" / "customer-service-policy.md"
    policy.write_text(policy.read_text(encoding="utf-8").replace(*EDIT), encoding="utf-8")
    workspace = f"-w {console.folder}"
    assert cli(f"{workspace} tickets triage RB-5 --as dana.ellis").code == 0
    assert cli(f"{workspace} sync").code == 0
    assert cli(f"{workspace} tickets approve RB-5 --as nina.kowalski").code == 0
    policy.write_text(policy.read_text(encoding="utf-8").replace("within 4 hours", "within 2 hours"), encoding="utf-8")
    browser = console.client()
    sign_in(browser, "marta.silva")
    page = browser.get(f"/tickets/{ticket_id(console, 'RB-5')}").get_data(as_text=True)  # reads the file
    assert "nina.kowalski: approve on " in page and "of an earlier text or round: it no longer counts" in page
