"""Sync stage: read the policy documents and record a version for each new or changed one."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from reviewbot.errors import NotFoundError, PolicyError
from reviewbot.models import PolicyDocument
from reviewbot.paths import printable_name
from reviewbot.policy.parse import ParsedPolicy, load_policy
from reviewbot.settings import Settings
from reviewbot.store import Store
from reviewbot.store.policies import record_policy
from reviewbot.workflows.run_summary import SyncReport


def policy_files(folder: Path) -> list[Path]:
    """The Markdown files of a policies folder, in a stable order."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.md") if not p.name.startswith(".") and p.name.lower() != "readme.md")


def read_policy_file(folder: Path, path: Path) -> ParsedPolicy:
    """Parse one policy file of `folder`; a link to a file outside the folder is refused (PolicyError), as inbox links
    are: a link added to a policies repository would make any file the bot can read a policy cited in tickets."""
    if not path.resolve().is_relative_to(folder.resolve()):
        raise PolicyError(
            "the file is a link to a file outside the policies folder, which is not read",
            file=printable_name(str(path)),
            hint=f"copy the policy into {folder} instead of linking to it, or remove the link",
        )
    return load_policy(path)


def refresh_document(settings: Settings, store: Store, document_id: str) -> ParsedPolicy:
    """Read one document's file again and record it, so drafts are seen without waiting for a sync."""
    with store.session() as session:
        document = session.get(PolicyDocument, document_id)
        if document is None:
            raise NotFoundError(f"no policy document {document_id!r}", hint="see `reviewbot policy list`")
        path = settings.workspace / document.path
    policy = replace(read_policy_file(settings.policies_path, path), path=document.path)
    with store.session() as session:
        record_policy(session, policy)
    return policy


def load_policies(settings: Settings, store: Store, report: SyncReport) -> list[ParsedPolicy]:
    """Parse every policy and store new versions; a broken file is reported and its last good version kept."""
    parsed: list[ParsedPolicy] = []
    new_revisions: list[str] = []
    files = policy_files(settings.policies_path)
    if not files:
        report.errors.append(f"no policy documents (*.md) in {settings.policies_path}; themes cannot be mapped")
    for path in files:
        try:
            policy = read_policy_file(settings.policies_path, path)
        except PolicyError as exc:
            report.errors.append(f"policy {exc}")
            continue
        relative = path.relative_to(settings.workspace) if path.is_relative_to(settings.workspace) else path
        policy = replace(policy, path=str(relative))
        with store.session() as session:
            document, added = record_policy(session, policy)
            if added:
                state = "version 1" if document.current_revision == 1 else "draft"
                new_revisions.append(f"{document.id} revision {document.current_revision} ({state})")
        parsed.append(policy)
    report.policies = {"documents": len(parsed), "new_revisions": new_revisions}
    return parsed
