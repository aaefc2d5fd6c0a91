"""A workspace whose feedback, policy and theme names try to inject markup into the report."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import time_machine

from reviewbot.report.model import Report
from reviewbot.settings import Settings
from reviewbot.store import Store
from reviewbot.store.themes import active_themes
from reviewbot.workflows.curate import rename
from reviewbot.workflows.report_html import build_report
from reviewbot.workflows.sync import run_sync
from tests.workspaces import POLICY, make_workspace, open_workspace, rows, write_csv

BREAKOUT = "</script><img src=x onerror=alert(1)>"
HEADING = '"><svg onload=alert(2)></script>'
TITLE = "Returns </script><script>alert(3)</script>"
LABEL = "'\"><iframe src=javascript:alert(4)> & <!-- refunds"
HOSTILE_POLICY = POLICY.replace("title: Returns Policy", f'title: "{TITLE}"').replace(
    "## 3. Privacy", f"## 3. Privacy {HEADING}"
)
REFUNDS = [
    f"Still waiting for my refund {BREAKOUT} you said 5 business days ({n})"
    for n in ("chair", "lamp", "stool", "vase", "clock", "shelf", "bench", "desk")
]


def hostile_workspace(folder: Path) -> tuple[Settings, Store, Report]:
    """Sync a workspace whose complaints, policy title and heading, and a theme's name carry markup; its report."""
    make_workspace(folder, policy=HOSTILE_POLICY)
    write_csv(folder / "inbox" / "complaints" / "export-2.csv", rows(REFUNDS, "X", day=9))
    settings, store = open_workspace(folder)
    with time_machine.travel(datetime(2026, 9, 20, 9, 0, tzinfo=UTC), tick=False):
        run_sync(settings, store)
        with store.session() as session:
            theme_id = max(active_themes(session), key=lambda t: t.size).id or 0
        rename(settings, store, theme_id, LABEL, "tester")
        report = build_report(settings, store)
    return settings, store, report
