"""The report in a real browser: headless Chromium (Debian's package, driven by Playwright) opens the demo's
report from disk, draws every chart, logs no error and fetches nothing; a report full of hostile text runs none
of it. Without Chromium these tests skip locally and fail in CI (CI=true), where .ci/run installs it."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import time_machine

from reviewbot.report.render import render_report
from tests.report.hostile import hostile_workspace

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# For each canvas: how many pixels were painted, and how many values its Chart.js chart holds.
CANVASES_JS = """() => Array.from(document.querySelectorAll("canvas")).map((c) => {
  const pixels = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) painted++;
  const chart = Chart.getChart(c);
  const values = chart ? chart.data.datasets.reduce((n, d) => n + d.data.filter((v) => v !== null).length, 0) : 0;
  return { id: c.id, width: c.width, height: c.height, painted: painted, values: values };
})"""


@dataclass
class Visit:
    """What a page did while it loaded."""

    page: Any
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def open_report(browser: Any, path: Path) -> Visit:
    """Load a report from disk, recording console errors, page errors, requests and dialogs."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    visit = Visit(page)
    page.on("console", lambda m: visit.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: visit.errors.append(str(e)))
    page.on("request", lambda r: visit.requests.append(r.url))
    page.on("dialog", lambda d: (visit.dialogs.append(d.message), d.dismiss()))
    page.goto(path.resolve().as_uri(), wait_until="load")
    return visit


def png_size(path: Path) -> tuple[int, int]:
    """Width and height of a PNG, from its header."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, "not a PNG"
    return struct.unpack(">II", data[16:24])


def test_demo_report_draws_every_chart(browser: Any, tmp_path: Path, use_database: str, cli) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "demo"
    with time_machine.travel(datetime(2026, 11, 23, 12, 0, tzinfo=UTC), tick=False):
        assert cli(f"init --demo {folder}").code == 0
        assert cli(f"-w {folder} sync").code == 0
        result = cli(f"-w {folder} report")
    assert result.code == 0, result.stderr
    report = folder / "report.html"
    assert f"Wrote {report}" in result.stdout and "KB" in result.stdout
    assert report.stat().st_size < 1_000_000

    visit = open_report(browser, report)
    shot = tmp_path / "report.png"
    visit.page.screenshot(path=str(shot), full_page=True)
    width, height = png_size(shot)
    assert width >= 1280 and height > 3000 and shot.stat().st_size > 100_000

    canvases = visit.page.evaluate(CANVASES_JS)
    assert len(canvases) >= 8, canvases  # weekly, four tone charts, two ticket charts, coverage gaps
    for canvas in canvases:
        assert canvas["width"] > 0 and canvas["height"] > 0, canvas
        assert canvas["values"] > 0 and canvas["painted"] > 1000, canvas
    assert visit.page.get_attribute("html", "data-charts") == str(len(canvases))
    # the demo's version 2 fixed the chat wait but not the refund delays: the report shows both verdicts
    verdicts = visit.page.locator("section.effect .badge").all_inner_texts()
    assert "improved" in verdicts and "no change" in verdicts, verdicts
    assert visit.page.locator("section.effect canvas").count() == 2
    assert visit.errors == []
    assert visit.requests == [report.resolve().as_uri()]  # the page itself, nothing else
    visit.page.close()


def test_hostile_report_runs_nothing(browser: Any, tmp_path: Path, use_database: str) -> None:
    settings, store, data = hostile_workspace(tmp_path / "ws")
    store.dispose()
    path = tmp_path / "hostile.html"
    path.write_text(render_report(data), encoding="utf-8")

    visit = open_report(browser, path)
    assert visit.dialogs == [] and visit.errors == []
    assert visit.requests == [path.resolve().as_uri()]
    page = visit.page
    assert page.evaluate("document.querySelectorAll('img, svg, iframe').length") == 0
    assert page.evaluate("document.querySelectorAll('script').length") == 3
    canvases = page.evaluate(CANVASES_JS)
    assert canvases and all(c["painted"] > 0 for c in canvases)
    # the hostile label is on the page as text
    assert "<iframe src=javascript:alert(4)>" in page.inner_text("#themes + p + table")
    page.close()
