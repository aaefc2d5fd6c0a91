"""Sync stage: read the policy documents and record a version for each new or changed one."""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from reviewbot.errors import NotFoundError, PolicyError
from reviewbot.models import PolicyDocument
from reviewbot.paths import printable_name
from reviewbot.policy.parse import NotAPolicyError, ParsedPolicy, load_policy
from reviewbot.settings import Settings
from reviewbot.store import Store
from reviewbot.store.policies import record_policy
from reviewbot.workflows.run_summary import SyncReport

log = logging.getLogger(__name__)


# Files a git repository of policies keeps beside them, never policies themselves.
REPOSITORY_FILES = ("readme.md", "license.md", "licence.md", "changelog.md", "changes.md", "contributing.md")


def excluded(name: str, patterns: Sequence[str] = ()) -> bool:
    """True when a policies folder's file is not read: a repository file, or a name matching a policies_exclude
    glob (case-insensitive, as the names of these files vary in case)."""
    lowered = name.lower()
    return lowered in REPOSITORY_FILES or any(fnmatch.fnmatchcase(lowered, p.lower()) for p in patterns)


def policy_files(folder: Path, exclude: Sequence[str] = ()) -> list[Path]:
    """The Markdown files of a policies folder, in a stable order, without hidden and excluded ones."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.md") if not p.name.startswith(".") and not excluded(p.name, exclude))


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


def _one_file_per_id(store: Store, read: list[ParsedPolicy], report: SyncReport) -> list[ParsedPolicy]:
    """The policies to record, one per document id. Two files with one id (a copy of a policy, or of the template,
    whose `id:` was not changed) each recorded a new revision of the other at every sync, silently: the file the
    document already has keeps it (else the first by name), and the other is an error until it gets its own id."""
    by_id: dict[str, list[ParsedPolicy]] = {}
    for policy in read:
        by_id.setdefault(policy.id, []).append(policy)
    kept: list[ParsedPolicy] = []
    for document_id, claimants in by_id.items():
        if len(claimants) > 1:
            with store.session() as session:
                document = session.get(PolicyDocument, document_id)
            stored = document.path if document is not None else None
            claimants = sorted(claimants, key=lambda policy: policy.path != stored)  # stable: else by file name
            for other in claimants[1:]:
                error = PolicyError(
                    f"id {document_id!r} is the id of {claimants[0].path} too; this file is not read",
                    file=printable_name(other.path),
                    field="id",
                    hint="give each document its own `id:` in its front matter (without one, the id comes from the "
                    "file name)",
                )
                report.errors.append(f"policy {error}")
        kept.append(claimants[0])
    chosen = {id(policy) for policy in kept}
    return [policy for policy in read if id(policy) in chosen]


def load_policies(settings: Settings, store: Store, report: SyncReport) -> list[ParsedPolicy]:
    """Parse every policy and store new versions; a broken file is reported and its last good version kept."""
    parsed: list[ParsedPolicy] = []
    new_revisions: list[str] = []
    skipped: list[str] = []
    files = policy_files(settings.policies_path, settings.policies_exclude)
    read: list[ParsedPolicy] = []
    for path in files:
        try:
            policy = read_policy_file(settings.policies_path, path)
        except NotAPolicyError:
            skipped.append(path.name)
            log.info("%s has no front matter and no heading: not a policy, skipped", printable_name(str(path)))
            continue
        except PolicyError as exc:
            report.errors.append(f"policy {exc}")
            continue
        relative = path.relative_to(settings.workspace) if path.is_relative_to(settings.workspace) else path
        read.append(replace(policy, path=str(relative)))
    for policy in _one_file_per_id(store, read, report):
        with store.session() as session:
            document, added = record_policy(session, policy)
            if added:
                state = "version 1" if document.current_revision == 1 else "draft"
                new_revisions.append(f"{document.id} revision {document.current_revision} ({state})")
        parsed.append(policy)
    if not files or len(skipped) == len(files):
        also = f" (skipped, without front matter or headings: {', '.join(skipped)})" if skipped else ""
        report.errors.append(f"no policy documents (*.md) in {settings.policies_path}{also}; themes cannot be mapped")
    report.policies = {"documents": len(parsed), "new_revisions": new_revisions}
    if skipped:
        report.policies["not_policies"] = skipped
    return parsed
