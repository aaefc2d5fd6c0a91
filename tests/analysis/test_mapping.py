"""Matching themes to sections: the members' vote picks the section, the most specific one that fits; a theme split
between subsections goes to their parent once; nothing close is a gap; owners' corrections teach by example."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from reviewbot.analysis.cues import cites_rules
from reviewbot.analysis.mapping import (
    MIN_LEARNED,
    Correction,
    MatchRules,
    SectionMapper,
    SectionMatch,
    SectionText,
    mixed_vote,
    typical_sureness,
)
from reviewbot.analysis.vectorize import CorpusStats, terms, top_terms, weigh

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

# A lender's policy with nested sections, as policies are written: a heading over subsections with their own text.
NESTED = [
    SectionText("l", "costs", "Costs and fees", "Every fee and the interest rate are shown before signing."),
    SectionText("l", "payments", "Repayments", ""),
    SectionText(
        "l",
        "payments.crediting",
        "Crediting payments",
        "Every payment is credited to the loan on the day we receive it.",
        parent_heading="Repayments",
        parent_id="payments",
    ),
    SectionText(
        "l",
        "payments.debits",
        "Automatic debits",
        "We debit the bank account only on the authorised dates and stop debits when authorisation is revoked.",
        parent_heading="Repayments",
        parent_id="payments",
    ),
    SectionText("l", "vehicles", "Vehicle-secured loans", "A vehicle is repossessed only after written notice."),
]


def theme(*texts: str) -> tuple[list[list[str]], dict[str, float]]:
    """A theme as the mapper sees it: its members' terms and its centroid."""
    members = [terms(t) for t in texts]
    stats = CorpusStats()
    stats.add(members)
    total: dict[str, float] = {}
    for doc in members:
        for term, weight in weigh(doc, stats).items():
            total[term] = total.get(term, 0.0) + weight
    return members, top_terms(total, 60)


def match(
    *texts: str,
    sections: Sequence[SectionText] = SECTIONS,
    corrections: Sequence[Correction] = (),
    also_within: float = 0.8,
) -> list[SectionMatch]:
    mapper = SectionMapper(sections, corrections=corrections)
    members, centroid = theme(*texts)
    return mapper.match(mapper.vote_rows(members).sum(axis=0), centroid, MatchRules(also_within=also_within))


def sections_of(matches: list[SectionMatch]) -> list[str]:
    return [m.section_id for m in matches]


def test_theme_maps_to_the_section_it_concerns() -> None:
    assert sections_of(match("my refund is late", "still no refund after weeks"))[0] == "refunds"
    assert sections_of(match("courier lost my parcel", "lost parcel claim ignored"))[0] == "delivery"
    assert sections_of(match("agent asked for my full card number"))[0] == "privacy"


def test_keywords_from_front_matter_count() -> None:
    assert sections_of(match("how do I send back the lamp"))[0] == "returns"


def test_members_vote_so_one_odd_member_does_not_decide() -> None:
    texts = ["parcel lost by the courier", "courier never delivered my parcel", "carrier lost the parcel again"]
    assert sections_of(match(*texts, "refund refund refund refund"))[0] == "delivery"


def test_a_theme_concerning_two_parts_of_the_policy_cites_both() -> None:
    texts = ("returned it within 30 days", "refund paid to my card took 5 business days")
    assert sections_of(match(*texts, also_within=0.3)) == ["returns", "refunds"]
    assert len(match(*texts, also_within=1.0)) == 1


def test_the_most_specific_section_wins_and_never_with_its_parent() -> None:
    matches = match("my payment was not credited to the loan", "payment received but not credited", sections=NESTED)
    assert sections_of(matches) == ["payments.crediting"]


def test_a_theme_split_between_subsections_goes_to_their_parent_once() -> None:
    texts = ["payment not credited to my loan", "the debit from my bank account came on the wrong date"] * 3
    assert sections_of(match(*texts, sections=NESTED, also_within=0.5)) == ["payments"]


