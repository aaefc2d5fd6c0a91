"""Tests for reviewbot.policy.parse: structure, ids, inherited settings and helpful validation errors."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewbot.errors import PolicyError
from reviewbot.policy.parse import SignOffRule, load_policy, parse_policy, slugify

EXAMPLE = """\
---
id: customer-service-policy
title: Northwind Home Customer Service Policy
owner: head-of-customer-experience
approvers: [head-of-customer-experience, compliance-lead]
sign_off: all
review_interval_days: 365
sections:
  refunds-and-returns:
    owner: finance-operations-manager
    approvers: [finance-operations-manager]
    sign_off: 1
    review_interval_days: 180
    keywords: [refund, money back]
---
# Northwind Home Customer Service Policy

Preamble text.

## 3. Refunds and returns
Refunds body.

### 3.1 Refund timelines {#refund-sla}
Within 14 days.

## 4. Delivery
Delivery body.
"""


def error_for(text: str, path: str = "policy.md") -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, path)
    return caught.value


def with_front_matter(front: str, body: str = "## Refunds\nText.\n\n### Timelines\nSoon.\n") -> str:
    return f"---\n{front}---\n{body}"


# --- structure ---------------------------------------------------------------------------------


def test_example_document_structure() -> None:
    policy = parse_policy(EXAMPLE, "policies/cs.md")
    assert policy.id == "customer-service-policy"
    assert policy.title == "Northwind Home Customer Service Policy"
    assert policy.path == "policies/cs.md"
    assert policy.preamble == "Preamble text."
    assert [s.id for s in policy.sections] == ["refunds-and-returns", "refund-sla", "delivery"]
    refunds, sla, delivery = policy.sections
    assert (refunds.heading, refunds.level, refunds.parent_id, refunds.line) == ("3. Refunds and returns", 2, None, 20)
    assert (sla.heading, sla.level, sla.parent_id, sla.line) == ("3.1 Refund timelines", 3, "refunds-and-returns", 23)
    assert delivery.line == 26
    assert refunds.body == "Refunds body."  # own text only: the subsection is its own section
    assert sla.body == "Within 14 days."
    assert delivery.body == "Delivery body."


def test_line_numbers_count_from_top_of_file_including_front_matter() -> None:
    policy = parse_policy(EXAMPLE)
    lines = EXAMPLE.split("\n")
    for section in policy.sections:
        assert lines[section.line - 1].lstrip("#").strip().startswith(section.heading)


def test_document_without_front_matter_uses_defaults() -> None:
    policy = parse_policy("# Service Policy\n\nIntro.\n\n## Refunds\nMoney back.\n", "docs/Service Policy.md")
    assert policy.id == "service-policy"  # slug of the file stem
    assert policy.title == "Service Policy"
    assert (policy.owner, policy.approvers, policy.sign_off, policy.review_interval_days) == (
        None,
        (),
        SignOffRule("all"),
        None,
    )
    assert [(s.id, s.line) for s in policy.sections] == [("refunds", 5)]


def test_crlf_and_bom_parse_like_lf() -> None:
    crlf = "\ufeff" + EXAMPLE.replace("\n", "\r\n")
    lf_policy, crlf_policy = parse_policy(EXAMPLE), parse_policy(crlf)
    assert crlf_policy.sections == lf_policy.sections
    assert crlf_policy.source == EXAMPLE
    assert crlf_policy.content_hash == lf_policy.content_hash == hashlib.sha256(EXAMPLE.encode()).hexdigest()


def test_content_hashes() -> None:
    section = parse_policy(EXAMPLE).section("refund-sla")
    assert section.content_hash == hashlib.sha256(b"3.1 Refund timelines\nWithin 14 days.").hexdigest()
    edited = parse_policy(EXAMPLE.replace("Within 14 days.", "Within 10 days.")).section("refund-sla")
    assert edited.content_hash != section.content_hash


def test_section_lookup_raises_key_error_when_absent() -> None:
    policy = parse_policy(EXAMPLE)
    assert policy.section("delivery").body == "Delivery body."
    with pytest.raises(KeyError):
        policy.section("nope")


# --- title and preamble ------------------------------------------------------------------------


def test_only_h1_first_is_title_not_section() -> None:
    policy = parse_policy("# Title\n\n## A\n\n## B\n")
    assert policy.title == "Title"
    assert [s.id for s in policy.sections] == ["a", "b"]


def test_several_h1_are_all_sections_and_title_falls_back_to_stem() -> None:
    policy = parse_policy("# One\n\n## Sub\n\n# Two\n", "x/my-policy.md")
    assert policy.title == "my-policy"
    assert [(s.id, s.parent_id) for s in policy.sections] == [("one", None), ("one/sub", "one"), ("two", None)]


def test_single_h1_that_is_not_first_heading_is_a_section() -> None:
    policy = parse_policy("## Intro\n\n# Main\n")
    assert [s.id for s in policy.sections] == ["intro", "main"]


def test_front_matter_title_wins_but_h1_is_still_not_a_section() -> None:
    policy = parse_policy(with_front_matter("title: Official\n", "# Heading Title\n\n## Refunds\n"))
    assert policy.title == "Official"
    assert [s.id for s in policy.sections] == ["refunds"]


def test_title_is_plain_text() -> None:
    assert parse_policy("# The *Northwind* `Policy`\n\n## A\n").title == "The Northwind Policy"


def test_preamble_is_text_before_first_section_without_title() -> None:
    policy = parse_policy("<!-- note -->\n\n# Title\n\nFirst para.\n\nSecond para.\n\n## A\nbody\n")
    assert policy.preamble == "<!-- note -->\n\n\nFirst para.\n\nSecond para."
    assert parse_policy("## A\nbody\n").preamble == ""


# --- headings ----------------------------------------------------------------------------------


def test_headings_in_code_blocks_quotes_and_lists_are_body_text() -> None:
    text = "## Real\n\n```\n## not a heading\n```\n\n    # indented code\n\n> ## quoted\n\n- ## listed\n"
    policy = parse_policy(text)
    assert [s.id for s in policy.sections] == ["real"]
    assert "## not a heading" in policy.sections[0].body
    assert "> ## quoted" in policy.sections[0].body


def test_setext_headings() -> None:
    text = "Policy Title\n============\n\nIntro.\n\nRefunds\n-------\nMoney.\n\nDelivery {#ship}\n---\nFast.\n"
    policy = parse_policy(text)
    assert policy.title == "Policy Title"
    assert policy.preamble == "Intro."
    assert [(s.id, s.heading, s.level, s.line, s.body) for s in policy.sections] == [
        ("refunds", "Refunds", 2, 6, "Money."),
        ("ship", "Delivery", 2, 10, "Fast."),
    ]


def test_body_stops_at_next_heading_of_any_level_and_last_runs_to_end() -> None:
    policy = parse_policy("## A\n\n  a text  \n\n#### Deep\ndeep text\n## B\nb1\n\nb2\n\n\n")
    assert [(s.id, s.parent_id, s.body) for s in policy.sections] == [
        ("a", None, "a text"),
        ("a/deep", "a", "deep text"),
        ("b", None, "b1\n\nb2"),
    ]


def test_empty_body() -> None:
    assert parse_policy("## A\n## B\n").sections[0].body == ""


# --- ids ---------------------------------------------------------------------------------------


def test_explicit_id_is_used_as_is_and_removed_from_heading() -> None:
    policy = parse_policy("## Refunds\n### 3.1 Refund timelines {#refund-sla}\n#### Exceptions\n")
    sla = policy.section("refund-sla")
    assert sla.heading == "3.1 Refund timelines"
    assert sla.parent_id == "refunds"
    assert policy.sections[2].id == "refund-sla/exceptions"  # children build on the explicit id


def test_kramdown_style_explicit_id() -> None:
    policy = parse_policy("## The Pocket Service {: #service }\n")
    assert (policy.sections[0].id, policy.sections[0].heading) == ("service", "The Pocket Service")


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("3. Refunds and returns", "refunds-and-returns"),
        ("3.1 Refund timelines", "refund-timelines"),
        ("3.1. Refund timelines", "refund-timelines"),
        ("12) Delivery", "delivery"),
        ("A. Definitions", "definitions"),
        ("IV. Scope", "scope"),
        ("Section 3: Refunds", "refunds"),
        ("SECTION 12 - Complaints", "complaints"),
        ("Article IV. Warranty", "warranty"),
        ("§ 4 Privacy", "privacy"),
        ("24 hour support", "24-hour-support"),  # a number without punctuation is part of the text
        ("Part of the deal", "part-of-the-deal"),
        ("3.", "3"),  # nothing left after the numbering: keep it rather than have no id
        ("Crème brûlée & co.", "creme-brulee-co"),
        ("[Refunds](/refunds) and `returns`", "refunds-and-returns"),
    ],
)
def test_heading_slugs(heading: str, expected: str) -> None:
    assert parse_policy(f"## {heading}\n").sections[0].id == expected


def test_renumbering_sections_keeps_ids() -> None:
    before = parse_policy("## 3. Refunds\n### 3.1 Timelines\n## 4. Delivery\n")
    after = parse_policy("## 1. Welcome\n## 4. Refunds\n### 4.2 Timelines\n## B. Delivery\n")
    assert [s.id for s in before.sections] == ["refunds", "refunds/timelines", "delivery"]
    assert [s.id for s in after.sections] == ["welcome", "refunds", "refunds/timelines", "delivery"]


def test_same_heading_under_different_parents_is_fine() -> None:
    policy = parse_policy("## VPN\n### Eligibility\n## Relay\n### Eligibility\n")
    assert [s.id for s in policy.sections] == ["vpn", "vpn/eligibility", "relay", "relay/eligibility"]


def test_duplicate_ids_name_both_lines_and_suggest_explicit_id() -> None:
    error = error_for("# T\n\n## Refunds\ntext\n\n## 2. Refunds\n")
    assert (error.file, error.line, error.field) == ("policy.md", 6, "heading")
    assert "`refunds`" in error.message and "3" in error.message and "6" in error.message
    assert "{#refunds-2}" in error.hint


def test_duplicate_explicit_ids() -> None:
    error = error_for("## A {#x}\n## B {#x}\n")
    assert error.line == 2 and "lines 1 and 2" in error.message


def test_heading_without_slug_needs_explicit_id() -> None:
    error = error_for("## 退款\n")
    assert (error.line, error.field) == (1, "heading")
    assert "`## 退款 {#" in error.hint  # the example is the person's own heading
    assert parse_policy("## 退款 {#refunds}\n").sections[0].id == "refunds"


def test_slugify_examples() -> None:
    assert slugify("  --Hello,   World--  ") == "hello-world"
    assert slugify("Ünïcödé Ｆｕｌｌ") == "unicode-full"
    assert slugify("Mozilla’s") == slugify("GitHub's".replace("GitHub", "Mozilla")) == "mozilla-s"
    assert slugify("退款") == ""


# --- inherited settings ------------------------------------------------------------------------


INHERITANCE = """\
---
owner: doc-owner
approvers: [a, b, c]
sign_off: 2
review_interval_days: 365
sections:
  refunds:
    owner: refunds-owner
    keywords: [refund]
  refunds/timelines:
    approvers: [x]
    sign_off: all
  refunds/timelines/exceptions:
    review_interval_days: 30
    owner:
