"""The streamed reading of a JSON export's records array says what json.loads says, wherever the chunks fall."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewbot.connectors.json_array import InvalidJson, JsonText, records

scalars = st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.floats(allow_nan=False) | st.text()
values = st.recursive(scalars, lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(), kids, max_size=3))


def read(data: bytes, key: str | None = None, chunk: int = 1 << 20) -> tuple[list[tuple[Any, int, int]], str | None]:
    """Each element (value, line, byte offset after it) read before the file's refusal, if any."""
    found: list[tuple[Any, int, int]] = []
    try:
        for element in records(JsonText(io.BytesIO(data), "utf-8", chunk=chunk), key):
            found.append((element.value, element.line, element.end))
    except InvalidJson as exc:
        return found, str(exc)
    return found, None


def loads_says(text: str) -> str | None:
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
    return None


@settings(max_examples=300, deadline=None)
@given(
    items=st.lists(values, max_size=6),
    indent=st.sampled_from([None, 1, 2]),
    ascii_only=st.booleans(),
    cut=st.floats(0, 1),
    chunk=st.sampled_from([1, 2, 3, 5, 17, 1 << 20]),
)
def test_any_document_or_its_cut_reads_as_json_loads_reads_it(
    items: list[Any], indent: int | None, ascii_only: bool, cut: float, chunk: int
) -> None:
    """A whole export gives json.loads's elements, each ending at its byte offset; an export cut short (a copy
    still being written) is refused with json.loads's message, line and column, however small the chunks."""
    text = json.dumps(items, indent=indent, ensure_ascii=ascii_only)
    data = text.encode()
    found, error = read(data, chunk=chunk)
    assert error is None and [value for value, _, _ in found] == items
    assert found == read(data)[0]  # lines and offsets too, wherever the chunks fall
    for value, _, end in found:  # each element is the last thing before its end (whitespace aside)
        compact = "".join(data[:end].decode().split())
        assert compact.endswith("".join(json.dumps(value, ensure_ascii=ascii_only).split()))
    short = text[: int(len(text) * cut)]
    said = loads_says(short)
    if said is not None:
        assert read(short.encode(), chunk=chunk)[1] == said


@given(document=st.text(alphabet='[]{},:" \n0123456789aeflnrstu\\-.', max_size=40), chunk=st.integers(1, 9))
@settings(max_examples=500, deadline=None)
def test_broken_documents_are_refused_as_json_loads_refuses_them(document: str, chunk: int) -> None:
    said = loads_says(document)
    found, error = read(document.encode(), chunk=chunk)
    if said is not None:
        assert error == said
    elif isinstance(json.loads(document), list):
        assert error is None and [value for value, _, _ in found] == json.loads(document)
    else:
        assert error is not None and error.startswith("expected a JSON array of records at the top level")


def test_elements_carry_their_line_and_end_in_bytes_across_chunks() -> None:
    data = '[\n {"id": "é1", "text": "ünïcode"},\n\n {"id": 2,\n  "text": "x"}\n]\n'.encode()
    for chunk in (1, 4, 1 << 20):
        found, error = read(data, chunk=chunk)
        assert error is None
        assert [(line, data[:end].decode()[-1]) for _, line, end in found] == [(2, "}"), (4, "}")]
        assert data[: found[0][2]].decode().endswith('"ünïcode"}')


def test_records_under_a_key_and_the_refusal_naming_keys_to_set() -> None:
    data = b'{"meta": {"records": 1}, "empty": [], "tickets": [{"id": 1}, {"id": 2}], "records": [1]}'
    assert [v for v, _, _ in read(data, "tickets", chunk=3)[0]] == [{"id": 1}, {"id": 2}]
    found, error = read(data, "missing", chunk=3)
    assert (
        found == [] and error == "expected a JSON array of records under 'missing'; set records_key to one of: tickets"
    )
    assert (
        read(data, None)[1] == "expected a JSON array of records at the top level; set records_key to one of: tickets"
    )


def test_undecodable_bytes_are_refused_at_their_offset_in_the_file() -> None:
    data = b"[" + b'{"text": "ok"},' * 100 + b'{"text": "caf\xe9"}]'
    _, error = read(data, chunk=64)
    at = data.index(b"\xe9")
    assert error == (
        f"not valid utf-8: undecodable bytes: not valid utf-8 at byte {at} of the row; "
        "if the export uses another encoding, set encoding for this source"
    )


def test_a_large_export_is_read_in_flat_memory(tmp_path: Path) -> None:
    """A 150 MB export peaked at 819 MB, read whole; a file source reading 29 MB of records now adds about 20 MB."""
    path = tmp_path / "big.json"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("[\n" + ",\n".join(json.dumps({"id": i, "text": "late parcel " * 10}) for i in range(200_000)))
        fh.write("\n]\n")
    script = (  # the peak is started afresh (a child inherits its parent's) once the modules are imported
        "import re, sys\n"
        "from pathlib import Path\n"
        "from reviewbot.connectors.files import ColumnMap, FileSource, FileSourceOptions\n"
        "options = FileSourceOptions(path='big.json', columns=ColumnMap(id='id', text='text'))\n"
        "source = FileSource('s', 'complaint', options, workspace=Path(sys.argv[1]).parent, max_text_chars=1000)\n"
        "kb = lambda name: int(re.search(name + r':\\s+(\\d+)', Path('/proc/self/status').read_text())[1])\n"
        "Path('/proc/self/clear_refs').write_text('5')\n"
        "before = kb('VmRSS')\n"
        "n = sum(len(batch.records) for batch in source.fetch({}))\n"
        "print(n, (kb('VmHWM') - before) // 1024)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True)
    count, grown_mb = map(int, done.stdout.split())
    assert count == 200_000
    assert path.stat().st_size > 25e6 and grown_mb < 60, grown_mb  # read whole, 188 MB
