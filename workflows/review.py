"""The review ticket state machine and sign-off rules: what people do to tickets, checked and audited.

    open -> triaged -> in_review -> approved -> published -> closed
    in_review -> changes_requested -> in_review (after the section is edited again)
    open | triaged | in_review | changes_requested -> dismissed (with a reason)
    dismissed | closed -> open (reopened when the theme grows; a closed one also by a person, `reopen`)

A sign-off is for the section text as it is in the policy file when it is given; editing the section after
sign-offs starts a new round. Approving a ticket whose section was not edited closes it as reviewed with no
change, which restarts the section's review clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from reviewbot.errors import ReviewbotError
from reviewbot.models import PolicyDocument, ReviewTicket, SignOff, SignOffRequest, Theme, utcnow
from reviewbot.models.tickets import FINISHED_STATES
from reviewbot.policy.parse import SignOffRule
from reviewbot.settings import Settings
from reviewbot.store import Store, outbox
from reviewbot.store.policies import (
    Authority,
    authority_of,
    content_hash,
    document_authority,
    documents,
    mark_reviewed,
    section_authority,
    sections,
)
from reviewbot.store.review import audit, current_round, requests, set_request_status, sign_offs
from reviewbot.store.tickets import get_ticket, ref_of, touch
from reviewbot.workflows.locks import one_at_a_time
from reviewbot.workflows.policies import refresh_document

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "open": ("triaged", "in_review", "dismissed"),
    "triaged": ("in_review", "dismissed"),
    "in_review": ("approved", "changes_requested", "dismissed", "closed"),
    "changes_requested": ("in_review", "dismissed"),
    "approved": ("published", "in_review"),
    "published": ("closed",),
    "closed": ("open",),
    "dismissed": ("open",),
}
DECISIONS = ("approve", "request_changes", "reject")
SIGNABLE = ("open", "triaged", "in_review")


class RefusedError(ReviewbotError):
    """The action is not allowed for this ticket or person right now."""

    exit_code = 1


class StaleRequestError(RefusedError):
    """A sign-off was given on a request made for another section or another text than the ticket's now."""


@dataclass(frozen=True)
class TicketContext:
    """What the rules need to know about a ticket: its approvers (as the published version names them) and whether
    its section was edited."""

    ticket: ReviewTicket
    document: PolicyDocument
    approvers: list[str]
    required: int
    draft_hash: str  # the section (or, for a gap, the whole document) as the file is now
    published_hash: str

    @property
    def edited(self) -> bool:
        """True when the policy file changed this section since it was published."""
        return self.draft_hash != self.published_hash


def context_of(session: Session, settings: Settings, ticket: ReviewTicket) -> TicketContext:
    """Approvers, sign-off rule and edit state of a ticket's section.

    The approvers and rule are those of the published version (`section_authority`), never the file as edited
    since: whoever edits the file could name themselves approver or lower the rule, then sign their own change.
    """
    document = session.get(PolicyDocument, ticket.document_id)
    if document is None:
        raise RefusedError(f"document {ticket.document_id} of ticket {ref_of(ticket)} no longer exists")
    place = ticket.section_id  # None: a coverage gap, which concerns the whole document
    who = document_authority(session, document) if place is None else section_authority(session, document, place)
    draft_hash = content_hash(session, document, document.current_revision, place)
    published_hash = content_hash(session, document, document.published_revision, place)
    approvers = settings.people(who.approvers)
    required = _rule(who.sign_off).required(len(approvers)) if approvers else 0
    return TicketContext(ticket, document, approvers, required, draft_hash, published_hash)


def place_of(ticket: ReviewTicket) -> str:
    """Where a ticket is, as a sign-off request names it: "document#section", or the document for a coverage gap."""
    return f"{ticket.document_id}#{ticket.section_id}" if ticket.section_id else ticket.document_id


def _named_place(ticket: ReviewTicket) -> str:
    """What a ticket concerns, as messages name it: "section refunds", or "document returns-policy" for a gap."""
    return f"section {ticket.section_id}" if ticket.section_id else f"document {ticket.document_id}"


