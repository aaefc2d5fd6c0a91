"""The evidence behind a review ticket: built from a theme and a section, hashed, and rendered for people."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from reviewbot.analysis.score import priority, spiking

if TYPE_CHECKING:  # only named in annotations
    from reviewbot.models import PolicyDocument, PolicySection, Theme

_MARKDOWN_PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")  # the ASCII punctuation CommonMark lets a backslash escape
SHARE_STEP = 0.05  # a negative or concern share that moves this much (5 points) is worth a comment
SCORE_STEP = 5.0  # so is an NPS or CSAT score that moves 5 points


@dataclass(frozen=True)
class Quote:
    """A redacted feedback text cited as evidence, with where it came from."""

    text: str
    source: str
    external_id: str
    kind: str
    created_at: datetime


def fingerprint(theme_id: int, document_id: str, section_id: str | None) -> str:
    """The stable identity of a ticket: one per (theme, section), or (theme, document) for a coverage gap."""
    key = f"{theme_id}|{document_id}|{section_id or '*'}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def ticket_title(theme: Theme, document: PolicyDocument, section: PolicySection | None) -> str:
    """A one-line title: which section to review, and why."""
    if section is None:
        return f"Coverage gap in {document.title}: {theme.label}"[:500]
    return f"Review {section.heading}: {theme.label}"[:500]


def build_evidence(
    theme: Theme,
    document: PolicyDocument,
    section: PolicySection | None,
    confidence: float,
    reason: str,
    quotes: list[Quote],
    nps_counts: dict[str, int],
    csat_counts: dict[str, int],
    recent_weeks: int,
) -> dict[str, Any]:
    """All the facts a reviewer needs, as JSON-ready data."""
    weekly = dict(sorted(theme.weekly.items()))
    return {
        "reason": reason,
        "theme": {"id": theme.id, "label": theme.label, "terms": list(theme.terms[:8])},
        "counts": {"total": theme.size, "unique": theme.unique_size, "by_kind": dict(sorted(theme.by_kind.items()))},
        "sentiment": {
            "mean_polarity": round(theme.mean_polarity, 3),
            "negative_share": round(theme.negative_share, 3),
            "concern_share": round(theme.concern_share, 3),
            "rules_share": round(theme.rules_share, 3),
        },
        "nps": {"score": theme.nps, **nps_counts},
        "csat": {"score": theme.csat, **csat_counts},
        "trend": {
            "weekly": weekly,
            "growth": None if theme.growth is None else round(theme.growth, 2),
            "window_weeks": recent_weeks,
            "spike": spiking(theme.spike_p),
        },
        "impact": {"score": theme.impact, "priority": priority(theme.impact)},
        "first_seen": theme.first_seen.date().isoformat() if theme.first_seen else None,
        "last_seen": theme.last_seen.date().isoformat() if theme.last_seen else None,
        "quotes": [
            {
                "text": q.text,
                "source": q.source,
                "id": q.external_id,
                "kind": q.kind,
                "date": q.created_at.date().isoformat(),
            }
            for q in quotes
        ],
        "mapping": {"confidence": round(confidence, 3), "gap": section is None},
        "document": {"id": document.id, "title": document.title, "version": document.published_version},
        "section": None if section is None else _section(document, section),
    }


def periodic_evidence(
    document: PolicyDocument, section: PolicySection, *, last_reviewed: datetime, due: datetime, interval_days: int
) -> dict[str, Any]:
    """The facts behind a periodic-review ticket: the section, and why its review is due."""
    return {
        "reason": f"reviewed every {interval_days} days; last reviewed {last_reviewed.date().isoformat()}, "
        f"due {due.date().isoformat()}",
        "document": {"id": document.id, "title": document.title, "version": document.published_version},
        "section": _section(document, section),
    }


def _section(document: PolicyDocument, section: PolicySection) -> dict[str, Any]:
    return {
        "id": section.section_id,
        "heading": section.heading,
        "version": document.published_version,
        "owner": section.owner,
        "approvers": list(section.approvers),
        "text": section.body,
    }


def impact(evidence: dict[str, Any]) -> str:
    """A ticket's priority: high, medium or low (periodic reviews, which no feedback drives, are low)."""
    return priority(float((evidence.get("impact") or {}).get("score", 0.0)))


