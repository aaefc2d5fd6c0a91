"""The review workflow on a small workspace: triage, edits, sign-offs, publish, close the loop, cadence,
reminders and escalation (with frozen time), refusals, and exactly-once notifications."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlmodel import select

from reviewbot.models import AuditEvent, OutboxMessage, ReviewTicket, SignOff, TrackerIssue
from reviewbot.store import Store
from reviewbot.workflows import review
from reviewbot.workflows.deliver import deliver
from reviewbot.workflows.publish import ack_status, acknowledge, publish
from reviewbot.workflows.review import RefusedError, dismiss, sign, triage
from reviewbot.workflows.schedule import default_jobs
from reviewbot.workflows.sync import run_sync
from tests.workspaces import make_workspace, open_workspace, write_notes

POLICY = """---
id: returns-policy
title: Returns Policy
owner: head-of-cx
approvers: [head-of-cx, compliance]
sign_off: all
review_interval_days: 365
last_reviewed: 2026-01-10
sections:
  refunds:
    approvers: [finance, head-of-cx]
    keywords: [refund, money back]
  delivery:
    approvers: [logistics, head-of-cx]
    sign_off: 1
  privacy:
    review_interval_days: 90
---
# Returns Policy

## 1. Refunds
We refund returned items within 5 business days of receiving them, to the original payment method.

## 2. Delivery
Parcels arrive within 3 days. Lost parcels are investigated by the carrier within 48 hours.

## 3. Privacy
We never ask for full card numbers. Data deletion requests are answered within 30 days.
"""

ROLES = """
[roles]
head-of-cx = ["dana"]
compliance = ["sam"]
finance = ["lee"]
logistics = ["joe"]
agents = ["priya", "tom"]

