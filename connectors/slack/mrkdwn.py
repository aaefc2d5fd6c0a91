"""Text for Slack: mrkdwn escaping, and fitting text into Slack's per-field limits without silent cuts.

Slack reads `&`, `<` and `>` in mrkdwn (and in a message's top-level `text`) as control characters: `<...>` is a
link, a mention or a date. Every piece of our text that Slack parses goes through `escape`, so "p < 0.001" reads as
written. plain_text objects are shown as they are and are not escaped.
"""

from __future__ import annotations

ELLIPSIS = "…"


def escape(text: str) -> str:
    """Text as Slack mrkdwn shows it literally: `&`, `<`, `>` as entities (the only three Slack asks to escape)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """`text` within `limit` characters, ending in an ellipsis when it had to be shortened."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + ELLIPSIS


def clip_escaped(text: str, limit: int) -> str:
    """`text` escaped for mrkdwn and within `limit` characters, never cutting an entity in half."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    kept, size = [], 0
    for char in text:
        piece = escape(char)
        if size + len(piece) > limit - 1:
            break
        kept.append(piece)
        size += len(piece)
    return "".join(kept).rstrip() + ELLIPSIS


def chunks(lines: list[str], limit: int) -> list[str]:
    """Escaped lines packed into texts of at most `limit` characters each, split between lines where possible."""
    texts: list[str] = []
    current = ""
    for line in lines:
        piece = escape(line)
        while len(piece) > limit:  # one line longer than a whole block: split it where it must be
            if current:
                texts.append(current)
                current = ""
            cut = _safe_cut(piece, limit)
            texts.append(piece[:cut])
            piece = piece[cut:]
        joined = f"{current}\n{piece}" if current else piece
        if len(joined) > limit:
            texts.append(current)
            joined = piece
        current = joined
    if current:
        texts.append(current)
    return texts


def _safe_cut(escaped: str, limit: int) -> int:
    """An index <= limit that does not fall inside an entity such as `&amp;`."""
    amp = escaped.rfind("&", max(limit - 5, 0), limit)
    if amp != -1 and escaped.find(";", amp) >= limit:
        return amp
    return limit