def test_a_heading_without_text_does_not_attract_themes_by_its_words_alone() -> None:
    # "repayments" is the parent heading's only word; the theme is about fees
    assert sections_of(match("repayments fee charged", "interest rate and fee not shown", sections=NESTED)) == ["costs"]


def test_nothing_close_is_a_gap_against_the_document() -> None:
    [gap] = match("price dropped a week later", "competitor was cheaper, price match?")
    assert gap.is_gap and gap.document_id == "p" and gap.confidence < 0.08


def test_a_weak_fit_is_no_gap_when_the_members_vote_as_surely_as_the_workspaces_themes_do() -> None:
    mapper = SectionMapper(NESTED)
    rules = MatchRules(min_confidence=0.5)  # long complaints fit a real policy's sections this weakly
    # complaints about the lender's loans use words of every section, so their words fit each one weakly; but the
    # workspace's model has its members vote surely for costs, as surely as the workspace's other themes vote
    loans = {"loan": 0.5, "fee": 0.3, "payment": 0.3, "vehicle": 0.3, "bank": 0.3, "husband": 0.3}
    weather = {"weather": 0.7, "rain": 0.7}  # what the policy never mentions: its members' vote is spread
    # targets: costs, payments (a heading: no votes), payments.crediting, payments.debits, vehicles
    votes = {
        "fees": np.array([12.0, 0, 3, 3, 2]),
        "debits": np.array([2.0, 0, 3, 13, 2]),
        "loans": np.array([14.0, 0, 2, 2, 2]),
        "weather": np.array([5.0, 0, 5, 5, 5]),
    }
    usual = dict(zip(votes, typical_sureness(list(votes.values())), strict=True))
    assert max(mapper.fits([loans])[0]) < rules.min_confidence
    assert mapper.match(votes["loans"], loans, rules)[0].is_gap  # the words' fit alone: a gap
    [placed] = mapper.match(votes["loans"], loans, rules, typical=usual["loans"])
    assert placed.section_id == "costs" and placed.confidence >= 0.7  # as sure as its vote: it earns a ticket
    why = mapper.explain(votes["loans"], loans, rules, typical=usual["loans"]).reason
    assert "as sure as this workspace's themes' typically are (60%): no coverage gap" in why
    [gap] = mapper.match(votes["weather"], weather, rules, typical=usual["weather"])
    assert gap.is_gap


def test_a_correction_sends_a_like_theme_where_the_owner_put_the_first() -> None:
    car = ("they towed my car at night", "car gone from the driveway", "my car was towed")
    [before] = match(*car, sections=NESTED)
    assert before.is_gap  # "car" is not "vehicle": the words alone do not get there
    _, centroid = theme(*car)
    moved = Correction(1, "l", "vehicles", centroid, "RB-1 moved by dana")
    similar = ("they towed my car from the driveway", "car towed at night")
    after = match(*similar, sections=NESTED, corrections=[moved])
    assert sections_of(after) == ["vehicles"]
    assert after[0].confidence >= 0.5  # as sure as the themes are alike
    unrelated = match("fee charged that was never shown", "interest rate not disclosed", sections=NESTED)
    assert sections_of(unrelated) == ["costs"]


def test_not_a_policy_matter_stops_mapping_like_themes() -> None:
    chatter = ("thanks for the quick reply", "thank you, all sorted now", "thanks, great help today")
    _, centroid = theme(*chatter)
    told = Correction(2, "p", None, centroid)
    assert match("thanks for the quick reply", "thank you, all sorted", corrections=[told]) == []
    assert sections_of(match("courier lost my parcel", corrections=[told])) == ["delivery"]


def test_a_correction_to_a_section_that_is_gone_is_inert() -> None:
    _, centroid = theme("courier lost my parcel", "parcel never came")
    gone = Correction(3, "p", "shipping-and-couriers", centroid)
    assert sections_of(match("courier lost my parcel", "lost parcel", corrections=[gone])) == ["delivery"]