[notifier]
type = "console"
file = "notifications.log"
"""
NOTES = [
    ("N-1", "cust chasing refund again, 3 weeks, our site says 5 business days for refunds", "priya"),
    ("N-2", "another refund delay complaint, refund still not issued after two weeks", "priya"),
    ("N-3", "refund late for the 4th customer today, 5 day refund promise is unrealistic", "tom"),
]
START = datetime(2026, 9, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock():  # type: ignore[no-untyped-def]
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def ws(tmp_path: Path, use_database: str, clock) -> Path:  # type: ignore[no-untyped-def]
    folder = make_workspace(tmp_path / "ws", extra_toml=ROLES, policy=POLICY, notes=True)
    write_notes(folder, NOTES)
    return folder


def sync(folder: Path):  # type: ignore[no-untyped-def]
    settings, store = open_workspace(folder)
    return settings, store, run_sync(settings, store)


def ticket_on(store: Store, section: str, kind: str = "feedback") -> ReviewTicket:
    with store.session() as session:
        return session.exec(
            select(ReviewTicket).where(ReviewTicket.section_id == section, ReviewTicket.kind == kind)
        ).one()


def edit_policy(folder: Path, old: str, new: str) -> None:
    path = folder / "policies" / "returns.md"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def messages(folder: Path) -> list[str]:
    """The first line of every message the console notifier wrote."""
    log = folder / "notifications.log"
    if not log.exists():
        return []
    return [block.splitlines()[0] for block in log.read_text(encoding="utf-8").split("\n\n") if block.strip()]


def test_walk_from_feedback_ticket_to_published_version(ws: Path) -> None:
    settings, store, _ = sync(ws)
    ref = ticket_on(store, "refunds").tracker_ref
    assert ref is not None
    assert triage(store, settings, ref, "dana", assignee="lee") == f"{ref} is triaged and assigned to lee"

    edit_policy(ws, "within 5 business days", "within 10 business days")
    _, _, report = sync(ws)
    assert report.review["reviews_started"] == 1
    assert ticket_on(store, "refunds").state == "in_review"
    assert f"[signoff_request] -> lee Sign-off requested: {ticket_on(store, 'refunds').title}" in messages(ws)
    assert any(m.startswith("[signoff_request] -> dana") for m in messages(ws))

    assert sign(store, settings, ref, "lee", "approve") == f"{ref}: 1 of 2 approvals"
    assert "is approved" in sign(store, settings, ref, "dana", "approve", "fine")
    assert ticket_on(store, "refunds").state == "approved"

    result = publish(settings, store, "returns-policy", "dana")
    assert result.version == 2 and result.resolved == [ref] and not result.forced
    assert result.changelog[0].startswith("1. Refunds: addresses")
    html = (ws / "publish" / "returns-policy-v2.html").read_text(encoding="utf-8")
    assert "within 10 business days" in html and "Version 2" in html
    assert (ws / "publish" / "returns-policy.md").read_text(encoding="utf-8").count("10 business days") == 1
    # published for readers: a web server or an intranet sync running as another user can read the files
    assert all(path.stat().st_mode & 0o044 == 0o044 for path in (ws / "publish").iterdir())

    ticket = ticket_on(store, "refunds")
    assert ticket.state == "closed" and ticket.resolved_version == 2
    with store.session() as session:
        issue = session.exec(select(TrackerIssue).where(TrackerIssue.key == ref)).one()
        trail = [e.detail for e in session.exec(select(AuditEvent).where(AuditEvent.ticket_id == ticket.id))]
    assert issue.status == "closed" and issue.resolution == "Published in version 2 of returns-policy"
    assert "approved -> published: version 2" in trail and "published -> closed: published in version 2" in trail

    sent = messages(ws)
    assert "[announcement] Published: Returns Policy version 2" in sent
    assert "[thank_you] -> priya Thank you: your feedback shaped Returns Policy version 2" in sent
    assert "[thank_you] -> tom Thank you: your feedback shaped Returns Policy version 2" in sent
    assert sorted(m for m in sent if m.startswith("[ack_request]")) == [
        "[ack_request] -> priya Please read and acknowledge Returns Policy version 2",
        "[ack_request] -> tom Please read and acknowledge Returns Policy version 2",
    ]
    assert acknowledge(store, "returns-policy", "priya") == "priya acknowledged returns-policy version 2"
    assert "already" in acknowledge(store, "returns-policy", "priya")
    status = ack_status(store, "returns-policy")
    assert list(status.acknowledged) == ["priya"] and status.pending == ["tom"]
    for stranger in ("nobody.x", "finance"):  # unknown, or a person who was not asked: refused, not counted
        with pytest.raises(RefusedError, match=f"{stranger} was not asked to acknowledge returns-policy version 2"):
            acknowledge(store, "returns-policy", stranger)
    status = ack_status(store, "returns-policy")
    assert list(status.acknowledged) == ["priya"] and status.pending == ["tom"]

    # nothing more happens on later syncs: no new tickets for the resolved theme, no repeated messages
    before = len(messages(ws))
    _, _, later = sync(ws)
    assert later.tickets["created"] == 0 and len(messages(ws)) == before


def test_invalid_transitions_are_refused_with_the_options(ws: Path) -> None:
    settings, store, _ = sync(ws)
    ref = ticket_on(store, "refunds").tracker_ref or ""
    triage(store, settings, ref, "dana")
    with pytest.raises(RefusedError) as caught:
        triage(store, settings, ref, "dana")
    assert "is triaged; it cannot become triaged" in caught.value.message
    assert caught.value.hint == "from triaged it can become: in_review, dismissed"
    with pytest.raises(RefusedError, match="needs a reason"):
        dismiss(store, settings, ref, "  ", "dana")
    dismiss(store, settings, ref, "handled by the new refunds system", "dana")
    with pytest.raises(RefusedError, match="dismissed; it cannot be signed now"):
        sign(store, settings, ref, "lee", "approve")
    with store.session() as session:
        actions = [e.action for e in session.exec(select(AuditEvent))]
    assert actions.count("transition") == 2


def test_only_listed_approvers_sign_and_only_once(ws: Path) -> None:
    settings, store, _ = sync(ws)
    ref = ticket_on(store, "refunds").tracker_ref or ""
    with pytest.raises(RefusedError) as caught:
        sign(store, settings, ref, "sam", "approve")
    assert caught.value.message == "sam is not an approver of section refunds"
    assert caught.value.hint == "approvers: lee, dana"
    edit_policy(ws, "within 5 business days", "within 7 business days")
    sign(store, settings, ref, "lee", "approve")
    with pytest.raises(RefusedError, match="lee already signed"):
        sign(store, settings, ref, "lee", "approve")
    with pytest.raises(RefusedError, match="say why"):
        sign(store, settings, ref, "dana", "reject")


def test_changes_requested_wait_for_an_edit_then_a_new_round(ws: Path) -> None:
    settings, store, _ = sync(ws)
    ref = ticket_on(store, "refunds").tracker_ref or ""
    triage(store, settings, ref, "dana")
    edit_policy(ws, "within 5 business days", "within 30 business days")
    sync(ws)
    assert sign(store, settings, ref, "lee", "request_changes", "30 days is too long") == f"{ref}: changes requested"
    with pytest.raises(RefusedError, match="changes_requested; it cannot be signed"):
        sign(store, settings, ref, "dana", "approve")
    _, _, unchanged = sync(ws)
    assert unchanged.review["reviews_started"] == 0 and ticket_on(store, "refunds").state == "changes_requested"
    edit_policy(ws, "within 30 business days", "within 10 business days")
    _, _, report = sync(ws)
    assert report.review["reviews_started"] == 1 and ticket_on(store, "refunds").state == "in_review"
    sign(store, settings, ref, "lee", "approve")
    assert "is approved" in sign(store, settings, ref, "dana", "approve")
    # an edit after approval needs approving again
    edit_policy(ws, "within 10 business days", "within 12 business days")
    _, _, again = sync(ws)
    assert again.review["reviews_started"] == 1 and ticket_on(store, "refunds").state == "in_review"


def test_publish_is_refused_while_a_changed_section_has_unapproved_tickets(ws: Path) -> None:
    settings, store, _ = sync(ws)
    delivery = ticket_on(store, "delivery").tracker_ref
    with pytest.raises(RefusedError, match="nothing to publish"):
        publish(settings, store, "returns-policy", "dana")
    edit_policy(ws, "within 3 days", "within 5 days")
    with pytest.raises(RefusedError) as caught:
        publish(settings, store, "returns-policy", "dana")
    assert f"{delivery} (open)" in caught.value.message and "--force --reason" in (caught.value.hint or "")
    assert not (ws / "publish").exists()

    result = publish(settings, store, "returns-policy", "dana", force_reason="carrier contract changed today")
    assert result.forced and result.version == 2 and result.resolved == []
    assert ticket_on(store, "delivery").state == "open"  # not approved, so not resolved
    with store.session() as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "publish")).one()
    assert f"forced past {delivery}: carrier contract changed today" in event.detail


def test_overdue_section_gets_one_periodic_ticket_and_approval_resets_the_clock(ws: Path, clock) -> None:  # type: ignore[no-untyped-def]
    settings, store, report = sync(ws)
    assert report.review["periodic_tickets"] == 1  # privacy: every 90 days, last reviewed 2026-01-10
    periodic = ticket_on(store, "privacy", "periodic")
    assert "last reviewed 2026-01-10" in periodic.title and periodic.tracker_ref
    assert sync(ws)[2].review["periodic_tickets"] == 0

    assert (
        sign(store, settings, periodic.tracker_ref, "dana", "approve")
        .split(": ", 1)[1]
        .startswith("1 of 2 approvals of the section as it is (unchanged)")
    )
    assert sign(store, settings, periodic.tracker_ref, "sam", "approve").endswith("reviewed, no change needed")
    assert ticket_on(store, "privacy", "periodic").state == "closed"

    clock.move_to(START + timedelta(days=89))
    assert sync(ws)[2].review["periodic_tickets"] == 0
    clock.move_to(START + timedelta(days=91))
    assert sync(ws)[2].review["periodic_tickets"] == 1


def test_sections_due_together_are_announced_in_one_digest(ws: Path, clock) -> None:  # type: ignore[no-untyped-def]
    """A policy first synced long after its last review has every section due at once: each periodic ticket sent
    a digest of its own ("1 new and 0 updated review tickets", fifteen times for the demo's policy)."""
    sync(ws)
    before = messages(ws)
    clock.move_to(START + timedelta(days=400))  # past the 365 days of refunds and delivery, and privacy's 90
    report = sync(ws)[2]
    assert report.review["periodic_tickets"] == 2  # refunds and delivery (privacy's ticket is still open)
    digests = [line for line in messages(ws)[len(before) :] if "review tickets" in line]
    assert digests == ["[digest] 2 new and 0 updated review tickets"]


def test_reminders_once_per_interval_then_escalation(ws: Path, clock) -> None:  # type: ignore[no-untyped-def]
    settings, store, _ = sync(ws)
    ref = ticket_on(store, "refunds").tracker_ref or ""
    triage(store, settings, ref, "dana")
    edit_policy(ws, "within 5 business days", "within 10 business days")
    sync(ws)  # sign-offs asked of lee and dana at START

    def reminders() -> list[str]:
        return [m for m in messages(ws) if m.startswith(("[reminder]", "[escalation]"))]

    clock.move_to(START + timedelta(days=2))
    sync(ws)
    assert reminders() == []
    clock.move_to(START + timedelta(days=3, hours=1))
    sync(ws)
    sync(ws)
    assert sorted(reminders()) == [
        f"[reminder] -> dana Reminder: your sign-off on {ref} is 3 days old",
        f"[reminder] -> lee Reminder: your sign-off on {ref} is 3 days old",
    ]
    sign(store, settings, ref, "lee", "approve")  # lee is done: no more reminders for lee
    clock.move_to(START + timedelta(days=4))
    sync(ws)
    assert len(reminders()) == 2  # within the reminder interval
    clock.move_to(START + timedelta(days=5, hours=2))
    sync(ws)
    assert reminders()[-1] == f"[reminder] -> dana Reminder: your sign-off on {ref} is 5 days old"
    clock.move_to(START + timedelta(days=7, hours=1))
    sync(ws)
    sync(ws)
    escalations = [m for m in reminders() if m.startswith("[escalation]")]
    assert escalations == [f"[escalation] -> dana Escalation: dana has not signed {ref} for 7 days"]


def test_dismissed_ticket_reopens_only_when_its_theme_grows(ws: Path) -> None:
    from tests.workspaces import DELIVERY_TEXTS, rows, write_csv

    settings, store, _ = sync(ws)
    ref = ticket_on(store, "delivery").tracker_ref or ""
    dismiss(store, settings, ref, "carrier issue, not policy", "dana")
    deliver(settings, store)  # as every entry point does after a decision
    assert _builtin_issue(store, ref) == ("closed", "Won't do: carrier issue, not policy")  # not left open
    inbox = ws / "inbox" / "complaints"
    write_csv(inbox / "more-1.csv", rows([t + " again" for t in DELIVERY_TEXTS[:2]], "D-more", day=20))
    _, _, small = sync(ws)
    assert small.tickets["reopened"] == 0 and ticket_on(store, "delivery").state == "dismissed"
    write_csv(inbox / "more-2.csv", rows([t + " once more" for t in DELIVERY_TEXTS[2:6]], "D-again", day=21))
    _, _, grown = sync(ws)
    ticket = ticket_on(store, "delivery")
    assert grown.tickets["reopened"] == 1 and ticket.state == "open"
    assert ticket.state_reason == "reopened: the theme grew from 8 to 14 items since the ticket was dismissed"
    assert _builtin_issue(store, ref) == ("open", None)


def _builtin_issue(store: Store, ref: str) -> tuple[str, str | None]:
    """The built-in tracker's issue of a ticket: its status and resolution."""
    with store.session() as session:
        issue = session.exec(select(TrackerIssue).where(TrackerIssue.key == ref)).one()
        return issue.status, issue.resolution


def test_crash_between_publish_and_notification_sends_each_message_once(
    ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, store, _ = sync(ws)
    ref = ticket_on(store, "refunds").tracker_ref or ""
    edit_policy(ws, "within 5 business days", "within 10 business days")
    sign(store, settings, ref, "lee", "approve")
    sign(store, settings, ref, "dana", "approve")
    before = messages(ws)

    def die(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt("killed after the decision was committed")

    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr("reviewbot.workflows.publish.deliver", die)
        publish(settings, store, "returns-policy", "dana")
    assert messages(ws) == before  # decided and stored, nothing sent
    assert ticket_on(store, "refunds").state == "closed"

    sync(ws)
    sync(ws)
    sent = messages(ws)[len(before) :]
    assert sent.count("[announcement] Published: Returns Policy version 2") == 1
    assert len([m for m in sent if m.startswith("[ack_request]")]) == 2
    with store.session() as session:
        pending = session.exec(select(OutboxMessage).where(OutboxMessage.status != "sent")).all()
        issue = session.exec(select(TrackerIssue).where(TrackerIssue.key == ref)).one()
    assert pending == [] and issue.status == "closed"


def test_known_people_are_the_workspaces_and_the_policies(ws: Path) -> None:
    from reviewbot.workflows.review import known_people

    edit_policy(ws, "owner: head-of-cx", "owner: olga.owner")  # a name that is no role is a person
    settings, store, _ = sync(ws)
    with store.session() as session:
        people = known_people(session, settings)
    assert {"dana", "sam", "lee", "joe", "priya", "tom", "tester", "olga.owner"} <= people
    assert not {"head-of-cx", "finance", "nobody.x"} & people  # roles are not people


def test_an_approver_signing_twice_at_once_is_recorded_once(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two entry points (say the CLI and a web replica) sign as lee at the same moment: one sign-off, one refusal."""
    settings, store, _ = sync(ws)
    check = review._refuse_second_signature

    def slow_check(*args: object) -> None:
        check(*args)  # type: ignore[arg-type]
        time.sleep(0.5)  # widen the gap between the rule's check and its write, where the other one would slip in

    monkeypatch.setattr(review, "_refuse_second_signature", slow_check)
    ref = ticket_on(store, "refunds").tracker_ref or ""
    edit_policy(ws, "within 5 business days", "within 7 business days")
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def sign_as_lee() -> None:
        start.wait()
        try:
            sign(store, settings, ref, "lee", "approve")
            outcomes.append("signed")
        except RefusedError as refused:
            outcomes.append(refused.message)

    threads = [threading.Thread(target=sign_as_lee) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(outcomes) == 2 and outcomes.count("signed") == 1
    assert any("lee already signed" in outcome for outcome in outcomes)
    with store.session() as session:
        assert len(session.exec(select(SignOff).where(SignOff.approver == "lee")).all()) == 1


def test_only_those_answerable_for_a_ticket_and_admins_triage_assign_or_dismiss(ws: Path) -> None:
    settings, store, _ = sync(ws)
    ref = ticket_on(store, "refunds").tracker_ref or ""
    who = "the owners and approvers of its section or document, its assignee and admins may: dana, lee, sam, tester"
    for verb, attempt in (
        ("triage", lambda: triage(store, settings, ref, "priya", assignee="priya")),
        ("assign", lambda: review.assign(store, settings, ref, "priya", "priya")),
        ("dismiss", lambda: dismiss(store, settings, ref, "not for me", "priya")),
    ):
        with pytest.raises(RefusedError) as refused:
            attempt()
        assert refused.value.message == f"priya may not {verb} {ref}" and refused.value.hint == who
    ticket = ticket_on(store, "refunds")
    assert ticket.state == "open" and ticket.assignee is None

    assert triage(store, settings, ref, "lee", assignee="tom").endswith("assigned to tom")  # a section approver
    assert review.assign(store, settings, ref, "priya", "tester") == f"{ref} is assigned to priya"  # an admin
    assert dismiss(store, settings, ref, "covered by the FAQ", "priya") == f"{ref} is dismissed"  # its assignee now
    with store.session() as session:
        actors = [e.actor for e in session.exec(select(AuditEvent).where(AuditEvent.action == "assign"))]
    assert actors == ["lee", "tester"]


def test_an_assignee_must_be_a_person_of_the_workspace(ws: Path) -> None:
    settings, store, _ = sync(ws)
    ref = ticket_on(store, "refunds").tracker_ref or ""
    for name in ("nobody.x", "finance"):  # unknown, or a role rather than a person
        for attempt in (
            lambda person: review.assign(store, settings, ref, person, "dana"),
            lambda person: triage(store, settings, ref, "dana", assignee=person),
        ):
            with pytest.raises(RefusedError) as refused:
                attempt(name)
            assert refused.value.message == f"{name} is not a person in this workspace"  # as `--as {name}` says
    ticket = ticket_on(store, "refunds")
    assert ticket.state == "open" and ticket.assignee is None  # the refused triage did nothing
    assert review.assign(store, settings, ref, "tom", "dana") == f"{ref} is assigned to tom"


def test_only_the_documents_owner_and_admins_publish_even_with_force(ws: Path) -> None:
    settings, store, _ = sync(ws)
    edit_policy(ws, "within 3 days", "within 5 days")
    for person in ("priya", "lee"):  # an agent; a section's approver who does not own the document
        for force in (None, "carrier contract changed today"):
            with pytest.raises(RefusedError) as refused:
                publish(settings, store, "returns-policy", person, force_reason=force)
            assert refused.value.message == f"{person} may not publish returns-policy"
            assert refused.value.hint == "the owner of the published version and admins may: dana, tester"
    assert not (ws / "publish").exists()
    assert publish(settings, store, "returns-policy", "tester", force_reason="carrier contract").version == 2


def _sign_off_requests(store: Store) -> list[str]:
    with store.session() as session:
        sent = session.exec(select(OutboxMessage).where(OutboxMessage.target == "notifier")).all()
    return sorted(m.payload["recipients"][0] for m in sent if m.key.startswith("signoff:"))


def test_an_approval_that_closes_an_open_ticket_asks_nobody_to_sign(ws: Path) -> None:
    settings, store, _ = sync(ws)
    delivery = ticket_on(store, "delivery").tracker_ref or ""  # one of joe and dana suffices; not edited
    assert sign(store, settings, delivery, "joe", "approve").endswith("is closed: reviewed, no change needed")
    assert _sign_off_requests(store) == []
    with store.session() as session:
        ticket = ticket_on(store, "delivery")
        asked = session.exec(select(AuditEvent).where(AuditEvent.action == "request_sign_off")).all()
    assert ticket.state == "closed" and asked == []

    refunds = ticket_on(store, "refunds").tracker_ref or ""  # lee and dana must both approve
    assert sign(store, settings, refunds, "lee", "approve").startswith(
        f"{refunds}: 1 of 2 approvals of the section as it is (unchanged)"
    )
    assert _sign_off_requests(store) == ["dana"]  # the round goes on: the other approver is asked, not lee


def test_requests_give_the_command_people_run_as_themselves(ws: Path, clock) -> None:  # type: ignore[no-untyped-def]
    settings, store, _ = sync(ws)
    ref = ticket_on(store, "refunds").tracker_ref or ""
    triage(store, settings, ref, "dana")
    edit_policy(ws, "within 5 business days", "within 10 business days")
    sync(ws)  # lee and dana are asked to sign
    clock.move_to(START + timedelta(days=3, hours=1))
    sync(ws)  # and reminded
    sign(store, settings, ref, "lee", "approve")
    sign(store, settings, ref, "dana", "approve")
    publish(settings, store, "returns-policy", "dana")  # priya and tom are asked to acknowledge
    log = (ws / "notifications.log").read_text(encoding="utf-8")
    assert log.count(f"Approve: reviewbot tickets approve {ref}\n") == 4  # 2 requests, 2 reminders
    assert f"Or: reviewbot tickets request-changes|reject {ref} --comment ...\n" in log
    assert log.count("Acknowledge: reviewbot policy ack returns-policy\n") == 2
    assert "--as" not in log  # a command only an admin may run


def test_naming_oneself_owner_in_the_file_does_not_let_one_publish(ws: Path) -> None:
    settings, store, _ = sync(ws)
    edit_policy(ws, "owner: head-of-cx\n", "owner: priya\n")  # priya edits the file and names herself owner
    edit_policy(ws, "within 3 days", "within 5 days")
    with pytest.raises(RefusedError) as refused:
        publish(settings, store, "returns-policy", "priya", force_reason="I own it now")
    assert refused.value.message == "priya may not publish returns-policy"
    assert refused.value.hint.endswith("may: dana, tester")  # the owner of the published version, and admins
    assert not (ws / "publish").exists()


def test_the_previous_owner_hands_a_document_over_by_publishing(ws: Path) -> None:
    settings, store, _ = sync(ws)
    edit_policy(ws, "owner: head-of-cx\n", "owner: lee\n")
    assert publish(settings, store, "returns-policy", "dana").version == 2  # dana owned version 1
    edit_policy(ws, "within 3 days", "within 5 days")
    with pytest.raises(RefusedError) as refused:
        publish(settings, store, "returns-policy", "dana", force_reason="x")  # lee owns version 2 now
    assert refused.value.message == "dana may not publish returns-policy"
    assert publish(settings, store, "returns-policy", "lee", force_reason="carrier contract").version == 3


def test_someone_in_two_acknowledging_roles_is_asked_once(tmp_path: Path, use_database: str) -> None:  # type: ignore[no-untyped-def]
    """tom is an agent and a team lead: he was asked twice and counted twice ("0 of 4 acknowledged" for three
    people, "1 of 3" once he had acknowledged)."""
    roles = ROLES.replace('agents = ["priya", "tom"]', 'agents = ["priya", "tom"]\nteam-leads = ["tom", "ines"]')
    folder = make_workspace(
        tmp_path / "ws", extra_toml=roles + '\n[review]\nack_roles = ["agents", "team-leads"]\n', policy=POLICY
    )
    settings, store, _ = sync(folder)
    edit_policy(folder, "within 30 days", "within 14 days")
    result = publish(settings, store, "returns-policy", "dana", force_reason="privacy review done elsewhere")
    assert result.ack_expected == ["priya", "tom", "ines"]
    assert sorted(m for m in messages(folder) if m.startswith("[ack_request]")) == [
        f"[ack_request] -> {person} Please read and acknowledge Returns Policy version 2"
        for person in ("ines", "priya", "tom")
    ]
    acknowledge(store, "returns-policy", "tom")
    status = ack_status(store, "returns-policy")
    assert list(status.acknowledged) == ["tom"] and status.pending == ["priya", "ines"]


def test_people_who_have_not_acknowledged_the_latest_version_get_a_few_reminders(ws: Path, clock) -> None:  # type: ignore[no-untyped-def]
    settings, store, _ = sync(ws)
    edit_policy(ws, "within 30 days", "within 14 days")
    publish(settings, store, "returns-policy", "dana", force_reason="privacy review done elsewhere")
    acknowledge(store, "returns-policy", "tom")

    def ack_reminders() -> list[str]:
        return [m for m in messages(ws) if m.startswith("[ack_request]") and "Reminder" in m]

    clock.move_to(START + timedelta(days=6))
    sync(ws)
    assert ack_reminders() == []  # within review.ack_sla_days (7)
    clock.move_to(START + timedelta(days=7, hours=1))
    _, _, report = sync(ws)
    sync(ws)  # a second sync the same day sends nothing again
    assert ack_reminders() == ["[ack_request] -> priya Reminder: please read and acknowledge Returns Policy version 2"]
    assert report.review["ack_reminders"] == 1
    clock.move_to(START + timedelta(days=30))  # weeks without a sync: one reminder, the last allowed, not all missed
    sync(ws)
    clock.move_to(START + timedelta(days=60))
    sync(ws)
    assert len(ack_reminders()) == 2  # review.ack_reminders (2) per person and version

    edit_policy(ws, "within 14 days", "within 21 days")  # version 3: version 2 is not chased any more
    publish(settings, store, "returns-policy", "dana", force_reason="privacy review done elsewhere")
    acknowledge(store, "returns-policy", "priya")
    clock.move_to(START + timedelta(days=68))
    sync(ws)
    assert ack_reminders()[2:] == [
        "[ack_request] -> tom Reminder: please read and acknowledge Returns Policy version 3"
    ]


def test_the_weekly_digest_names_overdue_sign_offs_by_their_ticket_reference(ws: Path, clock) -> None:  # type: ignore[no-untyped-def]
    """The digest said "lee on ticket 1": the database id, which no command takes; people look tickets up by the
    reference they are shown everywhere else (RB-1)."""
    settings, store, _ = sync(ws)
    ref = ticket_on(store, "refunds").tracker_ref or ""
    triage(store, settings, ref, "dana")
    edit_policy(ws, "within 5 business days", "within 10 business days")
    sync(ws)  # sign-offs asked of lee and dana at START
    clock.move_to(START + timedelta(days=4))
    digest = default_jobs(settings, store)["digest"]
    assert digest() == "weekly digest sent"
    log = (ws / "notifications.log").read_text(encoding="utf-8")
    [sent] = [block for block in log.split("\n\n") if "Policy review: week" in block]
    assert "Overdue sign-offs: 2." in sent
    assert f"- lee on {ref}, asked 2026-09-30" in sent and f"- dana on {ref}, asked 2026-09-30" in sent


def test_a_thank_you_lists_the_changes_the_persons_feedback_led_to(ws: Path) -> None:
    """Version 2 answers the refund notes of priya and tom and, separately, the delivery complaints: their
    thank-you said "What you reported is addressed" above both changes, the delivery one included."""
    settings, store, _ = sync(ws)
    refunds, delivery = ticket_on(store, "refunds").tracker_ref or "", ticket_on(store, "delivery").tracker_ref or ""
    edit_policy(ws, "within 5 business days", "within 10 business days")
    edit_policy(ws, "within 48 hours", "within 24 hours")
    sign(store, settings, refunds, "lee", "approve")
    sign(store, settings, refunds, "dana", "approve")
    sign(store, settings, delivery, "joe", "approve")
    result = publish(settings, store, "returns-policy", "dana")
    assert sorted(result.resolved) == sorted([refunds, delivery])
    [refund_line] = [line for line in result.changelog if line.endswith(f"({refunds})")]

    log = (ws / "notifications.log").read_text(encoding="utf-8")
    thanks = [block for block in log.split("\n\n") if block.startswith("[thank_you]")]
    assert sorted(block.splitlines()[0].split()[2] for block in thanks) == ["priya", "tom"]
    for block in thanks:
        assert block.splitlines()[1:] == [
            "What you reported is addressed in Returns Policy version 2:",
            f"- {refund_line}",
        ]


def test_the_editor_hears_of_requested_changes_and_the_owner_of_an_approval(ws: Path) -> None:
    """A sign-off was a tracker comment alone: with the built-in tracker nobody was told that changes were asked
    for, that a ticket was rejected, or that one was approved and waits for the document's owner to publish."""
    settings, store, _ = sync(ws)
    refunds, delivery = ticket_on(store, "refunds").tracker_ref or "", ticket_on(store, "delivery").tracker_ref or ""
    triage(store, settings, refunds, "dana", assignee="sam")
    edit_policy(ws, "within 5 business days", "within 30 business days")
    sync(ws)
    sign(store, settings, refunds, "lee", "request_changes", "30 days is too long")
    deliver(settings, store)  # as every entry point does after a sign-off
    log = (ws / "notifications.log").read_text(encoding="utf-8")
    [changes] = [b for b in log.split("\n\n") if b.startswith("[changes_requested]")]
    assert changes.splitlines()[0] == f"[changes_requested] -> sam Changes requested on {refunds} by lee"
    assert "lee: 30 days is too long" in changes and "section refunds of returns-policy" in changes

    edit_policy(ws, "within 30 business days", "within 10 business days")
    sync(ws)
    sign(store, settings, refunds, "dana", "approve")
    sign(store, settings, refunds, "lee", "approve")
    edit_policy(ws, "within 48 hours", "within 24 hours")
    sign(store, settings, delivery, "joe", "reject", "the carrier sets this, not us")
    deliver(settings, store)
    blocks = (ws / "notifications.log").read_text(encoding="utf-8").split("\n\n")
    [ready] = [b for b in blocks if b.startswith("[ready_to_publish]")]
    assert ready.splitlines()[0] == f"[ready_to_publish] -> dana Ready to publish: {refunds} is approved"
    assert "reviewbot policy publish returns-policy" in ready
    [rejected] = [b for b in blocks if b.startswith("[rejected]")]
    assert rejected.splitlines()[0] == f"[rejected] -> dana {delivery} was rejected by joe"
    assert "joe: the carrier sets this, not us" in rejected


def _refused(attempt) -> RefusedError:  # type: ignore[no-untyped-def]
    with pytest.raises(RefusedError) as refused:
        attempt()
    return refused.value


def test_naming_oneself_approver_in_the_file_does_not_let_one_sign(ws: Path) -> None:
    settings, store, _ = sync(ws)
    refunds = ticket_on(store, "refunds").tracker_ref or ""
    delivery = ticket_on(store, "delivery").tracker_ref or ""  # its section is not edited: one approval closes it
    # priya edits the file: she approves refunds (one approval now suffices) and delivery, and rewrites refunds
    edit_policy(ws, "approvers: [finance, head-of-cx]\n", "approvers: [finance, head-of-cx, priya]\n    sign_off: 1\n")
    edit_policy(ws, "approvers: [logistics, head-of-cx]\n", "approvers: [logistics, head-of-cx, priya]\n")
    edit_policy(ws, "within 5 business days", "within 1 business day")
    sync(ws)
    for ref, section, approvers in ((refunds, "refunds", "lee, dana"), (delivery, "delivery", "joe, dana")):
        refused = _refused(lambda ref=ref: sign(store, settings, ref, "priya", "approve"))
        assert refused.message == f"priya is not an approver of section {section}"
        assert refused.hint == f"approvers: {approvers}"  # as the published version names them
    assert ticket_on(store, "delivery").state == "open"  # not closed as reviewed
    assert sign(store, settings, refunds, "lee", "approve") == f"{refunds}: 1 of 2 approvals"  # the rule is v1's too


def test_naming_oneself_in_the_documents_header_gives_no_rights_over_its_tickets(ws: Path) -> None:
    from reviewbot.workflows.corrections import move_ticket
    from reviewbot.workflows.curate import rename

    settings, store, _ = sync(ws)
    refunds = ticket_on(store, "refunds").tracker_ref or ""
    privacy = ticket_on(store, "privacy", "periodic").tracker_ref or ""  # privacy has the document's approvers
    with store.session() as session:  # a coverage gap: the document's approvers sign it
        gap = ReviewTicket(fingerprint="gap-1", kind="gap", document_id="returns-policy", title="Gift cards")
        session.add(gap)
        session.commit()
        gap_ref = str(gap.id)
    edit_policy(ws, "owner: head-of-cx\napprovers: [head-of-cx, compliance]\n", "owner: priya\napprovers: [priya]\n")
    sync(ws)
    for verb, attempt in (
        ("triage", lambda: triage(store, settings, refunds, "priya")),
        ("dismiss", lambda: dismiss(store, settings, refunds, "not needed", "priya")),
        ("move", lambda: move_ticket(store, settings, refunds, "delivery", "priya")),
    ):
        assert _refused(attempt).message == f"priya may not {verb} {refunds}"
    assert _refused(lambda: sign(store, settings, privacy, "priya", "approve")).hint == "approvers: dana, sam"
    gap_refusal = _refused(lambda: sign(store, settings, gap_ref, "priya", "approve"))
    assert gap_refusal.message == "priya is not an approver of document returns-policy"
    assert gap_refusal.hint == "approvers: dana, sam"
    assert _refused(lambda: rename(settings, store, 1, "Mine", "priya")).message == "priya may not rename theme 1"
    assert ticket_on(store, "refunds").state == "open"


def test_approvers_named_in_the_file_sign_once_that_version_is_published(ws: Path) -> None:
    settings, store, _ = sync(ws)
    refunds = ticket_on(store, "refunds").tracker_ref or ""
    edit_policy(ws, "approvers: [finance, head-of-cx]\n", "approvers: [finance, head-of-cx, priya]\n")
    assert publish(settings, store, "returns-policy", "dana").version == 2  # the owner accepts priya as approver
    assert sign(store, settings, refunds, "priya", "approve").startswith(
        f"{refunds}: 1 of 3 approvals of the section as it is (unchanged)"
    )


def test_escalations_go_to_the_owner_of_the_published_version(ws: Path, clock) -> None:  # type: ignore[no-untyped-def]
    settings, store, _ = sync(ws)
    ref = ticket_on(store, "refunds").tracker_ref or ""
    triage(store, settings, ref, "dana")
    edit_policy(ws, "within 5 business days", "within 10 business days")
    edit_policy(ws, "owner: head-of-cx\n", "owner: priya\n")
    sync(ws)  # sign-offs asked of lee and dana
    clock.move_to(START + timedelta(days=7, hours=1))
    sync(ws)
    escalated = sorted(m for m in messages(ws) if m.startswith("[escalation]"))
    assert escalated == [
        f"[escalation] -> dana Escalation: dana has not signed {ref} for 7 days",
        f"[escalation] -> dana, lee Escalation: lee has not signed {ref} for 7 days",
    ]


def test_a_section_new_in_the_file_has_its_documents_published_approvers(ws: Path) -> None:
    from reviewbot.models import PolicyDocument
    from reviewbot.store.policies import section_authority

    settings, store, _ = sync(ws)
    edit_policy(ws, "  privacy:\n", "  exchanges:\n    owner: priya\n    approvers: [priya]\n  privacy:\n")
    edit_policy(ws, "## 3. Privacy", "## 3. Exchanges\nWe exchange an item once.\n\n## 4. Privacy")
    sync(ws)
    with store.session() as session:
        document = session.get(PolicyDocument, "returns-policy")
        assert document is not None and document.has_draft
        who = section_authority(session, document, "exchanges")
    assert (who.owner, who.approvers, who.sign_off) == ("head-of-cx", ("head-of-cx", "compliance"), "all")


def test_the_owner_the_published_version_names_hears_of_approvals_and_rejections(ws: Path) -> None:
    settings, store, _ = sync(ws)
    refunds, delivery = ticket_on(store, "refunds").tracker_ref or "", ticket_on(store, "delivery").tracker_ref or ""
    edit_policy(ws, "owner: head-of-cx\n", "owner: priya\n")  # owner of the document and its sections, in the file
    edit_policy(ws, "within 5 business days", "within 10 business days")
    sign(store, settings, refunds, "dana", "approve")
    sign(store, settings, refunds, "lee", "approve")
    sign(store, settings, delivery, "joe", "reject", "the carrier sets this, not us")
    deliver(settings, store)
    told = sorted(m for m in messages(ws) if m.startswith(("[ready_to_publish]", "[rejected]")))
    assert told == [  # dana owns the published version: she publishes (priya may not) and edits
        f"[ready_to_publish] -> dana Ready to publish: {refunds} is approved",
        f"[rejected] -> dana {delivery} was rejected by joe",
    ]


def approved_refunds(ws: Path):  # type: ignore[no-untyped-def]
    """The refunds ticket, its section edited to 10 days, approved by both its approvers."""
    settings, store, _ = sync(ws)
    ref = ticket_on(store, "refunds").tracker_ref or ""
    triage(store, settings, ref, "dana")
    edit_policy(ws, "within 5 business days", "within 10 business days")
    sync(ws)
    sign(store, settings, ref, "lee", "approve")
    assert "is approved" in sign(store, settings, ref, "dana", "approve")
    return settings, store, ref


def test_an_approved_edit_undone_before_publishing_is_asked_again(ws: Path) -> None:
    settings, store, ref = approved_refunds(ws)
    edit_policy(ws, "within 10 business days", "within 5 business days")  # back to the published text
    asked = len([m for m in messages(ws) if m.startswith("[signoff_request]")])
    _, _, report = sync(ws)
    assert report.review["reviews_started"] == 1
    ticket = ticket_on(store, "refunds")
    assert ticket.state == "in_review"  # not "approved" for a change that is no longer in the file
    assert len([m for m in messages(ws) if m.startswith("[signoff_request]")]) == asked + 2  # lee and dana again
    with store.session() as session:
        trail = [e.detail for e in session.exec(select(AuditEvent).where(AuditEvent.ticket_id == ticket.id))]
    assert any(d.startswith("approved -> in_review: the edit it approved was undone") for d in trail)
    _, _, later = sync(ws)
    assert later.review["reviews_started"] == 0  # asked once

    edit_policy(ws, "within 48 hours", "within 24 hours")  # another section's change is published
    result = publish(settings, store, "returns-policy", "dana", force_reason="delivery contract")
    assert ref not in result.resolved and ticket_on(store, "refunds").state == "in_review"


def test_an_approved_text_edited_again_is_not_published_as_approved(ws: Path) -> None:
    settings, store, ref = approved_refunds(ws)
    edit_policy(ws, "within 10 business days", "within 30 business days")  # no sync between edit and publish
    with pytest.raises(RefusedError) as caught:
        publish(settings, store, "returns-policy", "dana")
    assert f"{ref} (approved an earlier text)" in caught.value.message
    assert "`reviewbot sync` asks again" in (caught.value.hint or "")
    result = publish(settings, store, "returns-policy", "dana", force_reason="legal deadline")
    assert result.forced and ref not in result.resolved
    assert ticket_on(store, "refunds").state == "approved"  # not closed as if 30 days had been approved


def test_an_approver_signs_again_when_a_text_comes_back_in_a_later_round(ws: Path) -> None:
    settings, store, _ = sync(ws)
    ref = ticket_on(store, "refunds").tracker_ref or ""
    triage(store, settings, ref, "dana")
    edit_policy(ws, "within 5 business days", "within 10 business days")
    sync(ws)
    assert sign(store, settings, ref, "lee", "approve") == f"{ref}: 1 of 2 approvals"
    edit_policy(ws, "within 10 business days", "within 12 business days")
    sync(ws)  # round 2, for 12 days
    edit_policy(ws, "within 12 business days", "within 10 business days")
    sync(ws)  # round 2 goes on, for 10 days again: lee's round-1 approval does not count in it
    assert sign(store, settings, ref, "lee", "approve") == f"{ref}: 1 of 2 approvals"  # was refused: signed before
    with pytest.raises(RefusedError, match="lee already signed"):
        sign(store, settings, ref, "lee", "approve")  # still once per round
    assert "is approved" in sign(store, settings, ref, "dana", "approve")


def test_a_nul_character_in_a_reason_or_comment_is_refused_saying_so(ws: Path) -> None:
    """A Slack form's JSON can carry \\u0000 (a terminal cannot): PostgreSQL refused to store it, and the sign-off,
    dismissal or reopening failed with a database error; SQLite stored it. Both now refuse it before anything is
    written, saying which text holds it."""
    settings, store, _ = sync(ws)
    ref = ticket_on(store, "refunds").tracker_ref or ""
    triage(store, settings, ref, "dana", assignee="lee")
    edit_policy(ws, "within 5 business days", "within 10 business days")
    sync(ws)
    with pytest.raises(RefusedError, match="comment holds a NUL character"):
        sign(store, settings, ref, "lee", "reject", "no\x00way")
    with pytest.raises(RefusedError, match="reason holds a NUL character"):
        dismiss(store, settings, ref, "not\x00policy", "dana")
    with pytest.raises(RefusedError, match="reason holds a NUL character"):
        review.reopen(store, settings, ref, "worse\x00", "dana")
    assert ticket_on(store, "refunds").state == "in_review"
    with store.session() as session:
        assert session.exec(select(SignOff)).all() == []
    assert "is approved" not in sign(store, settings, ref, "lee", "reject", "no way")  # a clean comment is taken