def check_shown(ctx: TicketContext, place: str, text_hash: str) -> None:
    """Refuse a sign-off on a request made for another place or text (`place_of`, `draft_hash`) than now."""
    ticket, now = ctx.ticket, place_of(ctx.ticket)
    where = _named_place(ticket)
    if not place:  # a button from before requests said what they were for
        raise StaleRequestError(f"this request for {ref_of(ticket)} does not say which text of {where} it was for")
    if place != now:
        raise StaleRequestError(f"this request was for {place}; {ref_of(ticket)} has since moved to {now}")
    if text_hash != ctx.draft_hash:
        raise StaleRequestError(f"this request is for an earlier text of {where} of {ticket.document_id}")


def _rule(text: str) -> SignOffRule:
    return SignOffRule("all") if text == "all" else SignOffRule("count", int(text))


def known_people(session: Session, settings: Settings) -> set[str]:
    """Everyone who may be named as acting: the workspace's people and roles, and the owners and approvers the
    published policies name (a name there that is no role is a person)."""
    return settings.known_people() | policy_people(session, settings)


PEOPLE_HINT = (
    "people are those in [identity.people], [roles], [slack] people and the policies' owners and approvers; "
    "check the spelling"
)


def require_person(name: str, people: set[str]) -> None:
    """Refuse a name that is nobody in this workspace (`people`: `known_people`)."""
    if name not in people:
        raise RefusedError(f"{name} is not a person in this workspace", hint=PEOPLE_HINT)


# --- who may do what: each rule is checked here, in the workflow, so the CLI, the web console and Slack share it


def holders(settings: Settings, *places: Authority | None) -> set[str]:
    """The people behind the owner and approvers of each document or section given (roles resolved).

    Pass `document_authority` / `section_authority`, not a `PolicyDocument`: its owner and approvers are the file's.
    """
    names: list[str] = []
    for place in places:
        if place is not None:
            names += ([place.owner] if place.owner else []) + list(place.approvers)
    return set(settings.people(names))


def policy_people(session: Session, settings: Settings) -> set[str]:
    """The owners and approvers the published policies name, of a document or a section."""
    places: list[Authority] = []
    for document in documents(session):
        places += [document_authority(session, document), *map(authority_of, sections(session, document))]
    return holders(settings, *places)


def admins(settings: Settings) -> set[str]:
    """The people `identity.admins` names (roles resolved)."""
    return set(settings.people(settings.identity.admins))


def answerable(session: Session, settings: Settings, ticket: ReviewTicket) -> set[str]:
    """The people answerable for a ticket: the owners and approvers of its section and its document (as the
    published version names them), its assignee."""
    document = session.get(PolicyDocument, ticket.document_id)
    places: list[Authority] = []
    if document is not None:
        places.append(document_authority(session, document))
        if ticket.section_id:
            places.append(section_authority(session, document, ticket.section_id))
    assignee = set(settings.people([ticket.assignee])) if ticket.assignee else set()
    return holders(settings, *places) | assignee


def deciders(session: Session, settings: Settings, ticket: ReviewTicket) -> set[str]:
    """Who may triage, assign or dismiss a ticket: those answerable for it, and admins."""
    return answerable(session, settings, ticket) | admins(settings)


DECIDERS = "the owners and approvers of its section or document, its assignee and admins may"


def curators(session: Session, settings: Settings) -> set[str]:
    """Who may rename, merge or split themes: admins and whoever owns or approves a policy document or section."""
    return policy_people(session, settings) | admins(settings)


CURATORS = "admins and the owners and approvers of a policy document or section may"


def publishers(session: Session, settings: Settings, document: PolicyDocument) -> set[str]:
    """Who may publish a document (with --force too): the owner its published version names, and admins.

    Not the owner the file names now: whoever edits the file could name themselves. A new owner in the file
    takes over once the previous owner (or an admin) publishes that change.
    """
    owner = document_authority(session, document).owner
    return set(settings.people([owner] if owner else [])) | admins(settings)


