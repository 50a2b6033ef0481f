"""Text columns and the extra map built from TSV field ends (and in the scan kernel) agree with the span path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from netspot.ingest._delimited import gather, tokenize
from netspot.ingest._extra import span_map
from netspot.ingest._zeek_gather import scanned_map, text_columns
from netspot.ingest._zeek_spans import TEXT, scan_rows
from netspot.ingest.base import Source
from netspot.ingest.flow.zeek_conn import ZeekConnReader
from netspot.ingest.quarantine import Quarantine

_VALUE = st.sampled_from(["-", "(empty)", "", "x", "10.0.0.1", "Benign", "a,b", "ShADadFf", "é"])


def _scan_extra(tok: object, rows: np.ndarray, cols: np.ndarray, names: list[str]) -> pa.Array:
    """The extra map the scan kernel builds for text columns ``cols`` of the rows ``rows``."""
    data, ends, starts = tok.data, tok.ends, tok.line_start  # type: ignore[attr-defined]
    m = ends.shape[1]
    encoded = [n.encode() for n in names]
    name_buf = np.frombuffer(b"".join(encoded) or b"\0", np.uint8)
    name_offs = np.concatenate(([0], np.cumsum([len(e) for e in encoded]))).astype(np.int64)
    parsed = scan_rows(data, ends, starts, rows, np.full(m, TEXT, np.int64), np.zeros(m, np.int64),
                       np.frombuffer(b"-", np.uint8), np.frombuffer(b"(empty)", np.uint8), 0, 0,
                       np.full(m, -np.inf), np.full(m, np.inf), cols, name_buf, name_offs)
    return scanned_map(*parsed[5])


def _table(lines: list[list[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    data = np.frombuffer("".join("\t".join(v) + "\n" for v in lines).encode(), np.uint8)
    tok = tokenize(data, 9, len(lines[0]))
    state = np.array([[0 if v == "-" else 2 if v == "(empty)" else 1 for v in line] for line in lines], np.uint8)
    return tok, state, np.arange(tok.n)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5).flatmap(lambda k: st.lists(st.lists(_VALUE, min_size=k, max_size=k), min_size=1,
                                                      max_size=20)))
def test_extra_map_of_the_scan_kernel_equals_the_span_map(lines: list[list[str]]) -> None:
    tok, state, rows = _table(lines)
    k = len(lines[0])
    names = [f"c{j}" for j in range(k)]
    valid = (state != 0).T.copy()
    starts = np.empty((k, tok.n), np.int32)
    ends = np.empty((k, tok.n), np.int32)
    for j in range(k):
        starts[j], ends[j] = tok.span(j)
    ends = np.where(state.T == 2, starts, ends)
    want = span_map(names, valid, starts, ends, tok.data).to_pylist()
    assert _scan_extra(tok, rows, np.arange(k), names).to_pylist() == want


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5).flatmap(lambda k: st.lists(st.lists(_VALUE, min_size=k, max_size=k), min_size=1,
                                                      max_size=20)))
def test_text_columns_are_null_when_unset_and_empty_for_the_empty_marker(lines: list[list[str]]) -> None:
    tok, state, rows = _table(lines)
    k = len(lines[0])
    keep_marker = np.arange(k) % 2 == 1  # odd columns are sets: the marker stays as text
    got = text_columns(tok.data, tok.ends, tok.line_start, rows, np.arange(k), ~keep_marker, state)
    for j in range(k):
        want = [None if v == "-" else "" if v == "(empty)" and not keep_marker[j] else v for v in
                (line[j] for line in lines)]
        assert got[j].to_pylist() == want
        assert gather(tok.data, *tok.span(j)).to_pylist() == [line[j] for line in lines]


def test_a_subset_of_rows_is_gathered_in_the_order_given() -> None:
    tok, state, _ = _table([["a", "1"], ["b", "-"], ["c", "3"]])
    rows = np.array([2, 0])
    assert text_columns(tok.data, tok.ends, tok.line_start, rows, np.array([0, 1]), np.ones(2, np.bool_),
                        state[rows])[1].to_pylist() == ["3", "1"]
    assert _scan_extra(tok, rows, np.array([1]), ["k"]).to_pylist() == [[("k", "3")], [("k", "1")]]


def test_extra_of_rows_around_bad_and_general_rows_stays_with_its_row(tmp_path: Path) -> None:
    # label and orig_bytes go to extra before the port is read: a bad port drops the entries already copied
    header = ("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
              "#fields\tts\tlabel\torig_bytes\tid.orig_p\tdetailedlabel\n"
              "#types\ttime\tstring\tcount\tport\tstring\n")
    lines = ["1.0\ta\t1\t1\t-", "2.0\tb\t2\t99999\tz", "3.0\t-\t3\t3\t(empty)", "4.0\tcé\t4\t4\ty",
             "5.0\td\t5\t5\tw\r", "6.0\te\t-\t6\tv", "7.0\tf\t7\tx\tu", "8.0\tg\t8\t8\t-"]
    path = tmp_path / "conn.log"
    path.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
    reader = ZeekConnReader()
    q = Quarantine(str(path), reader.format)
    table = pa.Table.from_batches(list(reader.read(Source(path), q)), schema=reader.schema)
    assert [r["locator"] for r in q.drain().to_pylist()] == ["line 9", "line 14"]  # type: ignore[union-attr]
    assert [sorted(m) for m in table.column("extra").to_pylist()] == [
        [("label", "a"), ("orig_bytes", "1")],
        [("detailedlabel", ""), ("orig_bytes", "3")],
        [("detailedlabel", "y"), ("label", "cé"), ("orig_bytes", "4")],
        [("detailedlabel", "w\r"), ("label", "d"), ("orig_bytes", "5")],
        [("detailedlabel", "v"), ("label", "e")],
        [("label", "g"), ("orig_bytes", "8")],
    ]
