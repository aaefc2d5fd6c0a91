"""Match themes to the policy sections they concern, with a confidence; no good match is a coverage gap.

A theme's members vote. Each compares its words with every section's (heading, text and front-matter keywords)
and spreads one vote over the sections it resembles, most on the closest. Words are weighed against the
workspace's own feedback (a word every complaint uses says little) and against the other sections (a word every
section uses says little about which one). The theme goes to the section with most of the vote, or to a
subsection of it nearly as voted (the most specific section that fits); a theme whose vote is split between sibling
sections goes to their parent, once. A theme whose words fit no section well enough is a coverage gap, unless its
members' vote is as sure as the workspace's other themes' typically are (`typical_sureness`). When a sync
reads many items, they first teach a model of the workspace's own words, seeded by the policy's (`bootstrap`), and
each member's vote is that model's: so "car" counts for the section that says "vehicle".

Owners' corrections (a ticket moved to another section, or marked as no policy matter) teach by example: a theme
like a corrected one goes where the owner put that one, the more surely the more alike they are; and the moved
themes' items teach a linear model over all the workspace's words, which votes for every item (`taught`; a sync
mixes its votes with each theme's counted ones: `mixed_vote`, workflows/mapping.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csr_matrix, diags
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize

from reviewbot.analysis.bootstrap import LENGTH, ROUNDS, SAMPLE, SeededBayes
from reviewbot.analysis.cluster import take
from reviewbot.analysis.vectorize import CorpusStats, terms, to_matrix, weigh_many

# Headings and keywords say what a section is about more densely than its prose does.
HEADING_WEIGHT = 3
KEYWORD_WEIGHT = 3
# How widely a member spreads its vote: a section whose cosine similarity to it is this much lower than its best
# one's gets 1/e of that one's share. So a member that barely resembles any section spreads its vote thinly, and
# one that clearly resembles one section gives it most of its vote.
VOTE_SPREAD = 0.05
# A theme whose centroid is this close to a corrected theme's is the same issue (a part split off it, a cluster
# of new items about it) and follows the correction, fully from LIKE_FULLY. Measured with a simulated owner on the
# CFPB and airline sets (bench/mapping.py --simulate-owner): letting corrections teach their items' words to the
# sections, or pull themes merely alike (from 0.5, where the themes stage takes a new cluster for an existing
# theme), moved more rightly mapped themes than wrong ones, because the themes owners correct mix issues.
LIKE = 0.75
LIKE_FULLY = 0.9
# Two sections a theme's vote is split between are both what it concerns only if together they hold this share of
# the vote; a vote spread thinly over many sections says little about any two of them.
SPAN = 0.5
# Owners' corrections teach a model: a linear model over all the words of the workspace's items learns from the
# items of the themes owners moved (labelled where they put them) and from the members that vote most surely for a
# section (this share of each section's voters), then votes for every member (`taught`); a theme's vote as counted
# weighs as far as its members' own words are sure (their mean largest share), the model's for the rest
# (workflows/mapping.py). So a correction reaches like themes written in other words ("truck" and "title" where the
# policy says "vehicle"). Without corrections the members' own votes stand:
# taught by the sure voters alone, the model helped the dev set (0.229 -> 0.253) but cost the airline set and a
# planted demo issue (bench/README.md, "Mapping").
TEACH_SHARE = 0.3
# Fewer sure voters than this teach no model: the members' own votes stand. Counted without the owners' examples,
# so a small sync's few items are not all drawn to the sections owners moved tickets to.
MIN_TAUGHT = 30
CORRECTED_WEIGHT = 3.0  # an item of a theme an owner moved teaches as much as this many sure voters
MAX_TAUGHT = 10_000  # sure voters a model learns from at most (a sample beyond): most of a correction's cost at 100k
# A theme whose words fit no section still goes where owners put like themes when the model they taught gives
# that section this share of its vote.
TAUGHT_SURE = 0.5
# A sync reading many items lets them teach a model of the workspace's own words, seeded by the policy's
# (`bootstrap`), and each member's vote is that model's (the owners' corrections' model mixes with it: `taught`).
# Measured over three row orders of each labelled set (bench/README.md, "Mapping"): item accuracy dev 0.210 -> 0.239,
# airline 0.333 -> 0.371, demo 8 of 8 (522 items: no model); after 10 simulated corrections, airline 0.448 -> 0.509 on
# the themes nobody corrected. Fewer items teach it worse than their own words vote: fitted on 1,000 of the dev
# set's items, -0.02; on 2,000, +0.02.
MIN_LEARNED = 2_000
MIN_SEEDS = 10  # sure voters a section needs to be one of the model's classes
NOT_POLICY = "(not a policy matter)"  # the target of corrections saying a theme needs no policy review


@dataclass(frozen=True)
class SectionText:
    """A section as the matcher sees it."""

    document_id: str
    section_id: str
    heading: str
    body: str
    keywords: tuple[str, ...] = ()
    parent_heading: str | None = None
    parent_id: str | None = None


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


@dataclass(frozen=True)
class Correction:
    """An owner's correction: the centroid of the theme they moved, and where they put it (`section_id` None: not
    a policy matter, so no ticket)."""

    key: int
    document_id: str
    section_id: str | None
    centroid: Mapping[str, float]
    label: str = ""  # how `explain` names it, e.g. "RB-5, moved by dana.ellis"


@dataclass(frozen=True)
class SectionScore:
    """How one section fared for a theme: its share of the vote and how well its words fit the theme's."""

    document_id: str
    section_id: str
    share: float
    fit: float