def evidence_hash(evidence: dict[str, Any]) -> str:
    """A hash of the facts a reviewer reads (counts, tone, survey scores, quotes, section text): it names the
    tracker update that announces them, so the update is queued once."""
    section = evidence.get("section") or {}
    material = {
        "counts": evidence["counts"],
        "sentiment": {k: round(v, 2) for k, v in evidence["sentiment"].items()},
        "nps": evidence["nps"].get("score"),
        "csat": evidence["csat"].get("score"),
        "quotes": [(q["source"], q["id"]) for q in evidence["quotes"]],
        "section": (section.get("id"), section.get("text")),
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()


def headline(evidence: dict[str, Any]) -> dict[str, Any]:
    """The figures a ticket's followers are told: what a later change is measured against."""
    section = evidence.get("section") or {}
    text = f"{section.get('id')}|{section.get('text')}"
    return {
        "items": evidence["counts"]["total"],
        "distinct": evidence["counts"]["unique"],
        "negative_share": evidence["sentiment"]["negative_share"],
        "concern_share": evidence["sentiment"]["concern_share"],
        "nps": evidence["nps"].get("score"),
        "csat": evidence["csat"].get("score"),
        "priority": (evidence.get("impact") or {}).get("priority", "low"),
        "spike": bool((evidence.get("trend") or {}).get("spike")),
        "section": hashlib.sha256(text.encode()).hexdigest()[:16],
        "version": evidence["document"]["version"],
    }


def worth_announcing(told: dict[str, Any], now: dict[str, Any], min_growth: float) -> bool:
    """True when the headline moved enough from `told` to `now` to comment on the ticket.

    Material: the section's text changed, the theme grew by `min_growth` (a share of its distinct texts), its
    negative or concern share moved by 5 points, its NPS or CSAT by 5 points, its priority changed, or a spike
    began. Anything less (one more complaint in a theme of 300, a different quote) refreshes the ticket quietly:
    a tracker that comments on every sync is muted by the people it should reach.
    """
    if now["section"] != told.get("section") or now["priority"] != told.get("priority"):
        return True
    if now["spike"] and not told.get("spike"):
        return True
    grown = now["distinct"] - told.get("distinct", 0)
    if grown >= min_growth * told.get("distinct", 0) and now["items"] > told.get("items", 0):
        return True
    shares = ("negative_share", "concern_share")
    if any(abs(now[k] - told.get(k, 0.0)) >= SHARE_STEP for k in shares):
        return True
    return any(_score_moved(told.get(k), now[k]) for k in ("nps", "csat"))


def _score_moved(before: float | None, after: float | None) -> bool:
    if before is None or after is None:
        return before != after
    return abs(after - before) >= SCORE_STEP


def evidence_change(told: dict[str, Any], now: dict[str, Any]) -> str:
    """One line saying what changed from the headline `told` to the headline `now`."""
    parts = [f"{now['items'] - told.get('items', 0):+d} items (now {now['items']})"]
    before = told.get("negative_share")
    if before is not None and round(before, 2) != round(now["negative_share"], 2):
        parts.append(f"negative share {before:.0%} -> {now['negative_share']:.0%}")
    if told.get("priority") and told["priority"] != now["priority"]:
        parts.append(f"priority {told['priority']} -> {now['priority']}")
    if now["spike"] and not told.get("spike"):
        parts.append("a spike this week")
    if told.get("section") != now["section"]:
        parts.append(f"the section changed (document version {now['version']})")
    return "; ".join(parts)


def _score(block: dict[str, Any], unit: str) -> str:
    return "no survey answers" if block.get("score") is None else f"{block['score']:+.0f}{unit}".lstrip("+")


def render_markdown(title: str, evidence: dict[str, Any], *, literal: bool = True) -> str:
    """The evidence as Markdown, for the built-in tracker and the console. `literal=False` leaves the quotes as
    people wrote them (no backslash escapes), for a file or a pipe, where nothing renders the Markdown."""
    if "theme" not in evidence:  # a periodic review: no feedback behind it
        lines = [f"# {title}", "", f"Why: {evidence['reason']}", ""]
        return "\n".join(lines + _section_lines(evidence["section"])).rstrip() + "\n"
    counts, sentiment, trend = evidence["counts"], evidence["sentiment"], evidence["trend"]
    impact_of = evidence.get("impact") or {"score": 0.0, "priority": "low"}
    kinds = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts["by_kind"].items())
    lines = [
        f"# {title}",
        "",
        f"**Theme {evidence['theme']['id']}: {evidence['theme']['label']}**  ",
        f"Terms: {', '.join(evidence['theme']['terms'])}",
        "",
        f"Why: {evidence['reason']}",
        "",
        "## Evidence",
        f"- Items: {counts['total']} ({counts['unique']} distinct): {kinds}",
        f"- Seen: {evidence['first_seen']} to {evidence['last_seen']}",
        f"- Sentiment: mean polarity {sentiment['mean_polarity']:+.2f}, {sentiment['negative_share']:.0%} negative; "
        f"{sentiment['concern_share']:.0%} complaints or negative answers; "
        f"{sentiment['rules_share']:.0%} mention rules or promises",
        f"- NPS: {_score(evidence['nps'], '')} ({evidence['nps'].get('responses', 0)} answers); "
        f"CSAT: {_score(evidence['csat'], '%')} ({evidence['csat'].get('responses', 0)} answers)",
        f"- Trend: {sparkline(trend['weekly'])} growth x{trend['growth'] if trend['growth'] is not None else '-'} "
        f"over the last {trend['window_weeks']} weeks" + (" (a spike this week)" if trend.get("spike") else ""),
        f"- Impact: {impact_of['score']:.1f} ({impact_of['priority']} priority)",
        f"- Mapping confidence: {evidence['mapping']['confidence']:.2f}",
        "",
        "## What people said",
    ]
    lines += [_quoted(q, literal) for q in evidence["quotes"]]
    section, document = evidence["section"], evidence["document"]
    if section is None:
        lines += [
            "## Coverage gap",
            f"No section of *{document['title']}* (version {document['version']}) covers this theme.",
        ]
    else:
        lines += _section_lines(section)
    return "\n".join(lines).rstrip() + "\n"


