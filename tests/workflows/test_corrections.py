"""Owners correct the mapping: a moved ticket is re-targeted (and its tracker issue), audited, refused when it
cannot move, and the correction holds through re-syncs, merges, splits and policy edits; a section that disappears
makes it inert; "not a policy matter" stops the theme's tickets."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from sqlmodel import select

from reviewbot.errors import NotFoundError
from reviewbot.models import (
    AuditEvent,
    FeedbackItem,
    MappingCorrection,
    ReviewTicket,
    ThemeMapping,
    TrackerComment,
    TrackerIssue,
)
from reviewbot.store import Store
from reviewbot.workflows.corrections import move_ticket
from reviewbot.workflows.curate import merge, split
from reviewbot.workflows.deliver import deliver
from reviewbot.workflows.mapping import explain_theme
from reviewbot.workflows.review import RefusedError, dismiss
from reviewbot.workflows.sync import run_sync
from tests.workspaces import DELIVERY_TEXTS, make_workspace, open_workspace, rows, write_csv

POLICY = """---
id: returns-policy
title: Returns Policy
owner: head-of-cx
approvers: [head-of-cx]
sections:
  delivery:
    approvers: [logistics]
  privacy:
    approvers: [dpo]
---
# Returns Policy

## 1. Refunds
We refund returned items within 5 business days of receiving them, to the original payment method.

## 2. Delivery
Parcels arrive within 3 days. Lost parcels are investigated by the carrier within 48 hours.

## 3. Carrier claims {#claims}
Claims against a carrier for a lost or damaged parcel are handled by our logistics team, never by the customer.

## 4. Privacy
We never ask for full card numbers. Data deletion requests are answered within 30 days.
"""
ROLES = """
[mapping]
max_sections = 1  # one ticket per theme: the claims section would otherwise be cited beside delivery

