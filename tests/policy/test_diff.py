"""Tests for reviewbot.policy.diff: which sections were added, removed or changed between two versions."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewbot.models import PolicySection
from reviewbot.policy.diff import SectionChange, diff_sections, section_key
from reviewbot.policy.parse import parse_policy

OLD = """\
# Service Policy

## Welcome
Hello.

## Refunds
Money back.

### Refund timelines {#refund-sla}
Within 14 days.

## Warranty
Two years.

## Delivery
Fast.
"""


@dataclass(frozen=True)
class Row:
    """Shaped like a stored section: `section_id` is the section's id, `id` a database key."""

    section_id: str
    heading: str
    body: str
    id: int = 7


def statuses(changes: list[SectionChange]) -> list[tuple[str, str]]:
    return [(change.section_id, change.status) for change in changes]


def test_unchanged_document_has_no_changes() -> None:
    sections = parse_policy(OLD).sections
    assert diff_sections(sections, sections) == []


def test_added_removed_and_changed_in_new_order_with_removed_where_they_were() -> None:
    new = """\
# Service Policy

## Welcome
Hello and welcome.

## Complaints
Tell us.

## Refunds
Money back.

## Delivery
Fast.

## Privacy
Kept safe.
"""
    changes = diff_sections(parse_policy(OLD).sections, parse_policy(new).sections)
    assert statuses(changes) == [
        ("welcome", "changed"),
        ("complaints", "added"),
        ("refund-sla", "removed"),  # was after `refunds`, which is unchanged and so not listed
        ("warranty", "removed"),
        ("privacy", "added"),
    ]
    welcome, complaints, sla, _, _ = changes
    assert (welcome.old_body, welcome.new_body) == ("Hello.", "Hello and welcome.")
    assert (complaints.old_heading, complaints.new_heading, complaints.old_body, complaints.new_body) == (
        None,
        "Complaints",
        None,
        "Tell us.",
    )
    assert (sla.old_heading, sla.new_heading, sla.old_body, sla.new_body) == (
        "Refund timelines",
        None,
        "Within 14 days.",
        None,
    )


def test_removed_before_every_surviving_section_comes_first() -> None:
    old = [Row("gone", "Gone", "x"), Row("kept", "Kept", "y")]
    new = [Row("kept", "Kept", "y changed")]
    assert statuses(diff_sections(old, new)) == [("gone", "removed"), ("kept", "changed")]


def test_renamed_heading_with_same_explicit_id_is_a_change() -> None:
    new = OLD.replace("### Refund timelines {#refund-sla}", "### Refund deadlines {#refund-sla}")
    (change,) = diff_sections(parse_policy(OLD).sections, parse_policy(new).sections)
    assert (change.section_id, change.status) == ("refund-sla", "changed")
    assert (change.old_heading, change.new_heading) == ("Refund timelines", "Refund deadlines")
    assert change.old_body == change.new_body == "Within 14 days."


def test_whitespace_at_line_ends_is_not_a_change() -> None:
    old = [Row("a", "Refunds", "Line one.\nLine two.")]
    new = [Row("a", "Refunds ", "Line one.  \r\nLine two.\t\n\n")]
    assert diff_sections(old, new) == []
    edited = OLD.replace("Within 14 days.", "Within 14 days.   ").replace("Money back.", "Money back.\t")
    assert diff_sections(parse_policy(OLD).sections, parse_policy(edited).sections) == []


@pytest.mark.parametrize(
    "body",
    [
        "Line one.\nLine  two.",  # doubled space inside a line
        " Line one.\nLine two.",  # indentation can change the meaning of Markdown
        "Line one.\n\nLine two.",  # a new paragraph
        "Line one.\nline two.",
    ],
)
def test_any_other_whitespace_or_text_edit_is_a_change(body: str) -> None:
    changes = diff_sections([Row("a", "A", "Line one.\nLine two.")], [Row("a", "A", body)])
    assert statuses(changes) == [("a", "changed")]


