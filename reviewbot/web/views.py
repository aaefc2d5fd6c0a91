"""The pages and actions of the web console. Every action calls the same workflow function as the CLI, so the
rules (who may sign, which transitions are allowed) and the audit log are the same; a refusal is shown with the
workflow's own message."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for

from reviewbot.errors import ReviewbotError
from reviewbot.evidence import impact
from reviewbot.models import PolicyDocument, ReviewTicket
from reviewbot.models.tickets import TICKET_STATES
from reviewbot.web.config import workspace

bp = Blueprint("web", __name__)
PRIORITIES = ("high", "medium", "low")
DECISIONS = {"approve": "Approve", "request_changes": "Request changes", "reject": "Reject"}
_SITE_PATH = re.compile(r"/(?![/\\])[^\x00-\x20\x7f\\]*")  # "/page?query": no "//", backslash, space or control


def priority_of(ticket: ReviewTicket) -> str:
    """high, medium or low, as `tickets list` shows it."""
    return impact(ticket.evidence)


def signed_in(view: Callable[..., Any]) -> Callable[..., Any]:
    """Pages for signed-in people only: others go to the sign-in page (a POST is refused outright)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.person is None:
            if request.method != "GET":
                abort(401)
            return redirect(url_for("web.sign_in", next=request.path))
        return view(*args, **kwargs)

    return wrapper


def _refusal(exc: ReviewbotError) -> str:
    """A workflow's refusal as one line for the page: its message, and its hint in brackets."""
    return exc.message + (f" ({exc.hint})" if exc.hint else "")


def _act(action: Callable[[], str], back: str) -> Any:
    """Run a workflow action: its message, or its refusal with the hint, is shown on the page it came from.

    Actions hold the people's-action lease (`workflows.locks.one_action`) that the CLI and Slack take too, so no
    two replicas or entry points interleave the check and the write of one rule (the same approver signing twice at
    once, a version published twice): the second one waits, then meets the first one's result and is refused with
    the workflow's message.
    """
    from reviewbot.workflows.locks import one_action

    _, store, _ = workspace()
    try:
        with one_action(store):
            message = action()
        flash(message, "ok")
    except ReviewbotError as exc:
        flash(_refusal(exc), "refused")
    return redirect(back, code=303)


# --- signing in ------------------------------------------------------------------------------------------


@bp.get("/sign-in")
def sign_in() -> Any:
    """The sign-in form (or, behind a trusted proxy, why you are not signed in)."""
    _, _, options = workspace()
    if g.person:
        return redirect(url_for("web.inbox"))
    return render_template("sign_in.html", proxy=options.trusted_header, next=_safe_next())


@bp.post("/sign-in")
def sign_in_post() -> Any:
    """Check a person's password (within the failed-attempt limits) and start their session."""
    from reviewbot.web.auth import TooManyAttempts, attempt_password

    _, store, options = workspace()
    if options.trusted_header:
        abort(404)  # the proxy signs people in
    person = request.form.get("person", "").strip()
    password = request.form.get("password", "")
    try:
        right = bool(person and password) and attempt_password(store, person, password, _client(), _limits(options))
    except TooManyAttempts as exc:
        flash(_refusal(exc), "refused")
        return render_template("sign_in.html", proxy=None, next=_safe_next(), person=person), 429
    if not right:
        flash("Wrong name or password, or no password was set for that name (an admin sets it).", "refused")
        return render_template("sign_in.html", proxy=None, next=_safe_next(), person=person), 401
    _start_session(person)
    return redirect(_safe_next() or url_for("web.inbox"), code=303)


@bp.get("/sign-in/link/<token>")
def sign_in_link(token: str) -> Any:
    """A one-time link asks to be confirmed with a button, so a mail scanner fetching it does not use it up."""
    return render_template("sign_in_link.html", token=token)


