"""Serving a WSGI app (the Slack app, the web console) with waitress, a production WSGI server in pure Python:
worker threads behind one listening socket, with its own buffering of slow clients. Neither app keeps state of its
own between requests (everything lives in the store), so any number of processes can run behind one proxy against
one PostgreSQL database."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any


class WsgiServer:
    """A WSGI app on waitress: `serve_forever()` until `shutdown()` (from another thread or a signal) or Ctrl-C."""

    def __init__(self, app: Callable[..., Any], host: str, port: int, *, threads: int = 8) -> None:
        from waitress.server import create_server

        # ident: no server version in the answers' headers
        self._server = create_server(app, host=host, port=port, threads=threads, ident="reviewbot")
        self._stop = threading.Event()
        self._stopped = threading.Event()
        # Held while closing and while waking the poll: waking it after close would write to a closed (or reused) fd.
        self._closing = threading.Lock()

    @property
    def host(self) -> str:
        """The address it listens on."""
        return str(self._server.effective_host)

    @property
    def port(self) -> int:
        """The port it listens on (the free one picked when asked for port 0)."""
        return int(self._server.effective_port)

    @property
    def address(self) -> str:
        """http://HOST:PORT it listens on."""
        return f"http://{self.host}:{self.port}"

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
            with self._closing:
                server.close()
                self._stopped.set()

    def shutdown(self, *, wait: bool = True, timeout: float = 10) -> None:
        """Stop listening and make serve_forever return; `wait=False` from a signal handler."""
        self._stop.set()
        # Not blocking: the lock is busy only while the loop is closing, which needs no wake-up (and a signal handler
        # must not wait for its own thread).
        if self._closing.acquire(blocking=False):
            try:
                if not self._stopped.is_set():
                    self._server.pull_trigger()  # wake the poll at once instead of after its timeout
            finally:
                self._closing.release()
        if wait:
            self._stopped.wait(timeout)


def serve_until_stopped(server: WsgiServer) -> None:
    """Serve until Ctrl-C or SIGTERM (a supervisor or orchestrator stopping a replica), then close cleanly."""
    signal.signal(signal.SIGTERM, lambda *_: server.shutdown(wait=False))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
