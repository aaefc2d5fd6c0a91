"""Replace PII in customer feedback with typed placeholders before the text is stored.

Built-in types run in order EMAIL, IBAN, CARD, PHONE, then the user's patterns, so that an IBAN's or card's digits
are gone before the phone rule sees them.

Phone rule: digit groups joined by one space, dash or dot (optional leading ``+``, parenthesised groups allowed)
are a phone number if they start with ``+`` and hold 7-15 digits (E.164), or ``00`` + a non-zero country code and
9-17 digits, or a trunk ``0`` + a non-zero digit and 9-13 digits (not a ZIP+4 like ``02134-1234``), or are North
American ``[1-]3-3-4``. At most one group may be a single digit, and dots may only be the sole separator between
groups of at most 4 digits. Other runs (``5552013344``, ``482913``) look like order numbers and are kept. Runs are
split at spaces and the leftmost-longest phone number taken, so a neighbouring number ("555-201-3344 2026-09-14")
hides nothing.

Before those rules, full-width digits and signs and other scripts' digits are folded to ASCII (NFKC), so
"５５５－２０１３" is seen as digits. Cards may also be written with dots, underscores, slashes or double
spaces, or glued to a word ("card4111111111111111": then only a compact 13-19 digit number with an issuer's
first digit 2-6, passing Luhn). IBANs may be grouped with spaces or dashes. After the phone rule, Google's
libphonenumber (`phonenumbers`) finds the numbers it leaves, in the national formats of a default region
("030/1234567", "98765 43210"); a number found so is kept when it is written as one run of digits (an order
number), looks like a date, or has fewer than 7 digits. Emails written "john.doe[at]example.com",
"john (at) example (dot) com" or "john at example dot com" are EMAIL; a name after "my name is", "I am", "I'm",
"this is" or "call me" is NAME (after "my name is" any word but a few like "not"; after the others only a
capitalised word that is no English word in TextBlob's lexicon, so "I am angry" and "This is Delta" stay).

Redacting twice changes nothing more; with extra patterns too, unless one matches inside a number (e.g. r"-").
"""

from __future__ import annotations

import functools
import importlib.util
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import phonenumbers

# Speed: digit-led patterns begin with a character class so that `re` skips ahead in C; the check on the character
# before a match comes after that first character. Possessive quantifiers keep scans linear where giving characters
# back could never produce a match; never on a group, though: Python 3.11.0-3.11.2 (Debian 12's python3) keep a
# failed last repetition of a possessive group in the match ("4111 1111 1111 1111 " with its trailing space), and a
# greedy group at the end of a pattern matches the same. Idempotence: a tag's brackets count as word characters next
# to a match (and as a digit before a time's ":"), since a tag put where an ID was (by a user pattern) must not make
# its neighbours match when the text is redacted again.