@bp.post("/sign-in/link/<token>")
def sign_in_link_post(token: str) -> Any:
    """Use a one-time sign-in link."""
    from reviewbot.web.auth import redeem_sign_in_link

    _, store, options = workspace()
    if options.trusted_header:
        abort(404)
    person = redeem_sign_in_link(store, token)
    if person is None:
        flash("This sign-in link is unknown, used or expired; ask an admin for a new one.", "refused")
        return render_template("sign_in.html", proxy=None, next=None), 401
    _start_session(person)
    return redirect(url_for("web.inbox"), code=303)


@bp.post("/sign-in/oidc")
def oidc_start() -> Any:
    """Send the browser to the identity provider (state, nonce and PKCE verifier go in the signed session)."""
    from flask import current_app

    from reviewbot.web.oidc import client

    _, _, options = workspace()
    if options.oidc is None or options.trusted_header:
        abort(404)
    provider, oidc = client(current_app)
    session["oidc_next"] = _safe_next()
    try:
        return provider.authorize_redirect(oidc.redirect_url or url_for("web.oidc_callback", _external=True))
    except OSError as exc:  # requests' connection errors are OSErrors: the provider is down or misnamed
        return _oidc_unreachable(oidc.issuer, exc)


@bp.get("/sign-in/oidc/callback")
def oidc_callback() -> Any:
    """The identity provider sends the browser back here: check the ID token, sign its person in."""
    from authlib.integrations.base_client import OAuthError
    from flask import current_app
    from joserfc.errors import JoseError

    from reviewbot.web.auth import people
    from reviewbot.web.oidc import claims_options, client, person_of

    settings, store, options = workspace()
    if options.oidc is None or options.trusted_header:
        abort(404)
    provider, oidc = client(current_app)
    after = session.get("oidc_next")
    try:
        token = provider.authorize_access_token(claims_options=claims_options(provider, oidc))
        if not token.get("userinfo"):
            raise OAuthError(description="the provider sent no ID token")
        person = person_of(dict(token["userinfo"]), oidc, people(store, settings))
    except OSError as exc:
        return _oidc_unreachable(oidc.issuer, exc)
    except ReviewbotError as exc:
        return _sign_in_refused(f"Not signed in: {_refusal(exc)}", 403)
    except (OAuthError, JoseError, ValueError) as exc:  # a wrong state, nonce, issuer, audience, signature, expiry
        why = getattr(exc, "description", None) or str(exc) or type(exc).__name__
        return _sign_in_refused(f"Sign-in with the identity provider failed: {why}. Try again.", 401)
    _start_session(person)
    return redirect(after or url_for("web.inbox"), code=303)


def _sign_in_refused(message: str, status: int) -> Any:
    session.clear()
    flash(message, "refused")
    return render_template("sign_in.html", proxy=None, next=None), status


def _oidc_unreachable(issuer: str, exc: Exception) -> Any:
    return _sign_in_refused(f"The identity provider at {issuer} cannot be reached ({type(exc).__name__}).", 502)


@bp.get("/account/password")
@signed_in
def password_form() -> Any:
    """The form to change one's own password."""
    _, _, options = workspace()
    if options.trusted_header:
        abort(404)
    return render_template("password.html")


@bp.post("/account/password")
@signed_in
def change_password() -> Any:
    """Change one's own password (the current one is checked under the sign-in limits); every other session of
    the person ends, this one goes on."""
    from reviewbot.web.auth import TooManyAttempts, attempt_password, credential_stamp, set_password

    settings, store, options = workspace()
    if options.trusted_header:
        abort(404)
    new, again = request.form.get("new", ""), request.form.get("again", "")
    try:
        if not attempt_password(store, g.person, request.form.get("current", ""), _client(), _limits(options)):
            raise ReviewbotError("the current password is wrong (or you have none: an admin sets the first one)")
        if new != again:
            raise ReviewbotError("the two new passwords differ")
        message = set_password(store, settings, g.person, new, g.person)
    except TooManyAttempts as exc:
        flash(_refusal(exc), "refused")
        return render_template("password.html"), 429
    except ReviewbotError as exc:
        flash(_refusal(exc), "refused")
        return render_template("password.html"), 400
    session["stamp"] = credential_stamp(store, g.person)  # this session goes on under the new stamp
    flash(message.replace(f"{g.person} can", "You can") + "; your other sessions have ended", "ok")
    return redirect(url_for("web.inbox"), code=303)


