"""Shared pieces of the table definitions."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import SQLModel

# Named constraints keep Alembic batch migrations on SQLite deterministic.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = SQLModel.metadata
# The largest row id every store can hold: tables' integer keys are PostgreSQL INTEGER (32 bits). A larger number
# given as an id is refused where it comes in: SQLite and PostgreSQL fail on comparing a column with it.
MAX_ROW_ID = 2**31 - 1
# Pydantic builds a table's validator and serializer when first needed (validation, model_dump), not when the
# class is defined: a command that only reads and prints rows never needs them (2% of `tickets list`).
SQLModel.model_config["defer_build"] = True


def utcnow() -> datetime:
    """Now, as an aware UTC datetime (SQLModel stores aware datetimes and reads them back in UTC)."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """A stored time as an aware UTC datetime: SQLite hands them back without their zone, and every one reviewbot
    stores is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