# A local part cannot contain "@" and a label cannot contain ".". Addresses glued together ("a@b.co.x@y.org") form
# one match: the second could not start after "co" in this pass, but could after "[EMAIL]" in the next one.
_DOMAIN = r"@(?:[^\W_][\w-]*+\.)+[^\W\d_]{2,}+(?![\w\[])"
_EMAIL = re.compile(rf"(?<![\w.%+-])[\w.%+-]++{_DOMAIN}(?:[.%+-][\w.%+-]*+{_DOMAIN})*")
# ISO 13616: 2 letters, 2 check digits, 11-30 alphanumerics (Norway's 15 is the shortest), compact or printed in
# groups of four. Case-insensitive because people type it so.
_IBAN = re.compile(
    r"(?<![\w\]])[A-Z]{2}[0-9]{2}"
    r"(?:[A-Z0-9]{11,30}|(?:[ -][A-Z0-9]{4}){2,7}(?:[ -][A-Z0-9]{1,4})?)(?![\w\[])",
    re.IGNORECASE,
)
_IBAN_SEP = re.compile("([ -])")
# The letter-led IBAN scan is slow, so it only runs where two letters precede two digits.
_IBAN_HINT = re.compile(r"[0-9](?<=[A-Za-z]{2}[0-9])[0-9]")
_LETTER_VALUES = str.maketrans({chr(code): str(code - 55) for code in range(65, 91)})
# A card run (digit groups joined by separators) is later searched for a Luhn-valid span, so "ref 12
# 4111 1111 1111 1111" works. '+' before it means a phone number; '.', ',' or a currency sign an amount. The
# lookahead drops runs too short for 13 digits before any Python code runs.
# Separators: one space, dash, dot, underscore or slash, or two spaces; a group may be followed by "_" (a
# separator) but not by a letter or digit.
_CARD_RUN = re.compile(
    r"[0-9](?<![\w\].,+$£€¥/-].)(?=(?:[0-9]| {1,2}|[._/-]){12})[0-9]*+(?![^\W_]|\[)"
    r"(?:(?: {1,2}|[._/-])[0-9]++(?![^\W_]|\[))*"
)
_CARD_SEP = re.compile(r"( {1,2}|[._/-])")
# A card glued to the word before it ("card4111111111111111"): compact, issuer digit 2-6, checked with Luhn.
_GLUED_CARD = re.compile(r"[2-6](?<=[^\W\d_][2-6])[0-9]{12,18}(?![0-9])")
_LUHN_DOUBLED = str.maketrans("0123456789", "0246813579")
# A phone run may not start inside a word, amount, path, ID ("NW-482913") or time ("09:32"); a group followed by
# '%', ':' or ",<digit>" is a percentage, time or amount.
_GROUP_END = r"(?![\w\[%:]|,[0-9])"
_PHONE_GROUP = rf"(?:\([0-9]{{1,4}}\)|[0-9]++{_GROUP_END})"
_PHONE_RUN = re.compile(
    r"[+(0-9](?<![\w\].,$£€¥#/+-].)(?<![0-9\]]:.)"  # first character and the one before it
    r"(?=[0-9 ().-]{6})"  # too short for 7 digits: skip before any Python code runs
    rf"(?:(?<=\+){_PHONE_GROUP}|(?<=\()[0-9]{{1,4}}\)|(?<=[0-9])[0-9]*+{_GROUP_END})"
    rf"(?:[ .-]?{_PHONE_GROUP})*"
)
_PHONE_SEP = re.compile("( )")
_DIGIT_GROUP = re.compile(r"\(?[0-9]+\)?")
_ZIP_PLUS_4 = re.compile(r"[0-9]{5}-[0-9]{4}")
_NAME = re.compile(r"[A-Z][A-Z0-9_]*")
_BUILTIN_NAMES = ("EMAIL", "IBAN", "CARD", "PHONE", "NAME")

# Characters folded before matching: full-width digits and signs ("５", "＠", "－"; full-width letters are left as
# they are, \w matches them) and digits of other scripts.
_FOLDABLE = re.compile(r"[\uff01-\uff20\uff3b-\uff40\uff5b-\uff5e]|(?![0-9])\d")

# Spelled-out emails. "at" in brackets marks an address on its own; a bare " at " only with a spelled-out " dot "
# before a common top-level domain, since "I shopped at amazon.com" is prose.
_AT_BRACKETED = r"\s*[\[({<]\s*at\s*[\])}>]\s*"
_DOT_SPELLED = r"(?:\s*[\[({<]\s*dot\s*[\])}>]\s*|\s+dot\s+)"
_DOT_ANY = rf"(?:{_DOT_SPELLED}|\.)"
_LABEL = r"[^\W_][\w-]*"
_TLDS = r"(?:com|net|org|edu|gov|info|biz|io|co|uk|us|ca|au|de|fr|es|it|nl|in|me|ie)"
_SPELLED_EMAIL = re.compile(
    rf"(?<![\w.+-])[\w+-]+(?:{_DOT_ANY}[\w+-]+)*"
    rf"(?:{_AT_BRACKETED}{_LABEL}(?:{_DOT_ANY}{_LABEL})*{_DOT_ANY}[^\W\d_]{{2,}}"
    rf"|\s+at\s+{_LABEL}(?:{_DOT_ANY}{_LABEL})*{_DOT_SPELLED}{_TLDS})(?![\w\[])",
    re.IGNORECASE,
)
_AT_MARKS = ("at]", "at)", "at}", "at>", "at ]", "at )", "at }", "at >")
_SPELLED_HINT = re.compile(r"[\[({<]\s*at\s*[\])}>]|\sdot\s", re.IGNORECASE)

