"""What every stand-in shares: an HTTP server on 127.0.0.1:<free port> in a daemon thread that tracks its open
connections, so stop() can cut idle keep-alive ones and return at once; stdlib only."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class TrackingServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that knows its stand-in and every open connection, so stop() can cut them."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, standin: Any, handler: type[TrackedHandler]) -> None:
        self.standin = standin
        self.connections: dict[socket.socket, threading.Thread] = {}
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Record handler failures; socket errors (client hung up, stop() cut the connection) are expected."""
        error = sys.exc_info()[1]
        if not isinstance(error, OSError):
            self.standin.errors.append(f"handler: {error!r}")


class TrackedHandler(BaseHTTPRequestHandler):
    """A keep-alive request handler that registers its connection with the server while it is open."""

    # HTTP/1.1 keeps connections alive like the real services do, so the clients' pooled connections are exercised.
    protocol_version = "HTTP/1.1"
    sys_version = ""
    # Headers and body go out in separate writes; with Nagle on, the client's delayed ACK stalls each one ~40 ms.
    disable_nagle_algorithm = True
    server: TrackingServer

    def setup(self) -> None:
        """Register the connection so stop() can shut it down."""
        super().setup()
        with self.server.connections_lock:
            self.server.connections[self.connection] = threading.current_thread()

    def finish(self) -> None:
        """Unregister the connection."""
        try:
            super().finish()
        finally:
            with self.server.connections_lock:
                self.server.connections.pop(self.connection, None)

    def log_message(self, format: str, *args: Any) -> None:
        """No access log on stderr; each stand-in records its calls."""


class Served:
    """Start and stop a server in a daemon thread; subclasses say which server (`_bind`) and name it (`name`)."""

    name = "standin"

    def __init__(self) -> None:
        self.thread: threading.Thread | None = None
        self._root: str | None = None
        self._server: socketserver.BaseServer | None = None

    def _bind(self) -> socketserver.BaseServer:
        """A server bound to a free port on 127.0.0.1."""
        raise NotImplementedError

    @property
    def root(self) -> str:
        """http://127.0.0.1:<port>; set by start() and kept after stop()."""
        if self._root is None:
            raise RuntimeError(f"the {self.name} is not started")
        return self._root

    def start(self) -> Self:
        """Bind a free port and serve in a daemon thread."""
        if self._root is not None:
            # A second start would bind a new port, and every URL handed out so far would point at the old one.
            raise RuntimeError(f"the {self.name} was already started; make a new one")
        self._server = self._bind()
        host, port = self._server.server_address[:2]  # type: ignore[misc]
        self._root = f"http://{host}:{port}"
        # A short poll interval keeps stop() fast; serve_forever only checks for shutdown between polls.
        self.thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, name=f"{self.name}-{port}", daemon=True
        )
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, cut open keep-alive connections, and join the threads."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        open_connections: list[tuple[socket.socket, threading.Thread]] = []
        if isinstance(server, TrackingServer):
            with server.connections_lock:
                open_connections = list(server.connections.items())
        for connection, _ in open_connections:
            # Handler threads sit in a blocking read on idle keep-alive sockets; shutting the socket wakes them.
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        for _, handler_thread in open_connections:
            handler_thread.join(timeout=2)
        if self.thread is not None:
            self.thread.join(timeout=2)

    def __enter__(self) -> Self:
        """Start on entering a with block."""
        return self.start()

    def __exit__(self, *exc: object) -> None:
        """Stop on leaving a with block."""
        self.stop()
