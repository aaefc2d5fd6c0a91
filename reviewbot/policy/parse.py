"""Parse a policy document (Markdown with optional YAML front matter) into sections and sign-off settings."""

from __future__ import annotations

import difflib
import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from markdown_it import MarkdownIt

from reviewbot.errors import PolicyError
from reviewbot.names import ASCII_HINT, foreign_character
from reviewbot.paths import printable_name

# The front matter keys a policy may use; anything else is most likely a typo, so it is an error.
TOP_LEVEL_KEYS = ("id", "title", "owner", "approvers", "sign_off", "review_interval_days", "last_reviewed", "sections")
SECTION_KEYS = ("owner", "approvers", "sign_off", "review_interval_days", "last_reviewed", "keywords")
_INHERITED = ("owner", "approvers", "sign_off", "review_interval_days", "last_reviewed")
_EXAMPLES = {
    "id": "customer-service-policy",
    "title": "Customer Service Policy",
    "owner": "compliance-lead",
    "approvers": "compliance-lead, finance-lead",
    "keywords": "refund, money back",
}

_MD = MarkdownIt("commonmark")
# A document id names its published files: no path separators, no leading dot ("..", hidden files), no controls
_FILE_NAME_ID = re.compile(r"[^./\\\x00-\x1f\x7f][^/\\\x00-\x1f\x7f]{0,199}")
# Only the plain form: `date.fromisoformat` would also take `20260301` or `2026-W09-1`.
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
EARLIEST_REVIEW = date(1900, 1, 1)  # older is a placeholder, not a review
# `{#id}` (Pandoc style), plus the kramdown form `{: #id }` that real policies (Mozilla's) use.
_EXPLICIT_ID = re.compile(r"\s*\{:?\s*#([A-Za-z0-9][A-Za-z0-9_.:-]*)\s*\}\s*$")
T = TypeVar("T")
_INVALID = object()  # a front matter value found wrong (and noted): left out
_MEANT_AS_ID = re.compile(r"\s*(\{:?\s*#[^{}]*\})\s*$")  # what is left at a heading's end that tried to be one
_ROMAN = r"(?=[MDCLXVI])M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})"
# Numbering needs punctuation (or a label word such as "Section") so that headings which merely
# start with a number ("24 hour support") keep it; letters and numerals must be upper case so that
# "a. " style prose is not mistaken for numbering.
_NUMBERING = re.compile(
    rf"^(?:(?i:section|sect?\.|article|art\.|chapter|part|clause)\s*|§\s*)(?:\d+(?:\.\d+)*|{_ROMAN}|[A-Z])"
    r"\.?\s*[:.)\-\u2013\u2014]?\s+"
    rf"|^(?:\d+(?:\.\d+)+\.?|\d+[.)]|(?:{_ROMAN}|[A-Z])[.)])\s+"
)


@dataclass(frozen=True)
class SignOffRule:
    """How many of a section's approvers must approve a change: all of them or a fixed count."""

    mode: Literal["all", "count"]
    count: int | None = None

    def __post_init__(self) -> None:
        valid_count = isinstance(self.count, int) and not isinstance(self.count, bool) and self.count >= 1
        if (self.mode, self.count is None) != ("all", True) and (self.mode != "count" or not valid_count):
            raise ValueError(f"invalid sign-off rule: mode={self.mode!r}, count={self.count!r}")

    def required(self, approvers: int) -> int:
        """Number of approvals needed when there are `approvers` approvers."""
        if self.mode == "all":
            return approvers
        assert self.count is not None
        # Silently lowering the bar would let a change through with fewer approvals than the policy asks.
        if self.count > approvers:
            raise ValueError(f"sign-off needs {self.count} approvals but only {approvers} approvers exist")
        return self.count


