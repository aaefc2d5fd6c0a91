"""Block Kit as reviewbot builds it: within Slack's documented limits (checked by slack_sdk's own models, which
encode them), escaped for mrkdwn, and saying "and N more" instead of leaving things out."""

from __future__ import annotations

import json
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from reviewbot.connectors.slack.mrkdwn import chunks, clip_escaped, escape
from reviewbot.connectors.slack.views import (
    MAX_MESSAGE_BLOCKS,
    MAX_OPTIONS,
    MAX_VIEW_BLOCKS,
    NOT_POLICY,
    NOT_SURE,
    HomeData,
    Shown,
    chosen,
    fallback_text,
    home_view,
    message_blocks,
    move_picker,
    not_sure_option,
    section_options,
    suggest_modal,
)
from tests.standins.slack_api import shown_text

IMPACT = "Refund complaints fell from 41 to 12 a week (p < 0.001); <script> & <@U0ALL> stay text > all"


def valid_blocks(blocks: list[dict[str, Any]]) -> None:
    """Each block passes slack_sdk's validation (SlackObjectFormationError otherwise)."""
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None, block
        parsed.validate_json()


def sections(count: int, documents: int = 1) -> list[tuple[str, str, str]]:
    per = count // documents
    return [
        (f"doc{d}#s{i}", f"{i}. Section {i} of document {d}", f"Document {d}")
        for d in range(documents)
        for i in range(per)
    ]


def all_options(select: dict[str, Any]) -> list[dict[str, Any]]:
    return select.get("options") or [o for g in select["option_groups"] for o in g["options"]]


def test_mrkdwn_control_characters_read_as_written() -> None:
    assert escape("p < 0.001 & q > 1") == "p &lt; 0.001 &amp; q &gt; 1"
    [block] = message_blocks("Impact", IMPACT)
    assert shown_text(block["text"]["text"]) == f"*Impact*\n{IMPACT}"
    assert shown_text(fallback_text("Impact", IMPACT)) == f"Impact\n{IMPACT}"
    # without escaping Slack would read "<script>" and "<@U0ALL>" as markup: the test can tell the difference
    assert shown_text(IMPACT) != IMPACT


def test_shortening_never_cuts_an_entity_in_half() -> None:
    text = clip_escaped("a" * 8 + "<<<<", 12)
    assert text.endswith("…") and "&" not in text.replace("&lt;", "")
    assert all(len(t) <= 20 for t in chunks(["&" * 30], 20))
    assert shown_text("".join(chunks(["&" * 30], 20))) == "&" * 30


def test_a_long_body_is_split_between_lines_and_nothing_is_lost() -> None:
    lines = [f"- new: PRB-{i} refunds & returns < 5 days, line {i}" for i in range(400)]
    blocks = message_blocks("400 new review tickets", "\n".join(lines))
    valid_blocks(blocks)
    assert len(blocks) <= MAX_MESSAGE_BLOCKS and all(len(b["text"]["text"]) <= 3000 for b in blocks)
    shown = "\n".join(shown_text(b["text"]["text"]) for b in blocks)
    assert shown == "*400 new review tickets*\n" + "\n".join(lines)


def test_a_body_over_fifty_blocks_ends_with_how_much_more_there_is() -> None:
    lines = [f"{i:05d} " + "x" * 290 for i in range(600)]  # ~10 lines per section: 60 sections
    blocks = message_blocks("Digest", "\n".join(lines), more_hint="See `reviewbot tickets list`.")
    valid_blocks(blocks)
    assert len(blocks) == MAX_MESSAGE_BLOCKS
    shown_lines = sum(b["text"]["text"].count("\n") + 1 for b in blocks[:-1]) - 1  # less the title
    note = blocks[-1]["elements"][0]["text"]
    assert note == f"…and {600 - shown_lines} more lines not shown here. See `reviewbot tickets list`."