def _client() -> str:
    """The client's address for the sign-in limits (the forwarded one when [web] proxy_hops is set)."""
    return request.remote_addr or "unknown"


def _limits(options: Any) -> Any:
    from datetime import timedelta

    from reviewbot.web.auth import Limits

    return Limits(options.max_failures, options.max_failures_per_client, timedelta(minutes=options.failure_minutes))


def _start_session(person: str) -> None:
    from reviewbot.web.auth import credential_stamp

    _, store, _ = workspace()
    session.clear()  # a fresh session (and CSRF token) for the person: nothing carried over from before
    session["person"] = person
    session["stamp"] = credential_stamp(store, person)  # the session ends when the password is set again
    session.permanent = True


@bp.post("/sign-out")
def sign_out() -> Any:
    """End the session."""
    session.clear()
    return redirect(url_for("web.sign_in"), code=303)


def _safe_next() -> str | None:
    """Where to go after signing in: a path on this site only (never another host)."""
    target = request.args.get("next") or request.form.get("next") or ""
    # browsers drop tabs and newlines from a URL ("/<tab>/evil.example" is "//evil.example") and read "\\" as "/":
    # a path with none of them, nor spaces or controls, and no host of its own
    if not _SITE_PATH.fullmatch(target):
        return None
    return target if not urlsplit(target).netloc else None


# --- tickets ---------------------------------------------------------------------------------------------


@bp.get("/")
@signed_in
def home() -> Any:
    """The inbox is the home page."""
    return redirect(url_for("web.inbox"))


@bp.get("/tickets")
@signed_in
def inbox() -> Any:
    """Review tickets, filtered by state, section, owner and priority; by impact (default) or oldest first."""
    from reviewbot.store.tickets import list_tickets

    _, store, _ = workspace()
    wanted = {k: request.args.get(k, "").strip() for k in ("state", "section", "owner", "priority")}
    sort = "age" if request.args.get("sort") == "age" else "impact"
    with store.session() as session_:
        everything = list_tickets(session_)
    tickets = [t for t in everything if _matches(t, wanted)]
    if sort == "age":
        tickets.sort(key=lambda t: (t.created_at, t.id or 0))
    return render_template(
        "inbox.html",
        tickets=tickets,
        wanted=wanted,
        sort=sort,
        states=TICKET_STATES,
        priorities=PRIORITIES,
        sections=sorted({t.section_id for t in everything if t.section_id}),
        owners=sorted({o for t in everything if (o := owner_of(t))}),
        owner_of=owner_of,
    )


def owner_of(ticket: ReviewTicket) -> str | None:
    """Who owns the ticket's section (or document), as its evidence names them."""
    section = ticket.evidence.get("section") or {}
    return section.get("owner") or (ticket.evidence.get("document") or {}).get("owner")


def _matches(ticket: ReviewTicket, wanted: dict[str, str]) -> bool:
    return (
        (not wanted["state"] or ticket.state == wanted["state"])
        and (not wanted["section"] or ticket.section_id == wanted["section"])
        and (not wanted["owner"] or owner_of(ticket) == wanted["owner"])
        and (not wanted["priority"] or priority_of(ticket) == wanted["priority"])
    )