# Names: up to three capitalised words after the phrase (or one word of any case after "my name is").
_NAME_WORD = r"[^\W\d_][^\W\d_'’-]*(?:['’-][^\W\d_]+)?"
_NAME_AFTER = re.compile(
    rf"\b(?P<cue>my name is|my name's|name's|i am|i'm|i’m|this is|call me)\s+"
    rf"(?P<name>{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,2}})",
    re.IGNORECASE,
)
_CUES = ("my name", "name's", "i am", "i'm", "i’m", "this is", "call me")
# Words after a cue that are no name ("my name is not on the account", "call me Monday").
_NOT_NAMES = frozenset(
    {"a", "an", "and", "as", "at", "for", "from", "in", "is", "isn't", "not", "now", "of", "on", "the", "to"}
    | {"was", "with", "has", "had", "still", "also", "just", "listed", "spelled", "wrong", "correct", "missing"}
    # capitalised, and not in the lexicon in lower case: "call me Monday"
    | {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "today", "tomorrow"}
    | {"january", "february", "march", "april", "may", "june", "july", "august", "september", "october"}
    | {"november", "december"}
)

# libphonenumber's finds that are other numbers: dates, and groups a phone number is not written in.
_DATE_LIKE = re.compile(r"\d{4}[-/. ]\d{1,2}[-/. ]\d{1,2}|\d{1,2}[-/. ]\d{1,2}[-/. ]\d{2,4}")
_DIGITS = re.compile(r"[0-9]+")
# Two or more groups of digits joined by spaces, parentheses, slashes or dashes (a dot ends a run: decimals,
# sections); one compact run is an order number, or the phone rule's when it starts with "+".
# (A character class first: with an optional "+" or "(" in front, `re` would try every position in Python.)
_PHONE_CANDIDATE = re.compile(r"[0-9(+][0-9]*\)?(?:(?: {1,2}|[/-]|\) ?| ?\()[0-9]+\)?)+")
PhoneLeniency = Literal["possible", "valid"]


@dataclass(frozen=True)
class Redaction:
    """Redacted text and how many placeholders of each type were inserted."""

    text: str
    counts: dict[str, int] = field(default_factory=dict)


def _redact_emails(text: str) -> str:
    """Replace email addresses, scanning only the stretch of text around the '@' signs."""
    # The lookbehind-led scan is slow and an email never spans a space: scan from the word with the first '@' to
    # the word with the last.
    if "@" not in text:
        return text
    start = text.rfind(" ", 0, text.find("@")) + 1
    end = text.find(" ", text.rfind("@")) % (len(text) + 1)  # -1 (no space) -> len(text)
    return text[:start] + _EMAIL.sub("[EMAIL]", text[start:end]) + text[end:]


def _iban_ok(compact: str) -> bool:
    """ISO 13616 mod-97: move the first four characters to the end, letters become 10-35."""
    if not 15 <= len(compact) <= 34:
        return False
    return int((compact[4:] + compact[:4]).upper().translate(_LETTER_VALUES)) % 97 == 1


def _valid_iban_length(candidate: str) -> int:
    """Length of the longest valid IBAN that `candidate` starts with, 0 if none."""
    # Printed in groups, a candidate can run on into ordinary words ("... 7034 THEN").
    tokens = _IBAN_SEP.split(candidate)
    groups = tokens[0::2]
    for end in range(len(groups), 0, -1):
        if _iban_ok("".join(groups[:end])):
            return len("".join(tokens[: 2 * end - 1]))
    return 0


