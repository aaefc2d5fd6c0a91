"""Ticket evidence in Jira wiki markup (the format of REST API v2 descriptions and comments)."""

from __future__ import annotations

import re
from typing import Any

from reviewbot.evidence import sparkline

_SPECIAL = re.compile(r"([{}\[\]|*_+^~-])")


def escape(text: str) -> str:
    """Text shown as written: Jira markup characters escaped, line starts that would make lists defused."""
    return _SPECIAL.sub(r"\\\1", text)


def render_jira(title: str, evidence: dict[str, Any]) -> str:
    """The evidence behind a ticket, for the issue description."""
    lines = [f"*Why:* {escape(evidence['reason'])}", ""]
    if "theme" in evidence:
        lines += _feedback(evidence)
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
            section["text"].replace("{quote}", "{ quote}"),
            "{quote}",
        ]
    lines += ["", "----", "_Filed by reviewbot. Reply here or in reviewbot; sign-offs are mirrored as comments._"]
    return "\n".join(lines)


def _feedback(evidence: dict[str, Any]) -> list[str]:
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
    for quote in evidence["quotes"]:
        lines += ["{quote}", quote["text"].replace("{quote}", "{ quote}"), "{quote}"]
        lines.append(
            f"— {quote['kind'].replace('_', ' ')} {escape(quote['source'])}/{escape(quote['id'])}, {quote['date']}"
        )
    return lines + [""]


def _score(block: dict[str, Any], unit: str = "") -> str:
    return "-" if block.get("score") is None else f"{block['score']:.0f}{unit}"
