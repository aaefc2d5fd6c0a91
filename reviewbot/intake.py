"""Turning raw field values into typed record fields, with reasons people can act on when they fail.

Sources call these while reading; each raises `FieldError` whose message becomes a quarantine reason.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
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
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59-05:00 or 0001-01-01T00:00+05:00 is past the end of the calendar in UTC
        raise FieldError(f"{field} {text!r} is outside the range of dates (years 1-9999 in UTC)") from None


def check_date_range(
    moment: datetime, *, field: str, now: datetime, future_tolerance: timedelta, earliest: date
) -> datetime:
    """The moment, unless it lies beyond `now + future_tolerance` or before `earliest` (a placeholder date)."""
    if moment > now + future_tolerance:
        ahead = moment - now
        amount = f"{ahead.days:,} days" if ahead.days >= 1 else f"{ahead.seconds // 3600} hours"
        raise FieldError(
            f"{field} {moment.isoformat(' ', 'minutes')[:16]} UTC is {amount} in the future, "
            f"beyond intake.future_tolerance "
            f"({_duration(future_tolerance)}); fix the date in the export or raise the tolerance"
        )
    if moment.date() < earliest:
        raise FieldError(
            f"{field} {moment.date().isoformat()} is before intake.earliest_date ({earliest.isoformat()}); "
            "fix the date in the export or lower the setting"
        )
    return moment


def _duration(span: timedelta) -> str:
    """A tolerance as people write it: "2 days", "12 hours", "90 seconds"."""
    seconds = int(span.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"


def content_id(values: dict[str, Any]) -> str:
    """A stable id for a row that has none: a hash of all its values, so reading the file again adds nothing."""
    payload = json.dumps(values, sort_keys=True, ensure_ascii=False, default=str)
    return "sha256:" + hashlib.sha256(payload.encode()).hexdigest()[:32]


def parse_score(value: str | int | float | None, *, field: str, low: int, high: int) -> int | None:
    """Parse a survey score that must be a whole number in [low, high]; empty means no answer."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):  # Python counts true as 1: an answer of 1 nobody gave
        raise FieldError(f"{field} is {str(value).lower()}, not a number")
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
