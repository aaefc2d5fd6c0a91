"""Block Kit: the suggestion modal, messages with buttons, and App Home. Pure functions returning dicts.

Everything here stays within Slack's documented limits (the constants below); where our data is larger, the
blocks say so ("and N more", a searchable picker) instead of leaving things out silently. Text Slack parses as
mrkdwn is escaped (see `mrkdwn`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from reviewbot.connectors.slack.mrkdwn import chunks, clip, clip_escaped, escape

SUGGEST_VIEW = "policy_suggest"
COMMENT_VIEW = "signoff_comment"
NOT_SURE = "not-sure"
DECISIONS = {"signoff_approve": "approve", "signoff_changes": "request_changes", "signoff_reject": "reject"}
MOVE_ACTION = "ticket_move"
REOPEN_ACTION = "ticket_reopen"
REOPEN_VIEW = "ticket_reopen_reason"
SECTION_ACTION = "section_pick"
NOT_POLICY = "-"  # the picker's "not a policy matter"
HASHED = "h:"  # an option value too long for Slack travels as a digest of it

# Slack's limits (docs.slack.dev/reference/block-kit): checked by tests/connectors/test_slack_blocks.py too.
MAX_SECTION_TEXT = 3000
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_OPTIONS = 100  # options of a static select, options per option group, options in an options-load answer
MAX_GROUPS = 100  # option groups of a static select
MAX_OPTION_TEXT = 75  # an option's plain_text, and an option group's label
MAX_VALUE = 150  # an option's value
MAX_HEADER = 150
MAX_PLACEHOLDER = 150
MAX_BUTTON_TEXT = 75
MAX_ACTION_ELEMENTS = 25  # elements of one actions block
# App Home: what each part may take of the view's 100 blocks (3 headers and 2 dividers take 5).
HOME_PENDING = 20  # sign-offs, two blocks each
HOME_SUGGESTIONS = 10
HOME_ACKS = 20  # versions to acknowledge, two blocks each

Choice = tuple[str, str, str]  # (document#section, heading, document title): a section a picker offers


@dataclass(frozen=True)
class Shown:
    """What a sign-off request asked about: the ticket, its place ("document#section", or the document) and a
    digest of the text; its buttons carry it, so a click is checked against the ticket as it is now."""

    ref: str
    place: str = ""  # empty: a button from before buttons said what they were for
    text_hash: str = ""

    def value(self) -> str:
        """As a button value or in a modal's private_metadata (well within Slack's 2,000 characters)."""
        return json.dumps({"ref": self.ref, "place": self.place, "hash": self.text_hash})

    @classmethod
    def parse(cls, value: str) -> Shown:
        """From `value()`; an older button's bare ticket reference gives a Shown that says nothing else."""
        try:
            data = json.loads(value)
        except ValueError:
            return cls(value)
        if not isinstance(data, dict):
            return cls(value)
        return cls(str(data.get("ref", "")), str(data.get("place", "")), str(data.get("hash", "")))


def _text(text: str) -> dict[str, Any]:
    """A mrkdwn text object; `text` must already be escaped and within the limit of where it goes."""
    return {"type": "mrkdwn", "text": text}


def _plain(text: str, limit: int = MAX_OPTION_TEXT) -> dict[str, Any]:
    """A plain_text object (shown as is: not escaped) within `limit` characters."""
    return {"type": "plain_text", "text": clip(text, limit) or "-", "emoji": True}


def _section(text: str) -> dict[str, Any]:
    """A section of already escaped mrkdwn."""
    return {"type": "section", "text": _text(text[:MAX_SECTION_TEXT])}


def _note(text: str) -> dict[str, Any]:
    """A small grey line (a context block) of already escaped mrkdwn."""
    return {"type": "context", "elements": [_text(text[:MAX_SECTION_TEXT])]}


# --- section pickers ---------------------------------------------------------------------------------------------


def option_value(value: str) -> str:
    """An option value Slack accepts: the value itself, or a digest of it when it is longer than 150 characters."""
    if len(value) <= MAX_VALUE:
        return value
    return HASHED + hashlib.sha256(value.encode()).hexdigest()[:32]


def chosen(value: str, choices: Sequence[Choice]) -> str | None:
    """The document#section an option value stands for, or None when no section has it (any more)."""
    if not value.startswith(HASHED):
        return value
    return next((c[0] for c in choices if option_value(c[0]) == value), None)


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": _plain(text), "value": option_value(value)}


