"""Turning raw field values into typed record fields, with reasons people can act on when they fail.

Sources call these while reading; each raises `FieldError` whose message becomes a quarantine reason.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

NPS_RANGE = (0, 10)
CSAT_RANGE = (1, 5)


class FieldError(ValueError):
    """A field value that cannot be used; the message says which field and why."""


def parse_datetime(value: str, *, field: str, fmt: str | None = None, tz: ZoneInfo | None = None) -> datetime:
    """Parse a timestamp (ISO 8601, `fmt` if given, or Unix seconds) into an aware UTC datetime."""
    text = value.strip()
    if not text:
        raise FieldError(f"{field} is empty")
    try:
        if fmt:
            parsed = datetime.strptime(text, fmt)
        elif text.isdigit() and len(text) >= 9:
            parsed = datetime.fromtimestamp(int(text), tz=UTC)
        else:
            parsed = datetime.fromisoformat(text)
    except (ValueError, OverflowError):  # a long run of digits is past the platform's Unix time range
        expected = f"the format {fmt!r}" if fmt else "ISO 8601 like 2026-09-14 09:32 (or set date_format)"
        raise FieldError(f"{field} {text!r} is not a date in {expected}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz or UTC)
    return parsed.astimezone(UTC)


def parse_score(value: str | int | float | None, *, field: str, low: int, high: int) -> int | None:
    """Parse a survey score that must be a whole number in [low, high]; empty means no answer."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):  # JSON integers can be too large for a float
        raise FieldError(f"{field} {value!r} is not a number") from None
    if not number.is_integer():
        raise FieldError(f"{field} {value!r} is not a whole number")
    if not low <= number <= high:
        raise FieldError(f"{field} {int(number)} is out of range {low}-{high}")
    return int(number)


def check_text(text: str, *, max_chars: int, has_score: bool) -> str:
    """The text, stripped; refuses empty text (unless the row carries a score) and text over the limit."""
    stripped = text.strip()
    if not stripped and not has_score:
        raise FieldError("text is empty")
    if len(stripped) > max_chars:
        raise FieldError(
            f"text is {len(stripped):,} characters, over the limit of {max_chars:,} (enrich.max_text_chars)"
        )
    return stripped


def clean_id(value: object, *, field: str) -> str:
    """An external id as a non-empty string (numbers from JSON are fine)."""
    text = "" if value is None else str(value).strip()
    if not text:
        raise FieldError(f"{field} is empty")
    if len(text) > 200:
        raise FieldError(f"{field} is longer than 200 characters")
    return text