@dataclass(frozen=True)
class PolicySectionText:
    """One section of a policy: its heading, own body text and resolved sign-off settings."""

    id: str
    heading: str
    level: int
    parent_id: str | None
    line: int
    body: str
    owner: str | None
    approvers: tuple[str, ...]
    sign_off: SignOffRule
    review_interval_days: int | None
    # Keyword-only with a default so that code building these by hand keeps working.
    last_reviewed: date | None = field(default=None, kw_only=True)
    keywords: tuple[str, ...]

    @property
    def content_hash(self) -> str:
        """SHA-256 hex digest of the heading and body, to notice when a section's text changes."""
        return hashlib.sha256(f"{self.heading}\n{self.body}".encode()).hexdigest()


@dataclass(frozen=True)
class ParsedPolicy:
    """A parsed policy document with its defaults, preamble and sections in document order."""

    id: str
    title: str
    path: str
    owner: str | None
    approvers: tuple[str, ...]
    sign_off: SignOffRule
    review_interval_days: int | None
    last_reviewed: date | None = field(default=None, kw_only=True)
    preamble: str
    sections: tuple[PolicySectionText, ...]
    content_hash: str
    source: str
    body_line: int = field(default=1, kw_only=True)  # 1-based line of `source` where the Markdown starts

    @property
    def markdown(self) -> str:
        """The document as written, without its front matter."""
        return "\n".join(self.source.split("\n")[self.body_line - 1 :])

    def section(self, section_id: str) -> PolicySectionText:
        """The section with this id; KeyError if there is none."""
        for section in self.sections:
            if section.id == section_id:
                return section
        raise KeyError(section_id)


@dataclass(frozen=True)
class _Heading:
    level: int
    start: int  # 0-based index of the heading's first source line
    end: int  # 0-based index just past the heading (setext headings span two lines)
    text: str  # inline Markdown as written, whitespace collapsed, without the explicit id
    explicit_id: str | None
    line: int  # 1-based, for messages and PolicySectionText.line


@dataclass(frozen=True)
class _FrontMatter:
    data: dict[str, Any]
    key_lines: dict[tuple[str, ...], int]  # key path -> 1-based file line, for error messages
    body_start: int  # 0-based index of the first Markdown line


# A resolved setting remembers which front matter key it came from, so errors can point there.
_Settings = dict[str, tuple[Any, tuple[str, ...]]]
_DEFAULTS: dict[str, Any] = {
    "owner": None,
    "approvers": (),
    "sign_off": SignOffRule("all"),
    "review_interval_days": None,
    "last_reviewed": None,
}


class NotAPolicyError(PolicyError):
    """A Markdown file with neither front matter nor headings: not a policy (a licence, notes), skipped by a sync."""


class _Reporter:
    """Builds PolicyErrors for one file, pointing at a source line or a front matter key."""

    def __init__(self, path: str, key_lines: dict[tuple[str, ...], int] | None = None) -> None:
        self.path, self.key_lines = path, key_lines or {}
        self.problems: list[PolicyError] = []  # mistakes noted to go on reading: all are reported at once

    def noted(self, call: Callable[[], T], fallback: T) -> T:
        """`call()`, or `fallback` after noting its PolicyError: the rest of the file is still checked."""
        try:
            return call()
        except PolicyError as exc:
            self.problems.append(exc)
            return fallback

    def raise_noted(self) -> None:
        """Raise the first mistake noted, carrying the others."""
        # a mistake every section inherits (the document's sign_off) is found once per section: said once
        first_of: dict[tuple[int | None, str | None, str], PolicyError] = {}
        for problem in self.problems:
            first_of.setdefault((problem.line, problem.field, problem.message), problem)
        unique = list(first_of.values())
        if unique:
            first, *others = unique
            first.more = tuple(others)
            raise first

    def at(self, line: int | None, field: str | None, message: str, hint: str) -> PolicyError:
        return PolicyError(message, file=self.path, line=line, field=field, hint=hint)

    def error(self, key: tuple[str, ...], message: str, hint: str) -> PolicyError:
        # Fall back to an enclosing key's line when the exact key has none recorded.
        lines = self.key_lines
        line = next((lines[key[:n]] for n in range(len(key), 0, -1) if key[:n] in lines), None)
        return self.at(line, ".".join(key), message, hint)


