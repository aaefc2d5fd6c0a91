"""Serving the Slack app: HTTP (Slack posts signed requests to a public URL) or Socket Mode (no public URL).

HTTP is served by waitress (`reviewbot.serving`); the app keeps no state of its own between requests (everything
lives in the store), so any number of `slack serve` processes can run behind one proxy against one database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from reviewbot.serving import WsgiServer

HEALTH_PATH = "/healthz"
_UNAUTHORIZED = b'{"error": "invalid request"}'


class TimestampGuard:
    """WSGI middleware: 401 for a request to the app whose X-Slack-Request-Timestamp is missing or not a whole
    number (Bolt's own check would fail on int() and answer 500); 200 on GET /healthz for the proxy's health checks.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]], path: str) -> None:
        self.app = app
        self.path = path

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Refuse a malformed timestamp before Bolt reads it; answer health checks; pass the rest on."""
        route = environ.get("PATH_INFO", "")
        if route == HEALTH_PATH and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
            return [b"ok"]
        if route == self.path and environ.get("REQUEST_METHOD") == "POST":
            stamp = str(environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP") or "").strip()
            if not stamp.isascii() or not stamp.isdigit():
                headers = [("Content-Type", "application/json"), ("Content-Length", str(len(_UNAUTHORIZED)))]
                start_response("401 Unauthorized", headers)
                return [_UNAUTHORIZED]
        return self.app(environ, start_response)


def wsgi_app(app: App, path: str) -> TimestampGuard:
    """The Bolt app as a WSGI application at `path`."""
    return TimestampGuard(SlackRequestHandler(app, path=path), path)


def http_server(app: App, host: str, port: int, path: str, *, threads: int = 8) -> WsgiServer:
    """The app served over HTTP at `path` by waitress (call serve_forever; port 0 picks a free port)."""
    return WsgiServer(wsgi_app(app, path), host, port, threads=threads)


def socket_mode(app: App, app_token: str) -> None:
    """Connect to Slack over a WebSocket (Socket Mode) and serve until interrupted."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    SocketModeHandler(app, app_token).start()
