"""`reviewbot doctor`: check the configuration and reach every outside system, saying how to fix what is wrong."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import not_
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import select

from reviewbot.errors import ReviewbotError
from reviewbot.models import ReviewTicket
from reviewbot.models.tickets import FINISHED_STATES
from reviewbot.policy.parse import NotAPolicyError
from reviewbot.protocols import Check
from reviewbot.settings import Settings
from reviewbot.store import Store
from reviewbot.store.migrate import require_current
from reviewbot.workflows.policies import policy_files, read_policy_file
from reviewbot.workflows.trackers import configured, describe, held_here


def run_checks(settings: Settings) -> list[Check]:
    """Every check, in the order a person would fix things."""
    checks = [_database(settings)]
    checks += _policies(settings)
    checks += _sources(settings)
    checks += _connector(settings, "tracker")
    checks += _other_tracker(settings)
    checks += _connector(settings, "notifier")
    return checks


def _database(settings: Settings) -> Check:
    store = Store(settings.db_url)
    where = store.engine.url.render_as_string(hide_password=True)
    try:
        store.check_connection()
        require_current(store.engine)
        return Check("database", True, where)
    except ReviewbotError as exc:
        return Check("database", False, f"{where}: {exc.message}", exc.hint)
    finally:
        store.dispose()


def _policies(settings: Settings) -> list[Check]:
    files = policy_files(settings.policies_path, settings.policies_exclude)
    none = Check("policies", False, f"no *.md in {settings.policies_path}", "put your policy documents there")
    if not files:
        return [none]
    checks = []
    roles = set(settings.roles)
    skipped = 0
    first_with: dict[str, str] = {}
    for path in files:
        try:
            policy = read_policy_file(settings.policies_path, path)
        except NotAPolicyError:  # listed here once, rather than as an error every sync
            checks.append(Check(f"policy {path.name}", True, "no front matter and no heading: not a policy, skipped"))
            skipped += 1
            continue
        except ReviewbotError as exc:
            checks.append(Check(f"policy {path.name}", False, _file_problems(exc), exc.hint))
            continue
        if policy.id in first_with:  # the sync reads one file per id (see workflows.policies)
            hint = "give each document its own `id:` in its front matter (without one, it comes from the file name)"
            checks.append(
                Check(
                    f"policy {path.name}",
                    False,
                    f"{policy.id}: {first_with[policy.id]} has this id too; a sync reads one of them",
                    hint,
                )
            )
            continue
        first_with[policy.id] = path.name
        named = {n for s in policy.sections for n in (*s.approvers, s.owner or "")} | set(policy.approvers)
        unmapped = sorted(n for n in named if n and n not in roles)
        detail = f"{policy.id}: {len(policy.sections)} sections"
        if unmapped and roles:
            hint = "add them to [roles] in reviewbot.toml, or they are taken as people"
            checks.append(
                Check(f"policy {path.name}", False, f"{detail}; roles without people: {', '.join(unmapped)}", hint)
            )
        else:
            checks.append(Check(f"policy {path.name}", True, detail))
    if skipped == len(files):
        checks.append(replace(none, detail=f"no policy documents in {settings.policies_path}"))
    return checks


def _file_problems(exc: ReviewbotError) -> str:
    """A policy file's mistakes by line and setting, without its path (the check names the file) or the hint of
    the first (the check's own column): printed whole, the hint showed twice at 80 columns."""
    lines = []
    for mistake in [exc, *getattr(exc, "more", ())]:
        field = mistake.field or ""
        named = field and mistake.message.startswith(field.rsplit(".", 1)[-1])  # "sign_off must be ..."
        parts = (f"line {mistake.line}" if mistake.line else "", "" if named else field, mistake.message)
        hint = f" ({mistake.hint})" if mistake.hint and mistake is not exc else ""
        lines.append(": ".join(p for p in parts if p) + hint)
    return "\n".join(lines)


def _sources(settings: Settings) -> list[Check]:
    from reviewbot.connectors.registry import ConnectorContext, make_source

    checks = []
    for config in settings.sources:
        try:
            source = make_source(config, ConnectorContext(settings=settings))
        except ReviewbotError as exc:
            checks.append(Check(f"source {config.name}", False, exc.message, exc.hint))
            continue
        check = getattr(source, "check", None)
        if check is not None:  # a source behind an API: reach it and check the credentials
            checks += check()
            continue
        files = getattr(source, "files", None)
        count = "ready"
        if files:
            n = len(files())
            count = f"{n} file{'' if n == 1 else 's'}"
        checks.append(Check(f"source {config.name}", True, f"{config.type} ({config.kind}): {count}"))
    return checks


def _section_ids(settings: Settings) -> list[str]:
    """The ids of every section of the policies that load (the broken ones are reported by `_policies`)."""
    ids = []
    for path in policy_files(settings.policies_path, settings.policies_exclude):
        try:
            ids += [s.id for s in read_policy_file(settings.policies_path, path).sections]
        except ReviewbotError:
            continue
    return ids


def _other_tracker(settings: Settings) -> list[Check]:
    """Tickets whose issue is in another tracker than the configured one (the workspace switched trackers): what
    the next sync does with them."""
    store = Store(settings.db_url)
    try:
        with store.session() as session:
            query = select(ReviewTicket.tracker, ReviewTicket.tracker_site, ReviewTicket.state)
            found = [(describe(t, s), state) for t, s, state in session.exec(query.where(not_(held_here(settings))))]
    except SQLAlchemyError:
        return []  # the database check says what is wrong with it
    finally:
        store.dispose()
    if not found:
        return []
    waiting = sum(1 for _, state in found if state not in FINISHED_STATES)
    old = ", ".join(sorted({tracker for tracker, _ in found}))
    detail = (
        f"{_tickets(waiting)} under review in {old}: the next sync files them in {configured(settings)} "
        f"(their {old} keys stay in the audit log); {_tickets(len(found) - waiting)} finished keep their {old} issue"
    )
    return [Check("tickets in another tracker", True, detail)]


def _tickets(count: int) -> str:
    return f"{count} ticket{'' if count == 1 else 's'}"


def _connector(settings: Settings, kind: str) -> list[Check]:
    from reviewbot.connectors.registry import ConnectorContext, make_notifier, make_tracker

    make = make_tracker if kind == "tracker" else make_notifier
    store = Store(settings.db_url)
    try:
        connector = make(ConnectorContext(settings=settings, store=store))
        check = getattr(connector, "check", None)
        checks = check() if check else [Check(kind, True, connector.name)]
        check_sections = getattr(connector, "check_sections", None)
        if check_sections is not None and all(c.ok for c in checks):
            checks += check_sections(_section_ids(settings))  # e.g. Jira components standing for sections
        return checks
    except ReviewbotError as exc:
        return [Check(kind, False, exc.message, exc.hint)]
    finally:
        store.dispose()