def test_explanation_names_the_scores_and_the_corrections_that_weighed() -> None:
    members, centroid = theme("they towed my car", "car towed at night")
    moved = Correction(4, "l", "vehicles", centroid, "RB-9 moved by dana")
    mapper = SectionMapper(NESTED, corrections=[moved])
    explanation = mapper.explain(mapper.vote_rows(members).sum(axis=0), centroid)
    assert explanation.matches[0].section_id == "vehicles"
    assert explanation.corrections and explanation.corrections[0][0] == "RB-9 moved by dana"
    assert explanation.scores[0].section_id == "vehicles" and explanation.scores[0].share > 0.5
    assert {s.section_id for s in explanation.scores} >= {"costs", "payments.crediting", "payments.debits"}


def test_vote_tallies_survive_storage() -> None:
    mapper = SectionMapper(SECTIONS)
    members, centroid = theme("courier lost my parcel", "parcel never came")
    sums = mapper.vote_rows(members).sum(axis=0)
    assert mapper.match(mapper.tally_dict(sums), centroid) == mapper.match(sums, centroid)
    assert SectionMapper(SECTIONS).vote_key == mapper.vote_key
    edited = [*SECTIONS[:-1], SectionText("p", "privacy", "Data privacy", "We delete data on request.")]
    assert SectionMapper(edited).vote_key != mapper.vote_key


def test_rule_cues() -> None:
    assert cites_rules("I was told you price match, now the agent says no")
    assert cites_rules("Your website says refunds within 5 business days")
    assert cites_rules("3rd price match ask this wk, do we have a rule or not??")
    assert not cites_rules("The cushions are flatter than in the photos")
    assert not cites_rules("Lovely sofa, quick delivery")


def _workspace_members() -> list[list[str]]:
    """Feedback of a lender's customers: about repossessed vehicles, fees, and debits."""
    days = ["monday", "friday", "last week", "yesterday", "at night", "in the morning", "on payday", "today"]
    texts = []
    for i, day in enumerate(days * 10):
        texts.append(f"my vehicle was repossessed {day} without written notice, they took my car {i}")
        texts.append(f"a fee I was never shown was charged {day}, the interest rate is higher than signed {i}")
        texts.append(f"they debit my bank account {day} after I revoked the authorisation {i}")
    return [terms(t) for t in texts]


def test_owners_corrections_teach_a_model_that_carries_them_to_like_items() -> None:
    mapper = SectionMapper(NESTED)
    members = _workspace_members()
    title = [terms("the lender kept the paper title after I paid off"), terms("still no title back from the lender")]
    fee = [terms("another fee that was never shown to me")]
    votes = mapper.vote_rows(members + title + fee)
    vehicles, costs = mapper.targets.index(("l", "vehicles")), mapper.targets.index(("l", "costs"))
    assert votes[-3:-1, vehicles].sum() == 0  # the title is in no section's words
    moved = [(terms(f"the lender kept my title, title never returned {i}"), "l", "vehicles") for i in range(10)]
    taught = mapper.taught(members + title + fee, votes, moved)
    assert taught is not None
    assert list(taught[-3:].argmax(axis=1)) == [vehicles, vehicles, costs]  # the fee still goes to costs
    # a theme of such items fits no section by its words: a gap, unless the owners' taught model says where it goes;
    # a sync mixes the taught votes into the theme's as far as its members' own words are unsure (none are here)
    centroid = theme("no title back from the lender")[1]
    assert mapper.match(votes[-3:-1].sum(axis=0), centroid)[0].is_gap
    mixed = mixed_vote(votes[-3:-1].sum(axis=0), taught[-3:-1].sum(axis=0), votes[-3:-1].max(axis=1).sum(), 2)
    taught_mapper = SectionMapper(NESTED, corrections=[Correction(1, "l", "vehicles", {"unrelated": 1.0})])
    [match] = taught_mapper.match(mixed, centroid, taught=True)
    assert match.section_id == "vehicles" and match.confidence > 0.5
    # a theme whose own words plainly name its section keeps it, whatever the taught model says
    fees = mixed_vote(votes[1:30:3].sum(axis=0), taught[1:30:3].sum(axis=0), votes[1:30:3].max(axis=1).sum(), 10)
    assert sections_of(taught_mapper.match(fees, theme("a fee never shown")[1])) == ["costs"]


