"""Render a published version of a policy for people to read: Markdown, or a self-contained HTML page."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from importlib.resources import files

from jinja2 import Environment, PackageLoader, StrictUndefined
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType
from markupsafe import Markup

from reviewbot.policy.parse import ParsedPolicy, PolicySectionText, plain_text

INITIAL = "Initial version"
# html=False: raw HTML in a policy file is shown as text, never passed through to the page.
_MD = MarkdownIt("commonmark", {"html": False}).enable("table")
_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
# Characters with inline meaning in Markdown, and markers that would start a block at the start of a line.
_MD_INLINE = re.compile(r"([\\`*_\[\]<>&!#|~])")
_MD_LINE_START = re.compile(r"^(\s*)(\d+)([.)])|^(\s*)([-+=])")


def render_markdown(policy: ParsedPolicy, *, version: int, published_at: datetime, changelog: Sequence[str]) -> str:
    """The published document as Markdown: no front matter, and a version and changes header after the title."""
    lines, title_end = policy.markdown.split("\n"), _title_end(policy)
    if title_end is None:  # the title is from the front matter or the file name, so the page needs a heading
        head, rest = [f"# {_escape_markdown(policy.title)}"], "\n".join(lines)
    else:
        head, rest = lines[:title_end], "\n".join(lines[title_end:])
    header = [
        f"Version {version} · published {_day(published_at)}",
        "",
        "**Changes in this version**",
        "",
        *(f"- {_escape_markdown(line)}" for line in _changes(changelog)),
    ]
    # Only blank lines are dropped from the start of the rest: leading spaces there can be meaningful.
    rest = re.sub(r"\A(?:[ \t]*\n)+", "", rest).rstrip()
    return "\n".join(head).rstrip() + "\n\n" + "\n".join(header) + ("\n\n" + rest if rest else "") + "\n"


def render_html(policy: ParsedPolicy, *, version: int, published_at: datetime, changelog: Sequence[str]) -> str:
    """The published document as a standalone HTML5 page with a contents list; section headings carry their ids."""
    children: dict[str | None, list[PolicySectionText]] = {}
    for section in policy.sections:
        children.setdefault(section.parent_id, []).append(section)
    # Markup: the body is markdown-it's output, which escapes the policy's text itself (html=False: raw HTML in the
    # policy is shown as text); the stylesheet is the package's own file.
    return (
        _templates()
        .get_template("policy.html.j2")
        .render(
            title=policy.title,
            version=version,
            day=_day(published_at),
            changes=[" ".join(line.split()) for line in _changes(changelog)],
            children=children,
            heading_text=_heading_text,
            css=Markup(_stylesheet()),
            body=Markup(_body_html(policy)),
        )
    )


@cache
def _templates() -> Environment:
    """The policy page's template, shipped in the package, with autoescaping on."""
    return Environment(
        loader=PackageLoader("reviewbot.policy", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@cache
def _stylesheet() -> str:
    return (files("reviewbot.policy") / "templates" / "policy.css").read_text(encoding="utf-8").strip()


def _heading_text(section: PolicySectionText) -> str:
    """A section's heading as plain text, for the contents list."""
    return plain_text(section.heading).strip() or section.id


def _changes(changelog: Sequence[str]) -> list[str]:
    # A bare string is also a Sequence[str]; it would come out one character per line.
    if isinstance(changelog, str):
        raise TypeError("changelog must be a sequence of lines, not a string")
    return [line for line in changelog if line.strip()] or [INITIAL]


def _day(published_at: datetime) -> str:
    """YYYY-MM-DD in the timestamp's own time zone."""
    return published_at.date().isoformat()


def _escape_markdown(text: str) -> str:
    """One line of plain text that Markdown shows as written."""
    text = _MD_INLINE.sub(r"\\\1", " ".join(text.split()))
    return _MD_LINE_START.sub(lambda m: f"{m[1]}{m[2]}\\{m[3]}" if m[2] else f"{m[4]}\\{m[5]}", text, count=1)


def _title_end(policy: ParsedPolicy) -> int | None:
    """Index into `policy.markdown`'s lines just past the title heading, or None when there is none."""
    for token in _MD.parse(policy.markdown):
        if token.type == "heading_open" and token.level == 0 and token.map:
            # The parser makes every top-level heading a section except a title heading before them all.
            return token.map[1] if token.map[0] + policy.body_line < policy.sections[0].line else None
    return None


def _body_html(policy: ParsedPolicy) -> str:
    """The document body with the title heading left out (the header shows it) and ids on section headings."""
    env: EnvType = {}
    tokens = _MD.parse(policy.markdown, env)
    pending = sorted(policy.sections, key=lambda section: section.line)
    section_lines = {section.line for section in pending}
    out: list[Token] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        line = token.map[0] + policy.body_line if token.level == 0 and token.map else None
        if line is not None:
            # Emitting pending headings before the next block also places any heading markdown-it read
            # differently from the parser (e.g. `## A | B` over a `---|---` line is a table to it).
            while pending and pending[0].line <= line:
                out.extend(_section_heading(pending.pop(0), env))
            if token.type == "heading_open" and (line in section_lines or line < policy.sections[0].line):
                index += 3  # heading_open, inline, heading_close: the title, or a section heading emitted above
                continue
        out.append(token)
        index += 1
    for section in pending:
        out.extend(_section_heading(section, env))
    return str(_MD.renderer.render(out, _MD.options, env))


def _section_heading(section: PolicySectionText, env: EnvType) -> list[Token]:
    """A section heading as the parser read it (explicit `{#id}` removed), carrying the section id; markdown-it
    renders (and escapes) it like any heading."""
    tag = f"h{min(max(section.level, 1), 6)}"
    opening = Token("heading_open", tag, 1, block=True)
    opening.attrSet("id", section.id)
    closing = Token("heading_close", tag, -1, block=True)
    return [opening, *_MD.parseInline(section.heading, env), closing]


def _remote_images_as_links(state: StateCore) -> None:
    """Images on other sites become links, so that opening the page fetches nothing from the network. Done on the
    tokens, so markdown-it renders and escapes the link like any other."""
    for block in state.tokens:
        if block.type == "inline" and block.children:
            block.children = _without_remote_images(block.children, state.env)


def _without_remote_images(tokens: list[Token], env: EnvType) -> list[Token]:
    out: list[Token] = []
    depth = 0  # inside a link: a link inside a link is invalid HTML, so there the image is just its description
    for token in tokens:
        depth += {"link_open": 1, "link_close": -1}.get(token.type, 0)
        src = str(token.attrGet("src") or "") if token.type == "image" else ""
        if not _REMOTE.match(src):
            out.append(token)
            continue
        text = Token("text", "", 0)
        text.content = f"[{_MD.renderer.renderInlineAsText(token.children or [], _MD.options, env) or 'image'}]"
        if depth > 0:
            out.append(text)
            continue
        opening = Token("link_open", "a", 1)
        opening.attrSet("href", src)
        out += [opening, text, Token("link_close", "a", -1)]
    return out


_MD.core.ruler.push("remote_images_as_links", _remote_images_as_links)