def test_unified_diff_shows_old_and_new_text_labelled_with_section_id() -> None:
    new = OLD.replace("Within 14 days.", "Within 10 days.")
    (change,) = diff_sections(parse_policy(OLD).sections, parse_policy(new).sections)
    lines = change.unified()
    assert lines[:2] == ["--- refund-sla (before)", "+++ refund-sla (after)"]
    assert "-Within 14 days." in lines and "+Within 10 days." in lines
    assert " Refund timelines" in lines  # unchanged heading shown as context
    assert all("\n" not in line for line in lines)


def test_unified_diff_of_added_and_removed_sections() -> None:
    added = SectionChange("refunds/exceptions", "added", None, "Exceptions", None, "Sale items.\nGift cards.")
    assert added.unified()[2:] == ["@@ -0,0 +1,4 @@", "+Exceptions", "+", "+Sale items.", "+Gift cards."]
    removed = SectionChange("warranty", "removed", "Warranty", None, "", None)
    assert removed.unified() == ["--- warranty (before)", "+++ warranty (after)", "@@ -1 +0,0 @@", "-Warranty"]


def test_unified_diff_context_and_trailing_whitespace() -> None:
    old_body = "\n".join(f"line {n}" for n in range(1, 10))
    new_body = old_body.replace("line 5", "line five").replace("line 1", "line 1   ")
    change = SectionChange("s", "changed", "S", "S", old_body, new_body)
    lines = change.unified(context=1)
    assert [line for line in lines if line[:1] in "+-" and not line.startswith(("---", "+++"))] == [
        "-line 5",
        "+line five",
    ]
    assert " line 4" in lines and " line 3" not in lines


def test_database_rows_and_parsed_sections_can_be_compared() -> None:
    parsed = parse_policy(OLD.replace("Fast.", "Next day.")).sections
    rows = [
        PolicySection(
            id=100 + n,  # the row's primary key must not be taken for the section id
            document_id="service",
            revision=1,
            section_id=s.id,
            heading=s.heading,
            body=s.body,
            content_hash=s.content_hash,
        )
        for n, s in enumerate(parse_policy(OLD).sections)
    ]
    assert statuses(diff_sections(rows, parsed)) == [("delivery", "changed")]
    assert statuses(diff_sections(rows, rows)) == []
    assert section_key(rows[0]) == "welcome" and section_key(parsed[0]) == "welcome"


def test_objects_without_an_id_are_refused() -> None:
    @dataclass
    class NoId:
        heading: str
        body: str

    with pytest.raises(TypeError, match="section_id"):
        diff_sections([NoId("A", "a")], [])


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="`a`"):
        diff_sections([Row("a", "A", "x"), Row("a", "A2", "y")], [])


# --- properties --------------------------------------------------------------------------------

TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
SECTIONS = st.lists(
    st.builds(Row, st.text("abcdefgh/-", min_size=1, max_size=8), TEXT, TEXT), max_size=10, unique_by=section_key
)


@given(SECTIONS)
def test_a_version_against_itself_has_no_changes(sections: list[Row]) -> None:
    assert diff_sections(sections, sections) == []


@given(SECTIONS)
def test_everything_is_added_to_an_empty_document_and_removed_from_it(sections: list[Row]) -> None:
    added = diff_sections([], sections)
    assert [(c.section_id, c.status, c.new_heading, c.new_body) for c in added] == [
        (s.section_id, "added", s.heading, s.body) for s in sections
    ]
    assert [(c.section_id, c.status) for c in diff_sections(sections, [])] == [
        (s.section_id, "removed") for s in sections
    ]


@given(SECTIONS, SECTIONS)
def test_every_id_in_either_version_is_reported_at_most_once(old: list[Row], new: list[Row]) -> None:
    changes = diff_sections(old, new)
    ids = [change.section_id for change in changes]
    assert len(ids) == len(set(ids))
    old_ids, new_ids = {s.section_id for s in old}, {s.section_id for s in new}
    assert {c.section_id for c in changes if c.status == "added"} == new_ids - old_ids
    assert {c.section_id for c in changes if c.status == "removed"} == old_ids - new_ids
