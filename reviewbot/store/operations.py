"""Queries for operators: run history and the state of a workspace at a glance."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from reviewbot.models import FeedbackItem, OutboxMessage, ReviewTicket, SourceState, SyncRun, utcnow
from reviewbot.models.tickets import SETTLED_STATES
from reviewbot.settings import Settings
from reviewbot.store.locks import all_leases
from reviewbot.store.review import pending_requests


def recent_runs(session: Session, limit: int) -> list[SyncRun]:
    """The latest sync runs, newest first."""
    return list(session.exec(select(SyncRun).order_by(col(SyncRun.id).desc()).limit(limit)))


def save_progress(session: Session, run_id: int | None, counts: dict[str, Any]) -> None:
    """Record how far a running sync got, in the transaction that commits that work: a run killed after it keeps
    its counts (its end is written by the sync itself, or by the next one that finds it dead)."""
    if run_id is not None:  # None: a dry run, which records no run
        query = update(SyncRun).where(col(SyncRun.id) == run_id, col(SyncRun.status) == "running")
        session.execute(query.values(counts=counts))


def workspace_status(session: Session, settings: Settings) -> dict[str, Any]:
    """Sources with their cursors, the last run, open tickets by state, overdue sign-offs, waiting messages."""
    now = utcnow()
    counts = dict(session.exec(select(FeedbackItem.source, func.count()).group_by(FeedbackItem.source)).all())
    states = {s.source: s for s in session.exec(select(SourceState))}
    sources = []
    for config in settings.sources:
        state = states.get(config.name)
        sources.append(
            {
                "name": config.name,
                "items": counts.get(config.name, 0),
                "files": len(state.cursor.get("files") or {}) if state else 0,
                "updated_at": state.updated_at.strftime("%Y-%m-%d %H:%M") if state else None,
            }
        )
    last = session.exec(select(SyncRun).order_by(col(SyncRun.id).desc())).first()
    by_state = session.exec(
        select(ReviewTicket.state, func.count())
        .where(col(ReviewTicket.state).not_in(SETTLED_STATES))
        .group_by(ReviewTicket.state)
    ).all()
    sla = timedelta(days=settings.review.signoff_sla_days)
    waiting = session.exec(
        select(func.count())
        .select_from(OutboxMessage)
        .where(col(OutboxMessage.status).in_(["pending", "failed", "unknown"]))
    ).one()
    leases = [lease for lease in all_leases(session) if lease.expires_at > now]
    return {
        "sources": sources,
        "last_run": None
        if last is None
        else {
            "id": last.id,
            "status": last.status,
            "started_at": last.started_at.strftime("%Y-%m-%d %H:%M"),
            "errors": last.errors,
        },
        "tickets": dict(sorted(by_state)),
        "overdue_signoffs": sum(1 for r in pending_requests(session) if now - r.requested_at >= sla),
        "outbox_pending": waiting,
        "lock": ", ".join(f"{lease.name} by {lease.owner} until {lease.expires_at:%H:%M:%S}" for lease in leases)
        or None,
    }
