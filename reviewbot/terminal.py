"""Text that is safe to show on a terminal: other people's words without the control characters that drive it."""

from __future__ import annotations

import re
from typing import TextIO

# C0 controls but tab and newline, DEL, and C1 controls (0x9b is an 8-bit CSI): escape sequences in a customer's
# complaint or a theme name would otherwise clear the screen, retitle the window or overwrite a line. And the
# bidirectional overrides and isolates, which show text in another order than it is stored ("Trojan Source").
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` without terminal control characters (tabs and newlines stay; the rest of an escape sequence shows)."""
    return CONTROL.sub("", text)


class PrintableWriter:
    """A text stream that writes to `stream` without terminal control characters: data shown on a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        """Write `text` as `printable` makes it; returns the length given, as streams do."""
        self._stream.write(printable(text))
        return len(text)
