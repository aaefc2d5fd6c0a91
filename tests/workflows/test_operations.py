"""Running unattended: one sync at a time across processes, a killed sync finished by the next one, run
history and status, and the scheduler firing, coalescing and never overlapping (with a moved clock)."""

from __future__ import annotations

import csv
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import delete, text, update
from sqlmodel import col, func, select

from reviewbot.models import FeedbackItem, JobLock, ReviewTicket, SyncRun, Theme
from reviewbot.store import Store
from reviewbot.workflows.locks import LEASE, LeaseLost, LockHeld, job_lock
from reviewbot.workflows.schedule import build_scheduler, next_runs
from reviewbot.workflows.sync import run_sync
from tests.workspaces import DELIVERY_TEXTS, REFUND_TEXTS, make_workspace, open_workspace


@pytest.fixture
def ws(tmp_path: Path, use_database: str) -> Path:
    return make_workspace(tmp_path / "ws")


def reviewbot(folder: Path, *args: str) -> subprocess.Popen[str]:
    """`reviewbot -w folder ARGS` as a separate process (same database settings as the test)."""
    command = [sys.executable, "-m", "reviewbot", "-w", str(folder), *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))


def reviewbot_on_cue(folder: Path, ready: Path, *args: str) -> subprocess.Popen[str]:
    """`reviewbot -w folder ARGS` in a process that imports everything first, touches READY, and runs on a line of
    stdin: started on cue it acts at once, not after seconds of start-up a fast first process may not leave it."""
    code = """
import pathlib, sys
from reviewbot.cli import main
import reviewbot.cli.workspace, reviewbot.workflows.sync
pathlib.Path(sys.argv[1]).touch()
sys.stdin.readline()
sys.argv = ["reviewbot", *sys.argv[2:]]
main()
"""
    command = [sys.executable, "-c", code, str(ready), "-w", str(folder), *args]
    return subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ)
    )


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