def _redact_ibans(text: str) -> str:
    """Replace IBANs, resuming the scan where each one really ends."""
    if not _IBAN_HINT.search(text):
        return text
    out: list[str] = []
    kept = scan = 0
    while (match := _IBAN.search(text, scan)) is not None:
        length = _valid_iban_length(match.group())
        if length:
            out += [text[kept : match.start()], "[IBAN]"]
            kept = scan = match.start() + length
        else:
            scan = match.start() + 1  # an IBAN may start at a later group of this one
    return "".join(out) + text[kept:]


def _luhn_ok(digits: str) -> bool:
    """Luhn checksum: every second digit from the right is doubled (digit sum, 7 -> 1+4)."""
    doubled = digits[-2::-2].translate(_LUHN_DOUBLED)
    return sum(map(int, digits[-1::-2] + doubled)) % 10 == 0


def _card_can_start(group: str) -> bool:
    """A card starts with a 4-digit group or is compact; none starts with 0 (ISO 7812)."""
    return group[0] != "0" and (len(group) == 4 or 13 <= len(group) <= 19)


def _is_card(groups: Sequence[str]) -> bool:
    """13-19 digits, compact or printed like 4-4-4-4 / 4-6-5, passing Luhn."""
    middle_ok = all(4 <= len(group) <= 6 for group in groups[1:-1])
    if len(groups) > 1 and (len(groups[0]) != 4 or len(groups[-1]) > 6 or not middle_ok):
        return False
    digits = "".join(groups)
    return 13 <= len(digits) <= 19 and _luhn_ok(digits)


def _replace_spans(
    tokens: Sequence[str],
    tag: str,
    can_start: Callable[[str], bool],
    is_match: Callable[[Sequence[str]], bool],
    max_parts: int,
) -> str:
    """Replace the leftmost-longest matching spans of parts; `tokens` is part, sep, part..."""
    parts = tokens[0::2]
    out: list[str] = []
    index = 0
    while index < len(parts):
        end = 0
        if can_start(parts[index]):  # a cheap filter that keeps long lists of numbers fast
            ends = range(min(len(parts), index + max_parts), index, -1)
            end = next((end for end in ends if is_match(parts[index:end])), 0)
        out.append(tag if end else parts[index])
        index = end or index + 1
        if index < len(parts):
            out.append(tokens[2 * index - 1])
    return "".join(out)


def _replace_cards(match: re.Match[str]) -> str:
    """Replace each card (at most five groups, 4-4-4-4-3) in a run, keeping other numbers."""
    return _replace_spans(_CARD_SEP.split(match.group()), "[CARD]", _card_can_start, _is_card, 5)


def _phone_shape_ok(run: str, groups: Sequence[str]) -> bool:
    """Separators and group sizes that phone numbers use and dates/versions/lists don't."""
    sizes = [len(group.strip("()")) for group in groups]
    parens = [index for index, group in enumerate(groups) if group.startswith("(")]
    if len(parens) > 1 or (parens and parens[0] == len(groups) - 1) or sizes.count(1) > 1:
        return False
    if "." in run:
        # Dotted numbers are phones only as all-dot short groups, unlike "10.0.19045.2965".
        return not parens and " " not in run and "-" not in run and max(sizes) <= 4
    return True


def _is_phone(run: str) -> bool:
    """Apply the phone rule described in the module docstring."""
    groups = _DIGIT_GROUP.findall(run)
    if not _phone_shape_ok(run, groups):
        return False
    digits = "".join(group.strip("()") for group in groups)
    if run.startswith("+"):
        return 7 <= len(digits) <= 15
    if digits.startswith("00"):
        return 9 <= len(digits) <= 17 and digits[2] != "0"
    if digits.startswith("0"):
        # "0000482913" is a padded ID and "02134-1234" a ZIP+4, not phone numbers.
        return 9 <= len(digits) <= 13 and digits[1] != "0" and not _ZIP_PLUS_4.fullmatch(run)
    # North American 3-3-4 after an optional "1", only the area code in parentheses.
    nanp = groups[1:] if groups[0] == "1" else groups
    return [len(group.strip("()")) for group in nanp] == [3, 3, 4] and ")" not in nanp[1] + nanp[2]