@dataclass
class Explanation:
    """Why a theme went where it went."""

    matches: list[SectionMatch]
    scores: list[SectionScore]  # most voted first
    reason: str
    not_policy: bool = False
    corrections: list[tuple[str, float]] = field(default_factory=list)  # (label, similarity) of those that weighed
    taught: bool = False  # the vote is the model's that owners' corrections taught (see `taught`)
    learned: bool = False  # the vote is the model's that the workspace's own items taught (see `bootstrap`)
    # the vote of the members' own words alone, most voted first, when the vote above is the model's
    words_alone: list[SectionScore] = field(default_factory=list)


@dataclass(frozen=True)
class MatchRules:
    """Thresholds of a match (see MappingSettings in reviewbot.settings)."""

    min_confidence: float = 0.08
    also_within: float = 0.8
    max_sections: int = 2


def section_terms(section: SectionText) -> list[str]:
    """The terms a section is known by: heading (with its parent's) and keywords weigh more than prose."""
    heading = section.heading if not section.parent_heading else f"{section.parent_heading} {section.heading}"
    return (
        terms(heading) * HEADING_WEIGHT
        + terms(section.body)
        + [t for k in section.keywords for t in terms(k)] * KEYWORD_WEIGHT
    )


class SectionMapper:
    """Maps themes to sections by their members' votes, and like corrected themes where owners put those."""

    def __init__(
        self, sections: Sequence[SectionText], stats: CorpusStats | None = None, corrections: Sequence[Correction] = ()
    ) -> None:
        self.sections = list(sections)
        self.targets = [(s.document_id, s.section_id) for s in self.sections]
        known = set(self.targets)
        # a correction towards a section that no longer exists is inert, not an error
        self.corrections = [c for c in corrections if c.section_id is None or (c.document_id, c.section_id) in known]
        self._corrected_targets = {_target_of(c) for c in self.corrections}
        if any(c.section_id is None for c in self.corrections):
            self.targets.append(("", NOT_POLICY))
        self._index = {target: i for i, target in enumerate(self.targets)}
        self._parent = [self._index.get((s.document_id, s.parent_id or "")) for s in self.sections]
        self._parent += [None] * (len(self.targets) - len(self.sections))
        self._children: dict[int, list[int]] = {}
        for i, parent in enumerate(self._parent):
            if parent is not None:
                self._children.setdefault(parent, []).append(i)
        # a section with a heading and nothing else ("## Repayments" over its subsections) is covered by its
        # subsections' words; its few heading words alone would make it the closest match of anything using them
        self._voting = np.array([bool(s.body.strip() or s.keywords) for s in self.sections], dtype=bool)
        self._build(stats or CorpusStats())

    def _build(self, stats: CorpusStats) -> None:
        docs = [section_terms(s) for s in self.sections]
        self._stats = CorpusStats(stats.n_docs, stats.doc_freq.copy())
        self._stats.add(docs)
        self._vocab: dict[str, int] = {}
        text = weigh_many(docs, self._stats, self._vocab) if docs else csr_matrix((0, 1))
        width = max(len(self._vocab), 1)
        text.resize((text.shape[0], width))
        # a word many sections use says little about which one: weigh it down as IDF does across documents
        in_sections = np.asarray((text > 0).sum(axis=0)).ravel()
        rarity = np.log((1 + len(docs)) / (1 + in_sections)) + 1.0
        self._column_weights = diags(rarity)
        self._profiles = _unit_rows((text @ self._column_weights).toarray())
        idf = np.ones(width)
        for term, column in self._vocab.items():
            idf[column] = self._stats.idf(term)
        self._scale = idf * rarity  # a member's term weighs as the sections' do: IDF times rarity among sections
        self._learned, self._learned_vocab = np.zeros((0, 1)), {}
        if self.corrections:
            matrix = to_matrix([c.centroid for c in self.corrections], self._learned_vocab)
            self._learned = _unit_rows(matrix.toarray())

    # --- votes -----------------------------------------------------------------------------------------

    @property
    def vote_key(self) -> str:
        """What a stored tally of votes depends on: the sections' words and the voting rule (with the workspace's
        model's, so tallies counted before it are counted again once)."""
        rule = f"{VOTE_SPREAD}:{HEADING_WEIGHT}:{KEYWORD_WEIGHT}:{MIN_LEARNED}:{MIN_SEEDS}:{ROUNDS}:{LENGTH}"
        parts = [rule] + [
            f"{s.document_id}\x1f{s.section_id}\x1f{s.heading}\x1f{s.body}\x1f{'|'.join(s.keywords)}\x1f{s.parent_id}"
            for s in self.sections
        ]
        return hashlib.sha256("\x1e".join(parts).encode()).hexdigest()[:16]

    def vote_rows(self, members: Sequence[Sequence[str]]) -> np.ndarray:
        """Each member's vote over the targets (rows summing to 1; all zero for a member sharing no word with any
        section). Sum rows over a theme's members and pass the sums to `explain`."""
        votes = np.zeros((len(members), len(self.targets)))
        if not members or not self.sections or not self._voting.any():
            return votes
        sims = np.where(self._voting, np.asarray(self._member_rows(members) @ self._profiles.T), -np.inf)
        best = sims.max(axis=1)
        voting = best > 0
        weights = np.exp((sims[voting] - best[voting, None]) / VOTE_SPREAD)
        votes[np.flatnonzero(voting)[:, None], np.arange(len(self.sections))] = weights / weights.sum(
            axis=1, keepdims=True
        )
        return votes

    def taught(
        self,
        members: Sequence[Sequence[str]],
        votes: np.ndarray,
        examples: Sequence[tuple[Sequence[str], str, str | None]] = (),
    ) -> np.ndarray | None:
        """Each member's vote by a linear model fitted on `examples`, the items of themes an owner moved as (terms,
        document, section or None for not a policy matter), and on the surest voters of `votes` among the members.
        None without examples, or with too few sure voters."""
        labelled = [(doc, self._index.get(_target_of_pair(d, s))) for doc, d, s in examples]
        labelled = [(doc, target) for doc, target in labelled if target is not None]
        if not labelled:
            return None
        sure = _surest(votes, TEACH_SHARE)
        if len(sure) < MIN_TAUGHT or len({*votes[sure].argmax(axis=1), *(t for _, t in labelled)}) < 2:
            return None
        if len(sure) > MAX_TAUGHT:
            sure = np.sort(np.random.default_rng(0).choice(sure, MAX_TAUGHT, replace=False))
        docs = [members[i] for i in sure] + [doc for doc, _ in labelled]
        targets = np.concatenate([votes[sure].argmax(axis=1), [t for _, t in labelled]]).astype(int)
        weights = np.concatenate([np.ones(len(sure)), np.full(len(labelled), CORRECTED_WEIGHT)])
        vectorizer = TfidfVectorizer(analyzer=_as_is, min_df=2, sublinear_tf=True)
        model = LogisticRegression(max_iter=200)
        model.fit(vectorizer.fit_transform(docs), targets, sample_weight=weights)
        taught = np.zeros_like(votes)
        taught[:, model.classes_] = model.predict_proba(vectorizer.transform(members))
        return taught

    def bootstrap(self, items: Sequence[Sequence[str]]) -> SeededBayes | None:
        """A model of the items' own words, seeded by the policy's (`bootstrap.SeededBayes`): the sections' text and
        the surest voters among the items (a sample of them, beyond `SAMPLE`) label it, EM over them fits it. None for
        fewer than `MIN_LEARNED` items or too few sure voters: the members' own votes stand."""
        if len(items) < MIN_LEARNED:
            return None
        rows = np.arange(len(items))
        if len(items) > SAMPLE:
            rows = np.sort(np.random.default_rng(0).choice(len(items), SAMPLE, replace=False))
        docs = take(items, rows)  # one batch read of a sync's rows
        votes = self.vote_rows(docs)
        sure = _surest(votes, TEACH_SHARE)
        best = votes[sure].argmax(axis=1)
        # only sections some items surely vote for: one without seeds learns little but its own text and the whole
        # policy's words, and EM makes it a catch-all (every theme of a test workspace went to "privacy")
        classes = [c for c in np.flatnonzero(self._voting) if np.count_nonzero(best == c) >= MIN_SEEDS]
        if len(sure) < MIN_TAUGHT or len(classes) < 2:
            return None
        model = SeededBayes([section_terms(s) for s in self.sections], [[c, *self._ancestors(c)] for c in classes])
        column = np.full(len(self.targets), -1)
        column[classes] = np.arange(len(classes))
        seeded = column[best] >= 0
        return model.fit(docs, sure[seeded], column[best[seeded]])

    def learned_votes(self, model: SeededBayes, members: Sequence[Sequence[str]]) -> np.ndarray:
        """Each member's vote as the workspace's model (`bootstrap`) gives it: rows summing to 1, all zero for a
        member using none of the words it knows."""
        votes = np.zeros((len(members), len(self.targets)))
        votes[:, [chain[0] for chain in model.chains]] = model.posteriors(members)
        return votes

    def _member_rows(self, members: Sequence[Sequence[str]]) -> csr_matrix:
        """The members' terms that sections use, weighed as in the profiles (sublinear term frequency, IDF, rarity
        among sections), at unit length: how a member is spread over what the policy talks about. Words no section
        uses tell no section apart, so they do not count (and need no weighing: this is the hot path of a sync)."""
        vocab, indptr, indices = self._vocab, [0], []
        for doc in members:
            indices.extend([vocab[t] for t in doc if t in vocab])
            indptr.append(len(indices))
        counts = csr_matrix(
            (np.ones(len(indices)), np.asarray(indices, dtype=np.int64), np.asarray(indptr)),
            shape=(len(members), self._profiles.shape[1]),
        )
        counts.sum_duplicates()
        counts.data = (1.0 + np.log(counts.data)) * self._scale[counts.indices]
        return normalize(counts)

    def tally(self, sums: Mapping[str, float]) -> np.ndarray:
        """Stored vote sums (by `target_key`) as an array in this mapper's order; unknown sections drop out."""
        out = np.zeros(len(self.targets))
        for key, value in sums.items():
            i = self._index.get(split_key(key))
            if i is not None:
                out[i] = value
        return out

    def tally_dict(self, sums: np.ndarray) -> dict[str, float]:
        """Vote sums as stored: target_key -> sum (rounded)."""
        return {target_key(*self.targets[i]): round(float(v), 6) for i, v in enumerate(sums) if v > 0}

    # --- decisions -------------------------------------------------------------------------------------

    def explain(
        self,
        votes: np.ndarray | Mapping[str, float],
        centroid: Mapping[str, float],
        rules: MatchRules = MatchRules(),
        fits: np.ndarray | None = None,
        taught: bool = False,
        typical: float | None = None,
    ) -> Explanation:
        """The theme's matches and the scores behind them, from its members' summed votes and its centroid (and its
        row of `fits`, when computed for many themes at once). `taught`: the votes are a model's that owners'
        corrections taught, which may place a theme whose words fit no section where owners put like ones.
        `typical`: how sure the workspace's other themes' votes typically are (`typical_sureness`); a theme whose
        words fit no section well enough is a gap only when its own vote is less sure than that."""
        if not self.sections:
            return Explanation([], [], "the policy has no sections")
        if isinstance(votes, Mapping):
            sums = self.tally(votes)
        else:
            sums = np.concatenate([votes, np.zeros(len(self.targets) - len(votes))])
        shares = sums / sums.sum() if sums.sum() > 0 else sums
        weighed = self._like(centroid)
        shares = self._corrected(shares, weighed)
        fits = self.fits([centroid])[0] if fits is None else fits
        scores = self._scores(shares, fits)
        named = [(self.corrections[i].label or f"correction {self.corrections[i].key}", s) for i, s, _ in weighed]
        if not shares.any():
            return self._gap(fits, scores, rules, named, "none of its items shares a word with any section")
        picked = self._choose(shares, rules)
        if self.targets[picked[0]][1] == NOT_POLICY:
            return Explanation([], scores, "like a theme an owner marked as not a policy matter", True, named)
        best_fit = max(fits[: len(self.sections)])
        learned = taught and shares[picked[0]] >= TAUGHT_SURE and self.targets[picked[0]] in self._corrected_targets
        # a weak fit of the theme's words alone is no gap when its members vote for a section as surely as the
        # workspace's themes typically do: the policy covers what they are about in other words (long complaints
        # about "the loan" fit every section of a lender's policy weakly). Relative, so it adapts to the policy and
        # the kind of text; a theme about what the policy never mentions spreads its vote (bench/README.md, map4)
        voted = typical is not None and float(shares.max()) >= typical
        if best_fit < rules.min_confidence and not weighed and not learned and not voted:
            return self._gap(fits, scores, rules, named, "")
        matches = [self._match(i, fits) for i in picked if i == picked[0] or fits[i] >= rules.min_confidence]
        mass = self._masses(shares)
        if weighed and picked[0] == self._index[_target_of(self.corrections[weighed[0][0]])]:
            # like a theme an owner put here: as sure as the themes are alike, whatever the words' fit
            first = matches[0]
            matches[0] = SectionMatch(first.document_id, first.section_id, max(first.confidence, weighed[0][1]))
        elif learned:  # owners taught it: as sure as the model is
            first = matches[0]
            share = round(float(shares[picked[0]]), 4)
            matches[0] = SectionMatch(first.document_id, first.section_id, max(first.confidence, share))
        elif best_fit < rules.min_confidence:  # placed by its vote alone: as sure as the vote is
            first = matches[0]
            share = round(float(mass[picked[0]]), 4)
            matches[0] = SectionMatch(first.document_id, first.section_id, max(first.confidence, share))
        reason = f"{mass[picked[0]]:.0%} of the vote is for {self.targets[picked[0]][1]}"
        if best_fit < rules.min_confidence and voted and not weighed and not learned:
            reason += (
                f"; its words fit no section well (best fit {best_fit:.2f} < {rules.min_confidence:.2f}), but its vote"
                f" is as sure as this workspace's themes' typically are ({typical:.0%}): no coverage gap"
            )
        for other in picked[1:]:
            home = [other, *self._ancestors(other)][-1]
            reason += f"; {mass[home]:.0%} for {self.targets[home][1]} and its subsections: it spans both"
        return Explanation(matches, scores, reason, False, named)

    def match(
        self,
        votes: np.ndarray | Mapping[str, float],
        centroid: Mapping[str, float],
        rules: MatchRules = MatchRules(),
        fits: np.ndarray | None = None,
        taught: bool = False,
        typical: float | None = None,
    ) -> list[SectionMatch]:
        """The theme's section (and close runners-up), a gap, or nothing for a theme that is not a policy matter."""
        return self.explain(votes, centroid, rules, fits, taught, typical).matches

    def _gap(
        self, fits: np.ndarray, scores: list[SectionScore], rules: MatchRules, named: list, why: str
    ) -> Explanation:
        best = int(np.argmax(fits[: len(self.sections)]))
        gap = SectionMatch(self.sections[best].document_id, "", round(float(fits[best]), 4))
        reason = why or f"no section fits well enough (best fit {fits[best]:.2f} < {rules.min_confidence:.2f})"
        return Explanation([gap], scores, reason, False, named)

    def _like(self, centroid: Mapping[str, float]) -> list[tuple[int, float, float]]:
        """(correction, similarity, weight) of the corrected themes this theme is like, most alike first."""
        if not self.corrections:
            return []
        row = to_matrix([centroid], dict(self._learned_vocab))[:, : self._learned.shape[1]]
        row.resize((1, self._learned.shape[1]))
        vector = np.asarray(row.todense()).ravel()
        norm = float(np.linalg.norm(vector))
        sims = self._learned @ vector / norm if norm else np.zeros(len(self.corrections))
        alike = [(i, round(float(s), 4), min(1.0, (s - LIKE) / (LIKE_FULLY - LIKE))) for i, s in enumerate(sims)]
        return sorted((a for a in alike if a[1] >= LIKE), key=lambda a: -a[1])

    def _corrected(self, shares: np.ndarray, weighed: list[tuple[int, float, float]]) -> np.ndarray:
        """The vote, moved towards where the most alike corrected theme went, as far as the themes are alike."""
        if not weighed:
            return shares
        i, _, weight = weighed[0]
        moved = shares * (1 - weight)
        moved[self._index[_target_of(self.corrections[i])]] += weight
        return moved

    def fits(self, centroids: Sequence[Mapping[str, float]]) -> np.ndarray:
        """Cosine of each theme centroid with every section's words (a row per theme; 0 for a not-policy target)."""
        fits = np.zeros((len(centroids), len(self.targets)))
        if not centroids or not self.sections:
            return fits
        vocab = dict(self._vocab)
        rows = to_matrix(centroids, vocab)[:, : len(self._vocab)]
        rows.resize((len(centroids), self._profiles.shape[1]))
        fits[:, : len(self.sections)] = np.asarray(normalize(rows @ self._column_weights) @ self._profiles.T)
        return fits

    def _choose(self, shares: np.ndarray, rules: MatchRules) -> list[int]:
        """The targets a theme goes to, best first.

        First the most voted section, or a subsection of it nearly as voted (the most specific that fits). A theme
        spans two sections when together they hold most of its vote and each nearly as much as the other: two
        sibling sections are then replaced by their parent (one ticket, not one each), and another part of the
        policy (a top-level section with its subsections) is cited too, settled on its subsection holding the
        vote, up to `max_sections`."""
        order = sorted(range(len(self.targets)), key=lambda i: (-shares[i], i))
        close = [i for i in order if shares[i] >= rules.also_within * shares[order[0]] and shares[i] > 0]
        first = order[0]
        for i in close[1:]:
            if self._ancestor(first, i):
                first = i
        mass = self._masses(shares)
        for i in close[1:]:
            common = self._common_ancestor(first, i)
            if common is not None and common != i and mass[common] >= SPAN and not self._ancestor(first, i):
                first = common
                break
        picked = [first]
        home = [first, *self._ancestors(first)][-1]
        roots = sorted((i for i in range(len(self.targets)) if self._parent[i] is None), key=lambda i: (-mass[i], i))
        for root in roots:
            if len(picked) >= rules.max_sections or mass[root] < rules.also_within * mass[first]:
                break
            spans = mass[root] + mass[first] >= SPAN
            if spans and root != home and NOT_POLICY not in (self.targets[root][1], self.targets[first][1]):
                picked.append(self._settle(root, shares, mass, rules))
        return picked

    def _settle(self, node: int, shares: np.ndarray, mass: np.ndarray, rules: MatchRules) -> int:
        """Go down from a section to the subsection holding its vote: not when the section's own words hold more,
        and not when two subsections hold nearly as much (the theme spans them: the section is the one)."""
        while True:
            children = sorted(self._children.get(node, []), key=lambda i: (-mass[i], i))
            if not children or mass[children[0]] <= shares[node]:
                return node
            if len(children) > 1 and mass[children[1]] >= rules.also_within * mass[children[0]]:
                return node
            node = children[0]

    def _masses(self, shares: np.ndarray) -> np.ndarray:
        """Each target's share with its descendants'."""
        mass = shares.copy()
        for i in range(len(self.targets)):
            for ancestor in self._ancestors(i):
                mass[ancestor] += shares[i]
        return mass

    def _ancestors(self, i: int) -> list[int]:
        found, parent = [], self._parent[i]
        while parent is not None:
            found.append(parent)
            parent = self._parent[parent]
        return found

    def _ancestor(self, a: int, b: int) -> bool:
        """True when target `a` is an ancestor of target `b`."""
        return a in self._ancestors(b)

    def _common_ancestor(self, a: int, b: int) -> int | None:
        mine = self._ancestors(a)
        return next((p for p in self._ancestors(b) if p in mine), None)

    def _match(self, target: int, fits: np.ndarray) -> SectionMatch:
        document_id, section_id = self.targets[target]
        return SectionMatch(document_id, section_id, round(float(max(fits[target], 0.0)), 4))

    def scores_of(self, shares: np.ndarray) -> list[SectionScore]:
        """Sections by their share of a vote, most voted first (fits not counted: 0)."""
        return [s for s in self._scores(shares, np.zeros(len(self.targets))) if s.share > 0]

    def _scores(self, shares: np.ndarray, fits: np.ndarray) -> list[SectionScore]:
        order = sorted(range(len(self.targets)), key=lambda i: (-shares[i], -fits[i], i))
        return [SectionScore(*self.targets[i], round(float(shares[i]), 4), round(float(fits[i]), 4)) for i in order]


