"""Enrich batches in worker processes once a run proves large, so sentiment scoring uses every core.

Scoring is most of the cost of ingesting (TextBlob is pure Python), and batches are independent. Small runs stay
in-process; workers start once a run has shown that they will pay off. Batches come back in the order they were
submitted, so the caller stores them, and advances cursors, exactly as it would without workers.

Workers come from a fork server (see _start_method): a clean process, started when the first batch arrives, that
imports the scoring code while the first batches are scored here, then forks each worker ready to run. Forking the
sync itself is not safe, since its lease heartbeat (and the scheduler's) threads may hold a lock at that moment.
A worker exits by itself when the sync dies, even by `kill -9`: it waits on a pipe whose only writing end the sync
holds, which the kernel closes when the sync ends however it ends. So a crashed sync leaves no worker behind, nor,
then, the fork server and multiprocessing's resource tracker, which exit when their last user does.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing.connection import Connection
from typing import Any

from reviewbot.analysis.enrich import Enricher
from reviewbot.protocols import RawRecord

log = logging.getLogger(__name__)
# records enriched in-process before workers are started (from a fork server, spawned)
PARALLEL_AFTER = {"forkserver": 1_000, "spawn": 5_000}

_worker_enricher: Enricher | None = None


def default_workers() -> int:
    """Worker processes to use by default: one per core, at most four (beyond that the database write waits)."""
    return min(os.cpu_count() or 1, 4)


def _start_method() -> str:
    """forkserver where there is one (Linux, macOS): workers fork from a warm server, in a fraction of a second;
    elsewhere (Windows) spawn, where each worker imports everything again, which takes about a second."""
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def _warm_up(start: str, enricher: Enricher) -> None:
    """Start the fork server now, importing the scoring code, so that workers are ready when they are needed."""
    if start != "forkserver":
        return
    from multiprocessing import forkserver

    modules = {__name__, *(type(part).__module__ for part in (enricher, *vars(enricher).values()))}
    forkserver.set_forkserver_preload(sorted(m for m in modules if m != "builtins"))
    # Ctrl-C signals the terminal's whole process group, the fork server too, which ignores SIGINT only once it has
    # imported the modules above (a second or two): one meanwhile printed its KeyboardInterrupt traceback under the
    # sync's "interrupted". Started while the sync ignores SIGINT, it inherits that (a blocked signal it would not:
    # subprocesses start with none blocked), as do the workers it forks; the sync handles Ctrl-C and stops them.
    # Only the main thread may set a handler; the few milliseconds of the start are the sync's only deaf ones.
    if threading.current_thread() is not threading.main_thread():
        forkserver.ensure_running()
        return
    handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        forkserver.ensure_running()  # returns at once; the server imports in the background
    finally:
        signal.signal(signal.SIGINT, handler)


def _start_worker(enricher: Enricher, lifeline: Connection) -> None:
    global _worker_enricher  # noqa: PLW0603 - one enricher per worker process, set once at its start
    _worker_enricher = enricher
    threading.Thread(target=_exit_with_sync, args=(lifeline,), name="lifeline", daemon=True).start()


def _exit_with_sync(lifeline: Connection) -> None:
    """End this worker once the sync is gone: the pipe's other end, held only by the sync, is then closed.

    A killed sync cannot shut its pool down, and a worker waiting for work would wait forever (its own parent, the
    fork server, waits in turn for its children to end).
    """
    with contextlib.suppress(EOFError, OSError):
        lifeline.recv_bytes()  # the sync never writes: this returns only by raising EOFError (or OSError)
    os._exit(1)  # nothing to clean up: the batch in hand was never stored, and the next sync reads it again


def _enrich(source: str, records: Sequence[RawRecord]) -> list[dict[str, Any]]:
    assert _worker_enricher is not None
    return [_worker_enricher.enrich(source, record) for record in records]


class EnrichPool:
    """Enriches batches in-process at first, then in `workers` processes (1 keeps everything in-process)."""

    def __init__(self, enricher: Enricher, workers: int) -> None:
        self.enricher = enricher
        self.workers = workers
        self.inline_records = 0
        self.start_method = _start_method()
        self._warm = False
        self._executor: ProcessPoolExecutor | None = None
        self._lifeline: Connection | None = None  # the writing end of the workers' lifeline, only ever here

    def submit(self, source: str, records: Sequence[RawRecord]) -> Future[list[dict[str, Any]]]:
        """Start enriching a batch; the future's result is the rows to store."""
        if self._executor is None:
            if self.workers > 1 and records and not self._warm:
                _warm_up(self.start_method, self.enricher)
                self._warm = True
            if self.workers <= 1 or self.inline_records < PARALLEL_AFTER[self.start_method]:
                self.inline_records += len(records)
                done: Future[list[dict[str, Any]]] = Future()
                done.set_result([self.enricher.enrich(source, record) for record in records])
                return done
            log.info(
                "scoring in %d worker processes (%s) after %d records",
                self.workers,
                self.start_method,
                self.inline_records,
            )
            context = multiprocessing.get_context(self.start_method)
            lifeline, self._lifeline = context.Pipe(duplex=False)
            self._executor = ProcessPoolExecutor(self.workers, context, _start_worker, (self.enricher, lifeline))
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
        if self._lifeline is not None:
            self._lifeline.close()
            self._lifeline = None

    def __enter__(self) -> EnrichPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
