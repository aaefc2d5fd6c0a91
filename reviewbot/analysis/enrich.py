"""Enrich a raw record before it is stored: redact PII, score sentiment, classify survey answers."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from reviewbot.analysis.cues import cites_rules
from reviewbot.analysis.redact import Redactor
from reviewbot.analysis.sentiment import SentimentScorer, csat_class, nps_class
from reviewbot.protocols import RawRecord

_SPACE = re.compile(r"\s+")
_PUNCTUATION = re.compile(r"[^\w\s]+|_+")
_NUMBER = re.compile(r"[0-9]+")
# `_PUNCTUATION` one ASCII character at a time, as a translation table (what each character of 0-127 it matches
# becomes); runs of spaces are folded afterwards either way, so a run replaced character by character is the same.
_ASCII_PUNCTUATION = str.maketrans({chr(c): " " for c in range(128) if _PUNCTUATION.fullmatch(chr(c))})


def week_of(moment: datetime) -> str:
    """The Monday starting the ISO week of a moment, as YYYY-MM-DD (the key of weekly counts)."""
    day = moment.date()
    return (day - timedelta(days=day.weekday())).isoformat()


def normalised(text: str) -> str:
    """Text folded for duplicate detection: lower case words, every number the same, no punctuation.

    So a complaint pasted twice, and templated answers that differ only in order numbers, dates or redacted
    details ("[EMAIL]"), fold to the same text.
    """
    if text.isascii():  # str methods in C instead of two of the three regular expressions (most texts)
        return " ".join(_NUMBER.sub("0", text.lower().translate(_ASCII_PUNCTUATION)).split())
    return _SPACE.sub(" ", _NUMBER.sub("0", _PUNCTUATION.sub(" ", text.lower()))).strip()


def content_hash(text: str) -> str:
    """Hash of the normalised text: the same complaint pasted twice shares it."""
    return hashlib.sha256(normalised(text).encode()).hexdigest()


@dataclass(frozen=True)
class Enricher:
    """Turns RawRecords into the stored fields of a FeedbackItem."""

    redactor: Redactor
    scorer: SentimentScorer
    negative_below: float = 0.0  # see EnrichSettings

    def redact(self, value: str | None) -> str | None:
        """Redacted text, or None."""
        return None if value is None else self.redactor.redact(value).text

    def redact_value(self, value: Any) -> Any:
        """A JSON value with every string in it redacted (extra columns can hold nested objects)."""
        if isinstance(value, str):
            return self.redactor.redact(value).text
        if isinstance(value, dict):
            return {k: self.redact_value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.redact_value(v) for v in value]
        return value

    def enrich(self, source: str, record: RawRecord) -> dict[str, Any]:
        """The column values of the item for this record (text redacted before anything else sees it)."""
        text = self.redactor.redact(record.text).text
        sentiment = self.scorer.score(text, kind=record.kind)
        nps, csat = nps_class(record.nps), csat_class(record.csat)
        meta = {k: self.redact_value(v) for k, v in record.meta.items()}
        values: dict[str, Any] = {
            "source": source,
            "external_id": record.external_id,
            "kind": record.kind,
            "text": text,
            "content_hash": content_hash(text),
            "created_at": record.created_at,
            "week": week_of(record.created_at),
            "customer": _clip(self.redact(record.customer), 200),
            "channel": _clip(self.redact(record.channel), 100),
            "author": _clip(self.redact(record.author), 200),
            "nps": record.nps,
            "csat": record.csat,
            "nps_class": nps,
            "csat_class": csat,
            "polarity": sentiment.polarity,
            "subjectivity": sentiment.subjectivity,
            "is_negative": is_negative(sentiment.polarity, nps, csat, self.negative_below),
            "cites_rules": cites_rules(text),
            "meta": meta,
            "origin": record.origin[:500],
        }
        values["row_hash"] = row_hash(values)
        return values


def _clip(value: str | None, length: int) -> str | None:
    """A short field cut to its column's size: a tag can be longer than what it replaced ("Al" -> "[NAME]")."""
    return None if value is None else value[:length]


def is_negative(polarity: float, nps_class: str | None, csat_class: str | None, below: float) -> bool:
    """Negative words, or a detractor / unsatisfied answer: negative evidence even when the words are neutral."""
    return polarity < below or nps_class == "detractor" or csat_class == "unsatisfied"


def row_hash(values: dict[str, Any]) -> str:
    """Hash of the stored fields that come from the source, to tell a changed row from a repeated one."""
    keys = ("kind", "text", "created_at", "customer", "channel", "author", "nps", "csat", "meta")
    payload = json.dumps({k: values.get(k) for k in keys}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()
