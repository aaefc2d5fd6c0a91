"""Commands about policy documents: list, show, diff, versions, publish, acknowledgements, impact."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from reviewbot.cli.app import (
    ActorOption,
    JsonOption,
    actor,
    done,
    err,
    note,
    open_store,
    out,
    print_json,
    print_markdown,
    print_table,
    sub_app,
    to_terminal,
)
from reviewbot.errors import NotFoundError, ReviewbotError
from reviewbot.models.base import MAX_ROW_ID

if TYPE_CHECKING:  # `reviewbot --help` imports this module: the policy tables are built where they are read
    from sqlmodel import Session

    from reviewbot.models import PolicyDocument
    from reviewbot.settings import Settings
    from reviewbot.store import Store
    from reviewbot.store.policies import Authority, PendingAuthority
    from reviewbot.workflows.impact import ThemeImpact, VersionImpact

policy_app = sub_app(
    "policy", "Policy documents: sections, versions, diffs, publishing, acknowledgements, effect of a version."
)

DocArgument = Annotated[str, typer.Argument(help="Document id (from `policy list`).")]
VersionOption = Annotated[
    int | None, typer.Option("--version", help="A published version (default: the latest).", min=1, max=MAX_ROW_ID)
]
# --json keys in the order of the tables' columns, then the rest
DOCUMENT_KEYS = ("id", "title", "published_version", "has_draft", "sections", "owner", "path")
SECTION_KEYS = ("section_id", "heading", "owner", "approvers", "sign_off", "review_interval_days")


def _document(session: Session, document_id: str) -> PolicyDocument:
    from reviewbot.models import PolicyDocument

    document = session.get(PolicyDocument, document_id)
    if document is None:
        raise NotFoundError(f"no policy document {document_id!r}", hint="see `reviewbot policy list`")
    return document


def _revision_of(session: Session, document: PolicyDocument, version: int | None, draft: bool = False) -> int:
    """The revision behind a published version, or the draft (the file as it is now)."""
    from reviewbot.store.policies import get_release

    if draft:
        return document.current_revision
    if version is None:
        return document.published_revision
    entry = get_release(session, document.id, version)
    if entry is None:
        raise NotFoundError(
            f"{document.id} has no version {version}", hint=f"versions 1-{document.published_version} exist"
        )
    return entry.revision


@policy_app.command("list")
def policy_list(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List policy documents with their published version, owner, and whether the file has unpublished edits.

    The owner and approvers shown are the published version's, who hold authority until the file is published.
    """
    from reviewbot.store.policies import document_authority, documents, pending_authority, sections
    from reviewbot.views import documents_table

    with open_store(ctx) as (_, store), store.session() as session:
        docs = [
            (d, len(sections(session, d)), document_authority(session, d), pending_authority(session, d))
            for d in documents(session)
        ]
    if as_json:
        print_json([_document_json(d, who, pending, n) for d, n, who, pending in docs])
        return
    print_table(documents_table([(d, n, who.owner) for d, n, who, _ in docs]), "id", "version", "edits")
    for d, _, _, pending in docs:
        changed = len({p.section_id for p in pending if p.section_id is not None})
        more = [f"{changed} section(s) too: `reviewbot policy show {d.id}`"] if changed else []
        _print_pending(f"{d.id}: pending publish (in force when published):", pending, more)


def _document_json(
    document: PolicyDocument, who: Authority, pending: list[PendingAuthority], sections: int | None = None
) -> dict[str, Any]:
    """A document for --json: owner, approvers and sign-off rule in force (the published version's), and the
    changes to them the file makes, which take effect when it is published."""
    from reviewbot.views import ordered

    fields = {"owner": who.owner, "approvers": list(who.approvers), "sign_off": who.sign_off}
    data = document.model_dump() | fields | {"has_draft": document.has_draft}
    if sections is not None:
        data["sections"] = sections
    return ordered(data, DOCUMENT_KEYS) | {"pending_publish": [p.to_dict() for p in pending]}


