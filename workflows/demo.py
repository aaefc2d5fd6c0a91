"""The demo workspace's history: version 2 of the policy, published on 2026-10-12 after the review tickets on
the two sections it edits.

`reviewbot init --demo` plays it, so the demo shows the whole loop at once, the effect of a version included: the
chat-queue complaints fell after version 2 added an overflow rule; the refund-timeline complaints did not fall after
it told customers about bank processing times. Everything goes through the real workflows (sync, triage, sign-off,
publish); only the publish date is set, with `publish --at`.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import col, select

from reviewbot.errors import ReviewbotError
from reviewbot.models import ReviewTicket
from reviewbot.settings import ConnectorSettings, Settings
from reviewbot.store import Store
from reviewbot.store.review import requests
from reviewbot.workflows.publish import publish
from reviewbot.workflows.review import load, ref_of, sign, triage
from reviewbot.workflows.sync import run_sync

DOCUMENT = "customer-service-policy"
POLICY_FILE = Path("policies") / "customer-service-policy.md"
PUBLISHED_AT = datetime(2026, 10, 12, 9, 0, tzinfo=UTC)
PUBLISHER = "dana.ellis"
LOG = "notifications.log"  # where the history's messages go, so init does not print a screenful of them


@dataclass(frozen=True)
class Change:
    """One edit of version 2, made for the review ticket on `section`."""

    section: str
    editor: str
    old: str
    new: str


CHANGES = (
    Change(
        "service-standards-and-response-time-benchmarks",
        "marta.silva",
        "Automated acknowledgements and chatbot messages do not count as a reply.",
        "Automated acknowledgements and chatbot messages do not count as a reply. If a queue is forecast to miss its "
        "target for more than 30 minutes, the duty team leader must open overflow, move trained agents across from "
        "the email team, or show an honest wait-time notice on the website and in the chat widget.",
    ),
    Change(
        "refunds-and-returns/refund-timelines",
        "lee.chen",
        "- The customer is emailed when the refund is issued.",
        "- The customer is emailed when the refund is issued. Banks may take a further 3 to 5 days to show the money, "
        "and agents tell the customer this when the refund is issued.",
    ),
)


def play_history(settings: Settings, store: Store) -> list[str]:
    """Sync the demo, then review, edit, approve and publish version 2 as of 2026-10-12; returns what happened."""
    quiet = settings.model_copy(update={"notifier": ConnectorSettings(type="console", file=LOG)})
    first = run_sync(quiet, store)
    if first.errors:  # else the review below fails for want of a ticket, saying the demo data changed
        raise ReviewbotError(
            f"the demo's first sync failed, so its history cannot be played: {first.errors[0]}",
            hint=f"this is a bug of reviewbot or of this Python ({platform.python_version()}): please report it with "
            f"this message; then delete {settings.workspace} and run `reviewbot init --demo` again",
        )
    refs = []
    for change in CHANGES:
        for ref in _tickets_on(store, change.section):
            triage(store, quiet, ref, PUBLISHER, assignee=change.editor)
            refs.append(ref)
    _edit_policy(settings.workspace / POLICY_FILE)
    run_sync(quiet, store)  # the edits put both tickets in review: their approvers are asked to sign
    for ref in refs:
        for approver in _pending_approvers(store, ref):
            sign(store, quiet, ref, approver, "approve")
    result = publish(quiet, store, DOCUMENT, PUBLISHER, published_at=PUBLISHED_AT)
    run_sync(quiet, store)  # the after-window has closed: the effect is reported on the tickets and in the log
    return [
        f"Demo history: {', '.join(refs)} reviewed and version {result.version} of {DOCUMENT} published as of "
        f"{PUBLISHED_AT:%Y-%m-%d} (its messages are in {LOG})"
    ]


def _tickets_on(store: Store, section: str) -> list[str]:
    """References of the open tickets on a section that version 2 resolves: its feedback tickets, and a periodic
    review that has fallen due (whether there is one depends on the day the demo is played)."""
    with store.session() as session:
        query = select(ReviewTicket).where(ReviewTicket.section_id == section, ReviewTicket.state == "open")
        tickets = list(session.exec(query.order_by(col(ReviewTicket.id))))
    if not any(t.kind == "feedback" for t in tickets):
        raise RuntimeError(f"the demo data no longer produces a ticket on {section}")
    return [ref_of(t) for t in tickets if t.kind in ("feedback", "periodic")]


def _pending_approvers(store: Store, ref: str) -> list[str]:
    """Who has been asked to sign a ticket and has not yet."""
    with store.session() as session:
        ticket = load(session, ref)
        return [r.approver for r in requests(session, ticket.id or 0, status="pending")]


def _edit_policy(path: Path) -> None:
    """Apply version 2's edits to the policy file."""
    text = path.read_text(encoding="utf-8")
    for change in CHANGES:
        if change.old not in text:
            raise RuntimeError(f"{path} no longer contains the text version 2 edits: {change.old!r}")
        text = text.replace(change.old, change.new, 1)
    path.write_text(text, encoding="utf-8")