PUBLISHERS = "the owner of the published version and admins may"


def require(actor: str, allowed: set[str], what: str, who: str) -> None:
    """Refuse `actor` the action `what` unless among `allowed`, naming who may (`who`: "... may")."""
    if actor not in allowed:
        raise RefusedError(f"{actor} may not {what}", hint=f"{who}: {', '.join(sorted(allowed)) or 'nobody'}")


def move(
    session: Session, ticket: ReviewTicket, state: str, actor: str, detail: str = "", *, force: bool = False
) -> None:
    """Change a ticket's state if the state machine allows it; audited. Refused otherwise, with the options.

    `force` applies a change a person already made elsewhere (a status set in Jira), which we record, not judge.
    """
    allowed = TRANSITIONS.get(ticket.state, ())
    if state not in allowed and not force:
        options = ", ".join(allowed) or "nothing"
        raise RefusedError(
            f"ticket {ref_of(ticket)} is {ticket.state}; it cannot become {state}",
            hint=f"from {ticket.state} it can become: {options}",
        )
    before = ticket.state
    ticket.state = state
    touch(ticket)
    session.add(ticket)
    audit(session, actor, "transition", f"{before} -> {state}" + (f": {detail}" if detail else ""), ticket=ticket)


def load(session: Session, ref: str) -> ReviewTicket:
    """A ticket by reference, or a clear error."""
    ticket = get_ticket(session, ref)
    if ticket is None:
        from reviewbot.errors import NotFoundError

        raise NotFoundError(f"no ticket {ref!r}", hint="see `reviewbot tickets list`")
    return ticket


def notify(session: Session, key: str, kind: str, title: str, body: str, recipients: list[str], **data: object) -> bool:
    """Queue a message for the notifier, once per key; True when it was queued now."""
    payload = {"kind": kind, "title": title, "body": body, "recipients": recipients, "data": data}
    return outbox.enqueue(session, key, "notifier", "send", payload)


def comment_on_tracker(session: Session, ticket: ReviewTicket, key: str, note: str) -> None:
    """Mirror a decision on the tracker ticket as a comment, once per key."""
    outbox.enqueue(session, f"tracker.note:{key}", "tracker", "update", {"note": note}, ticket.id)


# --- what people do --------------------------------------------------------------------------------------


@one_at_a_time
def triage(store: Store, settings: Settings, ref: str, actor: str, assignee: str | None = None) -> str:
    """Accept a ticket for review (open -> triaged), optionally naming who will edit the section."""
    with store.session() as session:
        ticket = load(session, ref)
        require(actor, deciders(session, settings, ticket), f"triage {ref_of(ticket)}", DECIDERS)
        if assignee:
            require_person(assignee, known_people(session, settings))
        move(session, ticket, "triaged", actor)
        if assignee:
            _assign(session, ticket, assignee, actor)
        comment_on_tracker(session, ticket, f"triaged:{ticket.id}", f"Triaged by {actor}")
        return f"{ref_of(ticket)} is triaged" + (f" and assigned to {assignee}" if assignee else "")


@one_at_a_time
def assign(store: Store, settings: Settings, ref: str, assignee: str, actor: str) -> str:
    """Name the person who will edit the section for a ticket."""
    with store.session() as session:
        ticket = load(session, ref)
        require(actor, deciders(session, settings, ticket), f"assign {ref_of(ticket)}", DECIDERS)
        if ticket.state in FINISHED_STATES:
            raise RefusedError(f"ticket {ref_of(ticket)} is {ticket.state}; there is nothing to assign")
        require_person(assignee, known_people(session, settings))
        _assign(session, ticket, assignee, actor)
        return f"{ref_of(ticket)} is assigned to {assignee}"


