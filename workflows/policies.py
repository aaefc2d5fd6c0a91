"""Sync stage: read the policy documents and record a version for each new or changed one."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from reviewbot.errors import PolicyError
from reviewbot.policy.parse import ParsedPolicy, load_policy
from reviewbot.settings import Settings
from reviewbot.store import Store
from reviewbot.store.policies import record_policy
from workflows.report import SyncReport


def policy_files(folder: Path) -> list[Path]:
    """The Markdown files of a policies folder, in a stable order."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.md") if not p.name.startswith(".") and p.name.lower() != "readme.md")


def load_policies(settings: Settings, store: Store, report: SyncReport) -> list[ParsedPolicy]:
    """Parse every policy and store new versions; a broken file is reported and its last good version kept."""
    parsed: list[ParsedPolicy] = []
    new_versions: list[str] = []
    files = policy_files(settings.policies_path)
    if not files:
        report.errors.append(f"no policy documents (*.md) in {settings.policies_path}; themes cannot be mapped")
    for path in files:
        try:
            policy = load_policy(path)
        except PolicyError as exc:
            report.errors.append(f"policy {exc}")
            continue
        relative = path.relative_to(settings.workspace) if path.is_relative_to(settings.workspace) else path
        policy = replace(policy, path=str(relative))
        with store.session() as session:
            document, added = record_policy(session, policy)
            if added:
                new_versions.append(f"{document.id} v{document.current_version}")
        parsed.append(policy)
    report.policies = {"documents": len(parsed), "new_versions": new_versions}
    return parsed
