"""Text that is safe to show on a terminal: other people's words without the control characters that drive it."""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, and C1 controls (0x9b is an 8-bit CSI): escape sequences in a customer's
# complaint or a theme name would otherwise clear the screen, retitle the window or overwrite a line
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` without terminal control characters (tabs and newlines stay; the rest of an escape sequence shows)."""
    return CONTROL.sub("", text)
