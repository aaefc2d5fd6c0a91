"""Small formatting helpers of the report: in-page anchors, numbers and dates (the template's filters)."""

from __future__ import annotations

from datetime import date, datetime

SPARK_BARS = "▁▂▃▄▅▆▇█"


def anchor(kind: str, *parts: object) -> str:
    """An element id such as "section-refunds-and-returns.refund-timelines_2f_": letters, digits and "-" stay,
    everything else becomes "_<hex>_", and "." joins the parts, so different records never share an id and the
    id needs no escaping in a URL fragment."""
    encoded = [
        "".join(c if c.isascii() and (c.isalnum() or c == "-") else f"_{ord(c):x}_" for c in str(p)) for p in parts
    ]
    return ".".join([kind, *encoded])


def pct(value: float | None, digits: int = 0) -> str:
    """0.423 -> "42%"; None -> "–"."""
    return "–" if value is None else f"{value:.{digits}%}"


def signed(value: float | None) -> str:
    """An NPS with its sign: "+12", "-40"; None -> "–"."""
    return "–" if value is None else f"{value:+.0f}"


def percent_score(value: float | None) -> str:
    """A CSAT (already 0..100): "38%"; None -> "–"."""
    return "–" if value is None else f"{value:.0f}%"


def days(value: float) -> str:
    """A duration in days for people: "5 h", "1.5 days", "12 days"."""
    if value < 1:
        return f"{value * 24:.0f} h"
    return f"{value:.1f} days" if value < 10 else f"{value:.0f} days"


def day(value: datetime | date | None) -> str:
    """YYYY-MM-DD, or "–"."""
    if value is None:
        return "–"
    return (value.date() if isinstance(value, datetime) else value).isoformat()


def minute(value: datetime) -> str:
    """YYYY-MM-DD HH:MM UTC."""
    return value.strftime("%Y-%m-%d %H:%M UTC")


def week_labels(weeks: list[str]) -> list[str]:
    """Mondays as short chart labels ("31 Aug"), with the year when the weeks span more than one."""
    parsed = [date.fromisoformat(w) for w in weeks]
    spans_years = len({d.year for d in parsed}) > 1
    return [d.strftime("%d %b %Y" if spans_years else "%d %b").lstrip("0") for d in parsed]


def sparkline(values: list[int]) -> str:
    """Counts as a row of block characters, oldest first."""
    if not values:
        return ""
    top = max(values) or 1
    return "".join(SPARK_BARS[min(len(SPARK_BARS) - 1, round(v / top * (len(SPARK_BARS) - 1)))] for v in values)


def short(text: str, limit: int = 30) -> str:
    """A chart label: long theme labels and headings are cut (the tooltip shows them in full)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
