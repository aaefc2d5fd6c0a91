"""The README's review walk on the demo workspace, through the CLI: triage, edit, two sign-offs, publish,
the ticket closing, thank-yous and acknowledgement requests in the console notifier's output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

EDIT = (
    "WhatsApp Business, monitored during phone opening hours.",
    "WhatsApp Business, monitored seven days a week from 8am to 8pm; every direct message gets a reply within 4 hours.",
)


@pytest.fixture
def demo(demo: Path, cli) -> Path:  # type: ignore[no-untyped-def]
    """The demo workspace (tests/conftest.py), synced once more."""
    assert cli("sync").code == 0
    return demo


def test_approving_an_unedited_section_says_it_closes_the_ticket_unchanged(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    first = cli("tickets approve RB-5 --as nina.kowalski")
    assert first.code == 0 and "1 of 2 approvals" in first.stdout
    assert "unchanged" in first.stdout and "closes RB-5 as reviewed, no change needed" in first.stdout


def test_publish_refused_for_an_open_ticket_says_to_triage_it(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    policy = demo / "policies" / "customer-service-policy.md"
    policy.write_text(policy.read_text(encoding="utf-8").replace(*EDIT), encoding="utf-8")
    assert cli("sync").code == 0  # edited, but RB-5 was never triaged: no sign-off is asked
    refused = cli("policy publish customer-service-policy --as dana.ellis")
    assert refused.code == 1 and "RB-5 (open)" in refused.stderr
    assert "reviewbot tickets triage RB-5" in refused.stderr


def test_mapping_explain_takes_the_ticket_an_owner_is_looking_at(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    theme = json.loads(cli("tickets show RB-5 --json").stdout)["theme_id"]
    by_ticket, by_theme = cli("mapping explain RB-5 --json"), cli(f"mapping explain {theme} --json")
    assert by_ticket.code == 0 and json.loads(by_ticket.stdout) == json.loads(by_theme.stdout)
    listed = json.loads(cli("tickets list --json").stdout)
    ref = next(t["tracker_ref"] for t in listed if t["theme_id"] is None)
    periodic = cli(f"mapping explain {ref}")
    assert periodic.code == 1 and f"{ref} has no theme" in periodic.stderr
    unknown = cli("mapping explain XX-1")
    assert unknown.code == 1 and "no theme or ticket 'XX-1'" in unknown.stderr


def test_readme_review_walk(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    history = json.loads(cli("policy impact customer-service-policy 2 --json").stdout)
    verdicts = {t["tickets"][0]: t["verdict"] for t in history["versions"][0]["themes"]}
    assert verdicts["RB-1"] == "improved" and verdicts["RB-2"] == "no change"  # the README relies on both

    ticket = json.loads(cli("tickets show RB-5 --json").stdout)
    assert ticket["section_id"] == "communication-channels"  # the README relies on it
    assert ticket["state"] == "open"

    result = cli("tickets triage RB-5 --assign nina.kowalski --as dana.ellis")
    assert result.code == 0 and "RB-5 is triaged and assigned to nina.kowalski" in result.stdout

    policy = demo / "policies" / "customer-service-policy.md"
    policy.write_text(policy.read_text(encoding="utf-8").replace(*EDIT), encoding="utf-8")
    diff = cli("policy diff customer-service-policy")
    assert "CHANGED communication-channels" in diff.stdout
    assert "every direct message gets a reply within 4 hours" in diff.stdout

    synced = cli("sync")
    assert synced.code == 0 and "[signoff_request] -> nina.kowalski Sign-off requested" in synced.stderr
    pending = json.loads(cli("signoffs pending --json").stdout)
    assert sorted(p["approver"] for p in pending) == ["marta.silva", "nina.kowalski"]

    refused = cli("tickets approve RB-5 --as sam.okafor")
    assert refused.code == 1 and "sam.okafor is not an approver" in refused.stderr
    assert "1 of 2 approvals" in cli("tickets approve RB-5 --as nina.kowalski").stdout
    approved = cli('tickets approve RB-5 --as marta.silva --comment "Weekend staffing agreed"')
    assert "RB-5 is approved" in approved.stdout

    published = cli("policy publish customer-service-policy --as dana.ellis")
    assert published.code == 0 and "Published customer-service-policy version 3" in published.stdout
    assert "[announcement] Published: Northwind Home Customer Service Policy version 3" in published.stderr
    assert "[thank_you] -> tom.b Thank you" in published.stderr
    assert "[ack_request] -> keiko.t Please read and acknowledge" in published.stderr
    assert (demo / "publish" / "customer-service-policy-v3.html").exists()

    shown = json.loads(cli("tickets show RB-5 --json").stdout)
    assert shown["state"] == "closed" and shown["resolved_version"] == 3
    assert [s["approver"] for s in shown["sign_offs"]] == ["nina.kowalski", "marta.silva"]

    assert cli("policy ack customer-service-policy --as priya.n").code == 0
    acks = json.loads(cli("policy acks customer-service-policy --json").stdout)
    assert list(acks["acknowledged"]) == ["priya.n"] and len(acks["pending"]) == 7

    trail = json.loads(cli("audit --ticket RB-5 --json").stdout)
    assert [e["action"] for e in reversed(trail)] == [
        "transition", "assign", "transition", "request_sign_off", "sign_off", "sign_off", "transition",
        "transition", "transition",
    ]  # fmt: skip
    versions = json.loads(cli("policy versions customer-service-policy --json").stdout)
    assert [v["version"] for v in versions["versions"]] == [1, 2, 3] and versions["has_draft"] is False
    assert versions["versions"][1]["published_at"].startswith("2026-10-12")  # the demo's history


def test_publish_needs_a_reason_to_force(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("policy publish customer-service-policy --force")
    assert result.code == 2 and "--force needs a --reason" in result.stderr
    result = cli("policy publish customer-service-policy")  # as the OS user: dana.ellis, the demo's admin
    assert result.code == 1 and "nothing to publish" in result.stderr


def test_publish_edit_opens_the_changelog_in_the_editor_and_uses_what_was_saved(
    demo: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    # `--edit` called typer.edit, which typer no longer has: an AttributeError traceback for everyone
    policy = demo / "policies" / "customer-service-policy.md"
    policy.write_text(policy.read_text(encoding="utf-8").replace(*EDIT), encoding="utf-8")
    shown: list[str] = []

    def editor(text: str, **_: object) -> str:
        shown.append(text)
        return "# ignored\nSocial media replies promised within 2 hours\n"

    monkeypatch.setattr("click.edit", editor)
    result = cli("policy publish customer-service-policy --edit --force --reason test --json")
    assert result.code == 0, result.stderr
    assert shown and shown[0].startswith("# One change per line")
    assert json.loads(result.stdout)["changelog"] == ["Social media replies promised within 2 hours"]


def _add_people(demo: Path, lines: str) -> None:
    config = demo / "reviewbot.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("[identity.people]\n", "[identity.people]\n" + lines))


def test_the_os_user_is_who_acts_and_an_unknown_one_is_refused(demo: Path, cli, os_user) -> None:  # type: ignore[no-untyped-def]
    assert "dana.ellis (OS user reviewbot-test), admin" in cli("whoami").stdout  # init --demo made the creator dana
    os_user("intruder")
    result = cli("tickets triage RB-5")
    assert result.code == 2 and "OS user intruder is not a person in this workspace" in result.stderr
    assert '[identity.people] "your.name" = { os_user = "intruder" }' in result.stderr
    assert cli("tickets approve RB-5 --as marta.silva").code == 2  # --as does not help a stranger
    assert json.loads(cli("tickets show RB-5 --json").stdout)["state"] == "open"


def test_only_an_admin_may_act_for_someone_else_and_it_is_audited(demo: Path, cli, os_user) -> None:  # type: ignore[no-untyped-def]
    _add_people(demo, '"nina.kowalski" = { os_user = "nkowalski" }\n')
    os_user("nkowalski")
    refused = cli("tickets triage RB-5 --as marta.silva")
    assert refused.code == 1 and "you are nina.kowalski (OS user nkowalski)" in refused.stderr
    assert "only an admin may act for marta.silva" in refused.stderr
    assert cli("tickets triage RB-5 --assign nina.kowalski").code == 0  # as herself

    os_user("reviewbot-test")  # dana.ellis, an admin
    typo = cli("tickets dismiss RB-5 --reason dup --as nobody.x")
    assert typo.code == 1 and "nobody.x is not a person in this workspace" in typo.stderr
    assert cli("tickets assign RB-5 marta.silva --as marta.silva").code == 0
    trail = json.loads(cli("audit --ticket RB-5 --json").stdout)
    assert [(e["actor"], e["action"]) for e in trail[:2]] == [
        ("dana.ellis for marta.silva", "assign"),
        ("nina.kowalski", "assign"),
    ]
    assert trail[0]["data"] == {"acting_admin": "dana.ellis", "acting_for": "marta.silva"}
    assert "dana.ellis for marta.silva" in cli("audit --ticket RB-5").stdout

    _add_people(demo, '"marta.silva" = { os_user = "msilva" }\n')
    os_user("msilva")  # marta.silva herself, in the same process: no admin is acting any more
    assert cli("tickets assign RB-5 nina.kowalski").code == 0
    assert json.loads(cli("audit --ticket RB-5 --json").stdout)[0]["actor"] == "marta.silva"


def test_unknown_people_cannot_acknowledge_and_the_count_holds(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    before = cli("policy acks customer-service-policy").stdout
    assert "0 of 8 acknowledged" in before
    stranger = cli("policy ack customer-service-policy --as nobody.x")
    assert stranger.code == 1 and "nobody.x is not a person in this workspace" in stranger.stderr
    not_asked = cli("policy ack customer-service-policy --as marta.silva")  # a person, but not one of the agents
    assert not_asked.code == 1 and "marta.silva was not asked to acknowledge" in not_asked.stderr
    assert cli("policy ack customer-service-policy --as priya.n").code == 0
    assert "1 of 8 acknowledged" in cli("policy acks customer-service-policy").stdout


def test_a_personal_token_names_its_person(demo: Path, cli, os_user, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    made = cli("whoami --new-token").stdout
    token = made.split("REVIEWBOT_TOKEN=", 1)[1].split()[0]
    digest = made.split('token_sha256 = "', 1)[1].split('"')[0]
    _add_people(demo, f'"marta.silva" = {{ token_sha256 = "{digest}" }}\n')
    os_user("ci-runner")  # a shared login no person is mapped to
    monkeypatch.setenv("REVIEWBOT_TOKEN", token)
    assert "marta.silva (personal token)" in cli("whoami").stdout
    assert cli("tickets triage RB-5").code == 0
    assert json.loads(cli("audit --ticket RB-5 --json").stdout)[0]["actor"] == "marta.silva"
    monkeypatch.setenv("REVIEWBOT_TOKEN", token + "x")
    wrong = cli("whoami")
    assert wrong.code == 2 and "belongs to nobody" in wrong.stderr and token not in wrong.stderr


def test_the_environment_cannot_make_anyone_an_admin(demo: Path, cli, os_user, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    _add_people(demo, '"nina.kowalski" = { os_user = "nkowalski" }\n')
    os_user("nkowalski")
    monkeypatch.setenv("REVIEWBOT_IDENTITY__ADMINS", '["nina.kowalski"]')
    monkeypatch.setenv("REVIEWBOT_IDENTITY", '{"admins": ["nina.kowalski"]}')
    result = cli("tickets approve RB-5 --as marta.silva")
    assert result.code == 1 and "only an admin may act for marta.silva" in result.stderr


def test_periodic_review_of_an_overdue_section(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    tickets = json.loads(cli("tickets list --json").stdout)
    periodic = [t for t in tickets if t["kind"] == "periodic"]
    assert [t["section_id"] for t in periodic] == ["code-of-conduct"]  # last reviewed 2025-09-15, yearly


def test_a_backdated_publish_must_fall_between_the_last_version_and_now(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    policy = demo / "policies" / "customer-service-policy.md"
    policy.write_text(policy.read_text(encoding="utf-8").replace(*EDIT), encoding="utf-8")

    early = cli("policy publish customer-service-policy --as dana.ellis --force --reason history --at 2026-10-01")
    future = cli("policy publish customer-service-policy --as dana.ellis --force --reason history --at 2027-01-01")
    bad = cli("policy publish customer-service-policy --as dana.ellis --at 12/10/2026")

    assert early.code == 1 and "version 2 was published on 2026-10-12" in early.stderr
    assert future.code == 1 and "is in the future" in future.stderr
    assert bad.code == 2 and "--at" in bad.stderr
    recorded = cli("policy publish customer-service-policy --as dana.ellis --force --reason history --at 2026-11-01")
    assert recorded.code == 0 and "version 3" in recorded.stdout
    versions = json.loads(cli("policy versions customer-service-policy --json").stdout)["versions"]
    assert versions[-1]["published_at"].startswith("2026-11-01")
    trail = json.loads(cli("audit --document customer-service-policy --json").stdout)
    assert "recorded as published on 2026-11-01" in trail[0]["detail"]


def test_an_agent_may_not_take_owner_actions_or_publish(
    demo: Path, cli, os_user, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """The probe's steps as priya.n, an agent: each refused, naming who may; nothing changes."""
    _add_people(demo, '"priya.n" = { os_user = "priya" }\n')
    policy = demo / "policies" / "customer-service-policy.md"
    policy.write_text(policy.read_text(encoding="utf-8").replace(*EDIT), encoding="utf-8")
    before = cli("audit --json").stdout
    os_user("priya")
    refusals = {
        "tickets triage RB-5": "priya.n may not triage RB-5",
        "tickets assign RB-7 priya.n": "priya.n may not assign RB-7",
        "tickets dismiss RB-3 --reason dup": "priya.n may not dismiss RB-3",
        'themes rename 3 "Mine"': "priya.n may not rename theme 3",
        "themes merge 3 4": "priya.n may not merge themes into theme 3",
        "themes split 1": "priya.n may not split theme 1",
        "policy publish customer-service-policy --force --reason x": "priya.n may not publish customer-service-policy",
        # refused before the editor opens (click.edit is made to fail the test below)
        "policy publish customer-service-policy --edit": "priya.n may not publish customer-service-policy",
    }
    monkeypatch.setattr("click.edit", lambda *a, **k: pytest.fail("the editor opened before the refusal"))
    for command, message in refusals.items():
        result = cli(command)
        assert result.code == 1 and message in result.stderr, (command, result.stderr)
        assert "may: " in result.stderr and "dana.ellis" in result.stderr  # who may, the admin among them
    os_user("reviewbot-test")  # dana.ellis, the admin
    assert cli("audit --json").stdout == before  # nothing happened
    typo = cli("tickets assign RB-7 nobody.x")
    assert typo.code == 1 and "nobody.x is not a person in this workspace" in typo.stderr
    assert json.loads(cli("tickets show RB-7 --json").stdout)["assignee"] is None


