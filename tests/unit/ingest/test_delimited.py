"""The delimited-text tokenizer: line and field spans, chunking, CRLF, ragged lines."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from netspot.ingest import _delimited
from netspot.ingest._delimited import LineTooLongError, gather, read_chunks, tokenize
from netspot.ingest.base import Source
from netspot.ingest.flow import _nfcsv
from netspot.ingest.flow.nfdump import NfdumpCsvReader
from netspot.ingest.quarantine import Quarantine


def fields(data: bytes, ncols: int, delim: bytes = b",") -> list[list[bytes]]:
    """Every line's fields as bytes, read through Tokens.span."""
    tok = tokenize(np.frombuffer(data, np.uint8), ord(delim), ncols)
    spans = [tok.span(k) for k in range(ncols)]
    return [[tok.data[s[i] : e[i]].tobytes() for s, e in spans] for i in range(tok.n)]


def test_fields_are_the_bytes_between_delimiters() -> None:
    assert fields(b"a,bb,\nccc,,d\n", 3) == [[b"a", b"bb", b""], [b"ccc", b"", b"d"]]


def test_crlf_lines_end_before_the_carriage_return() -> None:
    tok = tokenize(np.frombuffer(b"a,b\r\nc,d\r\n", np.uint8), ord(","), 2)
    assert tok.clean
    assert [tok.line(i) for i in range(tok.n)] == [b"a,b", b"c,d"]
    assert fields(b"a,b\r\nc,d\r\n", 2) == [[b"a", b"b"], [b"c", b"d"]]


def test_a_lone_carriage_return_is_data_not_a_line_end() -> None:
    assert fields(b"a\rb,c\n", 2) == [[b"a\rb", b"c"]]


def test_the_last_line_without_newline_is_a_line() -> None:
    tok = tokenize(np.frombuffer(b"a,b\nc,d", np.uint8), ord(","), 2)
    assert tok.n == 2 and tok.line(1) == b"c,d"
    assert fields(b"a,b\nc,d", 2)[1] == [b"c", b"d"]


def test_empty_lines_have_one_empty_field() -> None:
    tok = tokenize(np.frombuffer(b"\na,b\n\r\n", np.uint8), ord(","), 2)
    assert tok.nfields.tolist() == [1, 2, 1]
    assert not tok.clean
    assert fields(b"\na,b\n\r\n", 2) == [[b"", b""], [b"a", b"b"], [b"", b""]]


def test_wrong_field_counts_are_flagged_and_missing_fields_are_empty() -> None:
    tok = tokenize(np.frombuffer(b"a,b,c\na\na,b,c,d,e\n", np.uint8), ord(","), 3)
    assert tok.nfields.tolist() == [3, 1, 5]
    assert not tok.clean
    assert fields(b"a,b,c\na\na,b,c,d,e\n", 3) == [[b"a", b"b", b"c"], [b"a", b"", b""], [b"a", b"b", b"c,d,e"]]


def test_tabs_split_zeek_style_lines() -> None:
    assert fields(b"1.0\tC1\t-\n", 3, b"\t") == [[b"1.0", b"C1", b"-"]]


def test_no_data_means_no_lines() -> None:
    assert tokenize(np.zeros(0, np.uint8), ord(","), 4).n == 0


def test_gather_builds_an_arrow_string_column_and_trims_blanks_on_request() -> None:
    tok = tokenize(np.frombuffer(b" x ,1\n\ty,2\n", np.uint8), ord(","), 2)
    assert gather(tok.data, *tok.span(0)).to_pylist() == [" x ", "\ty"]
    assert gather(tok.data, *tok.span(0), trim=True).to_pylist() == ["x", "y"]
    assert gather(tok.data, *tok.span(1, np.array([1]))).to_pylist() == ["2"]


def test_chunks_are_cut_after_a_newline_and_lose_no_byte() -> None:
    text = b"".join(b"%d,line\n" % i for i in range(1000)) + b"tail,x"
    chunks = [c.tobytes() for c in read_chunks(io.BytesIO(text), chunk_bytes=64)]
    assert b"".join(chunks) == text
    assert all(c.endswith(b"\n") for c in chunks[:-1])
    assert sum(tokenize(np.frombuffer(c, np.uint8), ord(","), 2).n for c in chunks) == 1001