@bp.get("/tickets/<id:number>")
@signed_in
def ticket(number: int) -> Any:
    """One ticket: its evidence, section text and diff since it opened, sign-offs, and the actions you may take."""
    from reviewbot.store.policies import sections
    from reviewbot.store.review import audit_log, requests, sign_offs, stale_sign_offs
    from reviewbot.workflows.corrections import movers
    from reviewbot.workflows.impact import ticket_effect
    from reviewbot.workflows.review import SIGNABLE, context_of, deciders

    settings, store, _ = workspace()
    with store.session() as session_:
        found = session_.get(ReviewTicket, number)
    if found is None:
        abort(404)
    file_error = _refresh(found.document_id)  # the diff is against the policy file as it is now
    with store.session() as session_:
        document = session_.get(PolicyDocument, found.document_id)
        approvers: list[str] = []
        if document is not None:
            approvers = context_of(session_, settings, found).approvers
        signed = sign_offs(session_, number)
        stale = stale_sign_offs(session_, found, signed)
        waiting = [r.approver for r in requests(session_, number, status="pending")]
        trail = audit_log(session_, ticket_id=number, limit=50)
        draft = (
            next(
                (
                    s
                    for s in sections(session_, document, document.current_revision)
                    if s.section_id == found.section_id
                ),
                None,
            )
            if document is not None and found.section_id
            else None
        )
        targets = [(document.id, s.section_id, s.heading) for s in sections(session_, document)] if document else []
        may_decide = g.person in deciders(session_, settings, found)  # the buttons; the rules are the workflows'
        may_move = g.person in movers(session_, settings, found)
    cited = (found.evidence.get("section") or {}).get("text") or ""
    diff = _diff(cited, draft.body if draft else cited)
    measured = ticket_effect(settings, store, found)  # as `tickets show`: did the published change help
    return render_template(
        "ticket.html",
        t=found,
        effect=measured[0] if measured else None,
        ev=found.evidence,
        ref=found.tracker_ref or f"#{found.id}",
        priority=priority_of(found),
        approvers=approvers,
        may_sign=g.person in approvers,
        signable=found.state in SIGNABLE,  # an approver sees no buttons the workflow would refuse
        may_decide=may_decide,
        may_move=may_move,
        signed=signed,
        stale=stale,
        waiting=waiting,
        trail=trail,
        diff=diff,
        targets=[x for x in targets if x[1] != found.section_id],
        decisions=DECISIONS,
        file_error=file_error,
        score=_score,
    )


def _score(block: dict[str, Any], unit: str) -> str:
    """An NPS or CSAT score as `tickets show` writes it: -42, 73%, or "no survey answers"."""
    return "no survey answers" if block.get("score") is None else f"{block['score']:+.0f}{unit}".lstrip("+")


def _refresh(document_id: str) -> str | None:
    """Record the policy file's current text (as `policy diff` reads it); the problem, if it cannot be read."""
    from reviewbot.workflows.policies import refresh_document

    settings, store, _ = workspace()
    try:
        refresh_document(settings, store, document_id)
    except ReviewbotError as exc:
        return str(exc)
    return None


def _diff(before: str, after: str) -> list[tuple[str, str]]:
    """Line diff of the section text the ticket cites against the policy file now, as (kind, line) pairs."""
    if before.strip() == after.strip():
        return []
    lines = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=2)
    kinds = {"+": "added", "-": "removed", "@": "hunk"}
    return [(kinds.get(line[:1], "same"), line) for line in list(lines)[2:]]


def _ref(number: int) -> str:
    return str(number)  # the workflows find a ticket by its number


def _back(number: int) -> str:
    return url_for("web.ticket", number=number)


@bp.post("/tickets/<id:number>/triage")
@signed_in
def triage(number: int) -> Any:
    """open -> triaged, optionally assigning who edits the section."""
    from reviewbot.workflows.review import triage as run

    settings, store, _ = workspace()
    assignee = request.form.get("assignee", "").strip() or None
    return _act(lambda: run(store, settings, _ref(number), g.person, assignee), _back(number))


@bp.post("/tickets/<id:number>/assign")
@signed_in
def assign(number: int) -> Any:
    """Name who edits the section."""
    from reviewbot.workflows.review import assign as run

    settings, store, _ = workspace()
    person = request.form.get("assignee", "").strip()
    if not person:
        return _act(_needs("a person to assign"), _back(number))
    return _act(lambda: run(store, settings, _ref(number), person, g.person), _back(number))


@bp.post("/tickets/<id:number>/dismiss")
@signed_in
def dismiss(number: int) -> Any:
    """Dismiss with a reason."""
    from reviewbot.workflows.review import dismiss as run

    settings, store, _ = workspace()
    reason = request.form.get("reason", "")
    return _act(lambda: run(store, settings, _ref(number), reason, g.person), _back(number))


