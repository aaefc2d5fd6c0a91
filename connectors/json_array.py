"""Reading the records array of a JSON export a chunk at a time, with the line and byte offsets a file source needs.

json.loads of a 150 MB export held its bytes, its text and every record at once (819 MB at peak). Here the text is
decoded a chunk at a time and each element is parsed with the standard library's own decoder (`raw_decode`, the C
scanner json.loads uses) where it starts, so errors say what json.loads says, at the same line and column. ijson
was the other choice: it streams as well, but tells neither the line an element starts on nor its byte offsets,
which quarantine entries and the cursor are made of.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Generator, Iterator
from typing import Any, BinaryIO, NamedTuple

JSON_CHUNK = 1 << 20  # bytes decoded at a time
# An error this close to the end of the text read so far may be the text stopping inside a value: read on, retry.
_NEAR_END = 16


def _says(document: str) -> str:
    """What this Python's json.loads says about an invalid document (the wording changes between versions)."""
    try:
        json.loads(document)
    except json.JSONDecodeError as exc:
        return exc.msg
    raise AssertionError(document)


TRAILING_COMMA_ARRAY, TRAILING_COMMA_OBJECT = _says("[0,]"), _says('{"a": 0,}')
# Python's JSON parser recurses once per level of nesting and gives up past the interpreter's recursion limit
TOO_DEEP = "invalid JSON: nested too deeply to read (arrays or objects inside each other, thousands of levels)"


class InvalidJson(Exception):
    """The file is not JSON that holds an array of records; the message says where and why."""


class Element(NamedTuple):
    """One element of an array: its value, the line it starts on, the byte offset after it, and if it is the last."""

    value: Any
    line: int
    end: int
    last: bool


class JsonText:
    """A JSON file's text decoded a chunk at a time: the part still needed is held, with the byte offset, line and
    column of its positions."""

    def __init__(self, fh: BinaryIO, encoding: str, chunk: int = JSON_CHUNK) -> None:
        self.fh, self.encoding, self.chunk = fh, encoding, chunk
        self._utf8 = codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")
        self._decoder = codecs.getincrementaldecoder("utf-8-sig" if self._utf8 else encoding)()
        self._encoder = codecs.getincrementalencoder("utf-8" if self._utf8 else encoding)()
        sample = ' {}[],:"azAZ09'
        self._ascii_bytes = sample.encode(encoding) == sample.encode("ascii")  # an ASCII character is one byte
        self.text, self.eof, self.size = "", False, 0  # size: the bytes read so far
        self._scan = json.JSONDecoder().raw_decode
        # Known for positions of `text`: a byte offset, a line (from 1), and the column of text[0] (from 0).
        self._byte_pos, self._byte = 0, 0
        self._line_pos, self._line = 0, 1
        self._column = 0

    def fill(self, keep: int) -> int:
        """Read the next chunk, dropping the text before `keep`; how far positions moved back (0 at the end).

        It reads at least as much as is held, so an element longer than a chunk is parsed a few times, not once
        per chunk."""
        if self.eof:
            return 0
        self.byte_at(keep)
        self.line_at(keep)
        newline = self.text.rfind("\n", 0, keep)
        self._column = keep - newline - 1 if newline >= 0 else self._column + keep
        self.text = self.text[keep:]
        self._byte_pos -= keep
        self._line_pos -= keep
        self.fh.seek(self.size)  # the cursor's hashes move the file's position between rows
        data = self.fh.read(max(self.chunk, len(self.text)))
        if self.size == 0 and self._utf8 and data.startswith(codecs.BOM_UTF8):
            self._byte = len(codecs.BOM_UTF8)  # the decoder drops it
        self.size += len(data)
        self.eof = not data
        try:
            self.text += self._decoder.decode(data, final=self.eof)
        except UnicodeDecodeError:
            at = self._undecodable_at()
            raise InvalidJson(f"not valid {self.encoding}: {undecodable(self.encoding, at)}") from None
        return keep

    def _undecodable_at(self) -> int:
        """The offset of the file's first byte the encoding cannot decode, read again from the start."""
        decoder = codecs.getincrementaldecoder(self.encoding)()
        self.fh.seek(0)
        done = 0
        while True:
            data = self.fh.read(self.chunk)
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(data, final=not data)
            except UnicodeDecodeError as exc:
                return done - pending + exc.start
            if not data:
                return done
            done += len(data)

    def byte_at(self, pos: int) -> int:
        """The byte offset in the file of `pos` (asked for positions that only grow)."""
        piece = self.text[self._byte_pos : pos]
        self._byte += len(piece) if self._ascii_bytes and piece.isascii() else len(self._encoder.encode(piece))
        self._byte_pos = pos
        return self._byte

    def line_at(self, pos: int) -> int:
        """The line `pos` is on (asked for positions that only grow)."""
        self._line += self.text.count("\n", self._line_pos, pos)
        self._line_pos = pos
        return self._line

    def skip(self, pos: int) -> tuple[int, str]:
        """The position of the next character after whitespace from `pos`, and that character ("" at the end)."""
        while True:
            while pos < len(self.text) and self.text[pos] in " \t\r\n":
                pos += 1
            if pos < len(self.text) or self.eof:
                return pos, self.text[pos : pos + 1]
            pos -= self.fill(pos)

    def value(self, pos: int) -> tuple[Any, int]:
        """The JSON value at `pos` and the position after it, reading on while the text stops inside it."""
        while True:
            try:
                value, end = self._scan(self.text, pos)
                # A number just before the end ("1" of "1.5e3", or "0" of "0.5") may go on in the next chunk.
                if end <= len(self.text) - _NEAR_END or self.eof:
                    return value, end
            except json.JSONDecodeError as exc:
                cut = exc.msg.startswith("Unterminated string") or exc.pos >= len(self.text) - _NEAR_END
                if self.eof or not cut:
                    raise self.error(exc.pos, exc.msg) from None
            except RecursionError:
                raise InvalidJson(TOO_DEEP) from None
            pos -= self.fill(pos)

    def error(self, pos: int, message: str) -> InvalidJson:
        """Invalid JSON at `pos`, by line and column as json.loads counts them."""
        newline = self.text.rfind("\n", 0, pos)
        column = pos - newline if newline >= 0 else self._column + pos + 1
        return InvalidJson(f"invalid JSON at line {self.line_at(pos)}, column {column}: {message}")


