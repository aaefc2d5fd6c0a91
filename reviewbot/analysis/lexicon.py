"""The complaint lexicon: weighted phrases typical of service complaints that carry no polarity words.

TextBlob reads "still waiting", "nobody called back" or "where is my refund" as neutral. The phrases below are an
explicit list for people to tune. A phrase does not count when a negator stands in the three words before it in
the same clause ("I never had to chase anything") or when it is part of a benign idiom ("can't complain", "no
issues"); benign idioms with a weight also count as reassurance. Score = noisy-or of the distinct phrases found
minus noisy-or of the reassuring idioms, in (-1, 1).

Matching is fast: trying 50 regex alternatives at every character of a 1,000-character complaint costs more than
TextBlob itself, so the words each phrase can start with are worked out once from its parsed regex and the text is
walked token by token. A phrase whose first words cannot be listed (one starting with `\\w+`) is tried at every
token: slower, same result.
"""

from __future__ import annotations

import hashlib
import importlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

try:  # the parser behind `re`; private, so anything unexpected only costs speed
    _sre: Any = importlib.import_module("re._constants")
    _sre_parse: Any = importlib.import_module("re._parser")
except ImportError:  # pragma: no cover - Python without re._parser
    _sre = _sre_parse = None

# (regex over `fold`ed text: lower case, single spaces, punctuation as separate tokens; weight in (0, 1)).
# A phrase matches whole words and never runs across punctuation; use (?:...) groups only.
# 0.6 = on its own says "complaint"; 0.4-0.55 = usually a complaint; 0.25-0.35 = a hint. In calibrate.py the score
# weighs 3.67 in the log-odds of negative: a hint alone (0.3) makes a neutral text 3 to 1 negative, but not one with
# praise in it. Words TextBlob already scores ("broken", "missing", "complaint", "failed", "rude") are left out so
# they are not counted twice.
_NT = r"(?:n't|nt| not)"  # "didn't", "didnt", "did not"
_CANT = r"(?:can'?t|cannot|can not|couldn'?t|could not|unable to)"
DEFAULT_CUES: tuple[tuple[str, float], ...] = (
    # waiting and delay
    (r"still waiting", 0.6),
    (r"(?:been|kept|keep|keeps) waiting", 0.4),
    (r"waiting (?:for |since )?(?:over |more than |almost |nearly )?(?:a |an |\d+ |two |three |four |five |six "
     r"|several |many )?(?:hours|days?|weeks?|months?|ages)", 0.5),
    (r"(?:on hold|in the queue) for", 0.5),
    (r"(?:took|takes|taking|take) (?:so long|forever|ages|weeks|months)", 0.45),
    (r"how (?:much )?long (?:do|does|will|must|should|am|is|are)", 0.4),
    (r"when (?:will|do|can) (?:i|we) (?:get|receive|hear|see)", 0.35),
    (r"(?:delayed|overdue)", 0.3),
    # asking again, chasing
    (r"(?:second|third|fourth|fifth|umpteenth|1?[0-9](?:st|nd|rd|th)) time (?:i(?:'ve| have)? |we(?:'ve| have)? )?"
     r"(?:(?:ask|call|writ|email|contact|report|chas|complain|rais|tr[yi])\w*|had to|have to)", 0.6),
    (r"(?:called|emailed|written|wrote|contacted|asked|rang|phoned|chased) (?:\w+ ){0,3}?(?:\w+ times|twice|again|"
     r"repeatedly)", 0.5),
    (r"(?:yet again|again and again|over and over)", 0.4),
    (r"(?:happened|broke|down|wrong|late|charged|declined) again", 0.4),
    (r"(?:chasing|chased|had to chase|keep chasing)", 0.5),
    (r"(?:keep|kept|keeps) (?:asking|calling|emailing|telling|getting|saying|sending|charging)", 0.35),
    # nobody answers
    (r"(?:no ?one|nobody)(?: has| ever| even| else)? (?:called|rang|phoned|got|gets|came|answer|repl|respond|"
     r"contact|bother|help|knows|seems|cares|listen|return|follow|pick|show|turn)\w*", 0.6),
    (r"no (?:reply|replies|response|answer|call ?back|feedback|updates?|word|contact|resolution|explanation|"
     r"acknowledg\w*)", 0.5),
    (rf"(?:never|did{_NT}|has{_NT}|have{_NT}|won'?t|will not|would{_NT}|does{_NT}|refused to|failed to) "
     r"(?:get back|respond|reply|replied|responded|answer|call(?:ed)? (?:me )?back|return(?:ed)? (?:my )?call|"
     r"follow(?:ed)? up|contact(?:ed)? me|help(?:ed)? me)", 0.55),
    (rf"(?:never|did{_NT}) (?:get|got|receive|received) (?:a |an |any )?(?:reply|response|answer|call ?back|"
     r"email back|refund|update)", 0.55),
    (r"(?:hung up|cut me off|disconnected me|ignor(?:ed|ing|es) (?:me|my|us|our))", 0.5),
    (rf"{_CANT} (?:get through|reach|speak to|talk to|get hold|get a hold|"
     r"get anyone)", 0.5),
    (r"(?:speak|talk) to (?:a |the |your )?(?:manager|supervisor)", 0.45),
    # never arrived, not received, lost
    (r"never (?:arrived|came|showed up|turned up|received|recieved|delivered|heard back|heard from|returned|"
     r"refunded|credited|processed|resolved|fixed|worked|got (?:my|back|it|them|any))", 0.6),
    (rf"(?:not|has{_NT}|have{_NT}|had{_NT}|did{_NT}|was{_NT}|yet to be|still to be) (?:been |be )?(?:received|"
     r"recieved|delivered|arrived|refunded|credited|processed|resolved|fixed|reimbursed|shipped|dispatched)", 0.55),
    (rf"(?:did{_NT}|does{_NT}|has{_NT}|have{_NT}) (?:arrive|come|show up|turn up|receive|get delivered)", 0.55),
    (r"where(?:'s| is| are) (?:my|our)", 0.5),
    (r"(?:lost (?:my|our|the)|(?:was|were|been|got) lost)", 0.45),
    (r"(?:wrong|incorrect) (?:item|order|size|product|address|amount|charge|bill|parcel|package|information)", 0.45),
    # does not work
    (rf"(?:stopped|stops|does{_NT}|did{_NT}|is{_NT}|not|won'?t|will not|never) (?:work\w*|charg\w*|connect\w*|"
     r"load\w*|turn on|start\w*|fit|last\w*)", 0.5),
    (r"(?:crash(?:es|ed|ing)|freez(?:es|ing)|froze|defective|faulty|damaged|cracked)", 0.4),
    (rf"{_CANT} (?:log ?in|sign in|access|find|use|connect|download|pay|cancel)", 0.4),
    # money
    (r"refund (?:not|never|still|has not|hasn'?t|isn'?t|was not|wasn'?t|yet)", 0.55),
    (r"(?:no|still no|waiting for (?:my|a|the)) refund", 0.5),
    (r"(?:want|demand|request|asked for|asking for|need) (?:a |my |an? full )?(?:refund|money back|reimbursement|"
     r"compensation)", 0.5),
    (r"(?:charged|billed|debited|taken) (?:me )?(?:twice|double|two times|without)", 0.55),
    (r"(?:double[- ](?:charged|billed)|overcharg(?:e|ed|es|ing)|unauthori[sz]ed (?:charge|payment|transaction|"
     r"debit|withdrawal))", 0.55),
    (r"(?:still|keep|kept|keeps) (?:being )?(?:charged|billed|charging|billing)", 0.5),
    (r"without (?:any )?(?:notice|warning|explanation|my (?:consent|permission|authori[sz]ation))", 0.5),
    # giving up, churn, told one thing
    (r"(?:won'?t|will not|wouldn'?t|would not|do not|don'?t|never) (?:buy|recommend|order|use|go back|come back|"
     r"return|shop|bother)", 0.55),
    (r"(?:won'?t|will not) be (?:back|returning|ordering|using|buying|coming)|never again", 0.55),
    (r"(?:waste of|wasted (?:my )?(?:time|money|day|hours))", 0.5),
    (r"(?:had to|have to|going to|will be|i'm|i am) return(?:ing|ed)? (?:it|this|them|the)|sen[dt] (?:it|them) back",
     0.4),
    (r"(?:cancel|cancell?ing|close|closing|leave|leaving|switch|switching) (?:my )?(?:account|subscription|contract|"
     r"membership)", 0.35),
    (r"(?:was|were|been) (?:told|promised|assured) (?:that )?(?:\w+ ){0,2}?(?:would|will)", 0.35),
    (r"(?:still|keeps?|same) (?:having |have |has |getting |get )?(?:the |this |that )?(?:same )?(?:issue|problem"
     r"|error)", 0.5),
    (r"(?:problems?|issues?|errors?|denied|declined|rejected)", 0.25),
    (r"(?:escalat(?:e|ed|es|ing|ion)|ombudsman|chargebacks?)", 0.35),
    # pressure and fraud (collections, banking, telco)
    (r"(?:harass(?:ed|es|ing|ment)?|threat(?:s|en|ened|ening)?|hacked|scam(?:med|s)?|fraud(?:ulent)?)", 0.45),
    (r"(?:hidden|extra|unexpected|excessive) (?:fees?|charges?)", 0.4),
    (r"nothing (?:was|has been|is being|got) (?:done|offered)", 0.45),
    (r"disput(?:e|ed|ing)", 0.35),
    # service failures wherever they happen: a duration said to a service is time lost waiting, people stuck,
    # no human to talk to, what was supposed to happen, something cancelled or missed, a system down
    (r"(?:hours?|hrs?|mins?|minutes?)", 0.3),
    (r"(?:stuck|stranded)", 0.45),
    (r"(?:sitting|sat|waiting) (?:here|on|at|in|around)", 0.35),
    (r"on hold", 0.45),
    (r"(?:no|not a|not one|without a|never a) (?:human|person|real person|live (?:agent|person)|one to talk)|"
     r"automated", 0.4),
    (r"lack of", 0.4),
    (r"(?:was|were|is|are|am) supposed to", 0.4),
    (r"(?:cancell?ed|cancell?ation)", 0.3),
    (r"missed (?:my|our|the|a)", 0.4),
    (r"why (?:is|are|was|were|does|do|did|can'?t|won'?t|would|has|have|am|isn'?t|aren'?t|wasn'?t|didn'?t|"
     r"doesn'?t)", 0.3),
    (r"(?:thanks|thank you) for (?:nothing|ruining|wasting|making me|the (?:delay|wait))", 0.6),
    (r"(?:fix|sort out|resolve) (?:this|it|your)", 0.35),
    (r"(?:system|site|website|app|phone line|line)s? (?:is |are |was |were |keeps? |has been )?(?:down|crash\w*|"
     r"broken|not working)", 0.45),
)  # fmt: skip
# Idioms that contain a cue word but praise or shrug. A cue inside one does not count, and the weight counts as
# reassurance against the cues (TextBlob reads "nothing was missing" as negative and "no issues" as neutral).
DEFAULT_BENIGN: tuple[tuple[str, float], ...] = (
    (r"no (?:problems?|issues?|complaints?|hassle|fuss|delays?|worries|wait(?:ing)?|queues?)", 0.3),
    (r"(?:nothing (?:was |is )?(?:missing|wrong|broken)|missing out|never been easier|worth the wait)", 0.3),
    (r"(?:arrived|came|delivered|ready)(?: \w+){0,2} (?:on time|early|as expected|as promised|as described)", 0.3),
    (r"(?:issue|problem|query|complaint|request)s? (?:was |were |got |has been |have been |is |are )?(?:all )?"
     r"(?:quickly |promptly |immediately |easily |fully |finally |soon )?(?:resolved|solved|fixed|sorted|handled|"
     r"dealt with|taken care of)", 0.4),
    (r"(?:resolved|solved|fixed|sorted) (?:my |the |our |all )?(?:issue|problem|complaint)s?", 0.4),
    (rf"(?:{_CANT} complain|{_CANT} get enough|would{_NT} (?:change|want) (?:a thing|anything))", 0.3),
    (r"(?:within|in|after|for) (?:a few |few |just |only |\w+ )?(?:minutes|mins|seconds)", 0.2),
)  # fmt: skip
# A cue preceded by one of these within the three words before it, in the same clause, is negated.
_NEGATORS = frozenset((
    "not", "no", "never", "nothing", "without", "zero", "hardly", "barely", "none", "neither", "nor", "nobody",
    "dont", "didnt", "doesnt", "cant", "wont", "isnt", "wasnt", "arent", "werent", "havent", "hasnt", "hadnt",
    "couldnt", "wouldnt", "shouldnt", "aint",
))  # fmt: skip
_CLAUSE_BREAKS = frozenset((*'.,;:!?()"', "but", "however", "although", "though"))


