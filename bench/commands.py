"""Start-up and run time of the owner's everyday commands (`tickets list`, `themes list`, `tickets show`, `--help`),
as a user who installed reviewbot runs them: each a fresh process, wall and CPU seconds, median of several runs.

    python bench/commands.py                         # the demo workspace (made with `reviewbot init --demo`), 7 runs
    python bench/commands.py --large                 # also a workspace of 100k synced items (a minute or two to make)
    python bench/commands.py --large /tmp/ws100k     # the same, kept in (or reused from) that folder
    python bench/commands.py --reviewbot A/bin/reviewbot B/bin/reviewbot --runs 9   # two installs, runs alternating
    python bench/commands.py --workspace DIR --ticket RB-1                          # a workspace you have

Bytecode: an installed copy has its modules compiled (pip compiles at install), but a development checkout run
with PYTHONDONTWRITEBYTECODE=1 (some containers set it) compiles every module of the project on each command. The
commands run without that variable, after one run to warm the caches, so the figures are an installed user's.
Issue 20's targets: each listing command < 0.6 s on the demo and < 1 s on a 100k-item workspace.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import iter_feedback, machine, make_workspace, write_export  # noqa: E402

COMMANDS = (("--help",), ("tickets", "list"), ("themes", "list"), ("tickets", "show", "{ticket}"))


def child_env() -> dict[str, str]:
    """The environment of the measured commands: bytecode cached as an installed copy has it, a fixed width."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["COLUMNS"] = "100"
    return env


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one fresh process; fails loudly if the command fails."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}:\n{stderr[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def bench_workspace(label: str, workspace: Path, ticket: str, programs: list[str], runs: int) -> None:
    """Each command `runs` times per program, programs alternating in each round; medians (ranges) printed."""
    env = child_env()
    print(f"\n{label}: {workspace}  (median of {runs}, range; wall / CPU seconds)")
    for args in COMMANDS:
        argv_tail = ["-w", str(workspace), *[a.format(ticket=ticket) for a in args]]
        for program in programs:  # warm: bytecode written, files in the page cache
            run_once([program, *argv_tail], env)
        results: dict[str, list[tuple[float, float]]] = {p: [] for p in programs}
        for _ in range(runs):
            for program in programs:
                results[program].append(run_once([program, *argv_tail], env))
        for program in programs:
            walls = [w for w, _ in results[program]]
            cpus = [c for _, c in results[program]]
            name = " ".join(a.format(ticket=ticket) for a in args)
            print(
                f"  {name:<22} wall {statistics.median(walls):5.2f} ({min(walls):.2f}-{max(walls):.2f})  "
                f"CPU {statistics.median(cpus):5.2f} ({min(cpus):.2f}-{max(cpus):.2f})"
                + (f"  {program}" if len(programs) > 1 else "")
            )


def make_demo(program: str, folder: Path) -> Path:
    """The README's demo workspace, made by `reviewbot init --demo`."""
    subprocess.run([program, "init", "--demo", str(folder)], check=True, capture_output=True, env=child_env())
    return folder


def make_large(program: str, folder: Path, n: int) -> Path:
    """A workspace of n synced complaints (the throughput bench's texts), made by `reviewbot sync`."""
    make_workspace(folder)
    write_export(folder / "inbox" / "export.csv", iter_feedback(n))
    subprocess.run([program, "-w", str(folder), "sync"], check=True, capture_output=True, env=child_env())
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = shutil.which("reviewbot") or str(Path(sys.executable).with_name("reviewbot"))
    parser.add_argument("--reviewbot", nargs="+", default=[default], help="reviewbot executables to compare")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--workspace", type=Path, help="an existing workspace instead of a fresh demo")
    parser.add_argument("--ticket", default="RB-5", help="the ticket `tickets show` shows")
    parser.add_argument(
        "--large", type=Path, nargs="?", const=Path(), help="also a 100k workspace (made in DIR if it has none)"
    )
    parser.add_argument("--large-ticket", default="RB-1")
    args = parser.parse_args()
    print(machine())
    print(f"load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="reviewbot-commands-") as tmp:
        workspace = args.workspace or make_demo(args.reviewbot[0], Path(tmp) / "demo")
        bench_workspace("workspace", workspace, args.ticket, args.reviewbot, args.runs)
        if args.large is not None:
            large = args.large if args.large != Path() else Path(tmp) / "large"
            if not (large / "reviewbot.db").exists():
                started = time.perf_counter()
                make_large(args.reviewbot[0], large, 100_000)
                print(f"\n(100k workspace made in {time.perf_counter() - started:.0f} s)")
            bench_workspace("100k items", large, args.large_ticket, args.reviewbot, args.runs)
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
