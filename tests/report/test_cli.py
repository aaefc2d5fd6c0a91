"""`reviewbot report` as people and scripts use it: the path and size printed, --out, --since, --json, and
errors that say how to fix them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from tests.workspaces import make_workspace


@pytest.fixture
def ws(tmp_path: Path, use_database: str, cli) -> Path:  # type: ignore[no-untyped-def]
    folder = make_workspace(tmp_path / "ws")
    with time_machine.travel(datetime(2026, 9, 10, 9, 0, tzinfo=UTC), tick=False):
        assert cli(f"-w {folder} sync").code == 0
    return folder


def test_report_writes_the_page_into_the_workspace(ws: Path, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli(f"-w {ws} report")
    assert result.code == 0, result.stderr
    path = ws / "report.html"
    size = path.stat().st_size
    assert result.stdout.strip() == f"Wrote {path} ({size / 1024:,.0f} KB, {size:,} bytes)"
    assert path.read_text(encoding="utf-8").startswith("<!doctype html>")


def test_out_since_and_json(ws: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "out" / "september.html"
    result = cli(f"-w {ws} report --out {target} --since 2026-09-07 --json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["path"] == str(target) and data["bytes"] == target.stat().st_size
    report = data["report"]
    assert report["since"] == "2026-09-07" and report["weeks"] == ["2026-09-07"]
    assert report["totals"]["items"] == 4
    assert {s["section_id"] for s in report["sections"]} == {"refunds", "delivery", "privacy"}
    assert all(t["ref"].startswith("RB-") for t in report["tickets"]) and report["tickets"]
    assert not (ws / "report.html").exists()


def test_bad_input_is_an_error_with_a_hint(ws: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    assert cli(f"-w {ws} report --since 07/09/2026").code == 2
    future = cli(f"-w {ws} report --since 9999-01-01")  # an empty page written quietly would look like no feedback
    assert future.code == 2 and "--since 9999-01-01 is in the future" in future.stderr
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    result = cli(f"-w {ws} report --out {blocker / 'report.html'}")
    assert result.code == 2
    assert "cannot write the report" in result.stderr and "--out" in result.stderr
    assert "Traceback" not in result.stderr


def test_report_has_help(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("report --help")
    assert result.code == 0 and "--since" in result.stdout and "--out" in result.stdout
