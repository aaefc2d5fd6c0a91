"""Matching themes to sections: the right section wins, close runners-up are kept, nothing fits is a gap."""

from __future__ import annotations

from reviewbot.analysis.cues import cites_rules
from reviewbot.analysis.mapping import SectionIndex, SectionText
from reviewbot.analysis.vectorize import CorpusStats, terms, weigh

SECTIONS = [
    SectionText("p", "refunds", "Refunds", "Refunds are paid within 5 business days to the original payment method."),
    SectionText(
        "p", "returns", "Returns", "Items can be returned within 30 days for a refund.", keywords=("send back",)
    ),
    SectionText(
        "p", "delivery", "Delivery", "Parcels arrive within 3 days; lost parcels are investigated by the carrier."
    ),
    SectionText(
        "p", "privacy", "Data privacy", "We never ask for card numbers; deletion requests are answered in 30 days."
    ),
]


def centroid(*texts: str) -> dict[str, float]:
    stats = CorpusStats()
    docs = [terms(t) for t in texts]
    stats.add(docs)
    total: dict[str, float] = {}
    for doc in docs:
        for term, weight in weigh(doc, stats).items():
            total[term] = total.get(term, 0.0) + weight
    norm = sum(w * w for w in total.values()) ** 0.5
    return {t: w / norm for t, w in total.items()}


def match(*texts: str, also_within: float = 0.8) -> list[tuple[str, float]]:
    index = SectionIndex(SECTIONS)
    matches = index.match(centroid(*texts), min_confidence=0.08, also_within=also_within, max_sections=2)
    return [(m.section_id, m.confidence) for m in matches]


def test_theme_maps_to_the_section_it_concerns() -> None:
    assert match("my refund is late", "still no refund after weeks")[0][0] == "refunds"
    assert match("courier lost my parcel", "lost parcel claim ignored")[0][0] == "delivery"
    assert match("agent asked for my full card number")[0][0] == "privacy"


def test_keywords_from_front_matter_count() -> None:
    assert match("how do I send back the lamp")[0][0] == "returns"


def test_a_close_runner_up_is_cited_too() -> None:
    texts = ("returned it within 30 days but the refund never came", "refund for my return")
    assert [s for s, _ in match(*texts)] == ["returns"]
    both = match(*texts, also_within=0.45)
    assert [s for s, _ in both] == ["returns", "refunds"] and both[0][1] > both[1][1]


def test_nothing_close_is_a_gap_against_the_document() -> None:
    [gap] = SectionIndex(SECTIONS).match(
        centroid("price dropped a week later", "competitor was cheaper, price match?"),
        min_confidence=0.08,
        also_within=0.8,
        max_sections=2,
    )
    assert gap.is_gap and gap.document_id == "p" and gap.confidence < 0.08


def test_rule_cues() -> None:
    assert cites_rules("I was told you price match, now the agent says no")
    assert cites_rules("Your website says refunds within 5 business days")
    assert cites_rules("3rd price match ask this wk, do we have a rule or not??")
    assert not cites_rules("The cushions are flatter than in the photos")
    assert not cites_rules("Lovely sofa, quick delivery")
