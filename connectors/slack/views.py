"""Block Kit: the suggestion modal, messages with buttons, and App Home. Pure functions returning dicts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

SUGGEST_VIEW = "policy_suggest"
COMMENT_VIEW = "signoff_comment"
NOT_SURE = "not-sure"
DECISIONS = {"signoff_approve": "approve", "signoff_changes": "request_changes", "signoff_reject": "reject"}
MOVE_ACTION = "ticket_move"
NOT_POLICY = "-"  # the picker's "not a policy matter"
MAX_OPTIONS = 100  # Slack's limit on a select's options, and on its option groups
MAX_VALUE = 150  # Slack's limit on an option's value


def _text(text: str, kind: str = "mrkdwn") -> dict[str, Any]:
    return {"type": kind, "text": text[:3000]}


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:75] or "-", "emoji": True}


def suggest_modal(
    sections: Sequence[tuple[str, str]], *, text: str = "", link: str = "", metadata: dict[str, Any], max_chars: int
) -> dict[str, Any]:
    """The modal agents fill in: what should change, which section (or not sure), and an optional case link."""
    options = [{"text": _plain("Not sure"), "value": NOT_SURE}] + [
        {"text": _plain(label), "value": key} for key, label in list(sections)[:99]
    ]
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
        link_input["initial_value"] = link
    return {
        "type": "modal",
        "callback_id": SUGGEST_VIEW,
        "title": _plain("Suggest a policy change"),
        "submit": _plain("Send"),
        "close": _plain("Cancel"),
        "private_metadata": json.dumps(metadata),
        "blocks": [
            {
                "type": "input",
                "block_id": "text",
                "label": _plain("What should change, and why?"),
                "element": text_input,
            },
            {
                "type": "input",
                "block_id": "section",
                "optional": True,
                "label": _plain("Which part of the policy?"),
                "element": {
                    "type": "static_select",
                    "action_id": "value",
                    "options": options,
                    "initial_option": options[0],
                },
            },
            {
                "type": "input",
                "block_id": "link",
                "optional": True,
                "label": _plain("Case link"),
                "element": link_input,
            },
        ],
    }


def comment_modal(ref: str, decision: str) -> dict[str, Any]:
    """Asks an approver why they request changes or reject."""
    verb = "Request changes" if decision == "request_changes" else "Reject"
    return {
        "type": "modal",
        "callback_id": COMMENT_VIEW,
        "title": _plain(verb),  # Slack allows 24 characters here
        "submit": _plain(verb),
        "private_metadata": json.dumps({"ref": ref, "decision": decision}),
        "blocks": [
            _section(f"Ticket *{ref}*"),
            {
                "type": "input",
                "block_id": "comment",
                "label": _plain("Why?"),
                "element": {"type": "plain_text_input", "action_id": "value", "multiline": True},
            },
        ],
    }


def signoff_buttons(ref: str) -> dict[str, Any]:
    """Approve / Request changes / Reject for one ticket; the value names the ticket."""
    return {
        "type": "actions",
        "block_id": f"signoff:{ref}",
        "elements": [
            {
                "type": "button",
                "action_id": "signoff_approve",
                "text": _plain("Approve"),
                "style": "primary",
                "value": ref,
            },
            {"type": "button", "action_id": "signoff_changes", "text": _plain("Request changes"), "value": ref},
            {
                "type": "button",
                "action_id": "signoff_reject",
                "text": _plain("Reject"),
                "style": "danger",
                "value": ref,
            },
        ],
    }


def move_picker(ref: str, sections: Sequence[Sequence[str]]) -> dict[str, Any]:
    """ "Wrong section?": a select moving one ticket to another section, or out of the policy's concern.

    `sections` are (document#section, heading, document title); several documents are grouped by title."""
    options = [
        (title, {"text": _plain(heading), "value": value})
        for value, heading, title in sections
        if len(value) <= MAX_VALUE
    ]
    elsewhere = {"text": _plain("Not a policy matter"), "value": NOT_POLICY}
    select: dict[str, Any] = {
        "type": "static_select",
        "action_id": MOVE_ACTION,
        "placeholder": _plain(f"Wrong section? Move {ref} to..."),
    }
    titles = list(dict.fromkeys(title for title, _ in options))
    if len(titles) > 1:
        groups = [
            {"label": _plain(title), "options": [o for t, o in options if t == title][:MAX_OPTIONS]}
            for title in titles[: MAX_OPTIONS - 1]
        ]
        select["option_groups"] = [*groups, {"label": _plain("None"), "options": [elsewhere]}]
    else:
        select["options"] = [*(o for _, o in options[: MAX_OPTIONS - 1]), elsewhere]
    return {"type": "actions", "block_id": f"move:{ref}", "elements": [select]}


def ack_button(document_id: str, version: int) -> dict[str, Any]:
    """Acknowledge a published version."""
    return {
        "type": "actions",
        "block_id": f"ack:{document_id}:{version}",
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


def message_blocks(title: str, body: str, extra: Sequence[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """A notification: a bold title, the body, and any buttons."""
    return [_section(f"*{title}*\n{body}"), *extra]


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _text(text)}


@dataclass
class HomeData:
    """What a person sees on the app's Home tab."""

    pending: list[tuple[str, str]] = field(default_factory=list)  # (ticket ref, title) awaiting their sign-off
    suggestions: list[tuple[str, str, str]] = field(default_factory=list)  # (date, text, what happened)
    to_acknowledge: list[tuple[str, int, str]] = field(default_factory=list)  # (document id, version, title)


def home_view(data: HomeData) -> dict[str, Any]:
    """The Home tab: pending sign-offs with buttons, the person's suggestions, versions to acknowledge."""
    blocks: list[dict[str, Any]] = [{"type": "header", "text": _plain("Your pending sign-offs")}]
    if not data.pending:
        blocks.append(_section("Nothing waits for your sign-off."))
    for ref, title in data.pending:
        blocks += [_section(f"*{ref}* {title}"), signoff_buttons(ref)]
    blocks += [{"type": "divider"}, {"type": "header", "text": _plain("Your suggestions")}]
    if not data.suggestions:
        blocks.append(_section("You have not sent a suggestion yet. Try `/policy-suggest`."))
    for day, text, status in data.suggestions[:20]:
        blocks.append(_section(f"{day}: {text[:200]}\n_{status}_"))
    blocks += [{"type": "divider"}, {"type": "header", "text": _plain("Policy versions to acknowledge")}]
    if not data.to_acknowledge:
        blocks.append(_section("You are up to date."))
    for document_id, version, title in data.to_acknowledge:
        blocks += [_section(f"*{title}* version {version}"), ack_button(document_id, version)]
    return {"type": "home", "blocks": blocks[:100]}


def submitted_values(view: dict[str, Any]) -> dict[str, str]:
    """The values of a submitted view as {block_id: value} (selects give their option value)."""
    values: dict[str, str] = {}
    for block_id, actions in view.get("state", {}).get("values", {}).items():
        for action in actions.values():
            option = action.get("selected_option") or {}
            values[block_id] = option.get("value") or action.get("value") or ""
    return values