def test_digest_pickers_beyond_the_block_limit_are_counted() -> None:
    pickers = [move_picker(f"PRB-{i}", sections(4, 2)) for i in range(70)]
    blocks = message_blocks("70 new review tickets", "- new: PRB-1 a", pickers)
    valid_blocks(blocks)
    assert len(blocks) == MAX_MESSAGE_BLOCKS
    assert blocks[-1]["elements"][0]["text"] == "…and 22 more pickers not shown here."


def test_section_picker_names_documents_and_keeps_every_section() -> None:
    modal = suggest_modal(sections(40, 2), metadata={}, max_chars=3000)
    View(**modal).validate_json()
    select = modal["blocks"][1]["element"]
    assert select["type"] == "static_select"
    labels = [g["label"]["text"] for g in select["option_groups"]]
    assert labels == ["Not sure", "Document 0", "Document 1"]
    assert len(all_options(select)) == 41 and select["initial_option"] == not_sure_option()


def test_more_sections_than_a_static_select_holds_become_a_searchable_picker() -> None:
    choices = sections(250, 2)
    modal = suggest_modal(choices, metadata={}, max_chars=3000)
    View(**modal).validate_json()
    select = modal["blocks"][1]["element"]
    assert select["type"] == "external_select" and select["min_query_length"] == 0
    everything = section_options(choices, "", extra=not_sure_option(), extra_label="Not sure")
    assert len(all_options(everything)) == MAX_OPTIONS
    assert [g["label"]["text"] for g in everything["option_groups"]] == [
        "Not sure",
        "Document 0 (99 of 125: type to narrow)",
    ]
    narrowed = section_options(choices, "section 12", extra=None, extra_label="")
    assert [g["label"]["text"] for g in narrowed["option_groups"]] == ["Document 0", "Document 1"]
    assert [o["text"]["text"] for o in narrowed["option_groups"][1]["options"]] == [
        f"{i}. Section {i} of document 1" for i in range(125) if "12" in str(i)
    ]


def test_the_move_picker_holds_not_a_policy_matter_last() -> None:
    picker = move_picker("PRB-7", sections(3))
    valid_blocks([picker])
    values = [o["value"] for o in picker["elements"][0]["options"]]
    assert values == ["doc0#s0", "doc0#s1", "doc0#s2", NOT_POLICY]


def test_long_headings_and_section_ids_fit_and_come_back() -> None:
    long_id = "returns-and-exchanges-policy-for-marketplace-sellers#" + "s" * 120
    choices = [(long_id, "A heading far longer than the seventy-five characters an option may show in Slack", "R")]
    picker = move_picker("PRB-1", choices)
    valid_blocks([picker])
    [option, _] = picker["elements"][0]["options"]
    assert len(option["text"]["text"]) == 75 and option["text"]["text"].endswith("…")
    assert len(option["value"]) <= 150 and chosen(option["value"], choices) == long_id
    assert chosen(option["value"], []) is None and chosen(NOT_SURE, choices) == NOT_SURE


@pytest.mark.parametrize(("pending", "acks"), [(60, 5), (3, 45), (0, 0)])
def test_app_home_keeps_every_part_within_one_hundred_blocks(pending: int, acks: int) -> None:
    data = HomeData(
        pending=[(Shown(f"PRB-{i}", "doc#s", "ab" * 32), f"Refunds < {i} days & more") for i in range(pending)],
        suggestions=[("2026-12-01", "p < 0.001", "received")] * 12,
        to_acknowledge=[(f"doc-{i}", 2, f"Policy {i}") for i in range(acks)],
    )
    view = home_view(data)
    View(**view).validate_json()
    assert len(view["blocks"]) <= MAX_VIEW_BLOCKS
    text = json.dumps(view, ensure_ascii=False)
    assert text.count('"policy_ack"') == min(acks, 20)  # the acknowledgements are never pushed out
    assert text.count('"signoff_approve"') == min(pending, 20)
    if pending > 20:
        assert f"…and {pending - 20} more waiting for you" in text
    if acks > 20:
        assert f"…and {acks - 20} more" in text
    assert "…and 2 older suggestions" in text and "p &lt; 0.001" in text
