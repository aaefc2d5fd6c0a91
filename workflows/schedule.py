"""`reviewbot schedule`: an APScheduler 3 scheduler in the foreground running the jobs in `[schedule]`.

One scheduler process, jobs registered in code with fixed ids, kept in memory (APScheduler 3 cannot share a
job store between processes safely). Missed runs coalesce into one, a run missed by more than the grace time
is skipped, a job never overlaps itself, and every job takes the sync lock, so a `reviewbot sync` started by
hand or by cron waits its turn. SIGTERM and SIGINT stop it cleanly after the running job finishes.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger

from reviewbot.models import utcnow
from reviewbot.settings import Settings
from reviewbot.store import Store
from reviewbot.workflows.deliver import deliver
from reviewbot.workflows.followup import open_periodic_tickets, queue_weekly_digest, remind_acks, send_reminders
from reviewbot.workflows.locks import LockHeld, job_lock
from reviewbot.workflows.sync import run_sync

log = logging.getLogger("reviewbot.schedule")
# One line per run is the scheduler's whole output, so it is shown at the default (warning) level too;
# `reviewbot -q schedule` raises this to errors only, before this module is imported: so only if nobody did.
if log.level == logging.NOTSET:
    log.setLevel(logging.INFO)
Job = Callable[[], str]


def default_jobs(settings: Settings, store: Store) -> dict[str, Job]:
    """The jobs by their fixed ids; each returns a one-line summary."""

    def sync() -> str:
        report = run_sync(settings, store)
        new = sum(c["new"] for c in report.sources.values())
        created = report.tickets.get("created", 0)
        return f"{report.status}: {new} new items, {created} new tickets, {len(report.errors)} errors"

    def reminders() -> str:
        with job_lock(store, "sync"), store.session() as session:
            sent = send_reminders(session, settings, utcnow())
            acks = remind_acks(session, settings, utcnow())
        deliver(settings, store)
        return f"{sent[0]} reminders, {sent[1]} escalations, {acks} acknowledgement reminders"

    def cadence() -> str:
        with job_lock(store, "sync"), store.session() as session:
            opened = open_periodic_tickets(session, settings, utcnow())
        deliver(settings, store)
        return f"{opened} periodic-review tickets"

    def digest() -> str:
        with job_lock(store, "sync"), store.session() as session:
            queued = queue_weekly_digest(session, settings, utcnow())
        deliver(settings, store)
        return "weekly digest sent" if queued else "weekly digest already sent"

    return {"sync": sync, "reminders": reminders, "cadence": cadence, "digest": digest}


def build_scheduler(settings: Settings, jobs: dict[str, Job], scheduler: BaseScheduler | None = None) -> BaseScheduler:
    """A scheduler with each configured job on its cron trigger (jobs whose expression is empty are off)."""
    rules = settings.schedule
    zone = ZoneInfo(rules.timezone)
    scheduler = scheduler or BackgroundScheduler()
    scheduler.configure(
        timezone=zone,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": rules.misfire_grace_seconds},
    )
    for job_id, run in jobs.items():
        expression = getattr(rules, job_id, None)
        if expression:
            trigger = CronTrigger.from_crontab(expression, timezone=zone)
            scheduler.add_job(logged(job_id, run), trigger, id=job_id, name=job_id, replace_existing=True)
    return scheduler


def logged(job_id: str, run: Job) -> Callable[[], None]:
    """The job, writing exactly one log line per run: what it did, or why it did not."""

    def job() -> None:
        started = time.monotonic()
        try:
            summary = run()
        except LockHeld as exc:
            log.info("%s skipped: %s", job_id, exc.message)
        except Exception as exc:  # noqa: BLE001 - a failed run is logged; the schedule goes on
            log.error("%s failed after %.1fs: %s: %s", job_id, time.monotonic() - started, type(exc).__name__, exc)
        else:
            log.info("%s done in %.1fs: %s", job_id, time.monotonic() - started, summary)

    return job


def next_runs(
    settings: Settings, jobs: dict[str, Job], now: datetime | None = None
) -> list[tuple[str, str, datetime | None]]:
    """(job id, cron expression, next run time) of every job, on or off, without starting anything."""
    zone = ZoneInfo(settings.schedule.timezone)
    now = (now or utcnow()).astimezone(zone)
    rows = []
    for job_id in jobs:
        expression = getattr(settings.schedule, job_id, None)
        when = CronTrigger.from_crontab(expression, timezone=zone).get_next_fire_time(None, now) if expression else None
        rows.append((job_id, expression or "off", when))
    return rows


def run_forever(scheduler: BaseScheduler, ready: Callable[[], None] = lambda: None) -> None:
    """Run the scheduler (in its own thread) until SIGTERM or SIGINT, then let the running job finish.

    `ready` is called once the signals are handled, so whoever waits for it may stop the scheduler at once.
    """
    stopping = threading.Event()

    def stop(signum: int, _frame: object) -> None:
        log.info("received %s: stopping after the running job", signal.Signals(signum).name)
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # our own line per run is enough
    scheduler.start()
    ready()
    while not stopping.wait(1.0):  # wake now and then: signal handlers run between waits
        pass
    scheduler.shutdown(wait=True)