[roles]
head-of-cx = ["dana"]
logistics = ["joe"]
dpo = ["ines"]
"""


@pytest.fixture
def ws(tmp_path: Path, use_database: str) -> Path:
    return make_workspace(tmp_path / "ws", extra_toml=ROLES, policy=POLICY)


def sync(folder: Path) -> tuple[object, Store]:
    settings, store = open_workspace(folder)
    report = run_sync(settings, store)
    assert report.errors == []
    return settings, store


def tickets(store: Store) -> list[ReviewTicket]:
    with store.session() as session:
        return list(session.exec(select(ReviewTicket).where(ReviewTicket.kind != "periodic")))


def delivery_ticket(store: Store) -> ReviewTicket:
    [ticket] = [t for t in tickets(store) if t.section_id == "delivery"]
    return ticket


def sections_of_theme(store: Store, theme_id: int) -> list[str]:
    with store.session() as session:
        query = select(ThemeMapping).where(ThemeMapping.theme_id == theme_id).order_by(ThemeMapping.rank)
        return [m.section_id for m in session.exec(query)]


def test_a_move_retargets_the_ticket_and_its_tracker_issue_and_is_audited(ws: Path) -> None:
    settings, store = sync(ws)
    ticket = delivery_ticket(store)
    old_fingerprint = ticket.fingerprint
    message = move_ticket(store, settings, ticket.tracker_ref or "", "claims", "dana", reason="a claims matter")
    assert message == f"{ticket.tracker_ref} moved from delivery to claims; themes like it will be filed there too"
    deliver(settings, store)
    with store.session() as session:
        moved = session.get(ReviewTicket, ticket.id)
        issue = session.exec(select(TrackerIssue).where(TrackerIssue.key == ticket.tracker_ref)).one()
        notes = [c.body for c in session.exec(select(TrackerComment).where(TrackerComment.issue_key == issue.key))]
        trail = [(e.actor, e.action, e.detail) for e in session.exec(select(AuditEvent))]
    assert moved is not None and moved.section_id == "claims" and moved.fingerprint != old_fingerprint
    assert moved.title.startswith("Review 3. Carrier claims:") and moved.evidence["section"]["id"] == "claims"
    assert "handled by our logistics team" in moved.evidence["section"]["text"]
    assert issue.fingerprint == moved.fingerprint and issue.title == moved.title
    assert any("Moved to 3. Carrier claims" in note and "by dana: a claims matter" in note for note in notes)
    assert ("dana", "move", "moved from delivery to claims by dana: a claims matter") in trail
    assert sections_of_theme(store, moved.theme_id or 0) == ["claims"]


def test_a_correction_holds_through_a_resync_and_the_theme_growing(ws: Path) -> None:
    settings, store = sync(ws)
    ticket = delivery_ticket(store)
    move_ticket(store, settings, ticket.tracker_ref or "", "claims", "joe")
    more = [f"{text} (again, order {i})" for i, text in enumerate(DELIVERY_TEXTS)]
    write_csv(ws / "inbox" / "complaints" / "export-2.csv", rows(more, "D2", day=10))
    sync(ws)
    assert sections_of_theme(store, ticket.theme_id or 0) == ["claims"]
    on_theme = [t for t in tickets(store) if t.theme_id == ticket.theme_id]
    assert [(t.id, t.section_id) for t in on_theme] == [(ticket.id, "claims")]  # no new ticket on delivery


def test_a_correction_follows_a_merge_and_teaches_the_parts_of_a_split(ws: Path) -> None:
    settings, store = sync(ws)
    refunds = next(t for t in tickets(store) if t.section_id == "refunds")
    delivery = delivery_ticket(store)
    move_ticket(store, settings, delivery.tracker_ref or "", "claims", "dana")
    # the delivery theme is merged into the refunds theme: its correction now holds the merged theme
    merge(settings, store, refunds.theme_id or 0, [delivery.theme_id or 0], "dana")
    sync(ws)
    assert sections_of_theme(store, refunds.theme_id or 0) == ["claims"]
    # split again: the correction holds the part like the theme that was corrected, whichever keeps the id
    split(settings, store, refunds.theme_id or 0, "dana", parts=2)
    sync(ws)
    with store.session() as session:
        maps = {m.theme_id: m.section_id for m in session.exec(select(ThemeMapping)) if m.rank == 0}
        parcel = session.exec(select(FeedbackItem.theme_id).where(FeedbackItem.external_id == "D-0")).one()
        refund = session.exec(select(FeedbackItem.theme_id).where(FeedbackItem.external_id == "R-0")).one()
    assert parcel != refund
    assert (maps[parcel or 0], maps[refund or 0]) == ("claims", "refunds")


def test_a_correction_survives_a_policy_edit_and_is_inert_once_its_section_is_gone(ws: Path) -> None:
    settings, store = sync(ws)
    ticket = delivery_ticket(store)
    move_ticket(store, settings, ticket.tracker_ref or "", "claims", "dana")
    policy = ws / "policies" / "returns.md"
    text = policy.read_text(encoding="utf-8")
    policy.write_text(text.replace("never by the customer", "never by the customer, within 10 days"), "utf-8")
    from reviewbot.workflows.publish import publish

    publish(settings, store, "returns-policy", "dana", force_reason="wording")
    sync(ws)
    assert sections_of_theme(store, ticket.theme_id or 0) == ["claims"]
    # the section is removed: the theme is mapped as if never corrected, and nothing fails
    start = text.index("## 3. Carrier claims")
    policy.write_text(text[:start] + text[text.index("## 4. Privacy") :], "utf-8")
    publish(settings, store, "returns-policy", "dana", force_reason="claims moved to the logistics policy")
    sync(ws)
    assert sections_of_theme(store, ticket.theme_id or 0) == ["delivery"]


def test_not_a_policy_matter_dismisses_the_ticket_and_files_no_other(ws: Path) -> None:
    settings, store = sync(ws)
    ticket = delivery_ticket(store)
    message = move_ticket(store, settings, ticket.tracker_ref or "", None, "dana", reason="carrier's problem")
    assert message.endswith("dismissed as not a policy matter; themes like it will get no ticket")
    more = [f"{text} (order {i})" for i, text in enumerate(DELIVERY_TEXTS)]
    write_csv(ws / "inbox" / "complaints" / "export-2.csv", rows(more, "D2", day=10))
    sync(ws)
    on_theme = [t for t in tickets(store) if t.theme_id == ticket.theme_id]
    assert [(t.state, t.state_reason) for t in on_theme] == [
        ("dismissed", "not a policy matter (dana): carrier's problem")
    ]
    assert sections_of_theme(store, ticket.theme_id or 0) == []


def test_moving_onto_a_section_the_theme_already_has_a_ticket_on_dismisses_the_copy(ws: Path) -> None:
    settings, store = sync(ws)
    ticket = delivery_ticket(store)
    move_ticket(store, settings, ticket.tracker_ref or "", "claims", "dana")
    with store.session() as session:  # another ticket of the theme sits on privacy (a second section it cited)
        session.add(
            ReviewTicket(
                fingerprint="copy",
                theme_id=ticket.theme_id,
                document_id="returns-policy",
                section_id="privacy",
                title="Review 4. Privacy: parcels",
            )
        )
    copy = next(t for t in tickets(store) if t.fingerprint == "copy")
    from reviewbot.evidence import fingerprint

    with store.session() as session:
        stored = session.get(ReviewTicket, copy.id)
        assert stored is not None
        stored.fingerprint = fingerprint(ticket.theme_id or 0, "returns-policy", "privacy")
        session.add(stored)
    message = move_ticket(store, settings, ticket.tracker_ref or "", "privacy", "dana")
    assert message == f"{ticket.tracker_ref} is dismissed: #{copy.id} already reviews this theme on privacy"


def test_moves_that_cannot_be_done_are_refused_with_a_clear_message(ws: Path) -> None:
    settings, store = sync(ws)
    ticket = delivery_ticket(store)
    ref = ticket.tracker_ref or ""
    with pytest.raises(NotFoundError) as unknown:
        move_ticket(store, settings, ref, "claim", "dana")
    assert "no section 'claim' in the published version of returns-policy" in unknown.value.message
    assert "did you mean claims" in (unknown.value.hint or "")
    with pytest.raises(RefusedError, match="already on section delivery"):
        move_ticket(store, settings, ref, "delivery", "dana")
    with pytest.raises(RefusedError, match="ines may not move") as stranger:
        move_ticket(store, settings, ref, "refunds", "ines")  # she approves privacy, not delivery or refunds
    assert "dana" in (stranger.value.hint or "") and "joe" in (stranger.value.hint or "")
    dismiss(store, settings, ref, "duplicate of a known issue", "dana")
    with pytest.raises(RefusedError, match="is dismissed; only a ticket still under review can move"):
        move_ticket(store, settings, ref, "claims", "dana")
    with store.session() as session:
        assert session.exec(select(MappingCorrection)).all() == []


def test_tickets_move_on_the_command_line(ws: Path, cli) -> None:  # type: ignore[no-untyped-def]
    sync(ws)
    ref = delivery_ticket(open_workspace(ws)[1]).tracker_ref
    wrong = cli(f"-w {ws} tickets move {ref} --section nowhere --as dana")
    assert wrong.code == 1 and "no section 'nowhere'" in wrong.stderr and "Traceback" not in wrong.stderr
    both = cli(f"-w {ws} tickets move {ref} --section claims --not-policy --as dana")
    assert both.code == 2 and "--section SECTION_ID, or --not-policy" in both.stderr
    moved = cli(f"-w {ws} tickets move {ref} --section claims --as joe --reason 'claims team'")
    assert moved.code == 0 and f"{ref} moved from delivery to claims" in moved.stdout
    listed = cli(f"-w {ws} mapping corrections --json")
    assert listed.code == 0 and '"section_id": "claims"' in listed.stdout and '"actor": "joe"' in listed.stdout
    theme = delivery_ticket_theme(ws)
    explained = cli(f"-w {ws} mapping explain {theme} --json")
    assert explained.code == 0 and "held on claims by joe" in explained.stdout


def delivery_ticket_theme(folder: Path) -> int:
    _, store = open_workspace(folder)
    with store.session() as session:
        ticket = session.exec(select(ReviewTicket).where(ReviewTicket.section_id == "claims")).one()
    return ticket.theme_id or 0


LENDER = """---
id: lender
title: Lending policy
owner: head-of-cx
approvers: [head-of-cx]
---
# Lending policy

