"""The report's charts, live: drawn from the store at request time by the report's own scripts, served as files
so the console's Content-Security-Policy stays strict (no inline script)."""

from __future__ import annotations

import json
import re

from reviewbot.models import Theme
from tests.web.conftest import Console, sign_in


def _largest(console: Console) -> Theme:
    from reviewbot.store.themes import active_themes

    with console.store.session() as session:
        return max(active_themes(session), key=lambda t: t.size)


def test_charts_show_the_store_as_it_is_now(console: Console) -> None:
    from reviewbot.workflows.curate import rename

    browser = console.client()
    assert browser.get("/charts").status_code == 302  # signed-in people only
    sign_in(browser, "dana.ellis")
    theme = _largest(console)
    rename(
        console.settings, console.store, theme.id or 0, "Chat waits </script><script>alert(1)</script>", "dana.ellis"
    )
    response = browser.get("/charts")
    page = response.get_data(as_text=True)
    block = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S)
    assert block, "no chart data on the page"
    data = json.loads(block.group(1))
    assert {"weekly", "themeTone", "tickets", "gaps"} <= set(data)
    assert any(
        label.startswith(f"{theme.id} Chat waits")
        for label in data["weekly"]["labels"] + [s["label"] for s in data["weekly"]["series"]]
    )  # the rename made a moment ago is in the chart data
    assert "</script><script>alert(1)" not in page  # the label cannot end the data block
    scripts = re.findall(r"<script([^>]*)>", page)
    assert all("src=" in attrs or 'type="application/json"' in attrs for attrs in scripts)  # no inline script
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe" not in csp
    for canvas in ("chart-weekly", "chart-theme-negative", "chart-ticket-states", "chart-gaps"):
        assert f'<canvas id="{canvas}"' in page


def test_only_the_reports_own_scripts_are_served(console: Console) -> None:
    browser = console.client()
    script = browser.get("/charts/report.js")
    assert script.status_code == 200 and script.mimetype == "text/javascript"
    assert "report-data" in script.get_data(as_text=True)
    assert browser.get("/charts/chart.umd.min.js").status_code == 200
    assert browser.get("/charts/..%2Fassets%2Freport.css").status_code == 404
    assert browser.get("/charts/style.css").status_code == 404


def test_a_period_start_and_a_malformed_one(console: Console) -> None:
    browser = console.client()
    sign_in(browser, "dana.ellis")
    later = browser.get("/charts?since=2026-11-01").get_data(as_text=True)
    assert "feedback and tickets since 2026-11-01" in later
    bad = browser.get("/charts?since=yesterday").get_data(as_text=True)
    assert "&#39;yesterday&#39; is not a date like 2026-09-01: showing everything." in bad
