"""`reviewbot sync`: the stages in order, one sync at a time. Each stage commits its own short transactions,
so a crash leaves finished work in place and the next run continues from there."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import update
from sqlmodel import col

from reviewbot.analysis.embeddings import check_backend
from reviewbot.models import SyncRun, utcnow
from reviewbot.settings import Settings
from reviewbot.store import Store
from reviewbot.store.operations import save_progress
from reviewbot.workflows.calibrate import calibrate
from reviewbot.workflows.collect import collect
from reviewbot.workflows.deliver import deliver, reconcile
from reviewbot.workflows.followup import follow_up
from reviewbot.workflows.locks import Lease, LeaseLost, job_lock
from reviewbot.workflows.mapping import map_themes
from reviewbot.workflows.policies import load_policies
from reviewbot.workflows.pull import pull_states
from reviewbot.workflows.run_summary import NoProgress, ProgressSink, SyncReport
from reviewbot.workflows.themes import update_themes
from reviewbot.workflows.tickets import decide_tickets

log = logging.getLogger(__name__)
GC_THRESHOLD = 100_000  # allocations between young-generation collections (Python's default: 700)


def run_sync(
    settings: Settings,
    store: Store,
    *,
    dry_run: bool = False,
    progress: ProgressSink | None = None,
    wait: float | None = None,
) -> SyncReport:
    """Run every stage under the sync lock (LockHeld if another sync runs and `wait` is None or runs out).

    With `dry_run` everything is computed, reported, and rolled back, and nothing is sent. LeaseLost if another
    process took the lease meanwhile: the sync stops at its next commit or stage, before writing anything more.
    """
    progress = progress or NoProgress()
    report = SyncReport(dry_run=dry_run)
    with job_lock(store, "sync", wait=wait) as lease, _fewer_collections():
        if dry_run:
            with store.rolled_back():
                _stages(settings, store, report, progress, lease, deliver_outbox=False)
            return report
        _start_run(store, report, lease.owner)
        try:
            _stages(settings, store, report, progress, lease, deliver_outbox=True)
        except LeaseLost:
            raise  # the run is the new holder's to record (it marks this one interrupted); we may not write
        except KeyboardInterrupt:
            _finish_run(store, report, failed="interrupted (Ctrl-C)", status="interrupted")
            raise
        except BaseException as exc:
            _finish_run(store, report, failed=f"{type(exc).__name__}: {exc}")
            raise
        _finish_run(store, report)
    log.info("sync %s finished: %s", report.run_id, report.status)
    return report


def _stages(
    settings: Settings,
    store: Store,
    report: SyncReport,
    progress: ProgressSink,
    lease: Lease,
    *,
    deliver_outbox: bool,
) -> None:
    if settings.themes.backend == "embeddings":  # a wrong model path stops the sync before anything is read
        check_backend(settings.themes.embedding_model, settings.workspace)
    with _timed(report, "policies", lease, store):
        load_policies(settings, store, report)
    if deliver_outbox:  # a dry run talks to no outside system
        with _timed(report, "pull", lease, store):
            pull_states(settings, store, report)
    with _timed(report, "collect", lease, store):
        collect(settings, store, report, progress)
    with _timed(report, "calibrate", lease, store):
        calibrate(settings, store, report, progress)
    with _timed(report, "themes", lease, store):
        placed = update_themes(settings, store, report, progress)
    with _timed(report, "mapping", lease, store):
        map_themes(settings, store, report, placed)
    with _timed(report, "tickets", lease, store):
        decide_tickets(settings, store, report)
    with _timed(report, "followup", lease, store):
        follow_up(settings, store, report)
    if deliver_outbox:
        with _timed(report, "deliver", lease, store):
            delivery = deliver(settings, store)
            report.delivery = delivery.counts
            report.errors.extend(delivery.errors)
            try:
                report.duplicates = reconcile(settings, store)
            except Exception as exc:  # noqa: BLE001 - reconciling is best effort; the next run tries again
                report.errors.append(f"tracker: looking for duplicates: {exc}")


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run Python's cycle collector less often during a sync. A large one builds millions of small objects that
    live until their stage ends (rows, terms, documents); at the default thresholds the collector scanned them
    over and over, a tenth of the themes stage, and freed next to nothing."""
    before = gc.get_threshold()
    gc.set_threshold(GC_THRESHOLD, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


@contextmanager
def _timed(report: SyncReport, stage: str, lease: Lease, store: Store) -> Iterator[None]:
    """Time a stage; it starts only while the lease is still ours (a stage may talk to outside systems). The run's
    record says which stage it is in and, after each, the counts so far: a run killed later keeps them."""
    lease.check()
    report.stage = stage
    started = time.perf_counter()
    try:
        yield
    finally:
        report.timings[stage] = round(time.perf_counter() - started, 3)
        log.info("stage %s took %.2fs", stage, report.timings[stage])
    with store.session() as session:  # not after a failed stage: the run's end records that
        save_progress(session, report.run_id, report.progress())


def _start_run(store: Store, report: SyncReport, owner: str) -> None:
    with store.session() as session:
        # We hold the lock, so any run still marked running died without finishing. Its counts were never written
        # and its end is unknown: `runs` says so rather than showing a run of 0 items that took until now.
        now = utcnow()
        why = f"stopped without finishing (killed, or its machine lost); found at {now:%Y-%m-%d %H:%M} UTC"
        session.execute(
            update(SyncRun)
            .where(col(SyncRun.status) == "running")
            .values(status="interrupted", finished_at=now, errors=[why])
        )
        run = SyncRun(owner=owner)
        session.add(run)
        session.flush()
        report.run_id = run.id


def _finish_run(store: Store, report: SyncReport, failed: str | None = None, status: str = "failed") -> None:
    with store.session() as session:
        run = session.get(SyncRun, report.run_id)
        if run is not None:
            run.finished_at = utcnow()
            run.status = status if failed else report.status
            run.counts = report.progress() if failed else report.run_counts()  # a failed run: the stage it was in
            run.errors = list(report.errors) + ([failed] if failed else [])
            session.add(run)