def slugify(text: str) -> str:
    """Lowercase ASCII slug: accents folded, every other non-alphanumeric run turned into one `-`."""
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")


def parse_policy(text: str, path: str = "<policy>") -> ParsedPolicy:
    """Parse policy text; `path` names the file in errors and gives the default id and title."""
    source = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not source.strip():
        raise _Reporter(path).at(None, None, "policy file is empty", "add a heading per section, e.g. `## Refunds`")
    lines = source.split("\n")
    front = _read_front_matter(lines, _Reporter(path))
    report = _Reporter(path, front.key_lines)
    # Mistakes in the front matter, the headings and the sections are independent: each part is checked even when
    # another has one, and all are reported together (one at a time, a file took a sync per mistake to fix).
    parsed = report.noted(lambda: _parse_body(source, lines, front, path, report), None)
    report.raise_noted()
    assert parsed is not None
    return parsed


def _parse_body(source: str, lines: list[str], front: _FrontMatter, path: str, report: _Reporter) -> ParsedPolicy:
    meta = _clean(front.data, TOP_LEVEL_KEYS, (), report)
    found = _find_headings(lines, front.body_start)
    if not found and front.body_start == 0:
        # A LICENSE.md or notes kept beside the policies in their repository: without front matter or a single
        # heading a file cannot be a policy, and saying "policy has no sections" every sync was noise.
        raise NotAPolicyError(
            "no front matter and no heading: not read as a policy",
            file=path,
            hint="a policy has a heading per section, e.g. `## Refunds`; other Markdown files may stay in the "
            "folder (or list them in policies_exclude)",
        )
    _check_explicit_ids(found, report)
    title_heading, headings = _split_title(found, report)
    defaults: _Settings = {key: (meta.get(key, _DEFAULTS[key]), (key,)) for key in _INHERITED}
    report.noted(lambda: _check_sign_off(defaults, report), None)
    # The preamble is everything between the front matter and the first section, minus the title.
    skip = range(title_heading.start, title_heading.end) if title_heading else range(0)
    preamble = [line for i, line in enumerate(lines[: headings[0].start]) if i >= front.body_start and i not in skip]
    title = plain_text(title_heading.text).strip() if title_heading else ""
    return ParsedPolicy(
        id=meta.get("id") or _default_id(path, report),
        title=meta.get("title") or title or Path(path).stem,
        path=path,
        preamble="\n".join(preamble).strip(),
        sections=_build_sections(headings, lines, meta.get("sections", {}), defaults, report),
        content_hash=hashlib.sha256(source.encode()).hexdigest(),
        source=source,
        body_line=front.body_start + 1,
        **{key: value for key, (value, _) in defaults.items()},
    )


def load_policy(path: Path) -> ParsedPolicy:
    """Read a UTF-8 policy file and parse it."""
    report = _Reporter(printable_name(str(path)))
    if printable_name(path.name) != path.name:  # stored as the document's path, and named in every message
        raise report.at(
            None,
            None,
            "the file name holds a byte that is not UTF-8 or a control character",
            "rename the file with letters, digits, '-' and '_', e.g. `policies/service-policy.md`",
        )
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise report.at(
            None,
            None,
            f"cannot read policy file: {exc.strerror or exc}",
            "check the path; a policy is a Markdown file such as `policies/service.md`",
        ) from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise report.at(
            data[: exc.start].count(b"\n") + 1,
            None,
            "policy file is not valid UTF-8",
            "re-save the file with UTF-8 encoding (most editors offer this under 'Save as')",
        ) from exc
    return parse_policy(text, str(path))


