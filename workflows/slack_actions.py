"""What the Slack app does to reviewbot's data: the SlackActions the app is built with."""

from __future__ import annotations

import logging

from sqlmodel import col, func, select

from reviewbot.connectors.slack.app import Suggestion
from reviewbot.connectors.slack.views import HOME_SUGGESTIONS, HomeData, Shown
from reviewbot.models import FeedbackItem, PolicyAck, ReviewTicket, SignOff, utcnow
from reviewbot.protocols import RawRecord
from reviewbot.settings import Settings
from reviewbot.store import Store, outbox
from reviewbot.store.policies import documents, published_sections, releases
from reviewbot.store.review import pending_requests, requests, sign_offs
from reviewbot.store.tickets import get_ticket
from reviewbot.workflows.collect import store_feedback
from reviewbot.workflows.corrections import move_ticket
from reviewbot.workflows.deliver import deliver
from reviewbot.workflows.locks import one_action
from reviewbot.workflows.policies import load_policies
from reviewbot.workflows.publish import acknowledge
from reviewbot.workflows.review import (
    SIGNABLE,
    RefusedError,
    StaleRequestError,
    ask,
    check_reopen,
    check_shown,
    context_of,
    load,
    place_of,
    ref_of,
    reopen,
    reopened_reason,
    sign,
)
from reviewbot.workflows.run_summary import SyncReport

SOURCE = "slack"
log = logging.getLogger(__name__)