def test_without_corrections_the_members_own_votes_stand() -> None:
    mapper = SectionMapper(NESTED)
    members = _workspace_members()
    votes = mapper.vote_rows(members)
    assert mapper.taught(members, votes) is None  # no model: a sync keeps the votes as counted
    gone = [(terms("the lender kept my title"), "l", "title-loans")]  # a section that no longer exists: inert
    assert mapper.taught(members, votes, gone) is None


def test_a_few_new_items_are_not_all_drawn_to_where_owners_moved_tickets() -> None:
    mapper = SectionMapper(NESTED)
    few = [terms("a fee was never shown"), terms("the lender kept my title")]
    moved = [(terms(f"the lender kept my title {i}"), "l", "vehicles") for i in range(100)]
    votes = mapper.vote_rows(few)
    assert mapper.taught(few, votes, moved) is None  # too few sure voters: the votes as counted stand
    assert votes[0].argmax() == mapper.targets.index(("l", "costs"))


def _lender_feedback(n: int) -> list[list[str]]:
    """Feedback of a lender's customers, in their words: the car ones say "car" and "towed", which no section
    uses, beside the policy's "vehicle", "repossessed" and "notice"; the others use the policy's words."""
    days = ["monday", "friday", "last week", "yesterday", "at night", "in the morning", "on payday", "today"]
    texts = [
        "my vehicle was repossessed {day} without written notice, they towed my car",
        "the repo man towed my car {day}, no notice that the vehicle would be repossessed",
        "every payment I made {day} was not credited to the loan",
        "a fee I was never shown was charged {day}, the interest rate is higher than signed",
        "they debit my bank account {day} after I revoked the authorisation",
    ]
    return [terms(texts[i % len(texts)].format(day=days[i % len(days)])) for i in range(n)]


def test_items_teach_the_words_the_policy_does_not_use_so_a_theme_in_them_reaches_its_section() -> None:
    mapper = SectionMapper(NESTED)
    members = _lender_feedback(MIN_LEARNED)
    model = mapper.bootstrap(members)
    assert model is not None
    # the theme says "car" and "towed", never "vehicle": by its words it concerns a payment
    texts = [f"they towed my car away {day} although every payment was made" for day in ("today", "monday", "at night")]
    car, centroid = theme(*texts)
    own, learned = mapper.vote_rows(car).sum(axis=0), mapper.learned_votes(model, car).sum(axis=0)
    assert sections_of(mapper.match(own, centroid)) == ["payments.crediting"]
    assert sections_of(mapper.match(learned, centroid)) == ["vehicles"]
    # and the items whose words the policy uses stay where their words put them
    fee = mapper.learned_votes(model, [terms("a fee I was never shown")])
    assert mapper.targets[fee.argmax()] == ("l", "costs") and fee.sum() == pytest.approx(1.0)


def test_a_few_items_teach_no_model_their_own_votes_stand() -> None:
    assert SectionMapper(NESTED).bootstrap(_lender_feedback(MIN_LEARNED - 1)) is None


def test_a_section_no_item_speaks_of_does_not_become_a_catch_all() -> None:
    # with no item surely its own, a section learned only its text and the whole policy's words, and EM made it take
    # every item: both themes of a two-issue import went to a privacy section nobody wrote about
    mapper = SectionMapper(NESTED)
    about = [text for text in _lender_feedback(MIN_LEARNED) if "fee" not in text and "interest" not in text]
    model = mapper.bootstrap(about + about[: MIN_LEARNED - len(about)])
    assert model is not None
    learned = mapper.learned_votes(model, about)
    costs = mapper.targets.index(("l", "costs"))
    assert learned[:, costs].sum() == 0  # nobody wrote about costs: no item is drawn there
    own = mapper.vote_rows(about).argmax(axis=1)
    assert (learned.argmax(axis=1) == own).mean() > 0.6  # the others stay about where their words put them