## Costs and fees {#costs}
Every fee and the interest rate are shown before signing.

## Automatic debits {#debits}
We debit the bank account only on the authorised dates and stop debits when authorisation is revoked.

## Vehicle-secured loans {#vehicles}
A vehicle is repossessed only after written notice, and its papers are returned once the loan is repaid.
"""
DAYS = ["on monday", "on friday", "last week", "yesterday", "at night", "this morning", "on payday", "today"]


def lender_workspace(tmp_path: Path, policy: str = LENDER) -> Path:
    """A workspace with the lender's policy alone and an empty complaints inbox."""
    ws = make_workspace(tmp_path / "ws", extra_toml=ROLES, policy=policy)
    (ws / "policies" / "returns.md").unlink()
    (ws / "policies" / "lender.md").write_text(policy, encoding="utf-8")
    (ws / "inbox" / "complaints" / "export-1.csv").unlink()
    return ws


def lender_texts(template: str, n: int) -> list[str]:
    return [template.format(day=DAYS[i % len(DAYS)], i=i) for i in range(n)]


@pytest.mark.parametrize("corrected", [True, False])
def test_a_correction_teaches_the_next_sync_where_like_themes_go(
    tmp_path: Path, use_database: str, corrected: bool
) -> None:
    ws = lender_workspace(tmp_path)
    exports = ws / "inbox" / "complaints"
    first = (
        rows(lender_texts("a fee I was never shown was charged {day}, the interest rate is not what I signed", 60), "F")
        + rows(lender_texts("they debit my bank account {day} after I revoked the authorisation", 60), "B")
        + rows(
            lender_texts("the title of my truck was never handed back {day} after the payoff, you promised", 30), "T"
        )
    )
    write_csv(exports / "export-1.csv", first)
    settings, store = sync(ws)
    truck = theme_of(store, "T-0")
    assert truck and sections_of_theme(store, truck) != ["vehicles"]  # "title", "truck": no section's words
    [ticket] = [t for t in tickets(store) if t.theme_id == truck]
    if corrected:
        move_ticket(store, settings, ticket.tracker_ref or "", "vehicles", "dana")
    # a new issue arrives: about the same papers, in other words, and it is a theme of its own
    later = lender_texts("still waiting {day} for the lien release and the pink slip of my truck", 30)
    write_csv(exports / "export-2.csv", rows(later, "L", day=20))
    sync(ws)
    lien = theme_of(store, "L-0")
    assert lien not in (truck, theme_of(store, "F-0"), theme_of(store, "B-0"))
    assert (sections_of_theme(store, lien) == ["vehicles"]) is corrected  # without the move it goes elsewhere
    assert sections_of_theme(store, theme_of(store, "F-0")) == ["costs"]  # what nobody corrected stays
    _, why, _ = explain_theme(settings, store, lien)  # type: ignore[arg-type]
    assert why.taught is corrected and why.words_alone == []  # its own words name no section