@bp.post("/tickets/<id:number>/reopen")
@signed_in
def reopen(number: int) -> Any:
    """Reopen a closed ticket whose published change did not help, with a reason (as `tickets reopen`)."""
    from reviewbot.workflows.deliver import deliver
    from reviewbot.workflows.review import reopen as run

    settings, store, _ = workspace()
    reason = request.form.get("reason", "")

    def act() -> str:
        message = run(store, settings, _ref(number), reason, g.person)
        deliver(settings, store)  # the tracker's issue leaves its done status now, as the CLI does
        return message

    return _act(act, _back(number))


@bp.post("/tickets/<id:number>/move")
@signed_in
def move(number: int) -> Any:
    """Move to another section ("DOCUMENT:SECTION"), or mark as no policy matter; the tracker is told now."""
    from reviewbot.workflows.corrections import move_ticket
    from reviewbot.workflows.deliver import deliver

    settings, store, _ = workspace()
    target = request.form.get("target", "").strip()
    reason = request.form.get("reason", "").strip()
    if not target:
        return _act(_needs("a section to move it to"), _back(number))
    document, section = (
        (None, None) if target == "not-policy" else target.split(":", 1) if ":" in target else (None, target)
    )

    def run() -> str:
        message = move_ticket(store, settings, _ref(number), section, g.person, document_id=document, reason=reason)
        deliver(settings, store)
        return message

    return _act(run, _back(number))


@bp.post("/tickets/<id:number>/sign")
@signed_in
def sign(number: int) -> Any:
    """Approve, request changes or reject (approvers only, as the workflow checks)."""
    from reviewbot.workflows.deliver import deliver
    from reviewbot.workflows.review import sign as run

    settings, store, _ = workspace()
    decision = request.form.get("decision", "")
    comment = request.form.get("comment", "")

    def act() -> str:
        message = run(store, settings, _ref(number), g.person, decision, comment)
        deliver(settings, store)  # tell the tracker and people now, as the CLI does
        return message

    return _act(act, _back(number))


def _needs(what: str) -> Callable[[], str]:
    def refuse() -> str:
        raise ReviewbotError(f"the form needs {what}")

    return refuse


# --- policies --------------------------------------------------------------------------------------------


@bp.get("/policies")
@signed_in
def policies() -> Any:
    """The policy documents."""
    from reviewbot.store.policies import document_authority, documents

    _, store, _ = workspace()
    with store.session() as session_:
        docs = documents(session_)
        # the owner the published version names holds authority; the file's takes over when it is published
        owners = {d.id: document_authority(session_, d).owner for d in docs}
    return render_template("policies.html", docs=docs, owners=owners)


@bp.get("/policies/<document_id>")
@signed_in
def policy(document_id: str) -> Any:
    """A document: sections, versions, unpublished changes and what publishing would do, acknowledgements."""
    from reviewbot.errors import NotFoundError
    from reviewbot.store.policies import pending_authority, sections
    from reviewbot.workflows.publish import ack_status, blocking_state, plan_publish, version_history
    from reviewbot.workflows.review import publishers

    settings, store, _ = workspace()
    try:
        document, versions = version_history(store, document_id)
    except NotFoundError:
        abort(404)
    plan, plan_error = None, None
    try:
        plan = plan_publish(settings, store, document_id)  # reads the policy file as it is now
    except ReviewbotError as exc:
        plan_error = exc.message
    with store.session() as session_:
        document = session_.get(PolicyDocument, document_id) or document
        rows = sections(session_, document)
        pending = pending_authority(session_, document)
        may_publish = g.person in publishers(session_, settings, document)
    acks = ack_status(store, document_id) if document.published_version and versions else None
    return render_template(
        "policy.html",
        may_publish=may_publish,
        doc=document,
        sections=rows,
        pending=pending,
        blocking_state=blocking_state,
        versions=versions,
        plan=plan,
        plan_error=plan_error,
        acks=acks,
        may_ack=bool(acks and g.person in acks.pending),
    )


