"""Ticket evidence in Jira wiki markup (the format of REST API v2 descriptions and comments).

Customer text (quotes, theme labels and terms) and policy text are escaped so they render as the words they
were: every character that can start or end a markup construct gets a backslash (Jira's escape: `\\[` shows
`[`), a backslash itself becomes `&#92;` (two backslashes are a line break in Jira), `&` before what looks
like an entity becomes `&amp;`, and line starts that would make headings or quotes (`h1.`, `bq.`) and
emoticons such as `:)` or `(y)` are defused the same way. `unescape` reverses it exactly. This is what pandoc's
Jira writer does too.
"""

from __future__ import annotations

import re
from typing import Any

from reviewbot.evidence import sparkline

# Characters that open or close a construct: {macro}, [link|url], !image!, |table|, *bold*, _italic_, +underline+,
# ^sup^, ~sub~, -strike-, ??cite??, # and * lists; then line-start blocks and emoticons.
_ESCAPE = re.compile(
    r"(?P<backslash>\\)"
    r"|(?P<entity>&(?=#?[A-Za-z0-9]+;))"
    r"|(?P<special>[{}\[\]|*_+^~!?#-])"
    r"|(?P<block>(?<![^\n])[ \t]*(?:h[1-6]|bq))(?P<dot>\.)"
    r"|(?P<smiley>(?<=[:;])-?[()PDpd])"
    r"|(?P<paren>\()(?=[^\s()]{1,3}\))"
)
_UNESCAPE = re.compile(r"&#92;|&amp;|\\(.)", re.DOTALL)


def escape(text: str) -> str:
    """Text shown as written: no markup construct in it renders (see the module docstring); `unescape` undoes it."""
    return _ESCAPE.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    if match.group("backslash"):
        return "&#92;"
    if match.group("entity"):
        return "&amp;"
    if match.group("block") is not None:
        return match.group("block") + "\\."
    return "\\" + match.group(0)


def unescape(text: str) -> str:
    """The original text of `escape(text)`."""
    return _UNESCAPE.sub(lambda m: {"&#92;": "\\", "&amp;": "&"}.get(m.group(0)) or m.group(1), text)


JIRA_TEXT_LIMIT = 32_767  # characters in a Jira text field (a description, a comment); longer is refused with a 400
# Customer text cut to these lengths, in turn, until a description fits; then quotes are left out from the last.
_QUOTE_CAPS = (None, 4_000, 2_000, 1_000, 500, 250)


def render_jira(title: str, evidence: dict[str, Any]) -> str:
    """The evidence behind a ticket, for the issue description, within Jira's 32,767 characters: five complaints of
    10,000 characters (more once escaped) made Jira refuse the issue at every sync, so long quotes and section text
    are cut, saying so, and beyond that the last quotes are left out."""
    quotes = list(evidence.get("quotes", []))
    for cap in _QUOTE_CAPS:
        text = _render(evidence, quotes, cap)
        if len(text) <= JIRA_TEXT_LIMIT:
            return text
    while quotes:
        quotes.pop()
        text = _render(evidence, quotes, _QUOTE_CAPS[-1], left_out=len(evidence["quotes"]) - len(quotes))
        if len(text) <= JIRA_TEXT_LIMIT:
            return text
    return text[:JIRA_TEXT_LIMIT]  # only a theme label or section heading of thousands of characters gets here


def fit_comment(text: str, tag: str) -> str:
    """A comment body (escaped `text`, then `tag`) within Jira's limit; a longer text is cut, saying so."""
    room = JIRA_TEXT_LIMIT - len(tag) - 2
    body, cut = escape(text), len(text)
    while len(body) > room:
        cut = cut * room // len(body) - 100  # escaping lengthens text unevenly: shrink until it fits
        body = escape(_clip(text, cut))
    return f"{body}\n\n{tag}"


def _clip(text: str, cap: int | None) -> str:
    if cap is None or len(text) <= cap:
        return text
    return f"{text[:cap].rstrip()} … [{len(text) - cap:,} more characters: see reviewbot]"


def _render(evidence: dict[str, Any], quotes: list[dict[str, Any]], cap: int | None, left_out: int = 0) -> str:
    lines = [f"*Why:* {escape(evidence['reason'])}", ""]
    if "theme" in evidence:
        lines += _feedback(evidence, quotes, cap)
        if left_out:
            lines[-1:-1] = [f"_{left_out} more quotes left out to fit Jira's limit: see reviewbot._"]
    section, document = evidence.get("section"), evidence["document"]
    if section is None:
        lines += [
            "h2. Coverage gap",
            f"No section of _{escape(document['title'])}_ (version {document['version']}) covers this theme.",
        ]
    else:
        lines += [
            f"h2. Section {escape(section['heading'])} ({escape(section['id'])}, version {section['version']})",
            f"Owner: {escape(section['owner'] or '-')}; approvers: {escape(', '.join(section['approvers']) or '-')}",
            "{quote}",
            escape(_clip(section["text"], None if cap is None else 4 * cap)),
            "{quote}",
        ]
    lines += ["", "----", "_Filed by reviewbot. Reply here or in reviewbot; sign-offs are mirrored as comments._"]
    return "\n".join(lines)


def _feedback(evidence: dict[str, Any], quotes: list[dict[str, Any]], cap: int | None) -> list[str]:
    theme, counts, sentiment, trend = evidence["theme"], evidence["counts"], evidence["sentiment"], evidence["trend"]
    kinds = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts["by_kind"].items())
    nps, csat = evidence["nps"], evidence["csat"]
    lines = [
        f"h2. Theme {theme['id']}: {escape(theme['label'])}",
        f"Terms: {escape(', '.join(theme['terms']))}",
        "",
        "||Items||Seen||Negative||Complaints or negative||NPS||CSAT||Trend||",
        f"|{counts['total']} ({counts['unique']} distinct): {kinds}|{evidence['first_seen']} to {evidence['last_seen']}"
        f"|{sentiment['negative_share']:.0%}|{sentiment['concern_share']:.0%}"
        f"|{_score(nps)} ({nps.get('responses', 0)})|{_score(csat, '%')} ({csat.get('responses', 0)})"
        f"|{sparkline(trend['weekly'])} x{trend['growth'] if trend['growth'] is not None else '-'}|",
        "",
        "h2. What people said",
    ]
    for quote in quotes:
        lines += ["{quote}", escape(_clip(quote["text"], cap)), "{quote}"]
        lines.append(
            f"— {quote['kind'].replace('_', ' ')} {escape(quote['source'])}/{escape(quote['id'])}, {quote['date']}"
        )
    return lines + [""]


def _score(block: dict[str, Any], unit: str = "") -> str:
    return "-" if block.get("score") is None else f"{block['score']:.0f}{unit}"
