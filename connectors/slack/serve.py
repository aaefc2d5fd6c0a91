"""Serving the Slack app: HTTP (Slack posts signed requests to a public URL) or Socket Mode (no public URL).

HTTP is served by waitress, a production WSGI server in pure Python (no C build, runs wherever reviewbot does):
a pool of worker threads behind one listening socket, with its own buffering of slow clients. The app keeps no
state of its own between requests (everything lives in the store), so any number of `slack serve` processes can
run behind one proxy against one PostgreSQL database.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

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


class HttpServer:
    """The app on waitress: `serve_forever()` until `shutdown()` (from another thread) or Ctrl-C."""

    def __init__(self, app: App, host: str, port: int, path: str, *, threads: int = 8) -> None:
        from waitress.server import create_server

        # ident: no server version in the answers' headers
        self._server = create_server(wsgi_app(app, path), host=host, port=port, threads=threads, ident="reviewbot")
        self._stop = threading.Event()
        self._stopped = threading.Event()

    @property
    def host(self) -> str:
        """The address it listens on."""
        return str(self._server.effective_host)

    @property
    def port(self) -> int:
        """The port it listens on (the free one picked when asked for port 0)."""
        return int(self._server.effective_port)

    def serve_forever(self) -> None:
        """Answer requests until shut down; the sockets are closed here, in the thread that polls them."""
        server = self._server
        try:
            while not self._stop.is_set():
                server.asyncore.loop(
                    timeout=server.adj.asyncore_loop_timeout,
                    map=server._map,  # noqa: SLF001 - waitress's own run() loops over the same map
                    use_poll=server.adj.asyncore_use_poll,
                    count=1,
                )
        finally:
            server.close()
            self._stopped.set()

    def shutdown(self, *, wait: bool = True, timeout: float = 10) -> None:
        """Stop listening and make serve_forever return; `wait=False` from a signal handler in its own thread."""
        if self._stopped.is_set():
            return
        self._stop.set()
        self._server.pull_trigger()  # wake the poll at once instead of after its timeout
        if wait:
            self._stopped.wait(timeout)


def http_server(app: App, host: str, port: int, path: str, *, threads: int = 8) -> HttpServer:
    """The app served over HTTP at `path` by waitress (call serve_forever; port 0 picks a free port)."""
    return HttpServer(app, host, port, path, threads=threads)


def socket_mode(app: App, app_token: str) -> None:
    """Connect to Slack over a WebSocket (Socket Mode) and serve until interrupted."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    SocketModeHandler(app, app_token).start()
