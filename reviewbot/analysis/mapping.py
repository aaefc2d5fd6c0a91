"""Match themes to the policy sections they concern, with a confidence; no good match is a coverage gap."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reviewbot.analysis.vectorize import CorpusStats, terms, weigh

# Headings and keywords say what a section is about more densely than its prose does.
HEADING_WEIGHT = 3
KEYWORD_WEIGHT = 3


@dataclass(frozen=True)
class SectionText:
    """A section as the matcher sees it."""

    document_id: str
    section_id: str
    heading: str
    body: str
    keywords: tuple[str, ...] = ()
    parent_heading: str | None = None


@dataclass(frozen=True)
class SectionMatch:
    """A theme's match: a section, or (section_id "") a gap against the whole document."""

    document_id: str
    section_id: str
    confidence: float

    @property
    def is_gap(self) -> bool:
        """True when no section covers the theme."""
        return self.section_id == ""


class SectionIndex:
    """TF-IDF vectors of the sections, weighted against each other so shared boilerplate counts little."""

    def __init__(self, sections: Sequence[SectionText]) -> None:
        self.sections = list(sections)
        docs = [self._terms(s) for s in self.sections]
        stats = CorpusStats()
        stats.add(docs)
        self.vectors = [weigh(d, stats) for d in docs]

    @staticmethod
    def _terms(section: SectionText) -> list[str]:
        heading = section.heading if not section.parent_heading else f"{section.parent_heading} {section.heading}"
        return (
            terms(heading) * HEADING_WEIGHT
            + terms(section.body)
            + [t for k in section.keywords for t in terms(k)] * KEYWORD_WEIGHT
        )

    def scores(self, centroid: Mapping[str, float]) -> list[float]:
        """Cosine similarity of a theme centroid to every section."""
        return [sum(w * vector.get(t, 0.0) for t, w in centroid.items()) for vector in self.vectors]

    def match(
        self, centroid: Mapping[str, float], *, min_confidence: float, also_within: float, max_sections: int
    ) -> list[SectionMatch]:
        """The best section, plus close runners-up; or a gap against the best document when none is good."""
        if not self.sections:
            return []
        scored = sorted(zip(self.scores(centroid), range(len(self.sections)), strict=True), key=lambda p: (-p[0], p[1]))
        best_score, best = scored[0]
        if best_score < min_confidence:
            return [SectionMatch(self.sections[best].document_id, "", round(best_score, 4))]
        picked = [
            SectionMatch(self.sections[i].document_id, self.sections[i].section_id, round(score, 4))
            for score, i in scored[:max_sections]
            if score >= min_confidence and score >= also_within * best_score
        ]
        return picked