def _phone_can_start(chunk: str) -> bool:
    """Only '+', '(', a trunk '0', NANP's "1-" or an area code start a phone number."""
    # A lone "1" chunk is not allowed to start one: "1 1 1 ..." would then cost O(n * 6).
    area_code = len(chunk) >= 3 and chunk[:3].isdigit() and chunk[3:4] in ("", "-", ".")
    return chunk[0] in "+(0" or chunk[:2] in ("1-", "1.") or area_code


def _is_phone_span(chunks: Sequence[str]) -> bool:
    """Whether space-separated chunks of a run form one phone number."""
    # Fewer than 7 characters cannot hold 7 digits; skips the parse for lists like "1 2 3".
    return sum(map(len, chunks)) >= 7 and _is_phone(" ".join(chunks))


def _replace_phones(match: re.Match[str]) -> str:
    """Replace phone numbers in a run split at spaces only, so "2026-09-14" stays whole."""
    # Six chunks cover the longest common layout, "+33 1 23 45 67 89".
    return _replace_spans(_PHONE_SEP.split(match.group()), "[PHONE]", _phone_can_start, _is_phone_span, 6)


def _fold(text: str) -> str:
    """Full-width forms and other scripts' digits as ASCII (NFKC, then the digit's value), the rest as it is."""
    if text.isascii():
        return text

    def ascii_form(match: re.Match[str]) -> str:
        char = unicodedata.normalize("NFKC", match.group())
        return str(unicodedata.decimal(char)) if char.isdecimal() and not char.isascii() else char

    return _FOLDABLE.sub(ascii_form, text)


def _redact_spelled_emails(text: str) -> str:
    """Replace addresses written to dodge filters: "john.doe[at]example.com", "jo at example dot com"."""
    lower = text.lower()  # substring tests in C before any regex: most texts have neither "dot" nor "at)"
    if "dot" not in lower and not any(mark in lower for mark in _AT_MARKS) or not _SPELLED_HINT.search(text):
        return text
    return _SPELLED_EMAIL.sub("[EMAIL]", text)


def _replace_glued_card(match: re.Match[str]) -> str:
    digits = match.group()
    return "[CARD]" if _luhn_ok(digits) else digits


def _redact_library_phones(text: str, region: str, leniency: PhoneLeniency) -> str:
    """Replace the phone numbers libphonenumber finds that the phone rule left (national formats)."""
    # The matcher picks candidates by their surroundings, which a replacement changes: repeat until nothing
    # more is found, so that redacting the result again finds nothing either.
    while True:
        replaced = _library_phone_pass(text, region, leniency)
        if replaced == text:
            return text
        text = replaced


def _library_phone_pass(text: str, region: str, leniency: PhoneLeniency) -> str:
    """One scan of libphonenumber's matcher over the runs of digits and separators that could hold a number."""
    level = phonenumbers.Leniency.VALID if leniency == "valid" else phonenumbers.Leniency.POSSIBLE
    out: list[str] = []
    kept = 0
    # The matcher is slow (it parses every digit run it meets); only runs with 7 digits in 2 groups reach it.
    for run in _PHONE_CANDIDATE.finditer(text):
        if sum(map(run.group().count, "0123456789")) < 7:
            continue
        for match in phonenumbers.PhoneNumberMatcher(run.group(), region, leniency=level):
            start = run.start() + match.start
            if start >= kept and _is_library_phone(text, start, match.raw_string):
                out += [text[kept:start], "[PHONE]"]
                kept = run.start() + match.end
    return "".join(out) + text[kept:] if out else text