# Punctuation becomes its own token, so phrases never run across it and clause breaks are visible.
# (A translation table, not `re.sub(r"([.,;:!?()\"])", r" \1 ")`: the same text, without a Python call to expand
# the template at every punctuation mark.)
_PUNCT = str.maketrans({mark: f" {mark} " for mark in '.,;:!?()"'} | {"\u2019": "'"})
_MAX_HEADS = 500


def fold(text: str) -> str:
    """Lower case, straight apostrophes, punctuation as separate tokens, single spaces: what phrases are written for."""
    return " ".join(text.lower().translate(_PUNCT).split())


class Found(NamedTuple):
    """One phrase found: its index in the set, the index of its first token, and its span in the folded text."""

    phrase: int
    token: int
    start: int
    end: int


class _Unlisted(Exception):
    """The first words of a pattern cannot be listed."""


def _expand(items: Any, open_: set[str]) -> tuple[set[str], set[str]]:
    """Strings up to the first space (closed) and still growing (open) after these parsed regex items."""
    closed: set[str] = set()
    for op, av in items:
        if not open_:
            break
        if op is _sre.LITERAL:
            closed, open_ = (closed | open_, set()) if av == 32 else (closed, {p + chr(av) for p in open_})
        elif op is _sre.IN:
            chars = {chr(a) for o, a in av if o is _sre.LITERAL}
            chars |= {chr(c) for o, a in av if o is _sre.RANGE for c in range(a[0], a[1] + 1)}
            if any(o not in (_sre.LITERAL, _sre.RANGE) for o, _ in av):
                raise _Unlisted
            closed |= open_ if " " in chars else set()
            open_ = {p + c for p in open_ for c in chars - {" "}}
        elif op is _sre.SUBPATTERN:
            inner, open_ = _expand(av[3], open_)
            closed |= inner
        elif op is _sre.BRANCH:
            results = [_expand(alternative, open_) for alternative in av[1]]
            closed = closed.union(*(c for c, _ in results))
            open_ = set().union(*(o for _, o in results))
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT) and av[1] <= 3:
            kept, current = (set(open_) if av[0] == 0 else set()), open_
            for times in range(1, av[1] + 1):
                inner, current = _expand(av[2], current)
                closed |= inner
                kept |= current if times >= av[0] else set()
            open_ = kept
        elif op is not _sre.AT:  # \b and friends take no characters; anything else cannot be listed
            raise _Unlisted
        if len(closed) + len(open_) > _MAX_HEADS:
            raise _Unlisted
    return closed, open_


