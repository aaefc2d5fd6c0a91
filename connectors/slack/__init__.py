"""Slack: the app agents and approvers use (`app`), the notifier (`notifier`), and how they are served."""