def _assign(session: Session, ticket: ReviewTicket, assignee: str, actor: str) -> None:
    ticket.assignee = assignee
    touch(ticket)
    session.add(ticket)
    audit(session, actor, "assign", f"assigned to {assignee}", ticket=ticket)
    # The tracker's assignee follows (Jira: the user `[tracker] users` maps this person to, or found by search).
    key = f"tracker.assign:{ticket.id}:{utcnow().isoformat()}"
    outbox.enqueue(session, key, "tracker", "assign", {"assignee": assignee}, ticket.id)


def dismiss_ticket(
    session: Session, ticket: ReviewTicket, actor: str, reason: str, note: str | None, *, force: bool = False
) -> None:
    """Dismiss a ticket and its tracker issue: the issue gets `note` as a comment (None: the caller commented
    already) and moves to its "won't do" status with a resolution (Jira: `dismiss_transition`). Every dismissal
    made in reviewbot comes here, so none leaves its issue open in the tracker."""
    settle(session, ticket, "dismissed", actor, reason, force=force)
    now = utcnow().isoformat()
    if note:
        comment_on_tracker(session, ticket, f"dismissed:{ticket.id}:{now}", note)
    outbox.enqueue(session, f"tracker.dismiss:{ticket.id}:{now}", "tracker", "dismiss", {"reason": reason}, ticket.id)


@one_at_a_time
def dismiss(store: Store, settings: Settings, ref: str, reason: str, actor: str) -> str:
    """Dismiss a ticket with a reason; it stays dismissed unless its theme grows by `review.reopen_factor`."""
    if not reason.strip():
        raise RefusedError("a dismissal needs a reason", hint='add --reason "..."')
    _refuse_nul(reason, "reason")
    with store.session() as session:
        ticket = load(session, ref)
        require(actor, deciders(session, settings, ticket), f"dismiss {ref_of(ticket)}", DECIDERS)
        dismiss_ticket(session, ticket, actor, reason, f"Dismissed by {actor}: {reason}")
        return f"{ref_of(ticket)} is dismissed"


@one_at_a_time
def reopen(store: Store, settings: Settings, ref: str, reason: str, actor: str) -> str:
    """Reopen a closed ticket (a published change that did not help, by `policy impact`): it goes through triage,
    sign-off and a new version again, and both versions keep it in their effect."""
    if not reason.strip():
        raise RefusedError("reopening needs a reason", hint='add --reason "..."')
    _refuse_nul(reason, "reason")
    with store.session() as session:
        ticket = load(session, ref)
        check_reopen(session, settings, ticket, actor)
        why = reopened_reason(actor, reason)
        move(session, ticket, "open", actor, reason)
        ticket.state_reason, ticket.settled_size = why, None
        session.add(ticket)
        now = utcnow().isoformat()
        comment_on_tracker(session, ticket, f"reopened:{ticket.id}:{now}", why)
        # the tracker's issue leaves its done status too (Jira: `reopen_transition`)
        outbox.enqueue(session, f"tracker.reopen-status:{ticket.fingerprint}:{now}", "tracker", "reopen", {}, ticket.id)
        return f"{ref_of(ticket)} is open again"


def check_reopen(session: Session, settings: Settings, ticket: ReviewTicket, actor: str) -> None:
    """Refuse unless `actor` may reopen the ticket (as they may triage or dismiss it) and it is closed."""
    require(actor, deciders(session, settings, ticket), f"reopen {ref_of(ticket)}", DECIDERS)
    if ticket.state != "closed":
        raise RefusedError(
            f"ticket {ref_of(ticket)} is {ticket.state}; only a closed ticket is reopened",
            hint="a dismissed ticket reopens when its theme grows (review.reopen_factor)",
        )


def reopened_reason(actor: str, reason: str) -> str:
    """The state reason a reopened ticket keeps."""
    return f"reopened by {actor}: {reason}"


def _refuse_nul(text: str, what: str) -> None:
    """Refuse a text holding a NUL character before anything is written: PostgreSQL cannot store one, and only a
    crafted request (a Slack form's JSON, say) can send it."""
    if "\x00" in text:
        raise RefusedError(
            f"the {what} holds a NUL character (\\0), which cannot be stored", hint="remove it and try again"
        )