def theme_of(store: Store, external_id: str) -> int:
    with store.session() as session:
        return session.exec(select(FeedbackItem.theme_id).where(FeedbackItem.external_id == external_id)).one() or 0


def test_without_corrections_a_large_import_teaches_itself_the_words_the_policy_does_not_use(
    tmp_path: Path, use_database: str
) -> None:
    ws = lender_workspace(tmp_path)
    exports = ws / "inbox" / "complaints"
    texts = (
        lender_texts("my vehicle was repossessed {day} without written notice, my car is gone", 800)
        + lender_texts("a fee I was never shown was charged {day}, the interest rate is not what I signed", 700)
        + lender_texts("they debit my bank account {day} after I revoked the authorisation", 500)
    )
    # a theme in the customers' words ("car"), whose only policy word is a debit's
    towed = lender_texts("a tow truck took my car {day}, my car keys too, though the debit was paid", 60)
    write_csv(exports / "export-1.csv", rows(texts, "M") + rows(towed, "C"))
    settings, store = sync(ws)
    car = theme_of(store, "C-0")
    assert car not in (theme_of(store, "M-0"), theme_of(store, "M-800"), theme_of(store, "M-1500"))
    assert sections_of_theme(store, car) == ["vehicles"]
    _, why, _ = explain_theme(settings, store, car)  # type: ignore[arg-type]
    assert why.learned and not why.taught
    assert why.words_alone[0].section_id == "debits"  # its own words alone would have sent it to debits
    # an owner's correction teaches its model over the learned votes: the next sync counts every theme again
    [debits] = [t for t in tickets(store) if t.section_id == "debits"]
    move_ticket(store, settings, debits.tracker_ref or "", "costs", "dana")
    sync(ws)
    _, why, _ = explain_theme(settings, store, car)  # type: ignore[arg-type]
    assert why.learned and why.taught