@bp.post("/policies/<document_id>/publish")
@signed_in
def publish(document_id: str) -> Any:
    """Publish the policy file as the next version with the generated changelog."""
    from reviewbot.workflows.publish import publish as run

    settings, store, _ = workspace()

    def act() -> str:
        result = run(settings, store, document_id, g.person)
        return f"Published {result.document_id} version {result.version}; closed: {', '.join(result.resolved) or '-'}"

    return _act(act, url_for("web.policy", document_id=document_id))


@bp.post("/policies/<document_id>/ack")
@signed_in
def acknowledge(document_id: str) -> Any:
    """Acknowledge the latest published version."""
    from reviewbot.workflows.publish import acknowledge as run

    _, store, _ = workspace()
    return _act(lambda: run(store, document_id, g.person), url_for("web.policy", document_id=document_id))


# --- themes ----------------------------------------------------------------------------------------------


@bp.get("/themes")
@signed_in
def themes() -> Any:
    """Active themes, largest first, with the sections they map to and their tickets (as `themes list`)."""
    from reviewbot.views import theme_overview

    _, store, _ = workspace()
    with store.session() as session_:
        rows, maps, refs, _ = theme_overview(session_)
    return render_template("themes.html", themes=rows, maps=maps, refs=refs)


@bp.get("/themes/<id:theme_id>")
@signed_in
def theme(theme_id: int) -> Any:
    """One theme: statistics, weekly trend, sections, tickets, its most typical items; rename, merge, split."""
    from reviewbot.store.themes import active_themes
    from reviewbot.views import theme_detail
    from reviewbot.workflows.review import curators

    settings, store, _ = workspace()
    with store.session() as session_:
        detail = theme_detail(session_, theme_id, THEME_ITEMS)
        if detail is None:
            abort(404)
        others = [t for t in sorted(active_themes(session_), key=lambda t: -t.size) if t.id != theme_id]
        may_curate = g.person in curators(session_, settings)
    return render_template(
        "theme.html",
        theme=detail.theme,
        maps=detail.maps,
        items=detail.items,
        tickets=detail.tickets,
        others=others,
        may_curate=may_curate,
    )


THEME_ITEMS = 10  # typical items on a theme's page, as `themes show` lists by default


def _theme_back(theme_id: int) -> str:
    return url_for("web.theme", theme_id=theme_id)


@bp.post("/themes/<id:theme_id>/rename")
@signed_in
def rename_theme(theme_id: int) -> Any:
    """Name a theme (as `themes rename`); later syncs keep the name."""
    from reviewbot.workflows.curate import rename

    settings, store, _ = workspace()
    label = request.form.get("label", "")
    return _act(lambda: rename(settings, store, theme_id, label, g.person), _theme_back(theme_id))


@bp.post("/themes/<id:theme_id>/merge")
@signed_in
def merge_themes(theme_id: int) -> Any:
    """Fold the chosen themes into this one (as `themes merge`); their open tickets are dismissed as merged."""
    from reviewbot.workflows.curate import merge

    settings, store, _ = workspace()
    try:
        sources = [int(value) for value in request.form.getlist("sources")]
    except ValueError:
        return _act(_needs("theme numbers to merge"), _theme_back(theme_id))
    return _act(lambda: merge(settings, store, theme_id, sources, g.person), _theme_back(theme_id))


@bp.post("/themes/<id:theme_id>/split")
@signed_in
def split_theme(theme_id: int) -> Any:
    """Split a theme that mixes issues (as `themes split`); the biggest part keeps its number."""
    from reviewbot.workflows.curate import split

    settings, store, _ = workspace()
    into = request.form.get("into", "").strip()
    if into and not (into.isdigit() and 2 <= int(into) <= SPLIT_MAX):
        return _act(_needs(f"a number of parts from 2 to {SPLIT_MAX}, or none"), _theme_back(theme_id))
    parts = int(into) if into else None
    return _act(lambda: split(settings, store, theme_id, g.person, parts), _theme_back(theme_id))


SPLIT_MAX = 6


