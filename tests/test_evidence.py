"""When a ticket's new evidence is worth a comment on the tracker, and what the comment says."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import pytest
from rich.console import Console
from rich.markdown import Markdown

from reviewbot.evidence import Quote, build_evidence, evidence_change, headline, render_markdown, worth_announcing
from reviewbot.models import PolicyDocument, PolicySection, Theme

DOCUMENT = PolicyDocument(id="returns", title="Returns", path="returns.md", published_version=3)
REFUNDS = "We refund within 5 business days."


def evidence(
    *,
    size: int = 100,
    negative: float = 0.6,
    nps: float | None = -20.0,
    impact: float = 5.0,
    spike_p: float | None = None,
    section_text: str = REFUNDS,
    quotes: tuple[Quote, ...] = (),
) -> dict[str, Any]:
    theme = Theme(
        id=7,
        label="refund late",
        terms=["refund", "late"],
        size=size,
        unique_size=size,
        negative_share=negative,
        concern_share=0.9,
        nps=nps,
        impact=impact,
        spike_p=spike_p,
        first_seen=datetime(2026, 9, 1),
        last_seen=datetime(2026, 10, 1),
        by_kind={"complaint": size},
        weekly={"2026-W40": size},
    )
    section = PolicySection(document_id="returns", section_id="refunds", heading="Refunds", body=section_text)
    return build_evidence(theme, DOCUMENT, section, 0.4, "why", list(quotes), {"responses": 10}, {"responses": 0}, 4)


TOLD = headline(evidence())


@pytest.mark.parametrize(
    ("change", "worth"),
    [
        (dict(size=109), False),  # 9% more: refreshed quietly
        (dict(size=110), True),  # 10% more
        (dict(negative=0.63), False),
        (dict(negative=0.66), True),  # 6 points more negative
        (dict(nps=-22.0), False),
        (dict(nps=-30.0), True),
        (dict(nps=None), True),  # the survey answers left the theme
        (dict(impact=9.0), True),  # medium -> high priority
        (dict(spike_p=0.0001), True),  # a spike began
        (dict(section_text="We refund within 10 business days."), True),
    ],
)
def test_only_a_material_change_is_worth_a_comment(change: dict[str, Any], worth: bool) -> None:
    assert worth_announcing(TOLD, headline(evidence(**change)), min_growth=0.1) is worth


def test_the_comment_counts_from_what_was_last_told() -> None:
    note = evidence_change(TOLD, headline(evidence(size=130, negative=0.7, impact=9.0)))
    assert note == "+30 items (now 130); negative share 60% -> 70%; priority medium -> high"


def test_a_quote_reads_as_the_customer_wrote_it_not_as_markup() -> None:
    # the ticket body is Markdown: a customer's text is shown literally, all of it, inside its quote
    text = "<!here> <b>URGENT</b> *still* no refund for [order 123](http://x.test)\n\n# second paragraph"
    quote = Quote(text, "chat<1>", "a_b*", "complaint", datetime(2026, 9, 2))
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(Markdown(render_markdown("RB-1", evidence(quotes=(quote,)))))
    shown = console.export_text()
    assert "<!here> <b>URGENT</b> *still* no refund for [order 123](http://x.test)" in shown
    assert "# second paragraph" in shown
    assert "chat<1>/a_b*" in shown