def test_a_holder_whose_process_is_not_visible_here_keeps_its_lease_while_its_heartbeat_is_fresh(
    ws: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Containers with a fixed hostname and their own PID namespaces: same host name, a PID this process cannot
    see, yet alive. Only the lease's heartbeat tells, so it is not taken over until it stops beating."""
    settings, store = open_workspace(ws)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = gone.stdout.strip()  # no such process here, as seen from another PID namespace
    beat = datetime.now(UTC)
    with store.session() as session:
        owner = f"{socket.gethostname()}:{pid}:{secrets.token_hex(16)}"
        session.add(JobLock(name="sync", owner=owner, acquired_at=beat, expires_at=beat + LEASE))
    with pytest.raises(LockHeld, match=f"on {socket.gethostname()}, process {pid}"):
        run_sync(settings, store)
    assert count(store, FeedbackItem) == 0 and count(store, SyncRun) == 0
    with time_machine.travel(beat + LEASE + timedelta(seconds=1)):  # a whole lease without a heartbeat
        assert run_sync(settings, store).errors == []
    assert count(store, FeedbackItem) == 16
    assert f"took over the sync lease of {socket.gethostname()}, process {pid}: no heartbeat since" in caplog.text


def test_the_heartbeat_renews_the_lease_so_a_long_job_keeps_it(ws: Path) -> None:
    _, store = open_workspace(ws)
    with job_lock(store, "sync", ttl=timedelta(seconds=0.6)):
        first = _lease(store).expires_at
        wait_until(lambda: _lease(store).expires_at > first)
        wait_until(lambda: datetime.now(UTC).replace(tzinfo=None) > first.replace(tzinfo=None))
        with pytest.raises(LockHeld), job_lock(store, "sync"):  # past its first expiry, but renewed: still held
            pass
    assert count(store, JobLock) == 0


def _lease(store: Store) -> JobLock:
    with store.session() as session:
        lease = session.get(JobLock, "sync")
        assert lease is not None
        return lease


def _steal_lease(store: Store) -> None:
    """What another process does once this one's lease has run out: take it (not through this thread's sessions)."""
    now = datetime.now(UTC)
    with store.engine.begin() as connection:
        connection.execute(
            update(JobLock)
            .where(col(JobLock.name) == "sync")
            .values(owner="other-host:4242:stolen", acquired_at=now, expires_at=now + LEASE)
        )


def test_a_holder_that_lost_its_lease_writes_nothing_more(ws: Path) -> None:
    _, store = open_workspace(ws)
    with job_lock(store, "sync", ttl=timedelta(seconds=0.3)) as lease:
        _steal_lease(store)
        wait_until(lease.lost.is_set)  # its heartbeat found another owner
        with pytest.raises(LeaseLost, match="taken over by other-host, process 4242"):
            lease.check()
        with pytest.raises(LeaseLost), store.session() as session:
            session.add(SyncRun(owner=lease.owner))
    assert count(store, SyncRun) == 0
    assert _lease(store).owner == "other-host:4242:stolen"  # leaving did not release the other's lease


def test_a_sync_whose_lease_is_taken_stops_at_its_next_commit_and_the_new_holder_finishes(
    ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import reviewbot.connectors.files

    monkeypatch.setattr(reviewbot.connectors.files, "BATCH_SIZE", 500)
    big_export(ws, 2_000)
    settings, store = open_workspace(ws)

    class StealAfterFirstBatch:
        """Progress that, once the first batch is stored, lets another process take the lease."""

        def start(self, label: str, total: int | None) -> None:
            pass

        def advance(self, amount: int = 1) -> None:
            if _lease(store).owner != "other-host:4242:stolen":
                _steal_lease(store)

    with pytest.raises(LeaseLost, match="lost its lease"):
        run_sync(settings, store, progress=StealAfterFirstBatch())
    assert count(store, FeedbackItem) == 500  # the batch stored before the lease was taken, and no other
    assert count(store, Theme) == 0 and count(store, ReviewTicket) == 0
    assert _lease(store).owner == "other-host:4242:stolen"

    with store.session() as session:  # the other sync ends
        session.execute(delete(JobLock))
    report = run_sync(settings, store)
    assert report.errors == [] and count(store, FeedbackItem) == 2_016
    with store.session() as session:
        runs = session.exec(select(SyncRun.status).order_by(col(SyncRun.id))).all()
    assert runs == ["interrupted", "ok"]


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


@pytest.mark.skipif(not os.environ.get("REVIEWBOT_TEST_DATABASE_URL"), reason="PostgreSQL only")
def test_postgresql_workspaces_in_other_schemas_of_the_database_do_not_block_each_other(ws: Path) -> None:
    from reviewbot.store.locks import try_advisory_xact_lock

    settings, store = open_workspace(ws)
    schema = f"other_{secrets.token_hex(4)}"
    with store.engine.connect() as other:  # another workspace's sync, in its own schema (rolled back at the end)
        other.execute(text(f'CREATE SCHEMA "{schema}"'))
        other.execute(text(f'SET LOCAL search_path TO "{schema}"'))
        assert try_advisory_xact_lock(other, "sync")
        assert run_sync(settings, store).errors == []


def test_two_sync_processes_at_once_one_runs_one_reports_the_lock(ws: Path) -> None:
    big_export(ws, 10_000)
    settings, store = open_workspace(ws)
    ready = ws / "second-ready"
    second = reviewbot_on_cue(ws, ready, "sync")
    wait_until(ready.exists)
    first = reviewbot(ws, "sync", "--json")
    wait_until(lambda: count(store, JobLock) == 1)
    second_out, second_err = second.communicate("go\n", timeout=120)
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


def test_sync_killed_midway_is_finished_by_the_next_with_nothing_lost_or_doubled(ws: Path, cli) -> None:  # type: ignore[no-untyped-def]
    rows = 20_000
    big_export(ws, rows)
    settings, store = open_workspace(ws)
    victim = reviewbot(ws, "sync")
    wait_until(lambda: 0 < count(store, FeedbackItem) < rows, timeout=120)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    stored = count(store, FeedbackItem)
    assert 0 < stored < rows + 16  # killed during the ingest
    with store.session() as session:
        killed = session.exec(select(SyncRun)).one()
    # the counts are written with each batch: what the run says it stored is what it stored
    assert killed.status == "running" and killed.counts["stage"] == "collect"
    assert killed.counts["sources"]["complaints"]["new"] == stored

    with pytest.raises(LockHeld):  # its lease is taken over only once it has missed a whole lease of heartbeats
        run_sync(settings, store)
    with time_machine.travel(datetime.now(UTC) + LEASE + timedelta(seconds=1)):
        report = run_sync(settings, store)
    assert report.errors == []
    assert count(store, FeedbackItem) == rows + 16
    with store.session() as session:
        ids = session.exec(select(FeedbackItem.external_id)).all()
        runs = session.exec(select(SyncRun.status).order_by(SyncRun.id)).all()
        tickets = session.exec(select(ReviewTicket.theme_id, ReviewTicket.section_id)).all()
    assert len(ids) == len(set(ids)) == rows + 16
    assert runs == ["interrupted", "ok"]
    [listed, _] = json.loads(cli(f"-w {ws} runs --json").stdout)[::-1]
    assert listed["counts"]["sources"]["complaints"]["new"] == stored  # kept when the next sync found it dead
    assert re.search(rf"│ interrupted in collect\s+│ {stored}\s+│", cli(f"-w {ws} runs").stdout)
    assert len(tickets) == len(set(tickets)) and {s for _, s in tickets} == {"refunds", "delivery"}
    again = run_sync(settings, store)
    assert again.sources["complaints"]["new"] == 0 and again.tickets["created"] == 0


def _processes() -> dict[int, tuple[int, str]]:
    """Every process this machine shows: pid -> (parent pid, state), from /proc."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # ended meanwhile
            continue
        found[int(stat.parent.name)] = (int(fields[1]), fields[0])
    return found


def _descendants(pid: int) -> set[int]:
    processes, found, todo = _processes(), set(), [pid]
    while todo:
        parent = todo.pop()
        children = {p for p, (ppid, _) in processes.items() if ppid == parent}
        todo.extend(children - found)
        found |= children
    return found


def _running(pids: set[int]) -> set[int]:
    """Those of `pids` that still run (a zombie waiting to be reaped has ended)."""
    processes = _processes()
    return {p for p in pids if p in processes and processes[p][1] not in ("Z", "X")}


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="lists processes through /proc")
def test_ctrl_c_stops_a_sync_that_says_so_and_the_next_finishes_the_work(ws: Path) -> None:
    rows = 20_000
    big_export(ws, rows)
    settings, store = open_workspace(ws)
    command = [sys.executable, "-m", "reviewbot", "-w", str(ws), "sync"]
    # Ctrl-C in a terminal signals the whole foreground process group: the sync and its workers. A job started in
    # the background by a script (as CI runs one test run) ignores SIGINT, and so would the sync: give it back.
    victim = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    wait_until(lambda: 0 < count(store, FeedbackItem) < rows, timeout=120)
    os.killpg(victim.pid, signal.SIGINT)
    _, stderr = victim.communicate(timeout=60)
    assert victim.returncode == 130
    assert "interrupted" in stderr and "Traceback" not in stderr
    with store.session() as session:
        run = session.exec(select(SyncRun).order_by(col(SyncRun.id).desc())).first()
    assert run is not None and run.status == "interrupted" and run.errors == ["interrupted (Ctrl-C)"]

    report = run_sync(settings, store)  # at once: the interrupted sync let go of its lease
    assert report.errors == []
    assert count(store, FeedbackItem) == rows + 16


def test_a_killed_sync_leaves_no_worker_process_behind(ws: Path) -> None:
    with (ws / "reviewbot.toml").open("a", encoding="utf-8") as fh:
        fh.write("\n[enrich]\nworkers = 2\n")
    big_export(ws, 30_000)
    victim = reviewbot(ws, "sync")
    helpers: set[int] = set()
    try:
        # its workers, the fork server they come from and multiprocessing's resource tracker
        wait_until(lambda: len(helpers.update(_descendants(victim.pid)) or _running(helpers)) >= 4, timeout=120)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        wait_until(lambda: not _running(helpers), timeout=15)
    finally:
        for pid in _running(helpers):  # on failure, do not leave them to the next test
            os.kill(pid, signal.SIGKILL)


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


def test_a_refusal_says_when_a_silent_holder_is_taken_over(ws: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """An admin reruns a sync that was killed a minute and a half ago: "another sync is running" alone sent them
    waiting for a process that no longer exists; the refusal says how long the holder has been silent and when
    its lease runs out."""
    monkeypatch.chdir(ws)
    settings, store = open_workspace(ws)
    beat = datetime.now(UTC) - timedelta(seconds=90)
    with store.session() as session:
        session.add(JobLock(name="sync", owner="vm:4242:abc", acquired_at=beat, expires_at=beat + LEASE))
    with time_machine.travel(beat + timedelta(seconds=90), tick=False):
        refused = cli("sync")
    said = " ".join(refused.stderr.split())
    assert refused.code == 3 and "another sync is running (on vm, process 4242" in said
    assert "no heartbeat for 90 s: it has probably stopped" in said
    assert f"its lease runs out at {beat + LEASE:%H:%M:%S} UTC and the next sync takes over" in said
    assert "--wait --timeout 180" in said


def test_a_run_that_never_finished_says_so_in_runs(ws: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """A sync killed with -9 showed in `runs` as interrupted with 0 new items and a time up to the next sync,
    and nothing said why; its counts were never written."""
    monkeypatch.chdir(ws)
    settings, store = open_workspace(ws)
    with store.session() as session:
        session.add(SyncRun(owner="vm:4242:abc"))  # status running: the process died mid-sync
    with time_machine.travel(datetime(2026, 12, 7, 11, 48, tzinfo=UTC), tick=False):
        run_sync(settings, store)
    with store.session() as session:
        first = session.exec(select(SyncRun).order_by(SyncRun.id)).first()
    assert first is not None and first.status == "interrupted"
    why = "stopped without finishing (killed, or its machine lost); found at 2026-12-07 11:48 UTC"
    assert first.errors == [why]
    listed = json.loads(cli("runs --json").stdout)
    assert listed[-1]["errors"] == [why]
