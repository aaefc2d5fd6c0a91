"""Jira doctor checks (`reviewbot doctor`): every name reviewbot.toml gives Jira exists in the project.

A misspelt issue type, priority, transition, resolution, section field or component would otherwise fail each
create or transition of every ticket; here it is named once, with the names Jira has instead. Read-only: these
checks write nothing to Jira.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from reviewbot.connectors.jira import JiraTracker, TrackerError
from reviewbot.errors import ConfigError
from reviewbot.protocols import AmbiguousWrite, Check


def checks(jira: JiraTracker) -> list[Check]:
    """Reach Jira and check credentials, project, issue type, priorities, the section field, and the statuses
    and resolutions the done and won't-do transitions use."""
    o = jira.options
    step = "server info"  # which call failed tells a wrong server from a wrong project
    try:
        info = jira.call(step, lambda: jira.client.server_info())
        checks = [Check("Jira reachable", True, f"{o.server} ({info.get('deploymentType', '?')})")]
        step = "myself"
        me = jira.call(step, lambda: jira.client.myself())
        checks.append(Check("Jira credentials", True, f"signed in as {me.get('displayName') or me.get('name')}"))
        step = "project"
        project = jira.call(step, lambda: jira.client.project(o.project))
    except ConfigError as exc:
        return [Check("Jira", False, exc.message, exc.hint)]
    except (TrackerError, AmbiguousWrite) as exc:
        return [_unreached(o, step, exc)]
    checks.append(Check("Jira project", True, f"{project.key}: {project.name}"))
    try:
        checks += _configured_names(jira, project)
    except (TrackerError, ConfigError) as exc:
        checks.append(Check("Jira settings", False, str(exc), "check the account's permissions in the project"))
    return checks


def _unreached(o: Any, step: str, exc: Exception) -> Check:
    """Why the first calls failed, with the fix that fits: a 404 before the project means no Jira API at `server`."""
    status = getattr(exc, "status", None)
    if status == 404 and step == "project":
        return Check("Jira project", False, f"no project {o.project}", "set project in [tracker]")
    if status == 404:
        hint = (
            f"server = {o.server} answers, but not as Jira's REST API: set it to the address Jira's pages start "
            "with, without /browse/... or /secure/... (Data Center: with its context path, such as /jira)"
        )
        return Check("Jira reachable", False, str(exc), hint)
    if status == 429:
        return Check("Jira reachable", False, str(exc), "Jira is rate-limiting this account: run doctor again later")
    return Check("Jira reachable", False, str(exc), f"check server = {o.server} and the network")


def _configured_names(jira: JiraTracker, project: Any) -> list[Check]:
    """Every name reviewbot.toml gives Jira exists there (a misspelt one fails each create or transition)."""
    o = jira.options
    types = [t.name for t in getattr(project, "issueTypes", [])]
    checks = [Check("Jira issue type", o.issue_type in types, o.issue_type, f"use one of: {', '.join(types)}")]
    priorities = {p.name for p in jira.call("priorities", lambda: jira.client.priorities())}
    unknown = sorted(set(o.priorities.values()) - priorities)
    checks.append(
        Check(
            "Jira priorities",
            not unknown,
            f"not in Jira: {', '.join(unknown)}" if unknown else ", ".join(sorted(set(o.priorities.values()))),
            f"priorities here: {', '.join(sorted(priorities))}; set priorities in [tracker] ({{}} leaves them)",
        )
    )
    checks += _transition_checks(jira, project.key)
    resolutions = {r.name for r in jira.call("resolutions", lambda: jira.client.resolutions())}
    wanted = sorted({r for r in (o.done_resolution, o.dismiss_resolution) if r})
    missing = [r for r in wanted if r not in resolutions]
    hint = f"resolutions here: {', '.join(sorted(resolutions))}; set done_resolution / dismiss_resolution"
    checks.append(Check("Jira resolutions", not missing, ", ".join(missing or wanted) or "left to Jira", hint))
    if o.section_field and o.section_field != "components":
        fields = {f["id"]: f["name"] for f in jira.call("fields", lambda: jira.client.fields())}
        found = o.section_field in fields
        detail = f"{o.section_field} ({fields[o.section_field]})" if found else f"no field {o.section_field}"
        hint = "set section_field to a custom field id (Jira: Settings > Issues > Custom fields) or components"
        checks.append(Check("Jira section field", found, detail, hint))
    return checks


