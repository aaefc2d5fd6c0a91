"""Compare two versions of a policy section by section: what was added, removed or changed.

Works on parsed sections (`PolicySectionText`, whose id is `.id`) and on stored rows (`PolicySection`, whose id
is `.section_id`, `.id` being the row's primary key) alike, even mixed (published rows against the file as parsed
now): `section_key` reads whichever id the object has.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol


class SectionLike(Protocol):
    """A section's text; its id is `section_id` (database rows) or `id` (parsed sections), see `section_key`."""

    @property
    def heading(self) -> str: ...

    @property
    def body(self) -> str: ...


def section_key(section: SectionLike) -> str:
    """The section id of a database row (`section_id`) or a parsed section (`id`)."""
    # `section_id` first: on a database row `id` is the integer primary key, not the section id.
    for attribute in ("section_id", "id"):
        value = getattr(section, attribute, None)
        if isinstance(value, str):
            return value
    raise TypeError(f"{type(section).__name__} has neither a `section_id` nor an `id` string")


@dataclass(frozen=True)
class SectionChange:
    """One section that was added, removed or changed between two versions of a document."""

    section_id: str
    status: Literal["added", "removed", "changed"]
    old_heading: str | None
    new_heading: str | None
    old_body: str | None
    new_body: str | None

    def unified(self, context: int = 2) -> list[str]:
        """Unified diff lines (no line endings) of the heading and body, labelled with the section id."""
        return list(
            difflib.unified_diff(
                _lines(self.old_heading, self.old_body),
                _lines(self.new_heading, self.new_body),
                fromfile=f"{self.section_id} (before)",
                tofile=f"{self.section_id} (after)",
                n=context,
                lineterm="",
            )
        )


def diff_sections(old: Sequence[SectionLike], new: Sequence[SectionLike]) -> list[SectionChange]:
    """Sections added, removed or changed (heading or body) between two versions, by section id.

    Unchanged sections are omitted; differences only in whitespace at line ends do not count. The result
    follows the new document's order, with each removed section placed where it was in the old one.
    """
    old_by_id, new_by_id = _by_id(old), _by_id(new)
    removed_after = _removed_by_anchor(old, new_by_id)
    changes = [_removed(section) for section in removed_after.get(None, [])]
    for section in new:
        section_id = section_key(section)
        before = old_by_id.get(section_id)
        if before is None:
            changes.append(SectionChange(section_id, "added", None, section.heading, None, section.body))
        elif _text(before.heading) != _text(section.heading) or _text(before.body) != _text(section.body):
            changes.append(
                SectionChange(section_id, "changed", before.heading, section.heading, before.body, section.body)
            )
        changes.extend(_removed(gone) for gone in removed_after.get(section_id, []))
    return changes


def _by_id(sections: Sequence[SectionLike]) -> dict[str, SectionLike]:
    by_id: dict[str, SectionLike] = {}
    for section in sections:
        section_id = section_key(section)
        # Silently keeping one of two sections with the same id would hide a change.
        if section_id in by_id:
            raise ValueError(f"section id `{section_id}` occurs more than once")
        by_id[section_id] = section
    return by_id


def _removed_by_anchor(
    old: Sequence[SectionLike], new_by_id: dict[str, SectionLike]
) -> dict[str | None, list[SectionLike]]:
    """Removed sections grouped by the nearest earlier old section that survives (None: before all of them)."""
    anchored: dict[str | None, list[SectionLike]] = {}
    anchor: str | None = None
    for section in old:
        section_id = section_key(section)
        if section_id in new_by_id:
            anchor = section_id
        else:
            anchored.setdefault(anchor, []).append(section)
    return anchored


def _removed(section: SectionLike) -> SectionChange:
    return SectionChange(section_key(section), "removed", section.heading, None, section.body, None)


def _text(text: str) -> str:
    """Text with whitespace at line ends, and blank lines at the end, removed: editors add and drop these."""
    return "\n".join(line.rstrip() for line in text.split("\n")).rstrip("\n")


def _lines(heading: str | None, body: str | None) -> list[str]:
    """The heading, then a blank line and the body when there is one; nothing for a side that is absent."""
    if heading is None:
        return []
    body = _text(body or "")
    return [_text(heading), "", *body.split("\n")] if body else [_text(heading)]