def settle(session: Session, ticket: ReviewTicket, state: str, actor: str, reason: str, *, force: bool = False) -> None:
    """Dismiss or close a ticket, remembering the theme's size so only real growth reopens it."""
    move(session, ticket, state, actor, reason, force=force)
    ticket.state_reason = reason
    theme = session.get(Theme, ticket.theme_id) if ticket.theme_id else None
    ticket.settled_size = theme.size if theme else None
    session.add(ticket)
    set_request_status(session, requests(session, ticket.id or 0, status="pending"), "withdrawn")


@one_at_a_time
def sign(
    store: Store,
    settings: Settings,
    ref: str,
    approver: str,
    decision: str,
    comment: str = "",
    *,
    shown: tuple[str, str] | None = None,
) -> str:
    """Record an approver's decision; only the section's approvers may sign, once per round.

    `shown`: (place, text hash) of the request the decision answers (a button); refused with StaleRequestError
    when the ticket has moved or its text changed since, so nobody signs what they were not asked about."""
    if decision not in DECISIONS:
        raise RefusedError(f"unknown decision {decision!r}", hint=f"use one of: {', '.join(DECISIONS)}")
    if decision != "approve" and not comment.strip():
        raise RefusedError("say why in a comment", hint='add --comment "..."')
    _refuse_nul(comment, "comment")
    with store.session() as session:
        document_id = load(session, ref).document_id
    refresh_document(settings, store, document_id)  # what is signed is the policy file as it is now
    with store.session() as session:
        ticket = load(session, ref)
        ctx = context_of(session, settings, ticket)
        if shown is not None:
            check_shown(ctx, *shown)
        _check_signer(ctx, approver)
        if ticket.state not in SIGNABLE:
            hint = "wait for the section to be edited" if ticket.state == "changes_requested" else None
            raise RefusedError(f"ticket {ref_of(ticket)} is {ticket.state}; it cannot be signed now", hint=hint)
        # On a ticket not yet in review this signature opens the round; the other approvers are asked only if
        # the round goes on after it (an approval that closes the ticket asks nobody).
        opened = _open_round(session, ctx, approver) if ticket.state != "in_review" else None
        _refuse_second_signature(session, ticket, approver, ctx.draft_hash)
        signed = SignOff(
            ticket_id=ticket.id or 0,
            approver=approver,
            decision=decision,
            comment=comment,
            section_hash=ctx.draft_hash,
            round=current_round(session, ticket.id or 0),
        )
        session.add(signed)
        session.flush()
        audit(session, approver, "sign_off", f"{decision}" + (f": {comment}" if comment else ""), ticket=ticket)
        set_request_status(
            session,
            [r for r in requests(session, ticket.id or 0, status="pending") if r.approver == approver],
            "answered",
        )
        label = {"approve": "Approved", "request_changes": "Changes requested", "reject": "Rejected"}[decision]
        comment_on_tracker(
            session, ticket, f"signoff:{signed.id}", f"{label} by {approver}" + (f": {comment}" if comment else "")
        )
        outcome = _after_sign_off(session, settings, ctx, approver, decision, comment)
        waiting = [r.approver for r in requests(session, ticket.id or 0, status="pending")]
        if opened is not None and ticket.state == "in_review" and waiting:
            ask(session, ctx, approver, opened, waiting)
        return outcome


def _check_signer(ctx: TicketContext, approver: str) -> None:
    if approver not in ctx.approvers:
        where = _named_place(ctx.ticket)
        nobody = "none (name approvers in the policy front matter, then publish it)"
        raise RefusedError(
            f"{approver} is not an approver of {where}", hint=f"approvers: {', '.join(ctx.approvers) or nobody}"
        )


