"""Sync stage: read every source from its cursor, enrich the records, store them with their rejects."""

from __future__ import annotations

import logging
from collections import deque
from concurrent.futures import Future
from typing import Any

from reviewbot.analysis.enrich import Enricher
from reviewbot.analysis.redact import Redactor
from reviewbot.connectors.registry import ConnectorContext, make_source
from reviewbot.errors import ReviewbotError
from reviewbot.intake import FieldError, check_text
from reviewbot.protocols import Batch, RawRecord, Source
from reviewbot.settings import Settings, setting_error
from reviewbot.store import Store
from reviewbot.store.feedback import (
    add_quarantined,
    clear_file_rejects,
    get_cursor,
    item_id_of,
    refresh_statistics,
    save_cursor,
    upsert_items,
)
from reviewbot.store.operations import save_progress
from reviewbot.workflows.calibrate import make_scorer
from reviewbot.workflows.enrich_pool import EnrichPool, default_workers
from reviewbot.workflows.review import RefusedError
from reviewbot.workflows.run_summary import ProgressSink, SyncReport

log = logging.getLogger(__name__)


def make_enricher(settings: Settings, store: Store) -> Enricher:
    """The enricher configured by `[enrich]` (with the workspace's sentiment calibration)."""
    try:
        redactor = Redactor(
            settings.enrich.redact_patterns,
            phone_region=settings.enrich.phone_region,
            phone_leniency=settings.enrich.phone_leniency,
        )
    except ValueError as exc:
        # its line in reviewbot.toml, or the variable that set it, as every other wrong setting says
        hint = 'a Python regular expression; in reviewbot.toml a backslash is doubled, e.g. { ORDER = "NW-\\\\d{6}" }'
        raise setting_error(settings, ("enrich", "redact_patterns"), str(exc), hint) from None
    return Enricher(redactor, make_scorer(settings, store), settings.enrich.negative_below)


def collect(settings: Settings, store: Store, report: SyncReport, progress: ProgressSink) -> None:
    """Ingest new records from every enabled source; one failing source does not stop the others."""
    context = ConnectorContext(settings=settings, store=store)
    with EnrichPool(make_enricher(settings, store), settings.enrich.workers or default_workers()) as pool:
        for config in settings.sources:
            if config.enabled:
                source = make_source(config, context)  # a ConfigError here stops the sync: nothing is read
                _collect_source(store, pool, config.name, source, report, progress)
    with store.session() as session:
        refresh_statistics(session, sum(counts["new"] for counts in report.sources.values()))


def _collect_source(
    store: Store, pool: EnrichPool, name: str, source: Source, report: SyncReport, progress: ProgressSink
) -> None:
    """Read one source from its cursor; batches are enriched ahead while earlier ones are stored, in order."""
    counts = report.sources.setdefault(name, {"new": 0, "updated": 0, "unchanged": 0, "quarantined": 0})
    progress.start(f"reading {name}", None)
    with store.session() as session:
        cursor = get_cursor(session, name)
    pending: deque[tuple[Batch, Future[list[dict[str, Any]]]]] = deque()

    def store_oldest() -> None:
        batch, job = pending.popleft()
        _store_batch(store, pool.enricher, name, batch, job, counts, report)
        progress.advance(len(batch.records) + len(batch.rejects))

    try:
        for batch in source.fetch(cursor):
            pending.append((batch, pool.submit(name, batch.records)))
            while len(pending) > pool.in_flight:
                store_oldest()
    except Exception as exc:
        while pending:  # what was read before the failure is stored, with the cursors that cover it
            store_oldest()
        if isinstance(exc, ReviewbotError):
            raise
        log.exception("source %s failed", name)  # a source's outage or bug: report it and go on
        report.errors.append(f"source {name}: {type(exc).__name__}: {exc}")
    while pending:
        store_oldest()
    if counts.get("skipped"):
        log.info("%s: skipped %s rows with no text", name, f"{counts['skipped']:,}")


def _store_batch(
    store: Store,
    enricher: Enricher,
    name: str,
    batch: Batch,
    job: Future[list[dict[str, Any]]],
    counts: dict[str, int],
    report: SyncReport,
) -> None:
    """Store one enriched batch with its rejects and the cursor that covers them, in one transaction."""
    rows = job.result()
    # A reason can quote the value it refuses (a date, a score), so it is redacted like the row itself.
    rejects = [
        {
            "file": r.file,
            "line": r.line,
            "reason": (enricher.redact(r.reason) or "")[:500],
            "raw": enricher.redact(r.raw) or "",
        }
        for r in batch.rejects
    ]
    with store.session() as session:
        upserted = upsert_items(session, name, rows)
        if batch.files_read:
            clear_file_rejects(session, name, batch.files_read)
        quarantined = add_quarantined(session, name, rejects)
        if batch.cursor:
            save_cursor(session, name, batch.cursor, upserted.new)
        counts["new"] += upserted.new
        counts["updated"] += upserted.updated
        counts["unchanged"] += upserted.unchanged
        counts["quarantined"] += len(quarantined)
        if batch.skipped:  # only when there are some, so sources that never skip keep their four counts
            counts["skipped"] = counts.get("skipped", 0) + batch.skipped
        superseded = batch.superseded + upserted.superseded  # dropped by the source (Zendesk), or by the store
        if superseded:
            counts["superseded"] = counts.get("superseded", 0) + superseded
        # with the batch: a sync killed later (kill -9) still shows in `reviewbot runs` what it had stored
        save_progress(session, report.run_id, report.progress())
    for reject, stored in zip(batch.rejects, rejects, strict=True):
        # A file refused again for the same reason is in quarantine already: the sync that refused it first
        # failed, later ones do not (a file left in the inbox would fail every scheduled sync).
        if reject.whole_file and (stored["file"], 0, stored["reason"]) in quarantined:
            report.errors.append(f"{name}: {reject.file}: {reject.reason}")


def store_feedback(settings: Settings, store: Store, source: str, record: RawRecord) -> tuple[int, bool]:
    """Store one record that arrived outside a sync (a Slack suggestion): enriched and redacted like the rest.

    Returns (item id, whether it was new); the same external id again changes nothing.
    """
    try:
        check_text(record.text, max_chars=settings.enrich.max_text_chars, has_score=False)
    except FieldError as exc:
        raise RefusedError(str(exc).capitalize()) from None
    row = make_enricher(settings, store).enrich(source, record)
    with store.session() as session:
        counts = upsert_items(session, source, [row])
        item_id = item_id_of(session, source, record.external_id)
    return item_id, counts.new == 1
