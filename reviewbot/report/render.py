"""Render a report as one self-contained HTML file: styles, Chart.js and the chart data are all inside it, so it
opens from disk, offline, and can be sent by e-mail.

Safety: the page is a Jinja2 template (templates/report.html.j2) with autoescaping on, so text from feedback and
policies is HTML-escaped wherever it is shown, and reaches the scripts only as JSON in a
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
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from reviewbot import __version__
from reviewbot.report import fmt
from reviewbot.report.body import effect_summary, known_anchors, outcome, page_context
from reviewbot.report.charts import chart_payload, effect_id, section_anchor
from reviewbot.report.model import Report

CHARTJS = "chart.umd.min.js"
NUMERIC = {"Items", "Negative", "NPS", "CSAT", "Match", "Age"}  # right-aligned table columns
_SCRIPT_END = re.compile(r"</script|<!--", re.IGNORECASE)
_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


@cache
def asset(name: str) -> str:
    """A file shipped in reviewbot/report/assets, as text with \\n line ends."""
    return (files("reviewbot.report") / "assets" / name).read_text(encoding="utf-8").replace("\r\n", "\n")


@cache
def environment() -> Environment:
    """The report's templates (shipped in the package), with autoescaping on for every one of them."""
    env = Environment(
        loader=PackageLoader("reviewbot.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,  # a misspelt name fails the render instead of showing nothing
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    for name in ("pct", "signed", "percent_score", "days", "day", "minute", "sparkline", "short"):
        env.filters[name] = getattr(fmt, name)
    env.globals.update(
        anchor=fmt.anchor,
        section_anchor=section_anchor,
        effect_id=effect_id,
        outcome=outcome,
        effect_summary=effect_summary,
        numeric=NUMERIC,
    )
    return env


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
    # Markup: these four are written into the page unescaped because they are already safe where they go: the
    # styles and scripts are the package's own files (the scripts checked by inline_script), and the chart data is
    # JSON whose <, > and & are \\u escapes (script_json). Everything else is escaped by the template.
    return (
        environment()
        .get_template("report.html.j2")
        .render(
            csp=content_policy([chartjs, app]),
            version=__version__,
            css=Markup(asset("report.css")),
            data=Markup(script_json(charts)),
            chartjs=Markup(chartjs),
            app=Markup(app),
            **page_context(report, known, charts),
        )
    )