REPOSSESSED = (
    ["car", "truck", "van", "pickup", "vehicle", "suv"],
    ["from my driveway", "at my work", "from the street", "at the mall", "from my garage"],
    DAYS,
    ["I need it for work", "my kids were inside", "nobody called me", "I was never late", "it was paid up"],
)
SHARED = (
    ["personal data", "phone number", "home address", "email address", "income details"],
    ["a marketing firm", "an advertiser", "a data broker", "a partner company", "a telemarketer"],
    DAYS,
    ["now they spam me", "I never agreed", "I get calls all day", "I want it deleted", "this is illegal"],
)


def varied(template: str, words: tuple[list[str], ...], n: int) -> list[str]:
    """n different texts: the template filled with every combination of the words, in turn."""
    return [template.format(*combination) for combination in itertools.islice(itertools.product(*words), n)]


PRIVACY = """
## Privacy {#privacy}
Personal data is never shared with marketing firms without the customer's consent.
"""


@pytest.mark.parametrize("corrected", [True, False])
def test_a_correction_does_not_move_older_themes_when_the_next_sync_brings_other_issues(
    tmp_path: Path, use_database: str, corrected: bool
) -> None:
    ws = lender_workspace(tmp_path, LENDER + PRIVACY)
    exports = ws / "inbox" / "complaints"
    first = (
        rows(lender_texts("a fee I was never shown was charged {day}, the interest rate is not what I signed", 60), "F")
        + rows(lender_texts("they debit my bank account {day} after I revoked the authorisation", 60), "B")
        + rows(
            lender_texts("the title of my truck was never handed back {day} after the payoff, you promised", 30), "T"
        )
    )
    write_csv(exports / "export-1.csv", first)
    settings, store = sync(ws)
    assert sections_of_theme(store, theme_of(store, "F-0")) == ["costs"]
    assert sections_of_theme(store, theme_of(store, "B-0")) == ["debits"]
    [ticket] = [t for t in tickets(store) if t.theme_id == theme_of(store, "T-0")]
    if corrected:
        move_ticket(store, settings, ticket.tracker_ref or "", "vehicles", "dana")
    # the next sync brings other issues, enough of them for the workspace's model of its words, and none about fees
    # or debits: a model of this sync's items alone knows no section for the older themes' items
    later = varied("my {0} was repossessed {1} {2} without written notice, {3}", REPOSSESSED, 1200) + varied(
        "you shared my {0} with {1} {2} without my consent, {3}", SHARED, 1000
    )
    write_csv(exports / "export-2.csv", rows(later, "L", day=2))
    sync(ws)
    assert sections_of_theme(store, theme_of(store, "L-0")) == ["vehicles"]
    assert sections_of_theme(store, theme_of(store, "L-1200")) == ["privacy"]
    # the older themes nobody corrected stay where they were, with or without the owner's correction
    assert sections_of_theme(store, theme_of(store, "F-0")) == ["costs"]
    assert sections_of_theme(store, theme_of(store, "B-0")) == ["debits"]