class WorkspaceActions:
    """SlackActions over one workspace's settings and store."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store

    def sections(self) -> list[tuple[str, str, str]]:
        """Every section of every published policy, as (document#section, heading, document title)."""
        with self.store.session() as session:
            known = published_sections(session)
        if not known:  # before the first sync: read the policy files now
            load_policies(self.settings, self.store, SyncReport())
            with self.store.session() as session:
                known = published_sections(session)
        return [(f"{doc.id}#{s.section_id}", s.heading, doc.title) for doc, s in known]

    def suggest(self, suggestion: Suggestion) -> tuple[str, bool]:
        """Store the suggestion as a feedback item (the next sync places it in a theme); its reference, and whether
        it is new: the store's unique key on the modal's view id makes a retried submission the same item, on every
        replica of the app."""
        meta = {"slack_user": suggestion.user_id, "section_hint": suggestion.section, "link": suggestion.link}
        record = RawRecord(
            external_id=suggestion.external_id,
            text=suggestion.text,
            created_at=utcnow(),
            kind="suggestion",
            origin=f"slack:{suggestion.channel or 'modal'}",
            author=suggestion.person,
            channel="slack",
            meta={k: v for k, v in meta.items() if v},
        )
        item_id, new = store_feedback(self.settings, self.store, SOURCE, record)
        return f"S-{item_id}", new

    def can_sign(self, person: str, shown: Shown) -> None:
        """Refuse unless the request shown is still the ticket's, the person is an approver of the ticket and it can
        be signed now."""
        with self.store.session() as session:
            ticket = load(session, shown.ref)
            ctx = context_of(session, self.settings, ticket)
        try:
            check_shown(ctx, shown.place, shown.text_hash)
        except StaleRequestError as exc:
            raise self._ask_again(person, shown.ref, exc) from None
        if person not in ctx.approvers:
            raise RefusedError(
                f"{person} is not an approver of {shown.ref}", hint=f"approvers: {', '.join(ctx.approvers)}"
            )
        if ticket.state not in SIGNABLE:
            raise RefusedError(f"{shown.ref} is {ticket.state} and cannot be signed now")

    def sign(self, person: str, shown: Shown, decision: str, comment: str) -> tuple[str, bool]:
        """Record the sign-off on the request shown and tell the tracker and people right away; whether it is new.

        A stale request (the ticket moved, its text changed) signs nothing: the person gets the request as it is
        now, if one waits for them. The same decision on the same text sent again (Slack retried) is not an error:
        it was recorded the first time."""
        try:
            result = sign(
                self.store, self.settings, shown.ref, person, decision, comment, shown=(shown.place, shown.text_hash)
            )
        except StaleRequestError as exc:
            raise self._ask_again(person, shown.ref, exc) from None
        except RefusedError:
            earlier = self._recorded(person, shown, decision, comment)
            if earlier is None:
                raise
            label = {"approve": "approval", "request_changes": "request for changes", "reject": "rejection"}[decision]
            return f"{shown.ref}: your {label} was recorded at {earlier.signed_at:%Y-%m-%d %H:%M} UTC", False
        return result, True

    def _recorded(self, person: str, shown: Shown, decision: str, comment: str) -> SignOff | None:
        """The person's sign-off with this decision and comment on the text shown, if there is one."""
        with self.store.session() as session:
            ticket = load(session, shown.ref)
            return next(
                (
                    s
                    for s in sign_offs(session, ticket.id or 0)
                    if (s.approver, s.decision, s.comment.strip(), s.section_hash)
                    == (person, decision, comment.strip(), shown.text_hash)
                ),
                None,
            )

    def _ask_again(self, person: str, ref: str, stale: StaleRequestError) -> RefusedError:
        """The refusal of a stale request; the request as it is now is sent if the person's sign-off is pending."""
        with one_action(self.store), self.store.session() as session:
            ticket = load(session, ref)
            ctx = context_of(session, self.settings, ticket)
            waiting = [r for r in requests(session, ticket.id or 0, status="pending") if r.approver == person]
            if not waiting or person not in ctx.approvers:
                return RefusedError(f"{stale.message}; no sign-off is asked of you for {ref_of(ticket)} now")
            ask(session, ctx, person, waiting[-1].round, [person])  # once per text: another stale click sends no more
        return RefusedError(f"{stale.message}; the latest request has been sent to you")

    def acknowledge(self, person: str, document_id: str, version: int) -> str:
        """Record that the person read the version."""
        return acknowledge(self.store, document_id, person, version)

    def move(self, person: str, ref: str, document_id: str | None, section_id: str | None) -> str:
        """Move the ticket (as `reviewbot tickets move` does) and tell the tracker right away."""
        result = move_ticket(self.store, self.settings, ref, section_id, person, document_id=document_id)
        deliver(self.settings, self.store)
        return result

    def can_reopen(self, person: str, ref: str) -> None:
        """Refuse unless the person may reopen the ticket and it is closed (as `tickets reopen` would)."""
        with self.store.session() as session:
            check_reopen(session, self.settings, load(session, ref), person)

    def reopen(self, person: str, ref: str, reason: str) -> tuple[str, bool]:
        """Reopen the ticket (as `tickets reopen`) and tell the tracker right away; whether it is new. The same
        reopening sent again (Slack retried) is not an error: it was recorded the first time."""
        try:
            result = reopen(self.store, self.settings, ref, reason, person)
        except RefusedError:
            with self.store.session() as session:
                ticket = load(session, ref)
            if ticket.state != "open" or ticket.state_reason != reopened_reason(person, reason):
                raise
            return f"{ref_of(ticket)} is open again", False
        return result, True

    def pass_on(self, ref: str) -> str | None:
        """Send what is due (the tracker's comment and status, notifications); what to tell the person when the
        ticket's tracker updates are still unsent, or None. They stay in the outbox: the next sync sends them."""
        with self.store.session() as session:
            if not outbox.due(session):  # a refusal queued nothing: no tracker client to build
                return None
        problem = None
        try:
            deliver(self.settings, self.store)
        except Exception as exc:  # noqa: BLE001 - e.g. the Jira client cannot even be built: told, sent next sync
            log.warning("passing on %s to the tracker failed: %s", ref, exc)
            problem = f"{type(exc).__name__}: {exc}"
        with self.store.session() as session:
            ticket = get_ticket(session, ref)  # None: an unknown ticket, refused; nothing of it to send
            unsent = [m for m in outbox.due(session) if ticket and m.ticket_id == ticket.id and m.target == "tracker"]
        if not unsent:
            return None
        why = problem or next((m.last_error for m in unsent if m.last_error), None) or "not reached"
        return (
            f"{ref}: recorded in reviewbot, but the tracker ({self.settings.tracker.type}) could not be updated "
            f"yet ({why[:300]}); the next sync tries again"
        )

    def home(self, person: str, user_id: str) -> HomeData:
        """Pending sign-offs, suggestions with what became of them, versions to acknowledge."""
        data = HomeData()
        with self.store.session() as session:
            for request in pending_requests(session, person):
                ticket = session.get(ReviewTicket, request.ticket_id)
                if ticket is not None:  # the buttons are for the text as it is now, which the person will read
                    draft_hash = context_of(session, self.settings, ticket).draft_hash
                    data.pending.append((Shown(ref_of(ticket), place_of(ticket), draft_hash), ticket.title))
            query = (
                select(FeedbackItem)
                .where(FeedbackItem.kind == "suggestion", col(FeedbackItem.author).in_([person, user_id]))
                .order_by(col(FeedbackItem.created_at).desc())
            )
            for item in session.exec(query.limit(HOME_SUGGESTIONS)):
                data.suggestions.append((item.created_at.date().isoformat(), item.text, _fate(session, item)))
            if len(data.suggestions) == HOME_SUGGESTIONS:
                total = session.exec(select(func.count()).select_from(query.subquery())).one()
                data.more_suggestions = total - HOME_SUGGESTIONS
            acked = {
                (a.document_id, a.version) for a in session.exec(select(PolicyAck).where(PolicyAck.person == person))
            }
            for document in documents(session):
                for entry in releases(session, document.id):
                    if person in entry.ack_expected and (document.id, entry.version) not in acked:
                        data.to_acknowledge.append((document.id, entry.version, document.title))
        return data


def _fate(session: object, item: FeedbackItem) -> str:
    """What became of a suggestion, in a few words."""
    if item.theme_id is None:
        return "received; not yet part of a recurring theme" if item.themed_at else "received; read at the next sync"
    tickets = session.exec(select(ReviewTicket).where(ReviewTicket.theme_id == item.theme_id)).all()  # type: ignore[attr-defined]
    if not tickets:
        return "part of a theme that has no review ticket yet"
    return "; ".join(
        f"{ref_of(t)} {t.state}" + (f" (version {t.resolved_version})" if t.resolved_version else "") for t in tickets
    )