def _read_front_matter(lines: list[str], report: _Reporter) -> _FrontMatter:
    if lines[0].rstrip() != "---":
        return _FrontMatter({}, {}, 0)
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() == "---"), None)
    if end is None:
        raise report.at(
            1,
            "front matter",
            "front matter is not terminated",
            "end the front matter with a line containing only `---`",
        )
    yaml_text = "\n".join(lines[1:end])
    try:
        data = yaml.load(yaml_text, Loader=_Loader)  # _Loader is a SafeLoader
        node = yaml.compose(yaml_text, Loader=_Loader)  # loading drops positions; nodes keep them
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, report) from exc
    except RecursionError:  # PyYAML composes nested lists and mappings recursively
        raise report.at(2, "front matter", "front matter nests lists or mappings too deeply", "flatten them") from None
    if data is not None and not isinstance(data, dict):
        raise report.at(
            2,
            "front matter",
            f"front matter must be a mapping, not a {type(data).__name__}",
            "write one `key: value` per line, e.g. `owner: compliance-lead`",
        )
    return _FrontMatter(data or {}, _key_lines(node, 2), end + 1)


class _Loader(yaml.SafeLoader):
    """A SafeLoader that keeps an impossible date such as `2026-02-30` as text instead of crashing."""


def _timestamp_or_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    # PyYAML raises a bare ValueError for these; as text, validation reports them with file, line and key.
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)


def _yaml_error(exc: yaml.YAMLError, report: _Reporter) -> PolicyError:
    # The YAML starts on file line 2, just after the opening `---`; marks are 0-based.
    mark, start = getattr(exc, "problem_mark", None), getattr(exc, "context_mark", None)
    problem, context = getattr(exc, "problem", None) or str(exc), getattr(exc, "context", None)
    if context and start and mark and start.line != mark.line:  # e.g. a `[` left open lines earlier
        problem += f" ({context} that starts on line {start.line + 2})"
    mark = mark or start
    return report.at(
        mark.line + 2 if mark else 1,
        "front matter",
        f"front matter is not valid YAML: {problem}",
        "check the indentation (spaces, not tabs), close brackets and quotes, and quote values "
        "that contain `: ` or ` #`",
    )


def _key_lines(node: yaml.Node | None, first_line: int, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], int]:
    found: dict[tuple[str, ...], int] = {}
    if isinstance(node, yaml.MappingNode) and len(prefix) < 3:
        for key, value in node.value:
            path = (*prefix, str(key.value))
            found[path] = key.start_mark.line + first_line
            found.update(_key_lines(value, first_line, path))
    return found


def _clean(
    data: dict[Any, Any], allowed: tuple[str, ...], prefix: tuple[str, ...], report: _Reporter
) -> dict[str, Any]:
    """Check the keys of a front matter mapping and validate its values; empty values count as absent.

    At the top level, keys of other tools (`layout`, `redirect_from`, ...) are ignored unless they look like
    a typo of ours; inside a section override every key must be ours.
    """
    unknown = [key for key in map(str, data) if key not in allowed]
    # A cutoff of 0.7 rather than 0.6 stops `versions` (a docs-site key) being "corrected" to `sections`.
    guesses = {key: close[0] for key in unknown if (close := difflib.get_close_matches(key, allowed, n=1, cutoff=0.7))}
    bad = unknown if prefix else list(guesses)
    if bad:  # report them all at once, since front matter copied from elsewhere often has several
        guess = ", ".join(f"`{key}` -> `{guesses[key]}`" for key in bad if key in guesses)
        raise report.error(
            (*prefix, bad[0]),
            f"unknown key{'s' * (len(bad) > 1)} `{'`, `'.join(bad)}`",
            (f"did you mean {guess}? " if guess else "") + f"allowed keys are {', '.join(allowed)}",
        )
    clean = {}
    for key, value in data.items():
        if value is not None and str(key) in allowed:
            where = (*prefix, str(key))
            checked = report.noted(lambda k=str(key), v=value, w=where: _validate(k, v, w, report), _INVALID)
            if checked is not _INVALID:
                clean[str(key)] = checked
    return clean