def _transition_checks(jira: JiraTracker, project: str) -> list[Check]:
    """Each configured transition is a status of the project's workflow for the issue type, or the name of a
    transition into one there (as `_transition` finds it); a status of another project's workflow is not."""
    o = jira.options
    statuses = _workflow_statuses(jira, project)
    known = {s.casefold() for s in statuses}
    transitions: list[str] | None = None  # read from the project's issues, only when a name is no status
    unseen = ""
    checks = []
    for label, name, setting, what in (
        ("Jira done status", o.done_transition, "done_transition", "every close"),
        ("Jira won't-do status", o.dismiss_transition, "dismiss_transition", "every dismissal"),
        ("Jira reopen status", o.reopen_transition, "reopen_transition", "every reopening"),
    ):
        workflow = f"{project}'s workflow for {o.issue_type}"
        if name.casefold() in known:
            checks.append(Check(label, True, f"{name} (a status of {workflow})"))
            continue
        if transitions is None:
            transitions = _transition_names(jira, project, statuses)
            unseen = "" if transitions else f" (no issue of {project} yet to read its transitions from)"
        if name.casefold() in {t.casefold() for t in transitions}:
            checks.append(Check(label, True, f"{name} (a transition of {workflow})"))
            continue
        elsewhere = " (it is a status of another workflow on the site)" if name in _statuses(jira) else ""
        names = sorted({t for t in transitions if t.casefold() not in known})
        hint = (
            f"set {setting} in [tracker] to one of {project}'s statuses for {o.issue_type} "
            f"({', '.join(sorted(statuses))}) or to the name of a transition into one"
            + (f" ({', '.join(names)})" if names else "")
        )
        detail = f"{name!r} is neither a status nor a transition of {workflow}{elsewhere or unseen}: {what} would fail"
        checks.append(Check(label, False, detail, hint))
    return checks


def _workflow_statuses(jira: JiraTracker, project: str) -> list[str]:
    """The statuses of the project's workflow for the configured issue type (of every type if it has none)."""
    types = jira.call("project statuses", lambda: jira.client.issue_types_for_project(project))
    mine = [t for t in types if t.name == jira.options.issue_type] or types
    return sorted({s["name"] for t in mine for s in t.raw.get("statuses", [])})


def _transition_names(jira: JiraTracker, project: str, statuses: list[str]) -> list[str]:
    """Names of the transitions the project's issues offer, one issue per status (Jira lists a workflow's
    transitions only per issue, from its current status, unless one administers the workflow)."""
    names: set[str] = set()
    for status in statuses[:20]:
        quoted = status.replace("\\", "\\\\").replace('"', '\\"')
        found = jira.search(f'issuetype = "{jira.options.issue_type}" AND status = "{quoted}"', "status", 1)
        for issue in found[:1]:
            names |= {t["name"] for t in jira.call("read transitions", lambda i=issue: jira.client.transitions(i))}
    return sorted(names)


def check_sections(jira: JiraTracker, sections: Iterable[str]) -> list[Check]:
    """With section_field = "components": every policy section has its component (or it will be created)."""
    o = jira.options
    if o.section_field != "components":
        return []
    try:
        existing = jira.project_components()
    except (TrackerError, ConfigError) as exc:
        return [Check("Jira components", False, str(exc))]
    missing = [name for name in sorted({o.components.get(s, s) for s in sections}) if name.casefold() not in existing]
    if not missing:
        return [Check("Jira components", True, f"every section has its component in {o.project}")]
    if o.create_components:
        return [Check("Jira components", True, f"created when first used: {', '.join(missing)}")]
    return [
        Check(
            "Jira components",
            False,
            f"sections without a component in {o.project}: {', '.join(missing)}",
            "add them in Jira (Project settings > Components), map sections to existing ones in [tracker] "
            "components, or set create_components = true",
        )
    ]


def _statuses(jira: JiraTracker) -> set[str]:
    return {s.name for s in jira.call("statuses", lambda: jira.client.statuses())}