def _refuse_second_signature(session: Session, ticket: ReviewTicket, approver: str, draft_hash: str) -> None:
    # Once per round and text: only this round's approvals count, so a signature of an earlier round (the same
    # text again after an edit was undone, or after a move there and back) must not keep the approver out of this one.
    this_round = current_round(session, ticket.id or 0)
    for earlier in sign_offs(session, ticket.id or 0):
        if earlier.round == this_round and earlier.approver == approver and earlier.section_hash == draft_hash:
            raise RefusedError(
                f"{approver} already signed {ref_of(ticket)} ({earlier.decision}) for this text of the section",
                hint="a new sign-off is asked for when the section is edited again",
            )


def _after_sign_off(
    session: Session, settings: Settings, ctx: TicketContext, approver: str, decision: str, comment: str
) -> str:
    ticket = ctx.ticket
    if decision == "reject":
        dismiss_ticket(session, ticket, approver, f"rejected by {approver}: {comment}", None)  # sign() commented
        why = f"{approver}: {comment}\nThe ticket is dismissed; it reopens only if its theme grows."
        _tell_editors(session, settings, ctx, approver, "rejected", f"{ref_of(ticket)} was rejected by {approver}", why)
        return f"{ref_of(ticket)} is rejected and dismissed"
    if decision == "request_changes":
        move(session, ticket, "changes_requested", approver, comment)
        set_request_status(session, requests(session, ticket.id or 0, status="pending"), "withdrawn")
        title = f"Changes requested on {ref_of(ticket)} by {approver}"
        why = (
            f"{approver}: {comment}\nEdit {_where(ticket)} of {ticket.document_id} in the policy file again; the next "
            "sync asks the approvers to sign the new text."
        )
        _tell_editors(session, settings, ctx, approver, "changes_requested", title, why)
        return f"{ref_of(ticket)}: changes requested"
    this_round = current_round(session, ticket.id or 0)
    approvals = {
        s.approver
        for s in sign_offs(session, ticket.id or 0)
        if s.decision == "approve" and s.round == this_round and s.section_hash == ctx.draft_hash
    }
    if len(approvals) < ctx.required:
        counted = f"{ref_of(ticket)}: {len(approvals)} of {ctx.required} approvals"
        if ctx.edited:
            return counted
        # An approver who meant to sign a change not yet made would otherwise learn only from the last approval
        # that it closed the ticket with the section as it is.
        closes = f"the last one closes {ref_of(ticket)} as reviewed, no change needed"
        return f"{counted} of the section as it is (unchanged): {closes}"
    set_request_status(session, requests(session, ticket.id or 0, status="pending"), "withdrawn")
    if ctx.edited:
        move(session, ticket, "approved", approver, f"{len(approvals)} of {ctx.required} approvals")
        _tell_publishers(session, settings, ctx, approver, this_round)
        return f"{ref_of(ticket)} is approved; it is published with the next version of {ctx.document.id}"
    # Nothing to publish: the section was reviewed and stays as it is.
    settle(session, ticket, "closed", approver, "reviewed, no change needed")
    if ticket.section_id:
        mark_reviewed(
            session, ctx.document.id, ticket.section_id, utcnow(), f"reviewed without change ({ref_of(ticket)})"
        )
    outbox.enqueue(
        session,
        f"tracker.close:{ticket.fingerprint}:reviewed",
        "tracker",
        "close",
        {"resolution": "Reviewed, no change"},
        ticket.id,
    )
    return f"{ref_of(ticket)} is closed: reviewed, no change needed"


def _where(ticket: ReviewTicket) -> str:
    return f"section {ticket.section_id}" if ticket.section_id else "the document"


def editors(session: Session, settings: Settings, ticket: ReviewTicket, document: PolicyDocument) -> list[str]:
    """Who edits the policy for a ticket: its assignee, else the owner of its section (of the document for a gap),
    as the published version names them."""
    if ticket.assignee:
        return settings.people([ticket.assignee])
    section = section_authority(session, document, ticket.section_id) if ticket.section_id else None
    owner = (section.owner if section else None) or document_authority(session, document).owner
    return settings.people([owner]) if owner else []


