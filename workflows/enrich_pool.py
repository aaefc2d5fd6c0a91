"""Enrich batches in worker processes once a run proves large, so sentiment scoring uses every core.

Scoring is most of the cost of ingesting (TextBlob is pure Python), and batches are independent. Small runs stay
in-process: a forked worker starts in a fraction of a second, a spawned one (see _start_method) in about a
second, so workers start once a run has shown that they will pay off. Batches come back in the order they were
submitted, so the caller stores them, and advances cursors, exactly as it would without workers.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from reviewbot.analysis.enrich import Enricher
from reviewbot.protocols import RawRecord

# records enriched in-process before workers are started (forked, spawned)
PARALLEL_AFTER = {"fork": 1_000, "spawn": 5_000}

_worker_enricher: Enricher | None = None


def default_workers() -> int:
    """Worker processes to use by default: one per core, at most four (beyond that the database write waits)."""
    return min(os.cpu_count() or 1, 4)


def _start_method() -> str:
    """fork (fast: nothing to import again) unless other threads run, as under the scheduler: forking a threaded
    process can deadlock on a lock another thread held, so then spawn."""
    return "fork" if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods() else "spawn"


def _start_worker(enricher: Enricher) -> None:
    global _worker_enricher  # noqa: PLW0603 - one enricher per worker process, set once at its start
    _worker_enricher = enricher


def _enrich(source: str, records: Sequence[RawRecord]) -> list[dict[str, Any]]:
    assert _worker_enricher is not None
    return [_worker_enricher.enrich(source, record) for record in records]


class EnrichPool:
    """Enriches batches in-process at first, then in `workers` processes (1 keeps everything in-process)."""

    def __init__(self, enricher: Enricher, workers: int) -> None:
        self.enricher = enricher
        self.workers = workers
        self.inline_records = 0
        self._executor: ProcessPoolExecutor | None = None

    def submit(self, source: str, records: Sequence[RawRecord]) -> Future[list[dict[str, Any]]]:
        """Start enriching a batch; the future's result is the rows to store."""
        if self._executor is None:
            start = _start_method()
            if self.workers <= 1 or self.inline_records < PARALLEL_AFTER[start]:
                self.inline_records += len(records)
                done: Future[list[dict[str, Any]]] = Future()
                done.set_result([self.enricher.enrich(source, record) for record in records])
                return done
            context = multiprocessing.get_context(start)
            self._executor = ProcessPoolExecutor(self.workers, context, _start_worker, (self.enricher,))
        return self._executor.submit(_enrich, source, list(records))

    @property
    def in_flight(self) -> int:
        """How many enriched batches may wait to be stored: enough to keep every worker busy (none in-process)."""
        return self.workers + 1 if self._executor is not None else 0

    def close(self) -> None:
        """Stop the workers (pending work is cancelled: its batches were not stored, so nothing is lost)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def __enter__(self) -> EnrichPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