@policy_app.command("show")
def policy_show(
    ctx: typer.Context,
    document_id: DocArgument,
    section_id: Annotated[str | None, typer.Argument(help="A section id to print in full.")] = None,
    version: VersionOption = None,
    draft: Annotated[
        bool, typer.Option("--draft", help="The policy file as it is now, unpublished edits included.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Show a document's sections (owners, approvers, review interval), or one section's text.

    Owners and approvers hold authority (sign-off, closing, publishing) as the published version names them; a
    change the policy file makes is listed under "pending publish" and takes effect when it is published.
    """
    from reviewbot.store.policies import document_authority, pending_authority, sections
    from reviewbot.views import row_dict, sections_table

    with open_store(ctx) as (settings, store):
        _read_file(settings, store, document_id, strict=draft)
        with store.session() as session:
            document = _document(session, document_id)
            rows = sections(session, document, _revision_of(session, document, version, draft))
            who, pending = document_authority(session, document), pending_authority(session, document)
    label = "draft" if draft else f"version {version or document.published_version}"
    if section_id is not None:
        match = next((s for s in rows if s.section_id == section_id), None)
        if match is None:
            raise NotFoundError(
                f"no section {section_id!r} in {document_id}", hint=f"see `reviewbot policy show {document_id}`"
            )
        rows = [match]
        pending = [p for p in pending if p.section_id == section_id]
    if as_json:
        print_json(
            {
                "document": _document_json(document, who, pending),
                "version": label,
                "sections": [row_dict(s, first=SECTION_KEYS) for s in rows],
            }
        )
        return
    if section_id is not None:
        out.print(f"[bold]{escape(rows[0].heading)}[/] ({document_id} {label}, section {rows[0].section_id})")
        print_markdown(rows[0].body)  # to a file or a pipe, as the policy file has it
    else:
        print_table(sections_table(document, rows, label), "section", "owner", "sign-off")
    _print_pending(
        "Not in force until published (until then the published version's hold authority):"
        if draft
        else "Pending publish (the policy file names them; in force when it is published):",
        pending,
    )


def _read_file(settings: Settings, store: Store, document_id: str, *, strict: bool) -> None:
    """Read the policy file again, so its unpublished edits are current; only --draft needs it to be readable."""
    from reviewbot.workflows.policies import refresh_document

    try:
        refresh_document(settings, store, document_id)
    except NotFoundError:
        pass  # no such document: _document says so, with its hint
    except ReviewbotError as exc:
        if strict:
            raise
        err.print(f"Note: {exc}; unpublished edits are shown as last read", highlight=False, markup=False)


def _print_pending(head: str, pending: list[PendingAuthority], more: list[str] | None = None) -> None:
    """Under the table, the owners, approvers and rules the file changes: the document's, then each section's
    (or, in a list of documents, `more` lines in their place)."""
    if not pending:
        return
    note(head)
    if more is not None:
        for line in [p.text() for p in pending if p.section_id is None] + more:
            note(f"  {line}")
        return
    place = ""
    for p in pending:
        if (p.section_id or "document") != place:
            place = p.section_id or "document"
            note(f"  {place}")
        note(f"    {p.text()}")


@policy_app.command("diff")
def policy_diff(
    ctx: typer.Context,
    document_id: DocArgument,
    from_version: Annotated[
        int | None,
        typer.Option("--from", help="Published version to compare from (default: the latest).", min=1, max=MAX_ROW_ID),
    ] = None,
    to_version: Annotated[
        int | None,
        typer.Option(
            "--to", help="Published version to compare to (default: the policy file now).", min=1, max=MAX_ROW_ID
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Show what changed, section by section: added, removed, and edited text as a diff."""
    from reviewbot.policy.diff import diff_sections
    from reviewbot.store.policies import sections
    from reviewbot.workflows.policies import refresh_document

    with open_store(ctx) as (settings, store):
        if to_version is None:
            refresh_document(settings, store, document_id)
        with store.session() as session:
            document = _document(session, document_id)
            old = sections(session, document, _revision_of(session, document, from_version))
            new = sections(session, document, _revision_of(session, document, to_version, draft=to_version is None))
    changes = diff_sections(old, new)
    source = f"version {from_version or document.published_version}"
    target = f"version {to_version}" if to_version else "the policy file"
    if as_json:
        print_json({"from": source, "to": target, "changes": [c.__dict__ | {"diff": c.unified()} for c in changes]})
        return
    if not changes:
        out.print(f"No changes between {source} and {target}.")
        return
    out.print(f"[bold]{escape(document.title)}[/]: {source} -> {target}, {len(changes)} section(s) changed")
    for change in changes:
        out.print(f"\n[bold]{change.status.upper()}[/] {escape(change.section_id)}")
        for line in change.unified():
            style = "green" if line.startswith("+") else "red" if line.startswith("-") else None
            out.print(escape(line), style=style, highlight=False, soft_wrap=True)


@policy_app.command("versions")
def policy_versions(ctx: typer.Context, document_id: DocArgument, as_json: JsonOption = False) -> None:
    """List published versions with their date, publisher and changelog; and whether the file has edits since."""
    from reviewbot.views import add_text_row, release_dict
    from reviewbot.workflows.publish import version_history

    with open_store(ctx) as (_, store):
        document, entries = version_history(store, document_id)
    if as_json:
        print_json(
            {"document": document.id, "has_draft": document.has_draft, "versions": [release_dict(e) for e in entries]}
        )
        return
    table = Table(title=f"{document.title}: versions", title_justify="left")
    for name in ("version", "published", "by", "changes", "files"):
        table.add_column(name, overflow="fold")
    for e in entries:
        forced = f" (forced: {e.forced_reason})" if e.forced_reason else ""
        add_text_row(
            table,
            str(e.version),
            e.published_at.strftime("%Y-%m-%d %H:%M"),
            e.published_by + forced,
            "\n".join(e.changelog),
            "\n".join(e.files),
        )
    if document.has_draft:
        add_text_row(table, "draft", "-", "-", "the policy file has unpublished edits (see `policy diff`)", "-")
    print_table(table, "version", "published", "by", "files")


@policy_app.command("publish")
def policy_publish(
    ctx: typer.Context,
    document_id: DocArgument,
    changelog_file: Annotated[
        Path | None, typer.Option("--changelog", help="A file with the changelog, one line per change.")
    ] = None,
    edit: Annotated[bool, typer.Option("--edit", help="Edit the generated changelog in $EDITOR first.")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Publish even though changed sections have unapproved tickets.")
    ] = False,
    reason: Annotated[str | None, typer.Option("--reason", help="Why --force is needed (audited).")] = None,
    at: Annotated[
        datetime | None,
        typer.Option(
            "--at",
            formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
            help="Record a version that took effect earlier (UTC; e.g. published outside reviewbot). Audited.",
        ),
    ] = None,
    as_: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Publish the policy file as the next version: render it, close the tickets it resolves, tell people.

    Examples:

    reviewbot policy publish customer-service-policy

    A version published by hand on 12 October: reviewbot policy publish customer-service-policy --at 2026-10-12

    Past unapproved tickets (audited): reviewbot policy publish returns --force --reason "legal deadline"
    """
    from reviewbot.workflows.publish import check_publisher, plan_publish, publish

    if force and not (reason or "").strip():
        raise ReviewbotError(
            "--force needs a --reason", hint='e.g. --force --reason "legal deadline, approvals follow"'
        )
    with open_store(ctx) as (settings, store):
        who = actor(settings, store, as_)
        changelog = _read_changelog(changelog_file) if changelog_file else None
        if edit:  # refused before the editor opens, not after the changelog was written
            plan = plan_publish(settings, store, document_id)
            check_publisher(settings, store, plan, who)
            changelog = _edit_changelog(changelog or plan.changelog)
        result = publish(
            settings,
            store,
            document_id,
            who,
            changelog=changelog,
            force_reason=reason if force else None,
            published_at=at.replace(tzinfo=UTC) if at else None,
        )
    if as_json:
        print_json(result.__dict__)
    else:
        done(f"Published {result.document_id} version {result.version}" + (" (forced)" if result.forced else ""))
        for line in result.changelog:
            out.print(f"  - {line}", highlight=False, markup=False)
        out.print(f"Files: {', '.join(result.files)}", markup=False)
        out.print(
            f"Closed: {', '.join(result.resolved) or '-'}; acknowledgements asked of {len(result.ack_expected)} people"
        )
    if result.errors:
        raise typer.Exit(1)


def _read_changelog(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReviewbotError(f"cannot read the changelog: {exc.strerror or exc}", file=path) from None
    return [
        line.strip().lstrip("-* ").strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    ]


def _edit_changelog(lines: list[str]) -> list[str]:
    import click

    template = "# One change per line. Lines starting with # are ignored.\n" + "\n".join(lines) + "\n"
    edited = click.edit(template)  # typer does not re-export it (since 0.2x): typer.edit was an AttributeError
    if edited is None:  # the editor was closed without saving
        return lines
    return [line.strip() for line in edited.splitlines() if line.strip() and not line.startswith("#")]


@policy_app.command("ack")
def policy_ack(
    ctx: typer.Context,
    document_id: DocArgument,
    version: VersionOption = None,
    as_: ActorOption = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help='Print {"document_id", "version", "person", "acknowledged_at"} instead of a sentence.'
        ),
    ] = False,
) -> None:
    """Acknowledge that you have read a published version.

    Examples:

    reviewbot policy ack customer-service-policy
    """
    from reviewbot.workflows.publish import ack_status, acknowledge

    with open_store(ctx) as (settings, store):
        person = actor(settings, store, as_)
        message = acknowledge(store, document_id, person, version)
        if not as_json:
            done(message)
            return
        status = ack_status(store, document_id, version)
    when = status.acknowledged.get(person)
    print_json({"document_id": document_id, "version": status.version, "person": person, "acknowledged_at": when})


@policy_app.command("acks")
def policy_acks(
    ctx: typer.Context, document_id: DocArgument, version: VersionOption = None, as_json: JsonOption = False
) -> None:
    """Who has and has not acknowledged a published version.

    Examples:

    reviewbot policy acks customer-service-policy --version 2
    """
    from reviewbot.views import add_text_row
    from reviewbot.workflows.publish import ack_status

    with open_store(ctx) as (_, store):
        status = ack_status(store, document_id, version)
    if as_json:
        print_json(status.__dict__)
        return
    expected = len(status.acknowledged) + len(status.pending)
    note(f"{document_id} version {status.version}: {len(status.acknowledged)} of {expected} acknowledged")
    table = Table(title_justify="left")
    table.add_column("person")
    table.add_column("acknowledged")
    for person, when in status.acknowledged.items():
        add_text_row(table, person, when)
    for person in status.pending:
        add_text_row(table, person, Text("not yet", style="yellow"))
    print_table(table)


@policy_app.command("impact")
def policy_impact(
    ctx: typer.Context,
    document_id: DocArgument,
    version: Annotated[
        int | None,
        typer.Argument(
            help="A published version (default: every version that resolved tickets).", min=1, max=MAX_ROW_ID
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The effect of a version on the themes its tickets cited: share of feedback and tone, before and after.

    Examples:

    One version, a verdict per theme with its tests: reviewbot policy impact customer-service-policy 3

    Every version that resolved tickets, for scripts: reviewbot policy impact customer-service-policy --json
    """
    from reviewbot.workflows.impact import measure

    with open_store(ctx) as (settings, store):
        impacts = measure(settings, store, document_id, version)
    if as_json:
        print_json({"document": document_id, "versions": [i.to_dict() for i in impacts]})
        return
    if not impacts:
        out.print(f"No published version of {document_id} has resolved a ticket with a theme yet: nothing to measure.")
    for impact in impacts:
        _print_impact(impact)
    if any(impact.themes for impact in impacts):
        out.print(Text(_how_sure(settings.impact.alpha), style="dim"))


def _print_impact(impact: VersionImpact) -> None:
    from reviewbot.views import fitted
    from reviewbot.workflows.impact import window_text

    if not impact.themes:
        out.print(f"{impact.name} resolved no ticket with a theme: nothing to measure.")
        return
    title = f"{impact.name}: {window_text(impact)}"
    table = _impact_table(impact, title)
    if not to_terminal():
        print_table(table, titled=True)
    elif isinstance(fitted(table, out.width, "tickets", "share before", "share after", "verdict"), Table):
        out.print(table)
    else:  # nine columns fold mid-word at 80 columns ("verdic t", "(20/17 2)"): one short block per theme instead
        out.print(Text(title, style="bold"))
        for theme in impact.themes:
            out.print(_impact_block(theme))
    if impact.window_open:
        closes = impact.after_end.strftime("%Y-%m-%d %H:%M UTC")
        out.print(f"[yellow]after-window still open until {closes}[/]: the figures so far are provisional.")
    if impact.overlap_note():
        out.print(Text(f"Note: {impact.overlap_note()}.", style="yellow"))
    out.print()


def _how_sure(alpha: float) -> str:
    """How to read the tests, under the figures: what p is and what "no change" does and does not say."""
    return (
        "p: how likely a difference this large would be by chance alone if the version changed nothing; a measure "
        f'moved only when p < {alpha / 2:g}. "no change" means no difference beyond chance, not proof that '
        'nothing changed: with few items only a large change shows. "too little data": a test needs about ten '
        "of the theme's items in the two windows together."
    )


def _impact_table(impact: VersionImpact, title: str) -> Table:
    from reviewbot.workflows.impact import outcome_text

    table = Table(title=title, title_justify="left")
    for name in ("theme", "tickets", "share before", "share after", "share test"):
        table.add_column(name, overflow="fold")
    for name in ("negative before", "negative after", "negative test", "verdict"):
        table.add_column(name, overflow="fold")
    for theme in impact.themes:
        share, negative = theme.effect.share, theme.effect.negative
        table.add_row(
            f"{theme.theme_id} {escape(theme.label)}",
            ", ".join(theme.tickets),
            _share(share.before, share.before_count, share.before_total),
            _share(share.after, share.after_count, share.after_total),
            outcome_text(share),
            _share(negative.before, negative.before_count, negative.before_total),
            _share(negative.after, negative.after_count, negative.after_total),
            outcome_text(negative),
            _VERDICT_STYLE.get(theme.verdict, "{}").format(theme.verdict),
        )
    return table


def _impact_block(theme: ThemeImpact) -> Text:
    """One theme's effect in three lines that fit 80 columns: the verdict, then each measure before -> after."""
    from reviewbot.workflows.impact import outcome_text

    block = Text("\n")
    block.append(f"{theme.theme_id} {theme.label} ({', '.join(theme.tickets)}): ")
    block.append(theme.verdict, style=_VERDICT_COLOUR.get(theme.verdict, "bold"))
    for name, comparison in (("share of feedback", theme.effect.share), ("negative share", theme.effect.negative)):
        before = _share(comparison.before, comparison.before_count, comparison.before_total)
        after = _share(comparison.after, comparison.after_count, comparison.after_total)
        block.append(f"\n  {name}: {before} -> {after}; {outcome_text(comparison)}")
    return block


_VERDICT_COLOUR = {"improved": "bold green", "worse": "bold red"}
_VERDICT_STYLE = {"improved": "[green]{}[/]", "worse": "[red]{}[/]"}


def _share(value: float | None, count: int, total: int) -> str:
    return "-" if value is None else f"{value:.1%} ({count}/{total})"