def test_show_says_which_sign_offs_no_longer_count(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """An approval of a text edited again since is history, not one of the approvals the ticket has."""
    policy = demo / "policies" / "customer-service-policy.md"
    policy.write_text(policy.read_text(encoding="utf-8").replace(*EDIT), encoding="utf-8")
    assert cli("tickets triage RB-5 --as dana.ellis").code == 0
    assert cli("sync").code == 0
    assert "1 of 2 approvals" in cli("tickets approve RB-5 --as nina.kowalski").stdout
    shown = cli("tickets show RB-5").stdout
    assert "Signed: nina.kowalski approve on " in shown and "no longer counts" not in shown
    assert [s["counts"] for s in json.loads(cli("tickets show RB-5 --json").stdout)["sign_offs"]] == [True]

    policy.write_text(policy.read_text(encoding="utf-8").replace("within 4 hours", "within 2 hours"), encoding="utf-8")
    assert cli("sync").code == 0  # a new round: nina is asked again
    shown = cli("tickets show RB-5").stdout
    assert (
        "Signed: nina.kowalski approve on " in shown and "(of an earlier text or round: it no longer counts)" in shown
    )
    assert [s["counts"] for s in json.loads(cli("tickets show RB-5 --json").stdout)["sign_offs"]] == [False]
    assert "1 of 2 approvals" in cli("tickets approve RB-5 --as nina.kowalski").stdout  # this round's text
    assert "is approved" in cli("tickets approve RB-5 --as marta.silva").stdout
    assert cli("policy publish customer-service-policy --as dana.ellis").code == 0
    closed = json.loads(cli("tickets show RB-5 --json").stdout)
    assert closed["state"] == "closed" and [s["counts"] for s in closed["sign_offs"]] == [False, True, True]


def test_the_sync_after_an_edit_says_it_read_it_and_started_a_round(demo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("tickets triage RB-5 --as dana.ellis").code == 0
    policy = demo / "policies" / "customer-service-policy.md"
    policy.write_text(policy.read_text(encoding="utf-8").replace(*EDIT), encoding="utf-8")
    lines = cli("sync").stdout.splitlines()
    # was "nothing new" when no ticket was in triage, and "1 reviews started" when one was
    assert (
        "Policy: customer-service-policy edited, not yet published (`reviewbot policy diff customer-service-policy`)"
        in lines
    )
    assert "Sign-offs: 1 round started" in lines
