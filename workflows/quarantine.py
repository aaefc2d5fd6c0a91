"""Clearing quarantined rows once their export is fixed, replaced or no longer wanted."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlmodel import col

from reviewbot.models import QuarantinedRow
from reviewbot.settings import Settings
from reviewbot.store import Store
from reviewbot.store.review import audit
from reviewbot.workflows.review import RefusedError, admins, require


def clear_quarantine(settings: Settings, store: Store, source: str, file: str | None, actor: str) -> str:
    """Forget a source's quarantined rows (those of one file, when given); admins only, audited. The rows were never
    stored: a corrected export is read again as a new file."""
    require(actor, admins(settings), "clear the quarantine", "admins may")
    where = [col(QuarantinedRow.source) == source] + ([col(QuarantinedRow.file) == file] if file else [])
    scope = source + (f" in {file}" if file else "")
    with store.session() as session:
        count = session.execute(select(func.count()).select_from(QuarantinedRow).where(*where)).scalar_one()
        if not count:
            raise RefusedError(f"no quarantined rows of {scope}", hint="see `reviewbot quarantine list`")
        session.execute(delete(QuarantinedRow).where(*where))
        audit(session, actor, "quarantine_clear", f"{count} rows of {scope}")
    return f"cleared {count} quarantined rows of {scope}"