def _is_library_phone(text: str, start: int, raw: str) -> bool:
    """Whether a number libphonenumber found is written like a phone number rather than an ID, date or amount."""
    groups = _DIGITS.findall(raw)
    digits = sum(map(len, groups))
    before = text[start - 1 : start]  # "]": a tag counts as a word, so redacting again changes nothing
    if not 7 <= digits <= 15 or "[" in raw or (before and (before.isalnum() or before in "#$£€¥.,/-_]")):
        return False
    if raw.startswith("+"):
        return True
    if "." in raw:
        return False  # a decimal or a section ("Revised Code 4112.021"); dotted phone numbers are the rule's
    # One run of digits is an order or account number, also after a one-digit prefix ("AA Ref 1-2990176298");
    # dates and lists of small numbers are not phone numbers.
    if len(groups) < 2 or digits - max(map(len, groups)) <= 1:
        return False
    return sum(len(g) == 1 for g in groups) <= 1 and not _DATE_LIKE.search(raw)


@functools.cache
def _lexicon() -> tuple[frozenset[str], frozenset[str]]:
    """(every lower-case English word, those that are not nouns) from TextBlob's tagged lexicon."""
    words: set[str] = set()
    not_nouns: set[str] = set()
    # Found without importing textblob, which imports NLTK (seconds).
    spec = importlib.util.find_spec("textblob")
    assert spec is not None and spec.submodule_search_locations
    lexicon = Path(spec.submodule_search_locations[0]) / "en" / "en-lexicon.txt"
    for line in lexicon.read_text(encoding="utf-8").splitlines():
        word, _, tag = line.partition(" ")
        if word.islower():
            words.add(word)
            if not tag.startswith("NN"):
                not_nouns.add(word)
    return frozenset(words), frozenset(not_nouns)


def _is_titled(word: str) -> bool:
    return word[0].isupper() and (len(word) == 1 or word[1:].replace("'", "").replace("-", "").islower())


def _name_words(cue: str, words: list[str]) -> int:
    """How many of the words after a cue are a name."""
    everything, not_nouns = _lexicon()
    first, base = words[0], _base(words[0])
    if base in _NOT_NAMES:
        return 0
    if cue.startswith(("my name", "name")):
        if not _is_titled(first) and base in not_nouns:
            return 0  # "under my name is concerning"; "my name is john" is a name
    elif not _is_titled(first):
        return 0
    elif base in everything:
        # "This is Delta", "I am Platinum", "I'm Group 2": only a word that is no English word is a name (so
        # "I am Mark" is kept too: on real tweets, capitalised nouns after "I am" were mostly not names)
        return 0
    count = 1
    while count < len(words) and _is_titled(words[count]) and _base(words[count]) not in not_nouns:
        count += 1
    return count


def _base(word: str) -> str:
    """A word as the lexicon lists it: lower case, without a possessive "'s"."""
    return word.lower().replace("’", "'").removesuffix("'s")


def _redact_names(text: str) -> str:
    """Replace names after an introduction; the regex is tried only where str.find saw a cue (much faster)."""
    lower = text.lower()
    if len(lower) == len(text):
        starts = sorted({pos for cue in _CUES for pos in _find_all(lower, cue)})
    else:  # lower-casing changed offsets (e.g. "İ"): try every word start
        starts = [m.start() for m in re.finditer(r"\b\w", text)]
    out: list[str] = []
    kept = 0
    for pos in starts:
        match = _NAME_AFTER.match(text, pos) if pos >= kept else None
        span = _name_span(match) if match else None
        if span:
            out += [text[kept : span[0]], "[NAME]"]
            kept = span[1]  # the words after the name are scanned again ("I am Sam and this is Okafor")
    return "".join(out) + text[kept:] if out else text


def _find_all(text: str, part: str) -> list[int]:
    """Every position where `part` starts in `text`."""
    found: list[int] = []
    pos = text.find(part)
    while pos >= 0:
        found.append(pos)
        pos = text.find(part, pos + 1)
    return found


