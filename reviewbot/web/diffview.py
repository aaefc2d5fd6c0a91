"""A policy document's changes between two versions, laid out for the web console: unified lines or side-by-side
rows. Only plain strings come out of here; the templates escape them."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from reviewbot.policy.diff import SectionChange

UNIFIED_KINDS = {"+": "added", "-": "removed", "@": "hunk"}


@dataclass(frozen=True)
class Row:
    """One row of a side-by-side diff: the old line and the new line (None where a side has no line)."""

    kind: str  # same, changed, added, removed
    old_number: int | None
    old: str | None
    new_number: int | None
    new: str | None


def unified(change: SectionChange) -> list[tuple[str, str]]:
    """The section's unified diff as (kind, line) pairs, without the two file-name lines."""
    return [(UNIFIED_KINDS.get(line[:1], "same"), line) for line in change.unified()[2:]]


def side_by_side(change: SectionChange) -> list[Row]:
    """The section's old and new text next to each other, line by line (every line, not only the changed ones)."""
    old, new = _lines(change.old_heading, change.old_body), _lines(change.new_heading, change.new_body)
    rows: list[Row] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows += [
                Row("same", i + 1, old[i], j + 1, new[j]) for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            ]
            continue
        for k in range(max(i2 - i1, j2 - j1)):
            i, j = i1 + k, j1 + k
            left = (i + 1, old[i]) if i < i2 else (None, None)
            right = (j + 1, new[j]) if j < j2 else (None, None)
            kind = (
                "changed"
                if left[1] is not None and right[1] is not None
                else "removed"
                if right[1] is None
                else "added"
            )
            rows.append(Row(kind, left[0], left[1], right[0], right[1]))
    return rows


def _lines(heading: str | None, body: str | None) -> list[str]:
    """A section as the diff compares it: the heading, a blank line, the body (nothing for an absent side)."""
    if heading is None:
        return []
    text = "\n".join(line.rstrip() for line in (body or "").split("\n")).rstrip("\n")
    return [heading.rstrip(), "", *text.split("\n")] if text else [heading.rstrip()]