@bp.get("/policies/<document_id>/diff")
@signed_in
def policy_diff(document_id: str) -> Any:
    """What changed between two versions of a document (or a version and the policy file now), section by section."""
    from reviewbot.policy.diff import diff_sections
    from reviewbot.store.policies import releases, sections
    from reviewbot.web.diffview import side_by_side, unified

    settings, store, _ = workspace()
    with store.session() as session_:
        document = session_.get(PolicyDocument, document_id)
        if document is None:
            abort(404)
        versions = [r.version for r in releases(session_, document_id)]
    chosen = {end: request.args.get(end, "").strip() for end in ("from", "to")}
    chosen["from"] = chosen["from"] or (str(document.published_version) if versions else "")
    chosen["to"] = chosen["to"] or DRAFT
    view = "split" if request.args.get("view") == "split" else "unified"
    problem = _diff_problem(chosen, versions)
    changes = []
    if problem is None:
        if DRAFT in chosen.values():
            file_error = _refresh(document_id)  # the policy file as it is now
            problem = f"The policy file cannot be read: {file_error}" if file_error else None
        with store.session() as session_:
            document = session_.get(PolicyDocument, document_id) or document
            old, new = (
                sections(session_, document, _revision(session_, document, chosen[end])) for end in ("from", "to")
            )
        changes = diff_sections(old, new) if problem is None else []
    return render_template(
        "policy_diff.html",
        doc=document,
        versions=versions,
        chosen=chosen,
        view=view,
        problem=problem,
        changes=changes,
        unified=unified,
        side_by_side=side_by_side,
        draft=DRAFT,
    ), (400 if problem else 200)


DRAFT = "file"  # the `to`/`from` value that means the policy file as it is now (unpublished edits included)


def _diff_problem(chosen: dict[str, str], versions: list[int]) -> str | None:
    """Why the chosen ends cannot be compared (None when they can)."""
    if not versions:
        return "This document has no published version to compare with."
    for end in ("from", "to"):
        value = chosen[end]
        if value != DRAFT and not (value.isdigit() and int(value) in versions):
            known = ", ".join(map(str, versions))
            return f"There is no version {value!r} to compare {end}: choose one of {known} or the policy file."
    return None


def _revision(session_: Any, document: PolicyDocument, value: str) -> int:
    """The revision behind a published version number, or the draft's."""
    from reviewbot.store.policies import get_release

    if value == DRAFT:
        return document.current_revision
    release = get_release(session_, document.id, int(value))
    assert release is not None  # checked by _diff_problem
    return release.revision


# --- the report's charts, live ---------------------------------------------------------------------------

CHART_SCRIPTS = ("chart.umd.min.js", "report.js")  # the HTML report's own scripts, served as files (CSP 'self')


@bp.get("/charts")
@signed_in
def charts() -> Any:
    """The HTML report's charts, drawn from the store as it is now (optionally from a date on)."""
    from datetime import date

    from markupsafe import Markup

    from reviewbot.report.charts import chart_payload, effect_id
    from reviewbot.report.render import script_json
    from reviewbot.workflows.report_html import build_report

    settings, store, _ = workspace()
    raw_since = request.args.get("since", "").strip()
    try:
        since = date.fromisoformat(raw_since) if raw_since else None
    except ValueError:
        flash(f"{raw_since!r} is not a date like 2026-09-01: showing everything.", "refused")
        since = None
    report = build_report(settings, store, since)
    payload = chart_payload(report, known=())  # no evidence tables on this page: bars link nowhere
    drawn = {e["id"] for e in payload.get("effects", [])}
    return render_template(
        "charts.html",
        report=report,
        charts=payload,
        # script_json escapes <, > and & so the data cannot end its <script type="application/json"> block
        data=Markup(script_json(payload)),
        since=since,
        effects=[(v, effect_id(v)) for v in report.versions if effect_id(v) in drawn],
    )


@bp.get("/charts/<name>")
def chart_script(name: str) -> Any:
    """The report's chart scripts, from the package (the same files the HTML report inlines)."""
    from flask import Response

    from reviewbot.report.render import asset

    if name not in CHART_SCRIPTS:
        abort(404)
    response = Response(asset(name), mimetype="text/javascript")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
