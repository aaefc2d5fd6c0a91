"""The Slack app (Bolt): agents suggest policy changes, approvers sign off, everyone acknowledges new versions.

Every request is acknowledged within Slack's three seconds: a suggestion is stored first (a quick insert),
then acknowledged, and only then is the confirmation posted. A sign-off or reopening is checked and recorded in
the database (quick), acknowledged, and only then passed on to the tracker (Jira can take seconds); if that
fails, the person is told, and the next sync sends it. What the app does to reviewbot's data goes
through `SlackActions`, which the caller provides, so this module only speaks Slack.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from reviewbot.connectors.slack.config import Directory, DirectoryError, SlackOptions, directory, people_hint
from reviewbot.connectors.slack.mrkdwn import clip_escaped
from reviewbot.connectors.slack.views import (
    COMMENT_VIEW,
    DECISIONS,
    HASHED,
    MOVE_ACTION,
    NOT_POLICY,
    NOT_SURE,
    REOPEN_ACTION,
    REOPEN_VIEW,
    SECTION_ACTION,
    SUGGEST_VIEW,
    Choice,
    HomeData,
    Shown,
    chosen,
    comment_modal,
    home_view,
    not_policy_option,
    not_sure_option,
    reopen_modal,
    section_options,
    submitted_values,
    suggest_modal,
)
from reviewbot.errors import ReviewbotError

log = logging.getLogger(__name__)
UNSURE_WHO = "Slack could not say who you are; try again in a minute"
COMMAND = "/policy-suggest"
SHORTCUT = "suggest_policy_change"


@dataclass(frozen=True)
class Suggestion:
    """A suggestion as submitted in the modal."""

    external_id: str  # the modal's view id: a retried submission is the same suggestion
    text: str
    user_id: str
    person: str
    section: str | None  # "document#section", or None for "not sure"
    link: str | None
    channel: str | None


class SlackActions(Protocol):
    """What the app may do to reviewbot's data; each raises ReviewbotError with a message people can read."""

    def sections(self) -> list[Choice]:
        """(document#section, heading, document title) of every policy section, for the pickers."""
        ...

    def suggest(self, suggestion: Suggestion) -> tuple[str, bool]:
        """Store a suggestion; returns its reference and whether it is new (a retried submission is not)."""
        ...

    def can_sign(self, person: str, shown: Shown) -> None:
        """Raise unless the person may sign the ticket now, on the request shown (its place and text)."""
        ...

    def sign(self, person: str, shown: Shown, decision: str, comment: str) -> tuple[str, bool]:
        """Record a sign-off on the request shown; returns what happened and whether it is new (the same decision
        sent again, as a retry does, was recorded the first time and is answered as such)."""
        ...

    def acknowledge(self, person: str, document_id: str, version: int) -> str:
        """Record an acknowledgement; returns what happened."""
        ...

    def move(self, person: str, ref: str, document_id: str | None, section_id: str | None) -> str:
        """Move a ticket to another section (None: not a policy matter); returns what happened."""
        ...

    def can_reopen(self, person: str, ref: str) -> None:
        """Raise unless the person may reopen the ticket (as `tickets reopen`) and it is closed."""
        ...

    def reopen(self, person: str, ref: str, reason: str) -> tuple[str, bool]:
        """Reopen a closed ticket with a reason; returns what happened and whether it is new (the same reopening
        sent again, as a retry does, was recorded the first time)."""
        ...

    def pass_on(self, ref: str) -> str | None:
        """Send what sign-offs and reopenings queued (tracker, notifications): slow, so called after `ack()`; what
        to tell the person when the ticket's tracker updates could not be sent, or None."""
        ...

    def home(self, person: str, user_id: str) -> HomeData:
        """What the person's Home tab shows."""
        ...