def _validate(key: str, value: Any, where: tuple[str, ...], report: _Reporter) -> Any:
    if key in ("id", "title", "owner"):
        if not isinstance(value, str) or not value.strip():
            raise report.error(where, f"{key} must be a non-empty string", f"e.g. `{key}: {_EXAMPLES[key]}`")
        if key == "id" and not _FILE_NAME_ID.fullmatch(value.strip()):
            raise report.error(
                where,
                "id names the published files (publish/ID-v2.md): it may not start with '.', hold '/', '\\' or "
                "control characters, or be longer than 200 characters",
                f"e.g. `id: {_EXAMPLES['id']}`",
            )
        if key == "owner":
            _check_person(value.strip(), where, report)
        return value.strip()
    if key in ("approvers", "keywords"):
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise report.error(where, f"{key} must be a list of strings", f"e.g. `{key}: [{_EXAMPLES[key]}]`")
        items = tuple(v.strip() for v in value)
        # A repeated approver would count twice towards sign-off.
        if key == "approvers" and len(set(items)) < len(items):
            twice = next(v for v in items if items.count(v) > 1)
            raise report.error(where, f"approvers lists `{twice}` more than once", "list each approver once")
        for item in items if key == "approvers" else ():
            _check_person(item, where, report)
        return items
    if key == "review_interval_days" and not _positive_int(value):
        raise report.error(
            where,
            f"review_interval_days must be a positive whole number, not {value!r}",
            "e.g. `review_interval_days: 365`",
        )
    if key == "last_reviewed":
        return _review_date(value, where, report)
    if key == "sign_off":
        if value != "all" and not _positive_int(value):
            raise report.error(
                where,
                f"sign_off must be `all` or a positive whole number, not {value!r}",
                "use `sign_off: all`, or e.g. `sign_off: 2` when any two approvers suffice",
            )
        return SignOffRule("all") if value == "all" else SignOffRule("count", value)
    if key == "sections":
        bad = None if isinstance(value, dict) else where
        bad = bad or next(
            ((*where, str(k)) for k, v in value.items() if v is not None and not isinstance(v, dict)), None
        )
        if bad:
            raise report.error(
                bad,
                "sections must map each section id to a mapping of settings",
                "e.g. `sections:` then `  refunds-and-returns:` then `    owner: finance-lead`",
            )
        return {str(k): _clean(v or {}, SECTION_KEYS, (*where, str(k)), report) for k, v in value.items()}
    return value


def _check_person(name: str, where: tuple[str, ...], report: _Reporter) -> None:
    """Refuse an owner or approver whose name could pass for another's (a Cyrillic letter in a Latin name)."""
    if (char := foreign_character(name)) is not None:
        message = f"{where[-1]} {name!r} is not plain ASCII: it holds {char}, which can pass for another letter"
        raise report.error(where, message, ASCII_HINT)


def _review_date(value: Any, where: tuple[str, ...], report: _Reporter) -> date:
    """A `date` from YAML's own date value or an ISO `YYYY-MM-DD` string."""
    hint = "e.g. `last_reviewed: 2026-03-01`"
    # A timestamp (a datetime, which is also a date) is refused: reviews are tracked by day.
    if isinstance(value, date) and not isinstance(value, datetime):
        return _plausible_review_date(value, where, report)
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value.strip()):
        shown = str(value) if isinstance(value, datetime) else repr(value)
        raise report.error(where, f"last_reviewed must be a date written YYYY-MM-DD, not {shown}", hint)
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise report.error(where, f"last_reviewed {value.strip()} is not a real date", hint) from None
    return _plausible_review_date(day, where, report)