def records(text: JsonText, key: str | None) -> Iterator[Element]:
    """The elements of the records array: the document, or (with `key`) its top-level object's member `key`.

    The rest of the document is read too, one value at a time, so a file json.loads refuses is refused here, after
    the elements before the mistake (read the file through once before storing any).
    """
    pos, char = text.skip(0)
    if char == "[":
        pos = yield from _array(text, pos)
    elif char == "{":
        pos = yield from _object(text, pos, key)
    else:
        _, pos = text.value(pos)
        _trailing(text, pos)
        raise InvalidJson(f"expected a JSON array of records {_where(key)}")
    _trailing(text, pos)


def _array(text: JsonText, pos: int) -> Generator[Element, None, int]:
    """The elements of the array opening at `pos`; returns the position after it."""
    pos, char = text.skip(pos + 1)
    while char != "]":
        line = text.line_at(pos)
        value, pos = text.value(pos)
        end = text.byte_at(pos)
        pos, char = text.skip(pos)
        if char not in (",", "]"):
            raise text.error(pos, "Expecting ',' delimiter")
        yield Element(value, line, end, char == "]")
        if char == ",":
            pos, char = text.skip(pos + 1)
            if char == "]":
                raise text.error(pos, TRAILING_COMMA_ARRAY)
    return pos + 1


def _object(text: JsonText, pos: int, key: str | None) -> Generator[Element, None, int]:
    """The elements of member `key` of the object opening at `pos`, the others read and let go; returns the
    position after the object, or refuses it naming its members that hold arrays (of objects first)."""
    arrays: dict[str, bool] = {}  # members holding arrays: whether of objects (and not empty)
    found = False
    pos, char = text.skip(pos + 1)
    while char != "}":
        if char != '"':
            raise text.error(pos, "Expecting property name enclosed in double quotes")
        name, pos = text.value(pos)
        pos, char = text.skip(pos)
        if char != ":":
            raise text.error(pos, "Expecting ':' delimiter")
        pos, char = text.skip(pos + 1)
        if char == "[" and name == key and not found:
            found, arrays[name] = True, True
            pos = yield from _array(text, pos)
        elif char == "[":
            elements = _array(text, pos)
            kinds = set()
            while True:
                try:
                    kinds.add(isinstance(next(elements).value, dict))
                except StopIteration as stop:
                    pos = stop.value
                    break
            arrays[name] = kinds == {True}
        else:
            _, pos = text.value(pos)
        pos, char = text.skip(pos)
        if char == ",":
            pos, char = text.skip(pos + 1)
            if char == "}":
                raise text.error(pos, TRAILING_COMMA_OBJECT)
        elif char != "}":
            raise text.error(pos, "Expecting ',' delimiter")
    if not found:
        _trailing(text, pos + 1)  # a document json.loads refuses is said to be invalid first
        lists = [k for k, of_records in arrays.items() if of_records] or list(arrays)
        hint = f"; set records_key to one of: {', '.join(lists)}" if lists else ""
        raise InvalidJson(f"expected a JSON array of records {_where(key)}{hint}")
    return pos + 1


def _trailing(text: JsonText, pos: int) -> None:
    """Refuse anything but whitespace after the document."""
    pos, char = text.skip(pos)
    if char:
        raise text.error(pos, "Extra data")


def _where(key: str | None) -> str:
    return f"under {key!r}" if key else "at the top level"


def undecodable(encoding: str, at: int) -> str:
    """Why bytes at offset `at` (of a row, or of a whole JSON file) cannot be read."""
    return (
        f"undecodable bytes: not valid {encoding} at byte {at} of the row; "
        "if the export uses another encoding, set encoding for this source"
    )