def _grouped(
    choices: Sequence[Choice],
    extra: dict[str, Any] | None,
    extra_label: str,
    totals: dict[str, int] | None = None,
) -> dict[str, Any]:
    """`options` (one document) or `option_groups` (one per document title, so the picker names documents).

    With `totals` (sections per title that match, some not shown) always groups, each label saying how many of
    its sections are shown."""
    titles = list(dict.fromkeys(title for _, _, title in choices))
    if len(titles) <= 1 and totals is None:
        options = [_option(h, v) for v, h, _ in choices]
        if extra:
            options.insert(0 if extra["value"] == NOT_SURE else len(options), extra)
        return {"options": options}
    groups = []
    for title in titles:
        options = [_option(h, v) for v, h, t in choices if t == title]
        label = title
        if totals is not None and totals.get(title, 0) > len(options):
            label = f"{title} ({len(options)} of {totals[title]}: type to narrow)"
        groups.append({"label": _plain(label), "options": options})
    if extra:
        where = 0 if extra["value"] == NOT_SURE else len(groups)
        groups.insert(where, {"label": _plain(extra_label), "options": [extra]})
    return {"option_groups": groups}


def _fits_static(menu: dict[str, Any]) -> bool:
    """Whether a static select can hold these options (Slack refuses the whole message or view otherwise)."""
    if "options" in menu:
        return len(menu["options"]) <= MAX_OPTIONS
    groups = menu["option_groups"]
    return len(groups) <= MAX_GROUPS and all(len(g["options"]) <= MAX_OPTIONS for g in groups)


def section_select(
    choices: Sequence[Choice], *, action_id: str, placeholder: str, extra: dict[str, Any] | None, extra_label: str
) -> dict[str, Any]:
    """A select of every section, grouped by document; when there are too many for a static select, a searchable
    select (external_select) whose options the app answers with `section_options`, so no section is left out."""
    menu = _grouped(choices, extra, extra_label)
    select: dict[str, Any] = {"action_id": action_id, "placeholder": _plain(placeholder, MAX_PLACEHOLDER)}
    if _fits_static(menu):
        return {"type": "static_select", **select, **menu}
    return {"type": "external_select", **select, "min_query_length": 0}


def section_options(
    choices: Sequence[Choice], query: str, *, extra: dict[str, Any] | None, extra_label: str
) -> dict[str, Any]:
    """The answer to a searchable picker's options request: sections whose document, heading or id contain every
    word typed, at most 100, each group's label saying how many more there are to narrow down."""
    words = query.lower().split()
    found = [c for c in choices if all(w in f"{c[2]} {c[1]} {c[0]}".lower() for w in words)]
    shown = found[: MAX_OPTIONS - (1 if extra else 0)]
    totals: dict[str, int] = {}  # always grouped: the answer names each section's document
    for _, _, title in found:
        totals[title] = totals.get(title, 0) + 1
    return _grouped(shown, extra, extra_label, totals)


def not_sure_option() -> dict[str, Any]:
    """The suggestion modal's "Not sure" choice."""
    return {"text": _plain("Not sure"), "value": NOT_SURE}


def not_policy_option() -> dict[str, Any]:
    """The move picker's "Not a policy matter" choice."""
    return {"text": _plain("Not a policy matter"), "value": NOT_POLICY}


# --- modals ------------------------------------------------------------------------------------------------------


def suggest_modal(
    sections: Sequence[Choice], *, text: str = "", link: str = "", metadata: dict[str, Any], max_chars: int
) -> dict[str, Any]:
    """The modal agents fill in: what should change, which section (or not sure), and an optional case link."""
    text_input: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": "value",
        "multiline": True,
        "max_length": max_chars,
    }
    if text:
        text_input["initial_value"] = text[:max_chars]
    link_input: dict[str, Any] = {"type": "plain_text_input", "action_id": "value"}
    if link:
        link_input["initial_value"] = link[:3000]
    select = section_select(
        sections,
        action_id=SECTION_ACTION,
        placeholder="Type or pick a section",
        extra=not_sure_option(),
        extra_label="Not sure",
    )
    select["initial_option"] = not_sure_option()
    return {
        "type": "modal",
        "callback_id": SUGGEST_VIEW,
        "title": _plain("Suggest a policy change", 24),
        "submit": _plain("Send", 24),
        "close": _plain("Cancel", 24),
        "private_metadata": json.dumps(metadata),
        "blocks": [
            {
                "type": "input",
                "block_id": "text",
                "label": _plain("What should change, and why?", 2000),
                "element": text_input,
            },
            {
                "type": "input",
                "block_id": "section",
                "optional": True,
                "label": _plain("Which part of the policy?", 2000),
                "element": select,
            },
            {
                "type": "input",
                "block_id": "link",
                "optional": True,
                "label": _plain("Case link", 2000),
                "element": link_input,
            },
        ],
    }


