"""File names as reviewbot stores and shows them."""

from __future__ import annotations

import os


def printable_name(name: str) -> str:
    """A file name with its bytes that are not UTF-8 as \\xNN and its control characters escaped: the database
    cannot store the first (Python reads them as lone surrogates), and a newline would split a listing's line."""
    text = os.fsencode(name).decode("utf-8", "backslashreplace")
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else char.encode("unicode_escape").decode("ascii") for char in text)