def _quoted(quote: dict[str, Any], literal: bool = True) -> str:
    """A customer's words as a Markdown block quote that shows them literally, every line of them."""
    shown = _literal if literal else str
    said = "\n".join(f"> {shown(line)}" if line.strip() else ">" for line in quote["text"].splitlines())
    who = f"{quote['kind'].replace('_', ' ')} {quote['source']}/{quote['id']}, {quote['date']}"
    return f"{said or '>'}\n>\n> — {shown(who)}\n"


def _literal(text: str) -> str:
    """Text that Markdown shows as written: every ASCII punctuation mark escaped (CommonMark's backslash escapes),
    so a customer's `<!here>`, `*` or `[link](...)` is not read as markup."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\g<0>", text)


def _section_lines(section: dict[str, Any]) -> list[str]:
    return [
        f"## Section `{section['id']}` (version {section['version']})",
        f"Owner: {section['owner'] or '-'}; approvers: {', '.join(section['approvers']) or '-'}",
        "",
        section["text"],
    ]


def sparkline(weekly: dict[str, int]) -> str:
    """Weekly counts as a row of block characters, oldest first."""
    bars = "▁▂▃▄▅▆▇█"
    values = list(weekly.values())
    if not values:
        return "-"
    top = max(values) or 1
    return "".join(bars[min(len(bars) - 1, round(v / top * (len(bars) - 1)))] for v in values)
