"""The Slack connector as reviewbot.toml names it ("slack"): a channel source and the sign-off notifier."""

from reviewbot.connectors.registry import Connector
from reviewbot.connectors.slack.notifier import make_slack_notifier
from reviewbot.connectors.slack.source import make_slack_channel_source

connector = Connector(source=make_slack_channel_source, notifier=make_slack_notifier)  # declared in pyproject.toml
