"""Themes (recurring issues), their mapping to policy sections, and the vectorizer's corpus statistics."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Text
from sqlmodel import Field, SQLModel

from reviewbot.models.base import utcnow


class Theme(SQLModel, table=True):
    """A recurring issue: a cluster of feedback items with a stable id, a label and its statistics."""

    __tablename__ = "theme"

    id: int | None = Field(default=None, primary_key=True)
    label: str = Field(max_length=300)
    terms: list[str] = Field(default_factory=list, sa_type=JSON)
    # term -> weight in the vectorizer's term space; keyed by term, not index, so it survives vocabulary changes
    centroid: dict[str, float] = Field(default_factory=dict, sa_type=JSON)
    quote: str = Field(default="", sa_type=Text)
    representative_item_id: int | None = None
    status: str = Field(default="active", max_length=20)
    size: int = 0
    unique_size: int = 0
    mean_polarity: float = 0.0
    negative_share: float = 0.0
    concern_share: float = 0.0  # complaints plus negative items, of all items
    rules_share: float = 0.0  # items that talk about rules or promises
    nps: float | None = None
    csat: float | None = None
    growth: float | None = None
    spike_p: float | None = None  # chance of the latest week's count under the theme's own baseline
    impact: float = 0.0  # see reviewbot.analysis.score.impact_score
    label_pinned: bool = False  # a person named the theme: syncs keep the name
    merged_into: int | None = None
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    by_kind: dict[str, int] = Field(default_factory=dict, sa_type=JSON)
    weekly: dict[str, int] = Field(default_factory=dict, sa_type=JSON)
    # the raw sums behind the statistics (analysis.score.ThemeAggregate), so a sync adds its new members instead
    # of recounting the theme's history; None until counted, and after anything that moves items between themes
    tally: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    # its members' summed votes for policy sections (analysis.mapping): {"key": the sections' words they were cast
    # on, "n": members counted, "sums": {"document#section": votes}}; None until counted
    section_votes: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ThemeMapping(SQLModel, table=True):
    """A theme's link to a policy section (or to the whole document when no section fits: a coverage gap)."""

    __tablename__ = "theme_mapping"

    theme_id: int = Field(foreign_key="theme.id", primary_key=True)
    document_id: str = Field(foreign_key="policy_document.id", primary_key=True, max_length=200)
    # "" marks a coverage gap against the whole document (primary keys cannot be NULL)
    section_id: str = Field(default="", primary_key=True, max_length=300)
    confidence: float = 0.0
    rank: int = 0
    updated_at: datetime = Field(default_factory=utcnow)

    @property
    def is_gap(self) -> bool:
        """True when no section covers the theme."""
        return self.section_id == ""


class SentimentCalibration(SQLModel, table=True):
    """The sentiment model learned from this workspace's survey answers (see reviewbot.analysis.calibrate)."""

    __tablename__ = "sentiment_calibration"

    name: str = Field(primary_key=True, max_length=50)
    model: dict[str, Any] | None = Field(default=None, sa_type=JSON)  # None when no model could be fitted
    answers: int = 0  # survey answers with text it was fitted on (or tried to be)
    reason: str = Field(default="", sa_type=Text)
    holdout_accuracy: float | None = None  # balanced accuracy on held-out answers, model
    baseline_accuracy: float | None = None  # the same for TextBlob with the lexicon
    fitted_at: datetime = Field(default_factory=utcnow)


class VectorizerState(SQLModel, table=True):
    """Corpus statistics (document frequencies) kept between syncs so new items are weighted consistently."""

    __tablename__ = "vectorizer_state"

    name: str = Field(primary_key=True, max_length=50)
    n_docs: int = 0
    doc_freq: dict[str, int] = Field(default_factory=dict, sa_type=JSON)
    notes: str = Field(default="", sa_type=Text)
    updated_at: datetime = Field(default_factory=utcnow)
