"""Commands for policy owners and approvers: review tickets and sign-offs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from reviewbot.cli.app import (
    ActorOption,
    JsonOption,
    actor,
    done,
    note,
    open_store,
    out,
    print_json,
    print_markdown,
    print_table,
    sub_app,
    table_width,
    to_terminal,
)
from reviewbot.errors import NotFoundError
from reviewbot.models import ReviewTicket

if TYPE_CHECKING:
    from reviewbot.models import SignOff, SignOffRequest
    from reviewbot.settings import Settings
    from reviewbot.store import Store

tickets_app = sub_app("tickets", "Review tickets against policy sections: triage, assign, move, dismiss, sign off.")
signoffs_app = sub_app("signoffs", "Sign-offs asked of approvers.")

RefArgument = Annotated[str, typer.Argument(help="Ticket: tracker reference (RB-3), number, or fingerprint.")]
CommentOption = Annotated[str, typer.Option("--comment", "-m", help="Why (required unless approving).")]
ActionJsonOption = Annotated[
    bool, typer.Option("--json", help="Print the ticket as `tickets show --json` gives it, instead of a sentence.")
]


@tickets_app.command("list")
def tickets_list(
    ctx: typer.Context,
    state: Annotated[str | None, typer.Option("--state", help="Only tickets in this state (e.g. open).")] = None,
    as_json: JsonOption = False,
) -> None:
    """List review tickets, highest impact (priority) first, then newest; one line each.

    Examples:

    Those still to act on: reviewbot tickets list --state open

    For scripts: reviewbot tickets list --json
    """
    from reviewbot.models.tickets import TICKET_STATES
    from reviewbot.store.tickets import list_tickets
    from reviewbot.views import ticket_dict

    if state is not None and state not in TICKET_STATES:
        raise typer.BadParameter(f"{state!r} is not a ticket state; use one of: {', '.join(TICKET_STATES)}")
    with open_store(ctx) as (_, store), store.session() as session:
        tickets = list_tickets(session, state)
    if as_json:
        print_json([ticket_dict(t) for t in tickets])
    elif not tickets:
        note("No review tickets" + (f" in state {state}." if state else " yet."))
    else:
        print_table(ticket_lines(tickets))


def ticket_lines(tickets: list[ReviewTicket], title: str = "Review tickets") -> Table:
    """One line per ticket at any terminal width: ids and states never fold, long assignees, sections and titles
    end in "..."; to a file or a pipe all of them whole."""
    from reviewbot.evidence import impact
    from reviewbot.views import line_table

    rows = [
        (
            t.tracker_ref or f"#{t.id}",
            t.state,
            impact(t.evidence),
            t.assignee or "-",
            t.section_id or "(document)",
            t.title,
        )
        for t in tickets
    ]
    names = ("ref", "state", "prio", "assignee", "section", "title")
    return line_table(
        title, names, rows, table_width(), caps={"assignee": 12, "section": 18}, flex="title", middle=("section",)
    )


@dataclass(frozen=True)
class Shown:
    """What `tickets show` shows of a ticket."""

    ticket: ReviewTicket
    signed: list[SignOff]
    waiting: list[SignOffRequest]
    stale: set[int]  # sign-offs of an earlier text or round
    effect: tuple[str, dict[str, Any]] | None  # did the version that resolved it help: a sentence, the figures


def _shown(settings: Settings, store: Store, ref: str) -> Shown:
    """A ticket with its sign-offs, pending requests and effect; NotFoundError if there is no such ticket."""
    from reviewbot.store.review import requests, sign_offs, stale_sign_offs
    from reviewbot.store.tickets import get_ticket

    with store.session() as session:
        ticket = get_ticket(session, ref)
        if ticket is None:
            raise NotFoundError(f"no ticket {ref!r}", hint="see `reviewbot tickets list`")
        signed = sign_offs(session, ticket.id or 0)
        waiting = requests(session, ticket.id or 0, status="pending")
        stale = stale_sign_offs(session, ticket, signed)
    effect = None
    if ticket.resolved_version is not None and ticket.theme_id is not None:
        from reviewbot.workflows.impact import ticket_effect  # only for a ticket a version resolved

        effect = ticket_effect(settings, store, ticket)
    return Shown(ticket, signed, waiting, stale, effect)


def _shown_json(shown: Shown) -> dict[str, Any]:
    """A ticket for --json as `tickets show --json` gives it: its fields, sign-offs, who is awaited, its effect."""
    from reviewbot.views import row_dict, ticket_dict

    return {
        **ticket_dict(shown.ticket),
        "sign_offs": [row_dict(s) | {"counts": s.id not in shown.stale} for s in shown.signed],
        "pending": [r.approver for r in shown.waiting],
        "effect": shown.effect[1] if shown.effect else None,
    }


@tickets_app.command("show")
def tickets_show(ctx: typer.Context, ref: RefArgument, as_json: JsonOption = False) -> None:
    """Show one ticket: its evidence, state, sign-offs and pending requests.

    Examples:

    reviewbot tickets show RB-5
    """
    from reviewbot.evidence import impact, render_markdown

    with open_store(ctx) as (settings, store):
        shown = _shown(settings, store, ref)
    if as_json:
        print_json(_shown_json(shown))
        return
    ticket, signed, waiting, stale, effect = shown.ticket, shown.signed, shown.waiting, shown.stale, shown.effect
    state = ticket.state + (f" ({ticket.state_reason})" if ticket.state_reason else "")
    # plain text: "[open]" would be read as Rich markup and vanish, and reasons and names are people's words
    out.print(
        f"{ticket.tracker_ref or '#' + str(ticket.id)} [{state}] fingerprint {ticket.fingerprint}",
        highlight=False,
        markup=False,
    )
    out.print(f"Priority: {impact(ticket.evidence)}", highlight=False, markup=False)
    if ticket.assignee:
        out.print(f"Assigned to {ticket.assignee}", highlight=False, markup=False)
    if effect:  # did the published change help: the question a closed ticket leaves
        out.print(effect[0], highlight=False, markup=False)
    for s in signed:
        earlier = " (of an earlier text or round: it no longer counts)" if s.id in stale else ""
        out.print(
            f"Signed: {s.approver} {s.decision} on {s.signed_at:%Y-%m-%d}{earlier} {s.comment}".rstrip(),
            highlight=False,
            markup=False,
        )
    if waiting:
        out.print(f"Waiting for: {', '.join(r.approver for r in waiting)}", highlight=False, markup=False)
    # escaped for the terminal's renderer; to a file or a pipe, the quotes as people wrote them
    print_markdown(render_markdown(ticket.title, ticket.evidence, literal=to_terminal()))


@tickets_app.command("triage")
def tickets_triage(
    ctx: typer.Context,
    ref: RefArgument,
    assign_to: Annotated[str | None, typer.Option("--assign", help="Who will edit the section.")] = None,
    as_: ActorOption = None,
    as_json: ActionJsonOption = False,
) -> None:
    """Accept a ticket for review (open -> triaged). Editing its section then asks its approvers to sign.

    Examples:

    reviewbot tickets triage RB-5 --assign nina.kowalski
    """
    from reviewbot.workflows.review import triage

    _act(
        ctx, ref, as_json, lambda settings, store: triage(store, settings, ref, actor(settings, store, as_), assign_to)
    )


@tickets_app.command("reopen")
def tickets_reopen(
    ctx: typer.Context,
    ref: RefArgument,
    reason: Annotated[str, typer.Option("--reason", help="Why, for the audit log and the tracker.")],
    as_: ActorOption = None,
    as_json: ActionJsonOption = False,
) -> None:
    """Reopen a closed ticket, for instance when `policy impact` says the published change did not help.

    It then goes through triage, sign-off and publishing again; the version that closed it keeps it in its effect.

    Examples:

    reviewbot tickets reopen RB-2 --reason "no change after version 2: try a shorter refund window"
    """
    from reviewbot.workflows.review import reopen

    # the tracker's issue reopens now, not at the next sync
    _act(
        ctx,
        ref,
        as_json,
        lambda settings, store: reopen(store, settings, ref, reason, actor(settings, store, as_)),
        deliver_now=True,
    )


@tickets_app.command("assign")
def tickets_assign(
    ctx: typer.Context,
    ref: RefArgument,
    person: Annotated[str, typer.Argument(help="Who will edit the section.")],
    as_: ActorOption = None,
    as_json: ActionJsonOption = False,
) -> None:
    """Name the person who will edit the policy section for a ticket."""
    from reviewbot.workflows.review import assign

    _act(ctx, ref, as_json, lambda settings, store: assign(store, settings, ref, person, actor(settings, store, as_)))


@tickets_app.command("dismiss")
def tickets_dismiss(
    ctx: typer.Context,
    ref: RefArgument,
    reason: Annotated[str, typer.Option("--reason", help="Why no review is needed.")],
    as_: ActorOption = None,
    as_json: ActionJsonOption = False,
) -> None:
    """Dismiss a ticket; it reopens only if its theme grows by review.reopen_factor."""
    from reviewbot.workflows.review import dismiss

    _act(ctx, ref, as_json, lambda settings, store: dismiss(store, settings, ref, reason, actor(settings, store, as_)))


@tickets_app.command("move")
def tickets_move(
    ctx: typer.Context,
    ref: RefArgument,
    section: Annotated[
        str | None, typer.Option("--section", help="The section it concerns (its id, as `policy show` lists).")
    ] = None,
    document: Annotated[
        str | None, typer.Option("--document", help="The document of that section (default: the ticket's).")
    ] = None,
    not_policy: Annotated[
        bool, typer.Option("--not-policy", help="No policy section concerns it: dismiss it, file no such ticket.")
    ] = False,
    reason: Annotated[str, typer.Option("--reason", help="Why, for the audit log and the tracker.")] = "",
    as_: ActorOption = None,
    as_json: ActionJsonOption = False,
) -> None:
    """Move a ticket filed against the wrong section; themes like it are filed there from the next sync on.

    Examples:

    reviewbot tickets move RB-5 --section communication-channels --reason "about chat, not refunds"

    reviewbot tickets move RB-9 --not-policy --reason "a product fault"
    """
    from reviewbot.workflows.corrections import move_ticket

    if (section is None) == (not not_policy):
        raise typer.BadParameter("give --section SECTION_ID, or --not-policy")

    def move(settings: Settings, store: Store) -> str:
        who = actor(settings, store, as_)
        return move_ticket(store, settings, ref, section, who, document_id=document, reason=reason)

    _act(ctx, ref, as_json, move, deliver_now=True)  # the tracker hears of it now, not at the next sync


def _act(
    ctx: typer.Context,
    ref: str,
    as_json: bool,
    action: Callable[[Settings, Store], str],
    *,
    deliver_now: bool = False,
) -> None:
    """Run `action` on the ticket `ref` (then, with `deliver_now`, tell the tracker and people at once) and print
    what it did: a sentence, or with --json the ticket as `tickets show --json` gives it. Errors are raised, so
    they reach standard error with a non-zero exit status and print no JSON."""
    from reviewbot.store.tickets import get_ticket

    with open_store(ctx) as (settings, store):
        with store.session() as session:
            found = get_ticket(session, ref)  # by its number afterwards: a move changes its fingerprint
        message = action(settings, store)
        if not as_json:
            done(message)
        if deliver_now:
            from reviewbot.workflows.deliver import deliver

            deliver(settings, store)
        if as_json:
            print_json(_shown_json(_shown(settings, store, str(found.id) if found else ref)))


def _sign(ctx: typer.Context, ref: str, decision: str, comment: str, who: str | None, as_json: bool) -> None:
    from reviewbot.workflows.review import sign

    def signed(settings: Settings, store: Store) -> str:
        return sign(store, settings, ref, actor(settings, store, who), decision, comment)

    _act(ctx, ref, as_json, signed, deliver_now=True)  # tell the tracker and people now, not at the next sync


@tickets_app.command("approve")
def tickets_approve(
    ctx: typer.Context,
    ref: RefArgument,
    comment: CommentOption = "",
    as_: ActorOption = None,
    as_json: ActionJsonOption = False,
) -> None:
    """Approve the section's text as it is in the policy file now (approvers only).

    Examples:

    reviewbot tickets approve RB-5 --comment "Weekend staffing agreed"
    """
    _sign(ctx, ref, "approve", comment, as_, as_json)


@tickets_app.command("request-changes")
def tickets_request_changes(
    ctx: typer.Context,
    ref: RefArgument,
    comment: CommentOption,
    as_: ActorOption = None,
    as_json: ActionJsonOption = False,
) -> None:
    """Ask for the section to be edited again before you approve (approvers only).

    Examples:

    reviewbot tickets request-changes RB-5 --comment "4 hours needs weekend staff first"
    """
    _sign(ctx, ref, "request_changes", comment, as_, as_json)


@tickets_app.command("reject")
def tickets_reject(
    ctx: typer.Context,
    ref: RefArgument,
    comment: CommentOption,
    as_: ActorOption = None,
    as_json: ActionJsonOption = False,
) -> None:
    """Reject the change: the ticket is dismissed with your comment (approvers only).

    Examples:

    reviewbot tickets reject RB-5 --comment "the carrier sets this, not us"
    """
    _sign(ctx, ref, "reject", comment, as_, as_json)


@signoffs_app.command("pending")
def signoffs_pending(
    ctx: typer.Context,
    approver: Annotated[str | None, typer.Option("--approver", help="Only this approver's.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Sign-offs still awaited, oldest first, with their age and reminders.

    Examples:

    Yours: reviewbot signoffs pending --approver marta.silva
    """
    from reviewbot.models import ReviewTicket, utcnow
    from reviewbot.store.review import pending_requests
    from reviewbot.views import line_table
    from reviewbot.workflows.review import ref_of

    with open_store(ctx) as (settings, store), store.session() as session:
        rows = []
        for request in pending_requests(session, approver):
            ticket = session.get(ReviewTicket, request.ticket_id)
            age = utcnow() - request.requested_at
            rows.append(
                {
                    "ticket": ref_of(ticket) if ticket else request.ticket_id,
                    "title": ticket.title if ticket else "",
                    "approver": request.approver,
                    "requested_at": request.requested_at,
                    "age_days": round(age.total_seconds() / 86400, 1),
                    "overdue": age.days >= settings.review.signoff_sla_days,
                    "reminders": request.reminders,
                    "escalated": request.escalated_at is not None,
                }
            )
    if as_json:
        print_json(rows)
        return
    if not rows:  # the name said back: "--approver marta" (for marta.silva) said only that none were pending
        note(f"No sign-offs are pending for {approver}." if approver else "No sign-offs are pending.")
        return
    lines = [
        (
            str(r["ticket"]),
            r["approver"],
            f"{r['age_days']} days" + (" (overdue)" if r["overdue"] else "") + (" escalated" if r["escalated"] else ""),
            str(r["reminders"]),
            r["title"],
        )
        for r in rows
    ]
    # one line per sign-off, as `tickets list`: the title wrapped into four lines at 80 columns
    names = ("ticket", "approver", "waiting", "reminders", "title")
    print_table(line_table("Pending sign-offs", names, lines, table_width(), caps={"approver": 16}, flex="title"))
