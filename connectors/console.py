"""The console notifier (the default): prints messages to standard error, or appends them to a file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, TextIO

from pydantic import BaseModel, ConfigDict

from reviewbot.connectors.registry import Connector, ConnectorContext, parse_options
from reviewbot.protocols import Message
from reviewbot.terminal import printable


class ConsoleOptions(BaseModel):
    """Options of `[notifier] type = "console"`."""

    model_config = ConfigDict(extra="forbid")

    file: str | None = None  # append here (workspace-relative) instead of printing


class ConsoleNotifier:
    """Writes each message as a short plain-text block; standard error keeps standard output clean for --json."""

    name = "console"

    def __init__(self, stream: TextIO | None = None, path: Path | None = None) -> None:
        self.stream = stream
        self.path = path

    def send(self, message: Message) -> None:
        """Print or append one message."""
        to = f" -> {', '.join(message.recipients)}" if message.recipients else ""
        # the log is read on a terminal (`tail -f`) too: others' words without control characters
        block = printable(f"[{message.kind}]{to} {message.title}\n{message.body.rstrip()}\n\n")
        if self.path is not None:
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(block)
        else:
            (self.stream or sys.stderr).write(block)


def make_console_notifier(options: dict[str, Any], context: ConnectorContext) -> ConsoleNotifier:
    """Build the console notifier."""
    opts = parse_options(ConsoleOptions, options, ("notifier",), context.settings)
    return ConsoleNotifier(path=context.settings.workspace / opts.file if opts.file else None)


connector = Connector(notifier=make_console_notifier)  # declared in pyproject.toml as "console"