def _plausible_review_date(day: date, where: tuple[str, ...], report: _Reporter) -> date:
    """`day`, unless no review happened then: version 1 takes effect and the review clocks start on it, so a typo
    such as 9999-12-31 or a placeholder 0001-01-01 would be stored for good (and break date arithmetic)."""
    hint = "give the day the text was last reviewed, e.g. `last_reviewed: 2026-03-01`"
    # a day's grace: the file may be written where it is already tomorrow in UTC
    if day > datetime.now(UTC).date() + timedelta(days=1):
        raise report.error(where, f"last_reviewed {day.isoformat()} is in the future", hint)
    if day < EARLIEST_REVIEW:
        raise report.error(where, f"last_reviewed {day.isoformat()} is before {EARLIEST_REVIEW.year}", hint)
    return day


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _check_sign_off(settings: _Settings, report: _Reporter) -> None:
    (rule, rule_key), (approvers, approvers_key) = settings["sign_off"], settings["approvers"]
    if rule.count is not None and rule.count > len(approvers):
        raise report.error(
            rule_key,
            f"sign_off needs {rule.count} approvals but {'.'.join(approvers_key)} "
            f"lists only {len(approvers)} approver(s)",
            f"lower sign_off to at most {len(approvers)}, use `sign_off: all`, or add approvers",
        )


def _find_headings(lines: list[str], body_start: int) -> list[_Heading]:
    """Top-level Markdown headings; ones in code blocks, quotes or lists are body text, not sections."""
    tokens = _MD.parse("\n".join(lines[body_start:]))
    headings = []
    for tok, inline in zip(tokens, tokens[1:], strict=False):
        if tok.type == "heading_open" and tok.level == 0 and tok.map:
            raw = " ".join(inline.content.split())  # setext headings may span lines
            match = _EXPLICIT_ID.search(raw)
            text = raw[: match.start()] if match else raw
            start, end = tok.map[0] + body_start, tok.map[1] + body_start
            headings.append(_Heading(int(tok.tag[1:]), start, end, text, match.group(1) if match else None, start + 1))
    return headings


def _check_explicit_ids(headings: list[_Heading], report: _Reporter) -> None:
    """A heading ending in something like `{#}` or `{#a b}` meant an id and wrote none: say so, rather than keep it
    as part of the heading (and of every ticket's title)."""
    for heading in headings:
        if heading.explicit_id is None and (meant := _MEANT_AS_ID.search(heading.text)):
            text = heading.text[: meant.start()]
            slug = slugify(_NUMBERING.sub("", plain_text(text))) or "an-id"
            report.problems.append(
                report.at(
                    heading.line,
                    "heading",
                    f"{meant.group(1)} at the end of heading {text!r} is not a section id",
                    "an id starts with a letter or digit, then letters, digits, '-', '_', '.' or ':', e.g. "
                    f"`{'#' * heading.level} {text} {{#{slug}}}`",
                )
            )


def _split_title(headings: list[_Heading], report: _Reporter) -> tuple[_Heading | None, list[_Heading]]:
    """The title heading, if any, and the section headings."""
    # A lone H1 at the top names the document; with several H1s they are ordinary top-level sections.
    titled = bool(headings) and headings[0].level == 1 and sum(h.level == 1 for h in headings) == 1
    title, sections = (headings[0], headings[1:]) if titled else (None, headings)
    if not sections:
        raise report.at(
            title.line if title else None,
            None,
            "policy has no sections",
            "add a heading per section, e.g. `## Refunds`; a lone first `#` heading is the title",
        )
    return title, sections


def plain_text(markdown: str) -> str:
    """Inline Markdown as plain text, so that the heading `[Refunds](/refunds)` slugs as `refunds`."""
    parts = []
    for inline in _MD.parseInline(markdown):
        for child in inline.children or []:
            if child.type in ("text", "code_inline", "image"):
                parts.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                parts.append(" ")
    return "".join(parts)