---
## Refunds
### Timelines
#### Exceptions
## Delivery
"""


def test_settings_inherit_from_nearest_override_then_document() -> None:
    policy = parse_policy(INHERITANCE)
    refunds, timelines, exceptions, delivery = policy.sections
    assert (refunds.owner, refunds.approvers, refunds.sign_off, refunds.review_interval_days) == (
        "refunds-owner",
        ("a", "b", "c"),
        SignOffRule("count", 2),
        365,
    )
    assert (timelines.owner, timelines.approvers, timelines.sign_off) == ("refunds-owner", ("x",), SignOffRule("all"))
    # An empty `owner:` means "not set here", so it still inherits.
    assert (exceptions.owner, exceptions.approvers, exceptions.review_interval_days) == ("refunds-owner", ("x",), 30)
    assert (delivery.owner, delivery.approvers, delivery.sign_off) == (
        "doc-owner",
        ("a", "b", "c"),
        SignOffRule("count", 2),
    )
    assert (policy.owner, policy.approvers, policy.sign_off, policy.review_interval_days) == (
        "doc-owner",
        ("a", "b", "c"),
        SignOffRule("count", 2),
        365,
    )


def test_keywords_do_not_inherit() -> None:
    policy = parse_policy(INHERITANCE)
    assert policy.section("refunds").keywords == ("refund",)
    assert policy.section("refunds/timelines").keywords == ()


def test_sign_off_rule_required() -> None:
    assert SignOffRule("all").required(3) == 3
    assert SignOffRule("count", 2).required(3) == 2
    with pytest.raises(ValueError):
        SignOffRule("count", 4).required(3)  # never quietly ask for fewer approvals than configured
    for bad in [("count", None), ("count", 0), ("all", 2), ("some", None)]:
        with pytest.raises(ValueError):
            SignOffRule(*bad)  # type: ignore[arg-type]


# --- validation errors -------------------------------------------------------------------------


def test_empty_file() -> None:
    for text in ["", "  \n\n", "\ufeff", "\r\n"]:
        error = error_for(text)
        assert error.file == "policy.md" and "empty" in error.message and "##" in error.hint


def test_no_sections() -> None:
    error = error_for("# Just a title\n\nSome text.\n")
    assert (error.file, error.line) == ("policy.md", 1)
    assert "no sections" in error.message and "## " in error.hint
    assert "not read as a policy" in error_for("plain text only\n").message  # a licence, notes: skipped by a sync
    assert "no sections" in error_for(with_front_matter("owner: x\n", "")).message


def test_yaml_syntax_error_points_at_file_line() -> None:
    error = error_for("---\nowner: x\napprovers: [a, b\nsign_off: all\n---\n## A\n")
    assert error.file == "policy.md" and error.field == "front matter"
    assert error.line == 4  # where the parser noticed; the message points back to where the list starts
    assert "YAML" in error.message and "starts on line 3" in error.message and "close brackets" in error.hint
    bad_indent = error_for("---\nowner: x\n  approvers: [a]\n---\n## A\n")
    assert bad_indent.line == 3


def test_front_matter_not_a_mapping() -> None:
    error = error_for("---\n- a\n- b\n---\n## A\n")
    assert (error.line, error.field) == (2, "front matter")
    assert "mapping" in error.message and "key: value" in error.hint


def test_unterminated_front_matter() -> None:
    error = error_for("---\nowner: x\n## A\n")
    assert (error.line, error.field) == (1, "front matter")
    assert "not terminated" in error.message and "---" in error.hint


def test_unknown_top_level_key_suggests_and_lists_allowed() -> None:
    error = error_for(with_front_matter("owner: x\napprover: [a]\n"))
    assert (error.file, error.line, error.field) == ("policy.md", 3, "approver")
    assert "unknown key" in error.message
    assert "did you mean `approver` -> `approvers`" in error.hint
    assert "review_interval_days" in error.hint and "sections" in error.hint


def test_keys_of_other_tools_are_ignored() -> None:
    # Docs sites and static-site generators put their own keys in front matter (GitHub's site policy does).
    policy = parse_policy(with_front_matter("title: T\nversions:\n  fpt: '*'\nredirect_from: [/tos]\n"), "policy.md")
    assert policy.title == "T"
    assert [s.id for s in policy.sections] == ["refunds", "refunds/timelines"]


def test_unknown_section_id_lists_ids_and_closest_match() -> None:
    error = error_for(with_front_matter("sections:\n  refund:\n    owner: x\n"))
    assert (error.line, error.field) == (3, "sections.refund")
    assert "`refund`" in error.message
    assert "did you mean `refunds`" in error.hint and "refunds/timelines" in error.hint


def test_unknown_section_id_suggests_longer_id() -> None:
    error = error_for(with_front_matter("sections:\n  refund:\n    owner: x\n", "## 3. Refunds and returns\n"))
    assert "did you mean `refunds-and-returns`" in error.hint


def test_unknown_section_id_suggests_full_path_for_leaf_slug() -> None:
    error = error_for(with_front_matter("sections:\n  timelines:\n    owner: x\n"))
    assert "did you mean `refunds/timelines`" in error.hint


def test_unknown_per_section_setting() -> None:
    error = error_for(with_front_matter("sections:\n  refunds:\n    keyword: [x]\n"))
    assert (error.line, error.field) == (4, "sections.refunds.keyword")
    assert "did you mean `keyword` -> `keywords`" in error.hint


def test_sections_must_be_a_mapping() -> None:
    error = error_for(with_front_matter("sections: [refunds]\n"))
    assert (error.line, error.field) == (2, "sections")
    error = error_for(with_front_matter("sections:\n  refunds: finance\n"))
    assert (error.line, error.field) == (3, "sections.refunds") and "mapping" in error.message


def test_repeated_approver() -> None:
    error = error_for(with_front_matter("approvers: [a, b, a]\n"))
    assert (error.line, error.field) == (2, "approvers") and "`a`" in error.message


@pytest.mark.parametrize(
    ("front", "field", "line"),
    [
        ("owner: d\u0430na.ellis\n", "owner", 2),  # a Cyrillic a: reads as dana.ellis
        ("approvers: [sam, d\u0430na.ellis]\n", "approvers", 2),
        ("sections:\n  refunds:\n    owner: d\u0430na.ellis\n", "sections.refunds.owner", 4),
    ],
)
def test_a_look_alike_owner_or_approver_is_refused(front: str, field: str, line: int) -> None:
    error = error_for(with_front_matter(front))
    assert (error.line, error.field) == (line, field)
    assert "'\u0430' (CYRILLIC SMALL LETTER A, U+0430)" in error.message and "ASCII" in (error.hint or "")


@pytest.mark.parametrize(
    ("front", "field", "line", "hint_part"),
    [
        ("approvers: alice\n", "approvers", 2, "[compliance-lead, finance-lead]"),
        ("approvers: [alice, 3]\n", "approvers", 2, "approvers: ["),
        ("sign_off: some\n", "sign_off", 2, "sign_off: all"),
        ("sign_off: 0\n", "sign_off", 2, "sign_off: 2"),
        ("sign_off: true\n", "sign_off", 2, "sign_off: all"),
        ("review_interval_days: 0\n", "review_interval_days", 2, "365"),
        ("review_interval_days: '365'\n", "review_interval_days", 2, "365"),
        ("review_interval_days: 1.5\n", "review_interval_days", 2, "365"),
        ("owner: [a, b]\n", "owner", 2, "owner: "),
        ("title: 3\n", "title", 2, "title: "),
        ("owner: x\nsections:\n  refunds:\n    keywords: refund\n", "sections.refunds.keywords", 5, "keywords: ["),
        ("sections:\n  refunds:\n    sign_off: -1\n", "sections.refunds.sign_off", 4, "sign_off"),
    ],
)
def test_wrong_types(front: str, field: str, line: int, hint_part: str) -> None:
    error = error_for(with_front_matter(front))
    assert (error.file, error.line, error.field) == ("policy.md", line, field)
    assert hint_part in error.hint


def test_sign_off_larger_than_approvers_at_document_level() -> None:
    error = error_for(with_front_matter("approvers: [a, b]\nsign_off: 3\n"))
    assert (error.line, error.field) == (3, "sign_off")
    assert "3 approvals" in error.message and "2 approver" in error.message
    assert "at most 2" in error.hint
    # every section inherits the rule, and the mistake is said once, not once for the document and once more
    assert error.more == () and str(error).count("3 approvals") == 1


def test_sign_off_larger_than_inherited_approvers_in_section() -> None:
    front = "approvers: [a, b]\nsign_off: 2\nsections:\n  refunds/timelines:\n    approvers: [x]\n"
    error = error_for(with_front_matter(front))
    assert (error.line, error.field) == (3, "sign_off")
    assert "sections.refunds/timelines.approvers" in error.message and "at most 1" in error.hint


def test_error_string_shows_where_and_hint() -> None:
    text = str(error_for(with_front_matter("approver: [a]\n"), "policies/cs.md"))
    assert text.startswith("policies/cs.md:2: approver: unknown key")
    assert "\n  hint: did you mean `approver` -> `approvers`" in text


# --- load_policy -------------------------------------------------------------------------------


def test_load_policy_reads_utf8(tmp_path: Path) -> None:
    path = tmp_path / "Customer Service.md"
    path.write_bytes(("\ufeff" + EXAMPLE.replace("id: customer-service-policy\n", "")).encode())
    policy = load_policy(path)
    assert policy.id == "customer-service"
    assert policy.path == str(path)
    assert len(policy.sections) == 3


def test_load_policy_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.md"
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert caught.value.file == str(path) and "cannot read" in caught.value.message
    assert caught.value.hint


def test_load_policy_undecodable(tmp_path: Path) -> None:
    path = tmp_path / "latin1.md"
    path.write_bytes("## A\n\nCafé\n".encode("latin-1"))
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert (caught.value.file, caught.value.line) == (str(path), 3)
    assert "UTF-8" in caught.value.message and "UTF-8" in caught.value.hint


def test_errors_from_load_policy_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "p.md"
    path.write_text("---\nownr: x\n---\n## A\n", encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert (caught.value.file, caught.value.line) == (str(path), 2)


# --- properties --------------------------------------------------------------------------------


@given(st.text())
def test_slugify_is_idempotent_and_clean(text: str) -> None:
    slug = slugify(text)
    assert slugify(slug) == slug
    assert re.fullmatch(r"[a-z0-9-]*", slug)
    assert not slug.startswith("-") and not slug.endswith("-") and "--" not in slug


# Lower-case letters and harmless punctuation only: no digits or capitals (which could read as
# numbering) and no Markdown syntax, so each heading's slug is predictable from its text.
HEADING_TEXT = (
    st.text("abcdefghijklmnopqrstuvwxyzéüñçø -'!?&,", min_size=1, max_size=25)
    .map(str.strip)
    .filter(lambda text: text[:1].isalpha() and bool(slugify(text)))
)
HEADING = st.tuples(st.integers(1, 6), HEADING_TEXT, st.booleans(), st.sampled_from(["", "Some body text."]))


@given(st.lists(HEADING, min_size=1, max_size=12, unique_by=lambda h: slugify(h[1])), st.booleans())
def test_random_headings_become_sections(headings: list[tuple[int, str, bool, str]], front: bool) -> None:
    parts = ["---\nowner: someone\n---\n"] if front else []
    for level, text, setext, body in headings:
        heading = f"{text}\n{'=-'[level - 1] * 3}" if setext and level <= 2 else f"{'#' * level} {text}"
        parts.append(f"\n{heading}\n\n{body}\n")
    source = "".join(parts)
    levels = [level for level, *_ in headings]
    titled = levels[0] == 1 and levels.count(1) == 1
    expected = len(headings) - titled
    if expected == 0:
        with pytest.raises(PolicyError):
            parse_policy(source)
        return
    policy = parse_policy(source)
    assert len(policy.sections) == expected
    # Runs of whitespace inside a heading collapse to one space, as Markdown renders them.
    assert [s.heading for s in policy.sections] == [" ".join(text.split()) for _, text, *_ in headings[titled:]]
    assert len({s.id for s in policy.sections}) == expected
    lines = source.split("\n")
    for section in policy.sections:
        assert section.heading in " ".join(lines[section.line - 1].split())
    assert parse_policy(source.replace("\n", "\r\n")).sections == policy.sections


# --- last_reviewed -----------------------------------------------------------------------------


REVIEWED = """\
---
last_reviewed: 2025-11-20
sections:
  refunds:
    last_reviewed: 2026-03-01
  refunds/timelines/exceptions:
    last_reviewed: "2026-01-15"
