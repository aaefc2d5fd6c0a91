"""Tests for reviewbot.policy.render: the published document as Markdown and as a standalone HTML page."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser

import pytest

from reviewbot.policy.parse import ParsedPolicy, parse_policy
from reviewbot.policy.render import render_html, render_markdown

SOURCE = """\
---
id: customer-service-policy
owner: head-of-customer-experience
approvers: [head-of-customer-experience]
last_reviewed: 2026-01-10
---
# Northwind Customer Service Policy

How we look after customers.

## 3. Refunds and returns
Refunds are paid to the original card.

| Item | Window |
|------|--------|
| Furniture | 30 days |

### Refund timelines
Within **14 days** of receiving the item, see [delivery](#delivery).

### Exceptions {#refund-exceptions}
Sale items.

## 4. Delivery
    indented code stays code

## Complaints
Reply within 2 working days.
"""
PUBLISHED = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
IDS = [
    "refunds-and-returns",
    "refunds-and-returns/refund-timelines",
    "refund-exceptions",
    "delivery",
    "complaints",
]


class Page(HTMLParser):
    """Collects what the tests look at, and checks every element is closed in the right order."""

    VOID = {"meta", "link", "img", "br", "hr", "input", "col", "area", "base", "source", "wbr"}

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: Counter[str] = Counter()
        self.hrefs: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.headings: dict[str, str] = {}  # id -> text
        self.text: list[str] = []
        self.title = ""
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.feed(html)
        self.close()
        if self.stack:
            self.errors.append(f"unclosed: {self.stack}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if attributes.get("id"):
            self.ids[str(attributes["id"])] += 1
        if tag == "a" and attributes.get("href"):
            self.hrefs.append(str(attributes["href"]))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if "title" in self.stack:
            self.title += data
        for tag, attributes in reversed(self.tags):  # text of the heading currently open
            if tag in {"h1", "h2", "h3", "h4", "h5", "h6"} and tag in self.stack and attributes.get("id"):
                key = str(attributes["id"])
                self.headings[key] = self.headings.get(key, "") + data
                break
        self.text.append(data)

    @property
    def all_text(self) -> str:
        return " ".join("".join(self.text).split())


def html_page(policy: ParsedPolicy | str, changelog: list[str] | None = None) -> tuple[str, Page]:
    parsed = parse_policy(policy) if isinstance(policy, str) else policy
    html = render_html(parsed, version=4, published_at=PUBLISHED, changelog=changelog or [])
    return html, Page(html)


def markdown(text: str, changelog: list[str] | None = None, version: int = 4) -> str:
    return render_markdown(parse_policy(text), version=version, published_at=PUBLISHED, changelog=changelog or [])


# --- Markdown ----------------------------------------------------------------------------------


def test_markdown_has_header_after_title_and_whole_body_without_front_matter() -> None:
    rendered = markdown(SOURCE, ["Refund window is now 14 days", "Added complaints section"])
    assert "---\n" not in rendered.split("| Item")[0]  # no front matter (the table's rule is later)
    assert "owner:" not in rendered and "last_reviewed" not in rendered
    assert rendered.startswith(
        "# Northwind Customer Service Policy\n\n"
        "Version 4 · published 2026-03-01\n\n"
        "**Changes in this version**\n\n"
        "- Refund window is now 14 days\n"
        "- Added complaints section\n\n"
        "How we look after customers.\n"
    )
    assert rendered.endswith(SOURCE.split("How we look after customers.\n", 1)[1])  # the body as written


def test_markdown_parses_back_to_the_same_sections() -> None:
    policy = parse_policy(SOURCE)
    again = parse_policy(markdown(SOURCE, ["Something"]))
    assert [(s.id, s.heading, s.body, s.line - again.body_line) for s in again.sections] == [
        (s.id, s.heading, s.body, s.line - policy.body_line + 6)
        for s in policy.sections  # 6 header lines
    ]
    assert again.title == policy.title


def test_markdown_initial_version_when_changelog_empty() -> None:
    rendered = markdown(SOURCE, [], version=1)
    assert "Version 1 · published 2026-03-01" in rendered
    assert "- Initial version\n" in rendered
    assert markdown(SOURCE, ["", "  "]).count("- Initial version") == 1


def test_markdown_title_comes_from_front_matter_when_file_has_none() -> None:
    rendered = markdown("---\ntitle: Refunds <b>now</b>\n---\n## Refunds\nMoney.\n")
    assert rendered == (
        "# Refunds \\<b\\>now\\</b\\>\n\nVersion 4 · published 2026-03-01\n\n"
        "**Changes in this version**\n\n- Initial version\n\n## Refunds\nMoney.\n"
    )


def test_markdown_changelog_is_shown_as_written() -> None:
    rendered = markdown(SOURCE, ["# 1. *Refunds* <script>", "2. step\nsecond line", "- dash"])
    assert "- \\# 1. \\*Refunds\\* \\<script\\>\n" in rendered
    assert "- 2\\. step second line\n" in rendered
    assert "- \\- dash\n" in rendered
    html = render_html(parse_policy(rendered), version=1, published_at=PUBLISHED, changelog=[])
    assert "# 1. *Refunds* &lt;script&gt;" in html and "2. step second line" in html and "- dash" in html


def test_markdown_keeps_text_before_a_setext_title() -> None:
    rendered = markdown("<!-- draft -->\nPolicy\n======\n\nIntro.\n\n## A\nText.\n")
    assert rendered.startswith("<!-- draft -->\nPolicy\n======\n\nVersion 4 · published 2026-03-01\n")
    assert rendered.endswith("- Initial version\n\nIntro.\n\n## A\nText.\n")


# --- HTML --------------------------------------------------------------------------------------


def test_html_is_well_formed_and_standalone() -> None:
    html, page = html_page(SOURCE)
    assert html.startswith("<!DOCTYPE html>\n")
    assert page.errors == []
    assert "<script" not in html.lower()
    for tag, attributes in page.tags:
        if tag in {"link", "img", "script"}:
            for name in ("href", "src"):
                assert not str(attributes.get(name) or "").startswith(("http://", "https://", "//"))
    assert [tag for tag, _ in page.tags].count("style") == 1  # inline CSS


def test_html_title_header_and_changelog() -> None:
    html, page = html_page(SOURCE, ["Refund window is now 14 days", "Fixed <typo> & more"])
    assert page.title == "Northwind Customer Service Policy — version 4"
    assert "Version 4 · published 2026-03-01" in page.all_text
    assert "Changes in this version Refund window is now 14 days Fixed <typo> & more" in page.all_text
    assert "<li>Fixed &lt;typo&gt; &amp; more</li>" in html
    # The file's own title heading is replaced by the header's, not shown twice.
    assert [tag for tag, _ in page.tags].count("h1") == 1
    assert "Initial version" in html_page(SOURCE, [])[1].all_text


def test_every_section_id_once_and_contents_links_resolve() -> None:
    html, page = html_page(SOURCE)
    assert all(page.ids[section_id] == 1 for section_id in IDS)
    assert set(page.ids) == set(IDS)  # nothing else on the page could clash with a section id
    contents = Page(html.split('<nav class="toc"', 1)[1].split("</nav>", 1)[0])
    assert contents.hrefs == [f"#{section_id}" for section_id in IDS]
    assert all(href[1:] in page.ids for href in page.hrefs if href.startswith("#"))  # the body's `#delivery` too


def test_section_headings_as_the_parser_reads_them() -> None:
    _, page = html_page(SOURCE)
    assert page.headings == {
        "refunds-and-returns": "3. Refunds and returns",
        "refunds-and-returns/refund-timelines": "Refund timelines",
        "refund-exceptions": "Exceptions",  # the `{#...}` marker is not shown
        "delivery": "4. Delivery",
        "complaints": "Complaints",
    }


def test_contents_nest_like_the_sections() -> None:
    html, _ = html_page(SOURCE)
    toc = html.split('<nav class="toc"', 1)[1].split("</nav>", 1)[0]
    assert toc.index('href="#refunds-and-returns"') < toc.index('<ul>\n<li><a href="#refunds-and-returns/refund')
    assert '<li><a href="#delivery">4. Delivery</a></li>' in toc


def test_body_markdown_is_rendered() -> None:
    html, page = html_page(SOURCE)
    assert "<strong>14 days</strong>" in html
    assert "<td>Furniture</td>" in html  # tables are on
    assert "<pre><code>indented code stays code\n</code></pre>" in html
    assert "How we look after customers." in page.all_text


def test_title_is_escaped() -> None:
    html, page = html_page('---\ntitle: Refunds <b>now</b> & "then"\n---\n## Refunds\nMoney.\n')
    assert "<b>" not in html
    assert page.title == 'Refunds <b>now</b> & "then" — version 4'
    # Jinja2's autoescape writes a quote as &#34; (html.escape wrote &quot;): the same character to a browser
    assert "<title>Refunds &lt;b&gt;now&lt;/b&gt; &amp; &#34;then&#34; — version 4</title>" in html


def test_raw_html_in_the_policy_is_shown_as_text_not_rendered() -> None:
    body = (
        "## Refunds <img src=x onerror=alert(1)>\n"
        "<script>alert('x')</script>\n\n"
        'Text <b onclick="x()">bold</b> [link](javascript:alert(1))\n'
    )
    html, page = html_page(body)
    assert page.errors == []
    assert "<script" not in html and "<b " not in html and "<img" not in html
    assert "&lt;script&gt;alert('x')&lt;/script&gt;" in html
    assert 'href="javascript' not in html
    assert [tag for tag, _ in page.tags if tag in {"b", "img", "script"}] == []


def test_remote_images_become_links_and_local_images_stay() -> None:
    html, page = html_page(
        "## A\n![Logo](https://example.com/logo.png) ![Map](maps/store.png)\n\n[![Badge](//cdn.example/b.svg)](/x)\n"
    )
    assert page.errors == []
    assert '<a href="https://example.com/logo.png">[Logo]</a>' in html
    assert '<img src="maps/store.png" alt="Map"' in html
    assert '<a href="/x">[Badge]</a>' in html  # no link inside a link


def test_ids_with_slashes_and_special_characters() -> None:
    _, page = html_page('## Refunds & returns\n### Time-lines: "fast"\n### Legal {#legal:v1.2}\n')
    assert set(page.ids) == {"refunds-returns", "refunds-returns/time-lines-fast", "legal:v1.2"}
    assert {href[1:] for href in page.hrefs} == set(page.ids)


def test_document_without_title_heading_and_several_top_level_sections() -> None:
    _, page = html_page("# One\nFirst.\n\n## Sub\nNested.\n\n# Two\nSecond.\n")
    assert page.errors == []
    assert set(page.ids) == {"one", "one/sub", "two"}
    assert page.headings["one"] == "One"


def test_heading_markdown_it_reads_as_a_table_still_gets_its_id() -> None:
    # The parser (CommonMark) sees a heading here; with tables on, markdown-it sees a table.
    _, page = html_page("## A | B\n---|---\n\n## C\nText.\n")
    assert page.errors == []
    assert page.ids == Counter({"a-b": 1, "c": 1})


def test_published_date_is_the_day_in_the_timestamps_own_zone() -> None:
    tokyo = datetime(2026, 3, 2, 8, 30, tzinfo=timezone(timedelta(hours=9)))  # still 1 March in UTC
    policy = parse_policy(SOURCE)
    assert "published 2026-03-02" in render_markdown(policy, version=2, published_at=tokyo, changelog=[])
    html = render_html(policy, version=2, published_at=tokyo, changelog=[])
    assert '<time datetime="2026-03-02">2026-03-02</time>' in html


def test_changelog_must_be_lines_not_a_string() -> None:
    with pytest.raises(TypeError):
        render_html(parse_policy(SOURCE), version=1, published_at=PUBLISHED, changelog="Initial")
    with pytest.raises(TypeError):
        render_markdown(parse_policy(SOURCE), version=1, published_at=PUBLISHED, changelog="Initial")


def test_a_remote_image_with_markup_in_its_description_becomes_an_inert_link() -> None:
    html, page = html_page('## A\n![<script>x</script> & "q"](https://example.com/a.png?b=1&c=2)\n')
    assert page.errors == []
    link = '<a href="https://example.com/a.png?b=1&amp;c=2">[&lt;script&gt;x&lt;/script&gt; &amp; &quot;q&quot;]</a>'
    assert link in html
    assert [tag for tag, _ in page.tags if tag in {"img", "script"}] == []