def build_app(options: SlackOptions, actions: SlackActions, client: WebClient, signing_secret: str) -> App:
    """The Bolt app with every listener registered."""
    app = App(signing_secret=signing_secret, client=client, token_verification_enabled=False)
    handlers = _Handlers(options, actions, directory(options, lambda: client))
    app.command(COMMAND)(handlers.command)
    app.shortcut(SHORTCUT)(handlers.shortcut)
    app.view(SUGGEST_VIEW)(handlers.submit_suggestion)
    app.view(COMMENT_VIEW)(handlers.submit_comment)
    app.action("signoff_approve")(handlers.approve)
    app.action("signoff_changes")(handlers.ask_comment)
    app.action("signoff_reject")(handlers.ask_comment)
    app.action("policy_ack")(handlers.acknowledge)
    app.action(MOVE_ACTION)(handlers.move)
    app.action(REOPEN_ACTION)(handlers.ask_reason)
    app.view(REOPEN_VIEW)(handlers.submit_reopen)
    app.action(SECTION_ACTION)(handlers.ignore)  # choosing in the modal's picker: nothing to do until submit
    app.options(SECTION_ACTION)(handlers.section_options)
    app.options(MOVE_ACTION)(handlers.move_options)
    app.event("app_home_opened")(handlers.home)
    return app


