"""The web console's pages on a synced store: wall and CPU time per request, and what the per-request credential
stamp check costs (the same requests with the check's query replaced by a constant).

    python bench/web.py                    # 10,000 items on SQLite, 20 requests per page
    python bench/web.py --sizes 10000 30000 --requests 10

Requests go through Flask's test client in this process (no network, no server threads), so the figures are the
console's own work: the store's queries, the workflows, the templates. The live charts page rebuilds the report
from the store on every request; its time grows with the store.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import feedback, machine, make_workspace, write_export  # noqa: E402

PASSWORD = "a benchmark passphrase"
# a person to sign in as; the sync's digest goes to a file, not between the figures
EXTRA_TOML = '\n[notifier]\ntype = "console"\nfile = "digest.log"\n\n[roles]\nbench-owner = ["owner"]\n'


def _timed(client: Any, path: str, n: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of n GET requests (each must answer 200)."""
    walls, cpus = [], []
    for _ in range(n):
        wall, cpu = time.perf_counter(), time.process_time()
        response = client.get(path)
        walls.append(1000 * (time.perf_counter() - wall))
        cpus.append(1000 * (time.process_time() - cpu))
        assert response.status_code == 200, (path, response.status_code)
    return statistics.median(walls), statistics.median(cpus)


def _signed_in(app: Any) -> Any:
    import re

    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    answer = client.post("/sign-in", data={"person": "owner", "password": PASSWORD, "csrf_token": token.group(1)})
    assert answer.status_code == 303, answer.status_code
    return client


@contextmanager
def synced_workspace(n: int) -> Iterator[tuple[Any, Any]]:
    """(settings, store) of a fresh SQLite workspace into which n synthetic items were synced."""
    from reviewbot.settings import load_settings
    from reviewbot.store import Store
    from reviewbot.workflows.sync import run_sync

    with tempfile.TemporaryDirectory() as tmp:
        folder = make_workspace(Path(tmp) / "ws")
        toml = folder / "reviewbot.toml"
        toml.write_text(toml.read_text(encoding="utf-8") + EXTRA_TOML, encoding="utf-8")
        write_export(folder / "inbox" / "all.csv", feedback(n))
        settings = load_settings(folder)
        store = Store(settings.db_url)
        try:
            run_sync(settings, store)
            yield settings, store
        finally:
            store.dispose()


def bench_size(n: int, requests: int) -> None:
    """Sync n items into a fresh SQLite workspace, then time the console's pages."""
    from reviewbot.web import auth, create_app
    from reviewbot.web.config import WebOptions

    os.environ.setdefault("REVIEWBOT_WEB_SECRET", "bench-secret-" + "x" * 40)
    with synced_workspace(n) as (settings, store):
        auth.set_password(store, settings, "owner", PASSWORD, "owner")
        app = create_app(settings, store, WebOptions(insecure_http=True))
        client = _signed_in(app)
        with store.session() as session:
            from reviewbot.store.themes import active_themes

            largest = max(active_themes(session), key=lambda t: t.size).id
        pages = [
            "/tickets",
            "/themes",
            f"/themes/{largest}",
            "/policies/customer-service-policy/diff?from=1&to=file",
            "/charts",
        ]
        print(f"\n{n:,} items ({requests} requests per page; median ms)")
        print(f"{'page':<55} {'wall':>8} {'cpu':>8}")
        for path in pages:
            wall, cpu = _timed(client, path, requests)
            print(f"{path:<55} {wall:8.1f} {cpu:8.1f}")
        stamp = auth.credential_stamp(store, "owner")
        real = auth.credential_stamp
        auth.credential_stamp = lambda _store, _person: stamp  # type: ignore[assignment]  # no query: as before
        without = _timed(client, "/tickets", requests * 3)
        auth.credential_stamp = real
        with_check = _timed(client, "/tickets", requests * 3)
        print(
            f"stamp check on /tickets: {with_check[0]:.1f} ms wall, {with_check[1]:.1f} ms CPU with it; "
            f"{without[0]:.1f} / {without[1]:.1f} without"
        )
        started = time.process_time()
        _signed_in(app)
        print(f"password sign-in (scrypt N=2^15 + limits): {1000 * (time.process_time() - started):.0f} ms CPU")


def profile(n: int) -> None:
    """Where the live charts page spends its time (cProfile of build_report and chart_payload, top 25)."""
    import cProfile
    import pstats

    from reviewbot.report.charts import chart_payload
    from reviewbot.workflows.report_html import build_report

    with synced_workspace(n) as (settings, store):
        profiler = cProfile.Profile()
        profiler.enable()
        chart_payload(build_report(settings, store), ())
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


def main() -> None:
    """Run the sizes asked for."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--profile", action="store_true", help="profile the charts page's report at the first size")
    args = parser.parse_args()
    print(machine())
    if args.profile:
        profile(args.sizes[0])
        return
    for n in args.sizes:
        bench_size(n, args.requests)


if __name__ == "__main__":
    main()