def comment_modal(shown: Shown, decision: str) -> dict[str, Any]:
    """Asks an approver why they request changes or reject; the request it answers travels with it."""
    verb = "Request changes" if decision == "request_changes" else "Reject"
    return {
        "type": "modal",
        "callback_id": COMMENT_VIEW,
        "title": _plain(verb, 24),  # Slack allows 24 characters here
        "submit": _plain(verb, 24),
        "private_metadata": json.dumps({"request": shown.value(), "decision": decision}),
        "blocks": [
            _section(f"Ticket *{clip_escaped(shown.ref, 200)}*"),
            {
                "type": "input",
                "block_id": "comment",
                "label": _plain("Why?", 2000),
                "element": {"type": "plain_text_input", "action_id": "value", "multiline": True},
            },
        ],
    }


def reopen_modal(ref: str) -> dict[str, Any]:
    """Asks why a closed ticket is reopened (`tickets reopen --reason`); the ticket travels with it."""
    return {
        "type": "modal",
        "callback_id": REOPEN_VIEW,
        "title": _plain("Reopen ticket", 24),
        "submit": _plain("Reopen", 24),
        "private_metadata": json.dumps({"ref": ref}),
        "blocks": [
            _section(f"Ticket *{clip_escaped(ref, 200)}* goes through triage, sign-off and a new version again."),
            {
                "type": "input",
                "block_id": "reason",
                "label": _plain("Why? (e.g. no change after the version)", 2000),
                "element": {"type": "plain_text_input", "action_id": "value", "multiline": True},
            },
        ],
    }


# --- message parts -----------------------------------------------------------------------------------------------


def signoff_buttons(shown: Shown) -> dict[str, Any]:
    """Approve / Request changes / Reject for one ticket; the value names the ticket, its place and text."""
    value = shown.value()
    return {
        "type": "actions",
        "block_id": f"signoff:{shown.ref}"[:255],
        "elements": [
            {
                "type": "button",
                "action_id": "signoff_approve",
                "text": _plain("Approve"),
                "style": "primary",
                "value": value,
            },
            {"type": "button", "action_id": "signoff_changes", "text": _plain("Request changes"), "value": value},
            {
                "type": "button",
                "action_id": "signoff_reject",
                "text": _plain("Reject"),
                "style": "danger",
                "value": value,
            },
        ],
    }


def move_picker(ref: str, sections: Sequence[Sequence[str]]) -> dict[str, Any]:
    """ "Wrong section?": a select moving one ticket to another section, or out of the policy's concern.

    `sections` are (document#section, heading, document title); several documents are grouped by title."""
    choices = [(str(v), str(h), str(t)) for v, h, t in sections]
    select = section_select(
        choices,
        action_id=MOVE_ACTION,
        placeholder=f"Wrong section? Move {ref} to...",
        extra=not_policy_option(),
        extra_label="None",
    )
    return {"type": "actions", "block_id": f"move:{ref}"[:255], "elements": [select]}


def reopen_buttons(refs: Sequence[str]) -> list[dict[str, Any]]:
    """ "Reopen RB-2" for closed tickets whose change did not help, in actions blocks of at most 25 buttons."""
    buttons = [
        {"type": "button", "action_id": REOPEN_ACTION, "text": _plain(f"Reopen {ref}"), "value": ref[:2000]}
        for ref in refs
    ]
    return [
        {"type": "actions", "block_id": f"reopen:{n}", "elements": buttons[start : start + MAX_ACTION_ELEMENTS]}
        for n, start in enumerate(range(0, len(buttons), MAX_ACTION_ELEMENTS))
    ]


def ack_button(document_id: str, version: int) -> dict[str, Any]:
    """Acknowledge a published version."""
    return {
        "type": "actions",
        "block_id": f"ack:{document_id}:{version}"[:255],
        "elements": [
            {
                "type": "button",
                "action_id": "policy_ack",
                "text": _plain("I have read it"),
                "style": "primary",
                "value": json.dumps({"document": document_id, "version": version}),
            }
        ],
    }