class _Handlers:
    """The listeners, sharing the options, the actions and the directory."""

    def __init__(self, options: SlackOptions, actions: SlackActions, directory: Directory) -> None:
        self.options = options
        self.actions = actions
        self.directory = directory

    # --- suggestions -----------------------------------------------------------------------------------

    def command(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """`/policy-suggest [text]`: open the modal with the text."""
        ack()
        metadata = {"channel": body.get("channel_id")}
        self._open(client, body["trigger_id"], body.get("text", ""), "", metadata)

    def shortcut(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """The "Suggest policy change" message shortcut: the modal prefilled with the message and its link."""
        ack()
        channel, message = body["channel"]["id"], body.get("message", {})
        link = ""
        try:
            link = client.chat_getPermalink(channel=channel, message_ts=message.get("ts"))["permalink"]
        except SlackApiError as exc:  # the suggestion still works without the link
            log.warning("no permalink for %s/%s: %s", channel, message.get("ts"), exc.response.get("error"))
        self._open(client, body["trigger_id"], message.get("text", ""), link, {"channel": channel})

    def _open(self, client: WebClient, trigger: str, text: str, link: str, metadata: dict[str, Any]) -> None:
        view = suggest_modal(
            self.actions.sections(),
            text=text,
            link=link,
            metadata=metadata,
            max_chars=self.options.max_suggestion_chars,
        )
        client.views_open(trigger_id=trigger, view=view)

    def submit_suggestion(self, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        """Validate, store, acknowledge, then confirm to the author."""
        values = submitted_values(view)
        text = values.get("text", "").strip()
        limit = self.options.max_suggestion_chars
        if not text:
            ack(response_action="errors", errors={"text": "Write what should change in the policy, and why."})
            return
        if len(text) > limit:
            ack(
                response_action="errors", errors={"text": f"Please keep it under {limit} characters (now {len(text)})."}
            )
            return
        user = body["user"]["id"]
        metadata = json.loads(view.get("private_metadata") or "{}")
        section = values.get("section")
        if section and section.startswith(HASHED):  # only a long id travels as a digest: look it up
            section = chosen(section, self.actions.sections())
        suggestion = Suggestion(
            external_id=f"slack:{view['id']}",
            text=text,
            user_id=user,
            person=self._author(user),
            section=None if section in (None, "", NOT_SURE) else section,
            link=values.get("link", "").strip() or None,
            channel=metadata.get("channel"),
        )
        try:
            ref, new = self.actions.suggest(suggestion)
        except ReviewbotError as exc:
            ack(response_action="errors", errors={"text": exc.message})
            return
        ack()
        if not new:  # Slack sent the same submission again: it was stored and thanked the first time
            log.info("suggestion %s was submitted again; not thanking twice", ref)
            return
        _tell(
            client,
            user,
            None,
            f"Thank you! Your suggestion is recorded as {ref}. You will hear back when the policy changes.",
        )

    # --- sign-offs -------------------------------------------------------------------------------------

    def approve(self, ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        """The Approve button: only the ticket's approver may use it, only once, and only while the ticket is
        where the request said and its text as it was."""
        ack()
        user = body["user"]["id"]
        person = self._who(client, body, "Not signed")
        if person is None:
            return
        shown = Shown.parse(action["value"])
        try:
            result, new = self.actions.sign(person, shown, "approve", "")
        except ReviewbotError as exc:
            self.actions.pass_on(shown.ref)  # a stale request queued the request as it is now: sent before it is said
            _tell(client, user, _channel(body), f"Not signed: {self._refusal(user, person, exc)}")
            return
        _tell(client, user, _channel(body), result)
        self._pass_on(client, user, _channel(body), shown.ref, new)

    def ask_comment(self, ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        """Request changes / Reject: check who it is and the request, then ask why in a modal."""
        ack()
        user, shown = body["user"]["id"], Shown.parse(action["value"])
        person = self._who(client, body, "Not signed")
        if person is None:
            return
        try:
            self.actions.can_sign(person, shown)
        except ReviewbotError as exc:
            self.actions.pass_on(shown.ref)  # a stale request queued the request as it is now: sent before it is said
            _tell(client, user, _channel(body), f"Not signed: {self._refusal(user, person, exc)}")
            return
        client.views_open(trigger_id=body["trigger_id"], view=comment_modal(shown, DECISIONS[action["action_id"]]))

    def submit_comment(self, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        """The comment modal of Request changes / Reject; the same submission sent again is answered as the first."""
        meta = json.loads(view.get("private_metadata") or "{}")
        # A modal opened before requests said what they were for carries only the ref.
        shown = Shown.parse(meta["request"]) if "request" in meta else Shown(str(meta.get("ref", "")))
        comment = submitted_values(view).get("comment", "").strip()
        user = body["user"]["id"]
        person = self._person(user)
        if person is None:
            ack(response_action="errors", errors={"comment": UNSURE_WHO})
            return
        try:
            result, new = self.actions.sign(person, shown, meta["decision"], comment)
        except ReviewbotError as exc:
            ack(response_action="errors", errors={"comment": self._refusal(user, person, exc)})
            self.actions.pass_on(shown.ref)  # a stale request queued the request as it is now
            return
        ack()
        if not new:  # Slack sent the submission again: the first was recorded and answered
            log.info("sign-off on %s was submitted again; answered the first time", shown.ref)
            return
        _tell(client, user, None, result)
        self._pass_on(client, user, None, shown.ref, new)

    def _pass_on(self, client: WebClient, user: str, channel: str | None, ref: str, new: bool) -> None:
        """After acknowledging: send what the person's decision queued, and tell them if the tracker missed it (a
        decision sent again was passed on the first time, and is retried by syncs)."""
        if new and (problem := self.actions.pass_on(ref)):
            _tell(client, user, channel, problem)

    def _who(self, client: WebClient, body: dict[str, Any], refused: str) -> str | None:
        """The person who clicked, or None after telling them Slack could not say (nothing is kept: next time)."""
        user = body["user"]["id"]
        person = self._person(user)
        if person is None:
            _tell(client, user, _channel(body), f"{refused}: {UNSURE_WHO}")
        return person

    def _person(self, user: str) -> str | None:
        """The person a Slack user is, or None (logged) when Slack cannot say now: nothing is kept, so next time."""
        try:
            return self.directory.person(user)
        except DirectoryError as exc:
            log.warning("%s", exc)
            return None

    def _refusal(self, user: str, person: str, exc: ReviewbotError) -> str:
        """Why a Slack user was refused; for one reviewbot cannot place, that and what an admin adds."""
        if self.directory.is_mapped(user, person):
            return exc.message
        return (
            f"your Slack account {user} is not mapped to a reviewbot person. Ask a reviewbot admin to "
            f"{people_hint('NAME', user)} of reviewbot.toml (NAME: your name as [roles] and the policies spell it)"
        )

    def _author(self, user: str) -> str:
        """Who wrote a suggestion: the person, or the Slack id when Slack cannot say now (the suggestion is kept)."""
        return self._person(user) or user

    # --- moving a ticket to the right section ----------------------------------------------------------

    def move(self, ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        """The "Wrong section?" picker under a ticket: move it (only its sections' owners and approvers may)."""
        ack()
        user, ref = body["user"]["id"], action["block_id"].split(":", 1)[1]
        value = (action.get("selected_option") or {}).get("value", "")
        if value.startswith(HASHED):
            value = chosen(value, self.actions.sections()) or ""
        document, _, section = value.partition("#")
        person = self._who(client, body, "Not moved")
        if person is None:
            return
        try:
            if value == NOT_POLICY:
                result = self.actions.move(person, ref, None, None)
            elif not section:
                result = "Not moved: that section is no longer in the policy; pick again"
            else:
                result = self.actions.move(person, ref, document, section)
        except ReviewbotError as exc:
            result = f"Not moved: {self._refusal(user, person, exc)}"
        _tell(client, user, _channel(body), result)

    # --- reopening a closed ticket whose change did not help -------------------------------------------------

    def ask_reason(self, ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        """The "Reopen RB-2" button of an impact message: check who it is and the ticket, then ask why in a modal."""
        ack()
        user, ref = body["user"]["id"], str(action.get("value") or "")
        person = self._who(client, body, "Not reopened")
        if person is None:
            return
        try:
            self.actions.can_reopen(person, ref)
        except ReviewbotError as exc:
            _tell(client, user, _channel(body), f"Not reopened: {self._refusal(user, person, exc)}")
            return
        client.views_open(trigger_id=body["trigger_id"], view=reopen_modal(ref))

    def submit_reopen(self, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        """The reason modal: reopen the ticket; the same submission sent again is answered as the first."""
        ref = str(json.loads(view.get("private_metadata") or "{}").get("ref", ""))
        reason = submitted_values(view).get("reason", "").strip()
        user = body["user"]["id"]
        if not reason:
            ack(response_action="errors", errors={"reason": "say why it is reopened"})
            return
        person = self._person(user)
        if person is None:
            ack(response_action="errors", errors={"reason": UNSURE_WHO})
            return
        try:
            result, new = self.actions.reopen(person, ref, reason)
        except ReviewbotError as exc:
            ack(response_action="errors", errors={"reason": self._refusal(user, person, exc)})
            return
        ack()
        if new:
            _tell(client, user, None, result)
            self._pass_on(client, user, None, ref, new)

    # --- searchable pickers (when there are more sections than a static select holds) ------------------------

    def ignore(self, ack: Ack) -> None:
        """Acknowledge an interaction that needs no answer."""
        ack()

    def section_options(self, ack: Ack, payload: dict[str, Any]) -> None:
        """The suggestion modal's section picker: the sections matching what the person typed."""
        menu = section_options(
            self.actions.sections(), str(payload.get("value") or ""), extra=not_sure_option(), extra_label="Not sure"
        )
        ack(**menu)

    def move_options(self, ack: Ack, payload: dict[str, Any]) -> None:
        """The "Wrong section?" picker: the sections matching what the person typed."""
        menu = section_options(
            self.actions.sections(), str(payload.get("value") or ""), extra=not_policy_option(), extra_label="None"
        )
        ack(**menu)

    # --- acknowledgements and Home ---------------------------------------------------------------------

    def acknowledge(self, ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        """The "I have read it" button of a new version."""
        ack()
        user, value = body["user"]["id"], json.loads(action["value"])
        person = self._who(client, body, "Not recorded")
        if person is None:
            return
        try:
            result = self.actions.acknowledge(person, value["document"], int(value["version"]))
        except ReviewbotError as exc:
            result = f"Not recorded: {exc.message}"
        _tell(client, user, _channel(body), result)

    def home(self, event: dict[str, Any], client: WebClient) -> None:
        """Publish the person's Home tab when they open it (not when Slack cannot say who they are: next time)."""
        user = event["user"]
        person = self._person(user)
        if person is None:
            return
        client.views_publish(user_id=user, view=home_view(self.actions.home(person, user)))


def _channel(body: dict[str, Any]) -> str | None:
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")


def _tell(client: WebClient, user: str, channel: str | None, text: str) -> None:
    """A reply only this person sees: ephemeral in the conversation, or a direct message (from Home, a modal)."""
    text = clip_escaped(text, 3000)
    try:
        if channel:
            client.chat_postEphemeral(channel=channel, user=user, text=text)
        else:
            client.chat_postMessage(channel=user, text=text)
    except SlackApiError as exc:
        log.warning("could not reply to %s: %s", user, exc.response.get("error"))
