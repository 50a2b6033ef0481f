"""The numba span kernels of the Zeek TSV path, and the reader over many chunks converted in threads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from netspot.ingest._zeek_spans import float_span, int_span
from netspot.ingest.base import Source
from netspot.ingest.flow.zeek_conn import ZeekConnReader
from netspot.ingest.quarantine import Quarantine


def _span(text: str) -> tuple[np.ndarray, int, int]:
    data = np.frombuffer(text.encode(), np.uint8)
    return data, 0, len(data)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**33), st.integers(0, 999_999), st.integers(1, 6))
def test_zeek_times_parse_to_the_same_double_as_python(whole: int, frac: int, digits: int) -> None:
    text = f"{whole}.{str(frac).zfill(6)[:digits]}"
    x, ok, exact = float_span(*_span(text))
    assert ok and exact and x == float(text)


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_are_exact_or_flagged_for_a_second_parse(value: float) -> None:
    x, ok, exact = float_span(*_span(repr(value)))
    assert ok and (not exact or x == value)


def test_float_text_outside_zeeks_grammar_is_not_accepted() -> None:
    for text in ["", "-", ".", "nan", "inf", "+1", "1e", "1.2.3", " 1", "0x10"]:
        assert not float_span(*_span(text))[1], text


def test_integers_are_read_to_the_edges_of_int64_and_no_further() -> None:
    assert int_span(*_span("9223372036854775807")) == (2**63 - 1, True)
    assert int_span(*_span("-42")) == (-42, True)
    for text in ["9223372036854775808", "99999999999999999999", "", "-", "1.0", "+5", "1e3"]:
        assert not int_span(*_span(text))[1], text


def _big_log(tmp_path: Path, rows: int, bad: dict[int, str]) -> Path:
    header = ("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
              "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tduration\torig_ip_bytes\tlabel\n"
              "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tinterval\tcount\tstring\n")
    lines = [f"{1723800000 + i / 1000:.6f}\tC{i:08d}\t10.0.{i % 250}.1\t{1024 + i % 60000}\t10.1.0.2\t443\ttcp\t"
             f"{i % 7}.250000\t{i}\t{'x' * (i % 90)}" for i in range(rows)]
    for i, line in bad.items():
        lines[i] = line
    path = tmp_path / "big-conn.log"
    path.write_text(header + "\n".join(lines) + "\n#close\t2024-08-16-10-00-00\n")
    return path


def test_a_log_of_many_chunks_keeps_line_numbers_record_ids_and_order(tmp_path: Path) -> None:
    rows = 120_000  # about 13 MiB: several chunks, converted by worker threads
    path = _big_log(tmp_path, rows, {70_000: "1723801501.5\tCbad\t10.0.0.1\thttp\t10.0.0.2\t80\ttcp\t1\t1\tx",
                                     100_000: "1723801501.5\tCcut\t10.0.0.1"})
    reader = ZeekConnReader()
    q = Quarantine(str(path), reader.format)
    table = pa.Table.from_batches(list(reader.read(Source(path), q)), schema=reader.schema)
    found = q.drain().to_pylist()  # type: ignore[union-attr]
    assert sorted((r["locator"], r["reason"]) for r in found) == [("line 100008", "field_count"),
                                                                   ("line 70008", "bad_value")]
    assert table.num_rows == rows - 2
    rid = table.column("rid").to_numpy()
    assert rid.tolist() == [i for i in range(rows) if i not in (70_000, 100_000)]
    assert table.column("uid")[69_999].as_py() == "C00069999" and table.column("uid")[70_000].as_py() == "C00070001"
    assert table.column("ibyt").to_numpy().tolist()[:3] == [0, 1, 2]


def test_rows_outside_the_fast_path_are_typed_as_before(tmp_path: Path) -> None:
    # a CR before the newline and a non-ASCII uid take the general path; an escaped addr is decoded there
    path = _big_log(tmp_path, 5, {1: "1723801501.5\tC1\t10.0.0.1\t1\t10.0.0.2\t80\ttcp\t1\t1\tend\r",
                                  2: "1723801501.5\tCafé\t\\x31\\x30.0.0.1\t1\t10.0.0.2\t80\ttcp\t1\t1\tx"})
    reader = ZeekConnReader()
    q = Quarantine(str(path), reader.format)
    table = pa.Table.from_batches(list(reader.read(Source(path), q)), schema=reader.schema)
    assert q.total == 0
    assert table.column("uid").to_pylist() == ["C00000000", "C1", "Café", "C00000003", "C00000004"]
    assert table.column("sip")[2].as_py() == "10.0.0.1"
    assert dict(table.column("extra")[1].as_py())["label"] == "end\r"  # the CR is data, as it always was


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40).map(lambda b: bytes(b"#\na\t"[x % 4] for x in b)), st.integers(0, 40))
def test_header_lines_are_found_where_a_newline_hash_search_finds_them(buf: bytes, pos: int) -> None:
    from netspot.ingest._zeek import _next_directive

    pos = min(pos, len(buf))
    assert _next_directive(buf, pos) == buf.find(b"\n#", pos)


def test_a_hash_inside_a_value_does_not_start_a_header() -> None:
    data = (b"#separator \\x09\n#fields\tts\tuid\n#types\ttime\tstring\n1.0\ta#b\n2.0\t#c\n#close\tx\n3.0\tq\n")
    from netspot.ingest._zeek import _next_directive

    assert _next_directive(data, data.index(b"1.0")) == data.index(b"\n#close")


def test_values_past_their_bounds_are_quarantined_with_the_value(tmp_path: Path) -> None:
    ok = "1723801501.5\tC\t10.0.0.1\t1\t10.0.0.2\t80\ttcp\t1\t1\tx"
    cells = {1: (0, "1e12"), 2: (7, "2e10"), 3: (5, "65536"), 4: (8, "-1"), 5: (0, "-253402300800"),
             6: (7, "10000000000.5")}
    bad = {}
    for i, (col, value) in cells.items():
        fields = ok.split("\t")
        fields[col] = value
        bad[i] = "\t".join(fields)
    path = _big_log(tmp_path, 8, bad)
    reader = ZeekConnReader()
    q = Quarantine(str(path), reader.format)
    table = pa.Table.from_batches(list(reader.read(Source(path), q)), schema=reader.schema)
    found = [(r["locator"], r["reason"], r["detail"]) for r in q.drain().to_pylist()]  # type: ignore[union-attr]
    assert found == [
        ("line 9", "bad_timestamp", "column ts: expected time, got '1e12'"),
        ("line 10", "bad_value", "column duration: expected interval, got '2e10'"),
        ("line 11", "bad_value", "column id.resp_p: expected port, got '65536'"),
        ("line 12", "bad_value", "column orig_ip_bytes: expected count, got '-1'"),
        ("line 13", "bad_timestamp", "column ts: expected time, got '-253402300800'"),
        ("line 14", "bad_value", "column duration: expected interval, got '10000000000.5'"),
    ]
    assert table.num_rows == 2