def message_blocks(
    title: str, body: str, extra: Sequence[dict[str, Any]] = (), *, more_hint: str = ""
) -> list[dict[str, Any]]:
    """A notification within Slack's 50 blocks: the bold title, the body in sections of at most 3,000 characters
    (split between lines), then as many of the `extra` blocks as fit; what does not fit is counted in a last line
    ("and N more"), followed by `more_hint` (where to see or do the rest)."""
    texts = chunks([f"*{title}*"], MAX_SECTION_TEXT) if title else []
    body_texts = chunks(body.split("\n"), MAX_SECTION_TEXT) if body else []
    if texts and body_texts and len(texts[-1]) + 1 + len(body_texts[0]) <= MAX_SECTION_TEXT:
        texts[-1] = f"{texts[-1]}\n{body_texts.pop(0)}"
    texts += body_texts
    room = MAX_MESSAGE_BLOCKS
    if len(texts) + len(extra) > room:
        room -= 1  # the "and N more" line
    shown_texts = texts[:room]
    shown_extra = list(extra[: max(room - len(shown_texts), 0)])
    blocks = [_section(t) for t in shown_texts] + shown_extra
    left_lines = sum(t.count("\n") + 1 for t in texts[len(shown_texts) :])
    left_extra = len(extra) - len(shown_extra)
    if left_lines or left_extra:
        parts = [f"{n} more {what}" for n, what in ((left_lines, "lines"), (left_extra, "pickers")) if n]
        blocks.append(_note(escape(f"…and {' and '.join(parts)} not shown here. {more_hint}".strip())))
    return blocks


def fallback_text(title: str, body: str, limit: int = 3000) -> str:
    """The message's top-level `text` (notifications, screen readers): escaped, shortened with an ellipsis."""
    return clip_escaped(f"{title}\n{body}" if body else title, limit)


# --- App Home ------------------------------------------------------------------------------------------------------


@dataclass
class HomeData:
    """What a person sees on the app's Home tab."""

    pending: list[tuple[Shown, str]] = field(default_factory=list)  # (request, ticket title) awaiting their sign-off
    suggestions: list[tuple[str, str, str]] = field(default_factory=list)  # (date, text, what happened)
    to_acknowledge: list[tuple[str, int, str]] = field(default_factory=list)  # (document id, version, title)
    more_suggestions: int = 0  # suggestions beyond those listed


def home_view(data: HomeData) -> dict[str, Any]:
    """The Home tab: pending sign-offs with buttons, the person's suggestions, versions to acknowledge.

    Each part has a share of the view's 100 blocks, so a long list in one never pushes another out; what does not
    fit is counted, with the command that shows all of it."""
    blocks: list[dict[str, Any]] = [{"type": "header", "text": _plain("Your pending sign-offs", MAX_HEADER)}]
    if not data.pending:
        blocks.append(_section("Nothing waits for your sign-off."))
    for shown, title in data.pending[:HOME_PENDING]:
        blocks += [_section(f"*{clip_escaped(shown.ref, 200)}* {clip_escaped(title, 2000)}"), signoff_buttons(shown)]
    if len(data.pending) > HOME_PENDING:
        more = len(data.pending) - HOME_PENDING
        blocks.append(_note(f"…and {more} more waiting for you: `reviewbot signoffs pending --approver NAME`"))
    blocks += [{"type": "divider"}, {"type": "header", "text": _plain("Your suggestions", MAX_HEADER)}]
    if not data.suggestions:
        blocks.append(_section("You have not sent a suggestion yet. Try `/policy-suggest`."))
    for day, text, status in data.suggestions[:HOME_SUGGESTIONS]:
        blocks.append(_section(f"{escape(day)}: {clip_escaped(text, 200)}\n_{clip_escaped(status, 2000)}_"))
    more_suggestions = max(len(data.suggestions) - HOME_SUGGESTIONS, 0) + data.more_suggestions
    if more_suggestions:
        blocks.append(_note(f"…and {more_suggestions} older suggestions"))
    blocks += [{"type": "divider"}, {"type": "header", "text": _plain("Policy versions to acknowledge", MAX_HEADER)}]
    if not data.to_acknowledge:
        blocks.append(_section("You are up to date."))
    for document_id, version, title in data.to_acknowledge[:HOME_ACKS]:
        blocks += [_section(f"*{clip_escaped(title, 2000)}* version {version}"), ack_button(document_id, version)]
    if len(data.to_acknowledge) > HOME_ACKS:
        more = len(data.to_acknowledge) - HOME_ACKS
        blocks.append(_note(f"…and {more} more: acknowledge them here as you go, or `reviewbot policy ack DOCUMENT`"))
    return {"type": "home", "blocks": blocks}


def submitted_values(view: dict[str, Any]) -> dict[str, str]:
    """The values of a submitted view as {block_id: value} (selects give their option value)."""
    values: dict[str, str] = {}
    for block_id, actions in view.get("state", {}).get("values", {}).items():
        for action in actions.values():
            option = action.get("selected_option") or {}
            values[block_id] = option.get("value") or action.get("value") or ""
    return values