---
## Refunds
### Timelines
#### Exceptions
## Delivery
"""


def test_last_reviewed_inherits_from_nearest_override_then_document() -> None:
    policy = parse_policy(REVIEWED)
    assert policy.last_reviewed == date(2025, 11, 20)
    assert [(s.id, s.last_reviewed) for s in policy.sections] == [
        ("refunds", date(2026, 3, 1)),
        ("refunds/timelines", date(2026, 3, 1)),
        ("refunds/timelines/exceptions", date(2026, 1, 15)),  # a quoted ISO string works too
        ("delivery", date(2025, 11, 20)),
    ]


def test_last_reviewed_is_optional() -> None:
    policy = parse_policy(EXAMPLE)
    assert policy.last_reviewed is None
    assert all(section.last_reviewed is None for section in policy.sections)
    # An empty value means "not set here", so the section still inherits the document's date.
    empty = parse_policy(with_front_matter("last_reviewed: 2026-03-01\nsections:\n  refunds:\n    last_reviewed:\n"))
    assert empty.section("refunds").last_reviewed == date(2026, 3, 1)


@pytest.mark.parametrize(
    "value", ["../../evil", "a/b", "..", ".hidden", "a\\\\b", '"tab\\there"', "'" + "x" * 201 + "'"]
)
def test_a_document_id_that_cannot_name_a_file_is_refused(value: str) -> None:
    # the id names the published files (publish/ID-v2.md): a path in it would write outside the publish folder
    error = error_for(with_front_matter(f"id: {value}\n"))
    assert error.field == "id" and error.line == 2 and "id" in str(error)


def test_front_matter_nested_too_deeply_is_a_policy_error() -> None:
    error = error_for(with_front_matter("sections: " + "[" * 100_000 + "]" * 100_000 + "\n"))
    assert "too deeply" in str(error) and error.line == 2


def test_a_document_id_may_hold_spaces_dots_and_letters_of_any_script() -> None:
    assert parse_policy(with_front_matter("id: HR policy v1.2 (Zürich)\n")).id == "HR policy v1.2 (Zürich)"


@pytest.mark.parametrize(
    ("value", "message_part"),
    [
        ("2026-02-30", "not a real date"),  # looks like a YAML date, but February has no 30th
        ("'2026-13-01'", "not a real date"),
        ("yesterday", "YYYY-MM-DD"),
        ("20260301", "YYYY-MM-DD"),
        ("'2026-3-1'", "YYYY-MM-DD"),
        ("2026-03-01 10:00:00", "2026-03-01 10:00:00"),  # a timestamp, not a day
        ("[2026-03-01]", "YYYY-MM-DD"),
        ("true", "YYYY-MM-DD"),
        # version 1 takes effect and the review clocks start on it: stored for good, so a typo is refused here
        ("9999-12-31", "in the future"),
        ("'9999-12-31'", "in the future"),
        ("0001-01-01", "before 1900"),
    ],
)
def test_bad_last_reviewed(value: str, message_part: str) -> None:
    error = error_for(with_front_matter(f"owner: x\nlast_reviewed: {value}\n"))
    assert (error.file, error.line, error.field) == ("policy.md", 3, "last_reviewed")
    assert message_part in error.message
    assert "last_reviewed: 2026-03-01" in error.hint


def test_last_reviewed_may_be_today_but_not_the_day_after_tomorrow() -> None:
    today = datetime.now(UTC).date()
    assert parse_policy(with_front_matter(f"last_reviewed: {today}\n")).last_reviewed == today
    error = error_for(with_front_matter(f"last_reviewed: {today + timedelta(days=2)}\n"))
    assert "in the future" in error.message


def test_bad_last_reviewed_in_section_override() -> None:
    error = error_for(with_front_matter("sections:\n  refunds/timelines:\n    last_reviewed: 2026-04-31\n"))
    assert (error.line, error.field) == (4, "sections.refunds/timelines.last_reviewed")
    assert "not a real date" in error.message and "last_reviewed: 2026-03-01" in error.hint


def test_impossible_date_in_another_tools_key_is_ignored() -> None:
    # Used to crash inside PyYAML with a bare ValueError.
    policy = parse_policy(with_front_matter("date: 2026-02-30\nowner: x\n"))
    assert policy.owner == "x"


def test_markdown_is_the_document_without_front_matter() -> None:
    policy = parse_policy(EXAMPLE)
    assert policy.body_line == 16
    assert policy.markdown == EXAMPLE.split("---\n", 2)[2]
    assert parse_policy("## A\ntext\n").markdown == "## A\ntext\n"


@pytest.mark.parametrize("written", ["{#}", "{# }", "{#-x}", "{#a b}", "{: #}"])
def test_an_explicit_id_that_is_not_one_is_an_error_not_part_of_the_heading(written: str) -> None:
    # `## Delivery {#}` was read as the heading "Delivery {#}", which then showed in every ticket title
    error = error_for(f"## Refunds\ntext\n\n## Delivery {written}\n")
    assert (error.line, error.field) == (4, "heading")
    assert written in error.message and "{#delivery}" in error.hint


def test_mistakes_in_different_parts_of_a_file_are_reported_together() -> None:
    # one mistake a sync made a new admin fix a file six times over
    text = (
        "---\nowner: [a, b]\nreview_interval_days: soon\n---\n"  # lines 2-3: two front matter mistakes
        "## Refunds\ntext\n## Delivery {#}\nmore\n"  # line 7: not an id
    )
    error = error_for(text)
    assert error.line == 2  # the first, as before
    shown = str(error)
    assert "policy.md:3" in shown and "review_interval_days" in shown
    assert "policy.md:7" in shown and "{#}" in shown
