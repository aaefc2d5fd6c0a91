"""The web console (`reviewbot serve`): a server-rendered Flask app on the workspace's store, where policy owners
and approvers triage, move, dismiss and sign off tickets, publish policies and acknowledge them, through the same
workflows, rules and audit log as the command line."""

from reviewbot.web.app import create_app

__all__ = ["create_app"]
