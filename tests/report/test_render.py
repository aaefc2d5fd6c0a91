"""The HTML report as a file: it shows the workspace's themes, sections and tickets, links them within the page,
stays inert whatever the feedback and policies say, fetches nothing, and stays small."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reviewbot.report.model import Report
from reviewbot.report.render import render_report, script_json
from reviewbot.workflows.report_html import build_report
from tests.report.hostile import BREAKOUT, HEADING, LABEL, TITLE, hostile_workspace
from tests.workspaces import make_workspace, open_workspace

# What the page is made of; anything else (img, svg, iframe, link, object...) would be injected markup.
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "p", "strong", "nav", "a",
    "main", "noscript", "div", "figure", "figcaption", "canvas", "section", "table", "caption", "thead", "tbody",
    "tr", "th", "td", "span", "br", "ul", "li", "code", "footer", "script",
}  # fmt: skip
DATA_BLOCK = re.compile(r'<script type="application/json" id="report-data">(.*?)</script>', re.DOTALL)


class Page(HTMLParser):
    """Every element of a page with its attributes, and the text of its scripts."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data

    def attribute(self, name: str) -> list[str]:
        """Every value of an attribute across the page."""
        return [a[name] or "" for _, a in self.elements if name in a]


def strings(value: object) -> list[str]:
    """Every string in a JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    return [s for v in value for s in strings(v)] if isinstance(value, list) else []


@pytest.fixture
def hostile(tmp_path: Path, use_database: str) -> tuple[Report, str]:
    settings, store, report = hostile_workspace(tmp_path / "ws")
    store.dispose()
    return report, render_report(report)


def test_report_shows_themes_sections_and_tickets_linked_in_the_page(hostile: tuple[Report, str]) -> None:
    report, html = hostile
    page = Page(html)
    ids = set(page.attribute("id"))
    refunds = next(t for t in report.themes if t.label == LABEL)
    assert f"theme.{refunds.id}" in ids
    assert {
        "section.returns-policy.refunds",
        "section.returns-policy.delivery",
        "section.returns-policy.privacy",
    } <= ids
    assert {f"ticket.{t.ref}" for t in report.tickets} <= ids and len(report.tickets) >= 2
    assert "version.returns-policy.1" in ids
    # theme -> its section and its ticket
    row = re.search(rf'<tr id="theme\.{refunds.id}">.*?</tr>', html, re.DOTALL)
    assert row is not None
    assert 'href="#section.returns-policy.refunds"' in row[0]
    assert f'href="#ticket.{refunds.tickets[0]}"' in row[0]
    # every in-page link lands on an element of the page
    targets = {h[1:] for h in page.attribute("href")}
    assert targets and targets <= ids
    for name in ("Theme volume by week", "Sentiment, NPS and CSAT", "Review tickets", "Sign-off turnaround",
                 "Coverage gaps", "Effect of published versions"):  # fmt: skip
        assert f">{name}</h2>" in html


def test_hostile_text_is_shown_escaped_and_stays_inert(hostile: tuple[Report, str]) -> None:
    report, html = hostile
    page = Page(html)
    for text in (BREAKOUT, HEADING, TITLE, LABEL):
        assert escape(text) in html, text  # shown, as text
    assert {tag for tag, _ in page.elements} <= ALLOWED_TAGS
    assert not [name for _, attrs in page.elements for name in attrs if name.startswith("on")]
    # exactly the page's own three script blocks: the data, Chart.js and the charts
    assert [a.get("type") for tag, a in page.elements if tag == "script"] == ["application/json", None, None]
    assert html.lower().count("</script") == 3

    [block] = DATA_BLOCK.findall(html)
    assert "<" not in block and ">" not in block and "&" not in block
    assert any(LABEL in text for text in strings(json.loads(block)))  # the label reaches the charts intact, as data


def test_the_page_fetches_nothing_and_allows_only_its_own_scripts(hostile: tuple[Report, str]) -> None:
    _, html = hostile
    page = Page(html)
    assert page.attribute("src") == []
    assert all(h.startswith("#") for h in page.attribute("href"))
    assert not {tag for tag, _ in page.elements} & {"link", "img", "iframe", "object", "embed", "base"}
    assert not re.search(r"url\(|@import", next(iter(re.findall(r"<style>(.*?)</style>", html, re.DOTALL))))

    [policy] = [a["content"] for tag, a in page.elements if tag == "meta" and a.get("http-equiv")]
    assert policy and "default-src 'none'" in policy
    allowed = set(re.findall(r"'sha256-[^']+'", policy or ""))
    code = page.scripts[1:]  # the JSON block is data, not code
    assert allowed == {"'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'" for s in code}
    assert "Chart.js v4.6.1" in code[0] and "MIT" in code[0]


def test_report_of_an_empty_workspace_says_so(tmp_path: Path, use_database: str) -> None:
    settings, store = open_workspace(make_workspace(tmp_path / "ws"))
    report = build_report(settings, store)
    store.dispose()
    html = render_report(report)
    assert report.themes == [] and report.tickets == [] and report.weeks == []
    assert "<canvas" not in html
    assert "No feedback in this period." in html and "No published version has resolved a ticket yet." in html
    assert json.loads(DATA_BLOCK.findall(html)[0]) == {}


def test_report_is_small_enough_to_email(hostile: tuple[Report, str]) -> None:
    _, html = hostile
    assert len(html.encode()) < 400_000  # Chart.js is about 210 KB of it


def test_script_json_cannot_close_its_script_block() -> None:
    value = {"quote": "</script><!-- <script>alert(1)</script> & \u2028"}
    text = script_json(value)
    assert not set(text) & {"<", ">", "&", "\u2028"}
    assert json.loads(text) == value
