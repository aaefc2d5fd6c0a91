"""Render a report as one self-contained HTML file: styles, Chart.js and the chart data are all inside it, so it
opens from disk, offline, and can be sent by e-mail.

Safety: text from feedback and policies is HTML-escaped in the page, and reaches the scripts only as JSON in a
`<script type="application/json">` block whose `<`, `>` and `&` are written as \\u escapes, so a quote that
contains `</script>` cannot end the block. A Content-Security-Policy allows only the page's own two scripts (by
hash) and no network access at all, so even markup that slipped through could neither run nor fetch.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from functools import cache
from importlib.resources import files
from string import Template
from typing import Any

from reviewbot import __version__
from reviewbot.report.body import known_anchors, page_body
from reviewbot.report.charts import chart_payload
from reviewbot.report.fmt import esc
from reviewbot.report.model import Report

CHARTJS = "chart.umd.min.js"
_SCRIPT_END = re.compile(r"</script|<!--", re.IGNORECASE)
_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


@cache
def asset(name: str) -> str:
    """A file shipped in reviewbot/report (the template) or its assets/ folder, as text with \\n line ends."""
    folder = files("reviewbot.report")
    path = folder / name if name.endswith(".html") else folder / "assets" / name
    return path.read_text(encoding="utf-8").replace("\r\n", "\n")


def script_json(data: Any) -> str:
    """JSON that is safe inside a <script> element: no character of it can close the element or open a comment."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return "".join(_JSON_ESCAPES.get(c, c) for c in text)


def inline_script(source: str, name: str) -> str:
    """A script's source, checked to be safe to inline (it must not contain "</script" or "<!--")."""
    if _SCRIPT_END.search(source):
        raise ValueError(f"{name} contains </script or <!-- and cannot be inlined")
    return source


def script_hash(source: str) -> str:
    """The CSP source expression that allows exactly this inline script."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii") + "'"


def content_policy(scripts: list[str]) -> str:
    """Only these inline scripts may run; nothing may be fetched; inline styles (the page's own) are allowed."""
    allowed = " ".join(script_hash(s) for s in scripts)
    return (
        f"default-src 'none'; script-src {allowed}; style-src 'unsafe-inline'; img-src data:; "
        "base-uri 'none'; form-action 'none'"
    )


def render_report(report: Report) -> str:
    """The report as a standalone HTML page."""
    known = known_anchors(report)
    charts = chart_payload(report, known)
    chartjs = inline_script(asset(CHARTJS), CHARTJS)
    app = inline_script(asset("report.js"), "report.js")
    page = Template(asset("template.html")).substitute(
        csp=esc(content_policy([chartjs, app])),
        version=esc(__version__),
        title=esc(f"Policy feedback report: {report.workspace}"),
        css=asset("report.css"),
        body=page_body(report, known, charts),
        data=script_json(charts),
        chartjs=chartjs,
        app=app,
    )
    return page