def _name_span(match: re.Match[str]) -> tuple[int, int] | None:
    """Where the name after a cue starts and ends in the text, or None if the words after it are no name."""
    words = match.group("name").split()
    count = _name_words(match.group("cue").lower().replace("’", "'"), words)
    if not count:
        return None
    rest, cut = match.group("name"), 0
    for word in words[:count]:
        cut = rest.index(word, cut) + len(word)
    return match.start("name"), match.start("name") + cut


def _redact_builtins(text: str, region: str = "US", leniency: PhoneLeniency = "possible") -> str:
    """Apply the built-in types in order, over tags too: none can match or cross a "[NAME]" tag."""
    text = _redact_emails(_fold(text))
    text = _redact_spelled_emails(text)
    text = _redact_names(text)
    if not any(digit in text for digit in "0123456789"):
        return text  # IBANs, cards and phone numbers all contain digits
    text = _CARD_RUN.sub(_replace_cards, _redact_ibans(text))
    text = _GLUED_CARD.sub(_replace_glued_card, text)
    text = _PHONE_RUN.sub(_replace_phones, text)
    return _redact_library_phones(text, region, leniency)


def _compile_extra(name: str, pattern: str) -> re.Pattern[str]:
    """Check one user-configured pattern, raising ValueError that names what is wrong."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"extra pattern name {name!r} is invalid: use A-Z, 0-9 and _, starting with a letter")
    if name in _BUILTIN_NAMES:
        raise ValueError(f"extra pattern name {name!r} is reserved for a built-in type")
    if _redact_builtins(f"[{name}]") != f"[{name}]":  # e.g. a name that is a valid IBAN
        raise ValueError(f"extra pattern name {name!r} would itself be redacted as PII")
    if not isinstance(pattern, str):
        raise ValueError(f"extra pattern {name!r} must be a string, not {type(pattern).__name__}")
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"extra pattern {name!r} is not a valid regex {pattern!r}: {exc}") from exc


def _tag_non_empty(tag: str) -> Callable[[re.Match[str]], str]:
    """Replacement with `tag`; empty matches (e.g. from "[0-9]*") stay empty, not tags."""
    return lambda match: tag if match.group() else ""


class Redactor:
    """Replaces PII with typed placeholders like [EMAIL]."""

    def __init__(
        self,
        extra_patterns: Mapping[str, str] | None = None,
        *,
        phone_region: str = "US",
        phone_leniency: PhoneLeniency = "possible",
    ) -> None:
        """Compile user patterns once; raise ValueError naming any bad name or regex."""
        self.phone_region = phone_region
        self.phone_leniency = phone_leniency
        extras = (extra_patterns or {}).items()
        self._extras = tuple((_compile_extra(name, pattern), _tag_non_empty(f"[{name}]")) for name, pattern in extras)
        self._names = _BUILTIN_NAMES + tuple(name for name, _ in extras)
        # A capturing split puts tags at odd indexes, where user patterns never see them.
        self._tags = re.compile("(" + "|".join(re.escape(f"[{n}]") for n in self._names) + ")")

    def redact(self, text: str) -> Redaction:
        """Redact `text`: built-in types first, then the extra patterns in config order."""
        out = _redact_builtins(text, self.phone_region, self.phone_leniency)
        for pattern, replace in self._extras:
            parts = self._tags.split(out)
            parts[0::2] = [pattern.sub(replace, part) for part in parts[0::2]]
            out = "".join(parts)
        if "[" not in out:  # no tag at all (most texts): nothing was redacted
            return Redaction(out, {})
        # Every insertion adds exactly one tag and nothing removes one, so each tag count's growth is the count.
        counts = {name: out.count(f"[{name}]") - _fold(text).count(f"[{name}]") for name in self._names}
        return Redaction(out, {name: count for name, count in counts.items() if count})


_DEFAULT = Redactor()


def redact(text: str) -> str:
    """Redact with the built-in patterns only."""
    return _DEFAULT.redact(text).text