def test_a_line_longer_than_a_chunk_grows_the_chunk() -> None:
    long = b"x" * 1000 + b",y\n"
    chunks = [c.tobytes() for c in read_chunks(io.BytesIO(b"a,b\n" + long + b"c,d\n"), chunk_bytes=16)]
    assert b"".join(chunks) == b"a,b\n" + long + b"c,d\n"
    assert any(long in c for c in chunks)  # never cut inside the line


def test_a_line_longer_than_the_limit_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_delimited, "MAX_LINE_BYTES", 100)
    with pytest.raises(LineTooLongError):
        list(read_chunks(io.BytesIO(b"x" * 1000), chunk_bytes=16))


def test_non_ascii_chunks_are_flagged_for_utf8_checks() -> None:
    assert tokenize(np.frombuffer(b"a,b\n", np.uint8), ord(","), 2).ascii
    assert not tokenize(np.frombuffer("é,b\n".encode(), np.uint8), ord(","), 2).ascii
    assert not tokenize(np.frombuffer("a,b\nc,é".encode(), np.uint8), ord(","), 2).ascii  # in the tail bytes


def test_nfdump_reader_over_tiny_chunks_gives_the_same_flows_and_quarantine(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = data / "nfdump" / "stock-171-bad-rows.csv"

    def read() -> tuple[pa.Table, list[dict[str, object]], dict[str, int]]:
        q = Quarantine(str(path), "nfdump-csv")
        table = pa.Table.from_batches(list(NfdumpCsvReader().read(Source(path), q)))
        return table, q.drain().to_pylist(), dict(q.skipped)

    whole = read()
    monkeypatch.setattr(_nfcsv, "CHUNK_BYTES", 200)  # every line its own chunk, converted in parallel
    table, rows, skipped = read()
    assert table.equals(whole[0])
    assert [(r["locator"], r["detail"], r["raw"]) for r in rows] == [
        (r["locator"], r["detail"], r["raw"]) for r in whole[1]
    ]
    assert skipped == whole[2] == {"nfdump summary line": 3}


def _read_nfdump(path: Path) -> tuple[pa.Table, list[tuple[object, ...]], dict[str, int]]:
    q = Quarantine(str(path), "nfdump-csv")
    table = pa.Table.from_batches(list(NfdumpCsvReader().read(Source(path), q)), schema=NfdumpCsvReader().schema)
    drained = q.drain()
    rows = [(r["locator"], r["detail"], r["raw"]) for r in drained.to_pylist()] if drained is not None else []
    return table, rows, dict(q.skipped)


@pytest.mark.parametrize("chunk", [1, 7, 64, 333, 4096, 0])  # 0: parts end exactly at the first line's end
@pytest.mark.parametrize("last_newline", [True, False])
def test_a_plain_file_read_in_parts_by_the_workers_equals_the_stream_read(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int, last_newline: bool
) -> None:
    text = (data / "nfdump" / "stock-171-bad-rows.csv").read_bytes()
    lines = text.split(b"\n")
    lines.insert(3, lines[2][:-1] + b"," + b"x" * 5000)  # a long bad line, longer than a part's tail read
    lines.insert(5, b"")  # a blank line
    text = b"\n".join(lines).rstrip(b"\n") + (b"\n" if last_newline else b"")
    chunk = chunk or len(lines[1]) + 1
    plain = tmp_path / "flows.csv"
    plain.write_bytes(text)
    gz = tmp_path / "flows.csv.gz"
    gz.write_bytes(gzip.compress(text))  # read as a stream: the reference
    monkeypatch.setattr(_nfcsv, "_TAIL", 16)
    monkeypatch.setattr(_nfcsv, "CHUNK_BYTES", chunk)
    parts = _read_nfdump(plain)
    stream = _read_nfdump(gz)
    assert parts[0].equals(stream[0])
    assert parts[1] == stream[1]
    assert parts[2] == stream[2]
    assert parts[0].num_rows > 0 and parts[1]
