"""Serving the Slack app: HTTP (Slack posts signed requests to a public URL) or Socket Mode (no public URL)."""

from __future__ import annotations

from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a slow request must not hold up others or shutdown


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's signature
        """Requests are logged by Bolt; the stdlib's access log to stderr would only repeat them."""


def http_server(app: App, host: str, port: int, path: str) -> WSGIServer:
    """A threaded HTTP server for the app at `path` (call serve_forever; port 0 picks a free port)."""
    handler = SlackRequestHandler(app, path=path)
    return make_server(host, port, handler, server_class=_ThreadingServer, handler_class=_QuietHandler)


def socket_mode(app: App, app_token: str) -> None:
    """Connect to Slack over a WebSocket (Socket Mode) and serve until interrupted."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    SocketModeHandler(app, app_token).start()