def _heading_slug(heading: _Heading, report: _Reporter) -> str:
    plain = plain_text(heading.text).strip()
    # Dropping the numbering keeps ids stable when sections are renumbered.
    slug = slugify(_NUMBERING.sub("", plain)) or slugify(plain)
    if not slug:
        raise report.at(
            heading.line,
            "heading",
            f"heading {heading.text!r} gives an empty section id",
            f"add an id at the end of the heading, e.g. `{'#' * heading.level} {heading.text} {{#a-short-id}}`",
        )
    return slug


def _build_sections(
    headings: list[_Heading],
    lines: list[str],
    overrides: dict[str, dict[str, Any]],
    defaults: _Settings,
    report: _Reporter,
) -> tuple[PolicySectionText, ...]:
    tree = _assign_ids(headings, report)
    ids = [section_id for section_id, _ in tree]
    for key in overrides:
        if key not in ids:
            raise report.error(("sections", key), f"no section has the id `{key}`", _unknown_id_hint(key, ids))
    resolved: dict[str, _Settings] = {}
    sections = []
    for index, (heading, (section_id, parent_id)) in enumerate(zip(headings, tree, strict=True)):
        own = overrides.get(section_id, {})
        # The parent's settings already include its own ancestors', so the nearest override wins.
        settings = dict(resolved[parent_id] if parent_id else defaults)
        settings.update({k: (v, ("sections", section_id, k)) for k, v in own.items() if k in _INHERITED})
        _check_sign_off(settings, report)
        resolved[section_id] = settings
        end = headings[index + 1].start if index + 1 < len(headings) else len(lines)
        sections.append(
            PolicySectionText(
                id=section_id,
                heading=heading.text,
                level=heading.level,
                parent_id=parent_id,
                line=heading.line,
                body="\n".join(lines[heading.end : end]).strip(),
                keywords=own.get("keywords", ()),
                **{key: value for key, (value, _) in settings.items()},
            )
        )
    return tuple(sections)


def _assign_ids(headings: list[_Heading], report: _Reporter) -> list[tuple[str, str | None]]:
    """(id, parent id) per heading; a heading's parent is the nearest earlier heading of a lower level."""
    stack: list[tuple[int, str]] = []  # (level, id) of the headings still open
    first_line: dict[str, int] = {}
    tree: list[tuple[str, str | None]] = []
    for heading in headings:
        while stack and stack[-1][0] >= heading.level:
            stack.pop()
        parent_id = stack[-1][1] if stack else None
        section_id = heading.explicit_id or _heading_slug(heading, report)
        if parent_id and not heading.explicit_id:
            section_id = f"{parent_id}/{section_id}"
        if section_id in first_line:
            example = f"{'#' * heading.level} {heading.text} {{#{section_id.rsplit('/', 1)[-1]}-2}}"
            raise report.at(
                heading.line,
                "heading",
                f"duplicate section id `{section_id}`: headings on lines {first_line[section_id]} and {heading.line}",
                f"give one of them an explicit id at the end of the heading, e.g. `{example}`",
            )
        first_line[section_id] = heading.line
        stack.append((heading.level, section_id))
        tree.append((section_id, parent_id))
    return tree


def _unknown_id_hint(key: str, ids: list[str]) -> str:
    # A common slip is a heading's own slug where its full path id is needed.
    close = (
        [i for i in ids if i.endswith("/" + key)]
        or difflib.get_close_matches(key, ids, n=1)
        or [i for i in ids if key in i]
    )
    listed = ", ".join(ids[:30]) + (f", … ({len(ids) - 30} more)" if len(ids) > 30 else "")
    return (f"did you mean `{close[0]}`? " if close else "") + f"section ids in this document: {listed}"


def _default_id(path: str, report: _Reporter) -> str:
    doc_id = slugify(Path(path).stem)
    if not doc_id:
        raise report.at(
            None, "id", "cannot derive a document id from the file name", "add `id: some-policy-id` to the front matter"
        )
    return doc_id
