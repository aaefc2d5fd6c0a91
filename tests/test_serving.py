"""The WSGI server the Slack app and the web console run on: it stops cleanly however shutdowns race its close."""

from __future__ import annotations

import threading
import time
import urllib.request
from typing import Any

import pytest

from reviewbot.serving import WsgiServer


def hello(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


def test_a_shutdown_while_the_server_closes_is_harmless(monkeypatch: pytest.MonkeyPatch) -> None:
    """A second shutdown (a test's teardown, SIGTERM after Ctrl-C) arriving while the loop closes its sockets must not
    wake the poll through the trigger the close has just closed (CI once failed with EBADF there)."""
    server = WsgiServer(hello, "127.0.0.1", 0, threads=1)
    closing, close = threading.Event(), server._server.close  # noqa: SLF001

    def slow_close() -> None:
        close()
        closing.set()
        time.sleep(0.3)  # hold the window between the close and "stopped" open

    monkeypatch.setattr(server._server, "close", slow_close)  # noqa: SLF001
    errors: list[BaseException] = []
    serving = threading.Thread(target=server.serve_forever)
    serving.start()
    assert urllib.request.urlopen(server.address, timeout=5).read() == b"hello"
    server.shutdown(wait=False)
    assert closing.wait(5)

    def second_shutdown() -> None:
        try:
            server.shutdown()
        except BaseException as exc:  # noqa: BLE001 - the thread's error is the test's verdict
            errors.append(exc)

    late = threading.Thread(target=second_shutdown)
    late.start()
    late.join(5)
    serving.join(5)
    assert errors == [] and not serving.is_alive()