def first_words(pattern: str) -> frozenset[str] | None:
    """The words a match of this pattern can start with, or None when they cannot be listed."""
    if _sre_parse is None:
        return None
    try:
        closed, open_ = _expand(_sre_parse.parse(pattern), {""})
    except (_Unlisted, re.error):
        return None
    heads = closed | open_
    return None if not heads or "" in heads else frozenset(heads)


class PhraseSet:
    """Regex phrases matched on whole tokens of folded text; at one place the earliest listed phrase wins."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = tuple(patterns)
        by_word: dict[str, list[int]] = {}
        self.unindexed: list[int] = []  # tried at every word
        for i, pattern in enumerate(self.patterns):
            heads = first_words(pattern)
            for word in heads or ():
                by_word.setdefault(word, []).append(i)
            if heads is None:
                self.unindexed.append(i)
        self._by_word = {w: self._compile(sorted(set(ids) | set(self.unindexed))) for w, ids in by_word.items()}
        self._anywhere = self._compile(self.unindexed) if self.unindexed else None

    def _compile(self, ids: Sequence[int]) -> tuple[re.Pattern[str], tuple[int, ...]]:
        """One regex trying these phrases in order, each as one group, ending at the end of a token."""
        compiled = re.compile("(?:" + "|".join(f"({self.patterns[i]})" for i in ids) + ")(?![^ ])")
        if compiled.groups != len(ids):
            raise ValueError("phrase patterns may only use non-capturing groups (?:...)")
        return compiled, tuple(ids)

    def find(self, tokens: Sequence[str], folded: str) -> list[Found]:
        """Non-overlapping phrases in a folded text, left to right; `tokens` is `folded.split(" ")`."""
        found: list[Found] = []
        start = end = 0
        by_word, anywhere = self._by_word, self._anywhere  # locals: this loop runs once per word of every text
        for t, token in enumerate(tokens):
            entry = by_word.get(token, anywhere)
            if entry is not None and start >= end:
                m = entry[0].match(folded, start)
                if m is not None:
                    found.append(Found(entry[1][(m.lastindex or 1) - 1], t, start, m.end()))
                    end = m.end()
            start += len(token) + 1
        return found


def _negated(tokens: Sequence[str], at: int) -> bool:
    """Whether a negator stands in the three tokens before token `at`, within the same clause."""
    for word in reversed(tokens[max(0, at - 3) : at]):
        if word in _CLAUSE_BREAKS:
            return False
        if word in _NEGATORS or word.endswith("n't"):
            return True
    return False


@dataclass(frozen=True)
class Lexicon:
    """Weighted complaint phrases and the benign idioms that cancel them."""

    cues: tuple[tuple[str, float], ...] = DEFAULT_CUES
    benign: tuple[tuple[str, float], ...] = DEFAULT_BENIGN
    _phrases: PhraseSet = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # one pass over the text; idioms first, so where an idiom and a cue start at the same word the idiom wins
        object.__setattr__(self, "_phrases", PhraseSet([p for p, _ in (*self.benign, *self.cues)]))

    @property
    def fingerprint(self) -> str:
        """Short hash of the phrases and weights; a model fitted with another lexicon should be refitted."""
        return hashlib.sha256(repr((self.cues, self.benign)).encode()).hexdigest()[:12]

    def matches(self, text: str) -> tuple[list[int], list[int]]:
        """Indexes of the distinct cues (not negated) and benign idioms found in a text."""
        folded = fold(text)
        return self._matches(folded.split(" "), folded)

    def score(self, text: str) -> float:
        """Noisy-or of the cues found minus noisy-or of the reassuring idioms, in (-1, 1); > 0 leans complaint."""
        folded = fold(text)
        return self.score_tokens(folded.split(" "), folded)

    def _matches(self, tokens: Sequence[str], folded: str) -> tuple[list[int], list[int]]:
        """`matches` of a text already folded and split into tokens."""
        cues: dict[int, None] = {}
        benign: dict[int, None] = {}
        for found in self._phrases.find(tokens, folded):
            if found.phrase < len(self.benign):
                benign[found.phrase] = None
            elif not _negated(tokens, found.token):
                cues[found.phrase - len(self.benign)] = None
        return list(cues), list(benign)

    def score_tokens(self, tokens: Sequence[str], folded: str) -> float:
        """`score` of a text already folded and split into tokens."""
        return self.read(tokens, folded)[0]

    def read(self, tokens: Sequence[str], folded: str) -> tuple[float, list[tuple[int, int]]]:
        """`score_tokens`, and the spans of the folded text the benign idioms cover (their negators are praise)."""
        cues: dict[int, None] = {}
        benign: dict[int, None] = {}
        spans = []
        for found in self._phrases.find(tokens, folded):
            if found.phrase < len(self.benign):
                benign[found.phrase] = None
                spans.append((found.start, found.end))
            elif not _negated(tokens, found.token):
                cues[found.phrase - len(self.benign)] = None
        score = _noisy_or(self.cues[i][1] for i in cues) - _noisy_or(self.benign[i][1] for i in benign)
        return score, spans


def _noisy_or(weights: Iterable[float]) -> float:
    """1 - product of (1 - w): one cue counts fully, more cues add less and less, never reaching 1."""
    remaining = 1.0
    for w in weights:
        remaining *= 1.0 - w
    return 1.0 - remaining
