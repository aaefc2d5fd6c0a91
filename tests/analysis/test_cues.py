"""Rule cues: feedback about rules, promises or what someone was told, whatever its case."""

from __future__ import annotations

import pytest

from reviewbot.analysis.cues import cites_rules


@pytest.mark.parametrize(
    "text",
    ["Your POLICY says 30 days", "They Told me a refund takes 5 working days", "the WEBSITE SAYS free returns"],
)
def test_rule_cues_are_found_in_any_case(text: str) -> None:
    assert cites_rules(text)


@pytest.mark.parametrize("text", ["The lamp arrived broken", "POLICE came to the door", "Termsheet attached"])
def test_product_complaints_and_lookalike_words_are_not_rule_cues(text: str) -> None:
    assert not cites_rules(text)
