"""Running unattended: one sync at a time across processes, a killed sync finished by the next one, run
history and status, and the scheduler firing, coalescing and never overlapping (with a moved clock)."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from apscheduler.schedulers.background import BackgroundScheduler
from sqlmodel import func, select

from reviewbot.models import FeedbackItem, JobLock, ReviewTicket, SyncRun
from reviewbot.store import Store
from tests.workspaces import DELIVERY_TEXTS, REFUND_TEXTS, make_workspace, open_workspace
from workflows.locks import LockHeld, job_lock
from workflows.schedule import build_scheduler, next_runs
from workflows.sync import run_sync


@pytest.fixture
def ws(tmp_path: Path, use_database: str) -> Path:
    return make_workspace(tmp_path / "ws")


def reviewbot(folder: Path, *args: str) -> subprocess.Popen[str]:
    """`reviewbot -w folder ARGS` as a separate process (same database settings as the test)."""
    command = [sys.executable, "-m", "reviewbot", "-w", str(folder), *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))


def big_export(folder: Path, rows: int) -> None:
    """Many complaints about the two issues, with varied wording, as one export."""
    path = folder / "inbox" / "complaints" / "big.csv"
    texts = REFUND_TEXTS + DELIVERY_TEXTS
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "text", "created_at"])
        for i in range(rows):
            writer.writerow(
                [f"B-{i}", f"{texts[i % len(texts)]} (case {i}, week {i % 12})", f"2026-09-{1 + i % 28:02d} 10:00"]
            )


def count(store: Store, table: type, *where: object) -> int:
    with store.session() as session:
        return session.exec(select(func.count()).select_from(table).where(*where)).one()


def wait_until(check, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


# --- the lock ----------------------------------------------------------------------------------------


def test_a_second_sync_is_refused_while_one_runs_and_can_wait(ws: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    settings, store = open_workspace(ws)
    monkeypatch.chdir(ws)
    with job_lock(store, "sync"):
        with pytest.raises(LockHeld) as caught:
            run_sync(settings, store)
        assert f"process {os.getpid()}" in caught.value.message and "--wait" in (caught.value.hint or "")
        refused = cli("sync")
        assert refused.code == 3 and "another sync is running" in refused.stderr
        started = time.monotonic()
        assert cli("sync --wait --timeout 1").code == 3 and time.monotonic() - started >= 1
    assert count(store, FeedbackItem) == 0

    holder = threading.Thread(target=lambda: _hold(store, seconds=1.5))
    holder.start()
    time.sleep(0.2)
    assert cli("sync --wait --timeout 30").code == 0  # waited for the other one, then ran
    holder.join()
    assert count(store, FeedbackItem) == 16


def _hold(store: Store, seconds: float) -> None:
    with job_lock(store, "sync"):
        time.sleep(seconds)


def test_an_expired_lease_is_taken_over(ws: Path) -> None:
    settings, store = open_workspace(ws)
    with store.session() as session:  # a lease left by a sync on another machine that died
        now = datetime.now(UTC)
        session.add(
            JobLock(name="sync", owner="other-host:123:abc", acquired_at=now, expires_at=now + timedelta(minutes=2))
        )
    with pytest.raises(LockHeld, match="on other-host, process 123"):
        run_sync(settings, store)
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=3)):
        assert run_sync(settings, store).errors == []


def test_the_lease_of_a_dead_process_on_this_machine_is_taken_over_at_once(ws: Path) -> None:
    import socket

    settings, store = open_workspace(ws)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    with store.session() as session:
        now = datetime.now(UTC)
        owner = f"{socket.gethostname()}:{gone.stdout.strip()}:dead"
        session.add(JobLock(name="sync", owner=owner, acquired_at=now, expires_at=now + timedelta(hours=1)))
    assert run_sync(settings, store).errors == []


@pytest.mark.skipif(not os.environ.get("REVIEWBOT_TEST_DATABASE_URL"), reason="PostgreSQL only")
def test_postgresql_advisory_lock_guards_even_without_the_lease(ws: Path) -> None:
    from reviewbot.store.locks import try_advisory_xact_lock

    settings, store = open_workspace(ws)
    with store.engine.connect() as other:  # another process holds the advisory lock, its lease row is gone
        other.begin()
        assert try_advisory_xact_lock(other, "sync")
        with pytest.raises(LockHeld):
            run_sync(settings, store)
    assert count(store, JobLock) == 0  # the refused attempt gave its lease back
    assert run_sync(settings, store).errors == []


def test_two_sync_processes_at_once_one_runs_one_reports_the_lock(ws: Path) -> None:
    big_export(ws, 10_000)
    settings, store = open_workspace(ws)
    first = reviewbot(ws, "sync", "--json")
    wait_until(lambda: count(store, JobLock) == 1)
    second = reviewbot(ws, "sync")
    second_out, second_err = second.communicate(timeout=120)
    first_out, first_err = first.communicate(timeout=300)
    assert first.returncode == 0, first_err
    assert second.returncode == 3 and "another sync is running" in second_err
    assert json.loads(first_out)["sources"]["complaints"]["new"] == 10_016
    assert count(store, FeedbackItem) == 10_016
    with store.session() as session:
        keys = session.exec(select(FeedbackItem.source, FeedbackItem.external_id)).all()
        fingerprints = session.exec(select(ReviewTicket.fingerprint)).all()
    assert len(set(keys)) == len(keys) and len(set(fingerprints)) == len(fingerprints) >= 2


# --- crash safety --------------------------------------------------------------------------------------


def test_sync_killed_midway_is_finished_by_the_next_with_nothing_lost_or_doubled(ws: Path) -> None:
    rows = 20_000
    big_export(ws, rows)
    settings, store = open_workspace(ws)
    victim = reviewbot(ws, "sync")
    wait_until(lambda: 0 < count(store, FeedbackItem) < rows, timeout=120)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    stored = count(store, FeedbackItem)
    assert 0 < stored < rows + 16  # killed during the ingest

    report = run_sync(settings, store)  # right away: the dead process's lease is taken over
    assert report.errors == []
    assert count(store, FeedbackItem) == rows + 16
    with store.session() as session:
        ids = session.exec(select(FeedbackItem.external_id)).all()
        runs = session.exec(select(SyncRun.status).order_by(SyncRun.id)).all()
        tickets = session.exec(select(ReviewTicket.theme_id, ReviewTicket.section_id)).all()
    assert len(ids) == len(set(ids)) == rows + 16
    assert runs == ["interrupted", "ok"]
    assert len(tickets) == len(set(tickets)) and {s for _, s in tickets} == {"refunds", "delivery"}
    again = run_sync(settings, store)
    assert again.sources["complaints"]["new"] == 0 and again.tickets["created"] == 0


# --- history and status ----------------------------------------------------------------------------------


def test_runs_and_status_show_what_happened(ws: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(ws)
    assert "No sync has run yet" in cli("runs").stdout
    cli("sync")
    (ws / "inbox" / "complaints" / "broken.xlsx").write_bytes(b"\x00\x01binary")
    assert cli("sync").code == 1
    runs = json.loads(cli("runs --json").stdout)
    assert [r["status"] for r in runs] == ["partial", "ok"]
    assert runs[1]["counts"]["sources"]["complaints"]["new"] == 16 and "broken.xlsx" in runs[0]["errors"][0]
    status = json.loads(cli("status --json").stdout)
    assert status["sources"] == [
        {"name": "complaints", "items": 16, "files": 1, "updated_at": status["sources"][0]["updated_at"]}
    ]
    assert status["tickets"] == {"open": 2} and status["outbox_pending"] == 0 and status["lock"] is None
    assert status["last_run"]["status"] == "partial"
    assert "Open tickets: 2 open" in cli("status").stdout


# --- the scheduler ---------------------------------------------------------------------------------------


class Recorder:
    """Stand-in jobs that record when they ran and how many ran at once."""

    def __init__(self) -> None:
        self.runs: list[str] = []
        self.running = 0
        self.most = 0
        self.gate = threading.Event()
        self.gate.set()
        self.lock = threading.Lock()

    def job(self, name: str):  # type: ignore[no-untyped-def]
        def run() -> str:
            with self.lock:
                self.running += 1
                self.most = max(self.most, self.running)
                self.runs.append(name)
            self.gate.wait(10)
            with self.lock:
                self.running -= 1
            return "ran"

        return run


def test_scheduler_fires_jobs_coalesces_missed_runs_and_never_overlaps(
    ws: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings, _ = open_workspace(ws)
    settings.schedule.sync = "*/30 * * * *"
    settings.schedule.misfire_grace_seconds = 24 * 3600
    recorder = Recorder()
    jobs = {"sync": recorder.job("sync"), "reminders": recorder.job("reminders")}
    start = datetime(2026, 11, 23, 10, 29, 59, tzinfo=UTC)
    caplog.set_level("INFO", logger="reviewbot.schedule")
    with time_machine.travel(start, tick=True) as clock:
        scheduler = build_scheduler(settings, jobs, BackgroundScheduler())
        scheduler.start()
        try:
            wait_until(lambda: recorder.runs == ["sync"], timeout=10)  # 10:30 came
            wait_until(lambda: recorder.running == 0, timeout=5)
            clock.shift(timedelta(hours=2))  # the machine slept through four runs
            scheduler.wakeup()
            wait_until(lambda: len(recorder.runs) == 2, timeout=10)
            time.sleep(0.5)
            assert recorder.runs == ["sync", "sync"]  # the missed runs became one

            recorder.gate.clear()  # the next sync hangs...
            clock.shift(timedelta(minutes=30))
            scheduler.wakeup()
            wait_until(lambda: recorder.running == 1, timeout=10)
            clock.shift(timedelta(minutes=30))  # ...while its next turn comes
            scheduler.wakeup()
            time.sleep(0.5)
            assert recorder.running == 1 and recorder.most == 1
            recorder.gate.set()
            wait_until(lambda: recorder.running == 0, timeout=10)
        finally:
            scheduler.shutdown(wait=True)
    assert recorder.runs.count("sync") == 3 and "reminders" not in recorder.runs
    lines = [r.getMessage() for r in caplog.records if r.name == "reviewbot.schedule"]
    assert len(lines) == 3 and all(line.startswith("sync done in") for line in lines)


def test_schedule_list_shows_next_run_times_in_the_time_zone(ws: Path) -> None:
    settings, _ = open_workspace(ws)
    settings.schedule.timezone = "Europe/London"
    settings.schedule.digest = None
    rows = next_runs(
        settings, {"sync": lambda: "", "digest": lambda: ""}, now=datetime(2026, 11, 23, 10, 5, tzinfo=UTC)
    )
    assert rows[0][:2] == ("sync", "*/30 * * * *") and rows[0][2].isoformat() == "2026-11-23T10:30:00+00:00"
    assert rows[1] == ("digest", "off", None)


def test_scheduler_stops_cleanly_on_sigterm(ws: Path) -> None:
    process = reviewbot(ws, "schedule")
    assert process.stdout is not None
    line = process.stdout.readline()
    assert "scheduler running" in line
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0


def test_bad_cron_expression_names_the_setting(ws: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(ws)
    toml = ws / "reviewbot.toml"
    toml.write_text(toml.read_text() + '\n[schedule]\nsync = "every half hour"\n')
    result = cli("schedule --list")
    assert result.code == 2 and "schedule.sync" in result.stderr and "not a cron expression" in result.stderr