def mixed_vote(counted: np.ndarray, taught: np.ndarray, sure: float, n: int) -> np.ndarray:
    """A theme's vote once owners' corrections taught a model (`SectionMapper.taught`): its members' votes as
    counted (`counted`, summed) as far as their own words are sure of their section (`sure`: their largest shares
    summed, over `n` members), the taught model's summed votes (`taught`) for the rest. So a theme whose words
    plainly name a section keeps it, and one whose words are vague follows what owners taught."""
    share = min(1.0, sure / n) if n else 1.0
    return counted * share + taught * (1 - share)


def typical_sureness(votes: Sequence[np.ndarray]) -> list[float | None]:
    """For each theme's summed votes, the median of the other themes' sureness (the largest share of their vote;
    themes without votes left out): how sure a theme's vote typically is in this workspace, with its policy and its
    kind of text. None when no other theme has votes."""
    sureness = np.array([v.max() / v.sum() if v.sum() > 0 else np.nan for v in votes], dtype=float)
    out: list[float | None] = []
    for i in range(len(sureness)):
        others = np.delete(sureness, i)
        others = others[~np.isnan(others)]
        out.append(float(np.median(others)) if len(others) else None)
    return out


def target_key(document_id: str, section_id: str) -> str:
    """How a section is named in stored vote tallies."""
    return f"{document_id}#{section_id}"


def split_key(key: str) -> tuple[str, str]:
    """The (document, section) of a `target_key`."""
    document_id, _, section_id = key.partition("#")
    return document_id, section_id


def _target_of(correction: Correction) -> tuple[str, str]:
    return _target_of_pair(correction.document_id, correction.section_id)


def _target_of_pair(document_id: str, section_id: str | None) -> tuple[str, str]:
    """The mapper's target for a place an owner named: a section, or "not a policy matter" (no section)."""
    return ("", NOT_POLICY) if section_id is None else (document_id, section_id)


def _surest(votes: np.ndarray, share: float) -> np.ndarray:
    """Rows of the members voting most surely for their section: the top `share` of each section's voters."""
    best, sureness = votes.argmax(axis=1), votes.max(axis=1)
    chosen = []
    for target in np.unique(best[sureness > 0]):
        rows = np.flatnonzero((best == target) & (sureness > 0))
        chosen.append(rows[np.argsort(-sureness[rows], kind="stable")][: max(1, int(len(rows) * share))])
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=int)


def _as_is(doc: Sequence[str]) -> Sequence[str]:
    """Terms are already analysed (stemmed words and pairs)."""
    return doc


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix, dtype=float), where=norms > 0)