def _tell_editors(
    session: Session, settings: Settings, ctx: TicketContext, approver: str, kind: str, title: str, body: str
) -> None:
    """A sign-off that sends the ticket back (changes requested, rejected) is news for whoever edits the section:
    with the built-in tracker its comment reaches nobody."""
    people = [p for p in editors(session, settings, ctx.ticket, ctx.document) if p != approver]
    if people:
        key = f"{kind}:{ctx.ticket.id}:{current_round(session, ctx.ticket.id or 0)}:{approver}:{ctx.draft_hash[:16]}"
        notify(session, key, kind, title, f"{ctx.ticket.title}\n{body}", people, ticket_id=ctx.ticket.id,
               ref=ref_of(ctx.ticket))  # fmt: skip


def _tell_publishers(session: Session, settings: Settings, ctx: TicketContext, approver: str, number: int) -> None:
    """An approved change waits for the document's owner to publish it; nothing else would tell them (the owner
    who may publish: the published version's, not one the file names since)."""
    ticket, document = ctx.ticket, ctx.document
    owner = document_authority(session, document).owner
    owners = settings.people([owner]) if owner else sorted(admins(settings))
    people = [p for p in owners if p != approver]
    if people:
        notify(
            session,
            f"ready:{ticket.id}:{number}:{ctx.draft_hash[:16]}",
            "ready_to_publish",
            f"Ready to publish: {ref_of(ticket)} is approved",
            f"{ticket.title}\nThe approvers signed the new text of {_where(ticket)}. Publish it with: "
            f"reviewbot policy publish {document.id}",
            people,
            ticket_id=ticket.id,
            ref=ref_of(ticket),
            document=document.id,
        )


def start_round(session: Session, settings: Settings, ctx: TicketContext, actor: str, why: str = "") -> None:
    """Put a ticket in review and ask each approver to sign (a new round when sign-offs went stale, `why`)."""
    number = _open_round(session, ctx, actor, why)
    ask(session, ctx, actor, number, ctx.approvers)


def approval_is_stale(session: Session, ctx: TicketContext) -> bool:
    """True when an approval of the ticket's current round is of another text than the file has now: the text it
    approved was edited since, or put back as published."""
    this_round = current_round(session, ctx.ticket.id or 0)
    return any(
        s.section_hash != ctx.draft_hash
        for s in sign_offs(session, ctx.ticket.id or 0)
        if s.round == this_round and s.decision == "approve"
    )


def _open_round(session: Session, ctx: TicketContext, actor: str, why: str = "") -> int:
    """Put a ticket in review with a new round of requests, one per approver, not sent yet; the round's number."""
    ticket = ctx.ticket
    if ticket.state != "in_review":
        move(session, ticket, "in_review", actor, why)
    set_request_status(session, requests(session, ticket.id or 0, status="pending"), "withdrawn")
    number = current_round(session, ticket.id or 0) + 1
    for person in ctx.approvers:
        session.add(SignOffRequest(ticket_id=ticket.id or 0, approver=person, round=number))
    return number


def ask(session: Session, ctx: TicketContext, actor: str, number: int, people: list[str]) -> None:
    """Send round `number`'s sign-off requests to `people`, each with the commands they run as themselves, once per
    person and text of the section; each names its place and text, which a button click must still match."""
    ticket = ctx.ticket
    where = _named_place(ticket)
    for person in people:
        notify(
            session,
            f"signoff:{ticket.id}:{number}:{person}:{ctx.draft_hash[:16]}",
            "signoff_request",
            f"Sign-off requested: {ticket.title}",
            f"{ref_of(ticket)} asks you to review {where} of {ticket.document_id}.\n"
            f"Approve: reviewbot tickets approve {ref_of(ticket)}\n"
            f"Or: reviewbot tickets request-changes|reject {ref_of(ticket)} --comment ...",
            [person],
            ticket_id=ticket.id,
            ref=ref_of(ticket),
            round=number,
            place=place_of(ticket),
            text_hash=ctx.draft_hash,
        )
    audit(session, actor, "request_sign_off", f"round {number}: {', '.join(people)}", ticket=ticket)
