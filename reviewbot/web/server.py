"""Serving the console with waitress (the WSGI server `slack serve` uses): worker threads behind one socket.
The app keeps nothing between requests but what is in the store and the signed cookie, so any number of
`reviewbot serve` processes can run behind one proxy against one PostgreSQL database."""

from __future__ import annotations

import threading
from typing import Any


class WebServer:
    """A WSGI app on waitress: `serve_forever()` until `shutdown()` (from another thread or a signal) or Ctrl-C."""

    def __init__(self, app: Any, host: str, port: int, *, threads: int = 8) -> None:
        from waitress.server import create_server

        # ident: no server version in the answers' headers
        self._server = create_server(app, host=host, port=port, threads=threads, ident="reviewbot")
        self._stop = threading.Event()
        self._stopped = threading.Event()

    @property
    def address(self) -> str:
        """http://HOST:PORT it listens on (the free port picked when asked for port 0)."""
        return f"http://{self._server.effective_host}:{self._server.effective_port}"

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
        """Stop listening and make serve_forever return; `wait=False` from a signal handler."""
        if self._stopped.is_set():
            return
        self._stop.set()
        self._server.pull_trigger()  # wake the poll at once instead of after its timeout
        if wait:
            self._stopped.wait(timeout)
