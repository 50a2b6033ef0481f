"""The fused nfdump kernel: one pass gives the same spans and values as the tokenizer and row kernel apart."""

from __future__ import annotations

import numpy as np
import pytest

from netspot.ingest._delimited import tokenize
from netspot.ingest.flow import _nffused
from netspot.ingest.flow._nfchunk import Plan
from netspot.ingest.flow._nffused import fused
from netspot.ingest.flow._nfrows import convert_rows

HEADER = "ts,te,td,sa,da,sp,dp,pr,flg,ipkt,ibyt,smk,nh,exid,tr"
ROW = (
    "2024-08-16 00:0{m}:0{s}.{ms},2024-08-16 00:0{m}:0{s}.999,0.438,10.1.2.{i},::1,{sp},443,TCP,...AP.SF,{i},9,"
    "0,0.0.0.0,{x},1970-01-01 00:00:00.000"
)


def text(n: int, eol: str = "\n") -> bytes:
    rows = [ROW.format(m=i // 7 % 10, s=i % 10, ms=i % 1000, i=i % 256, sp=i * 37 % 65536, x=i % 3) for i in range(n)]
    return (eol.join(rows) + eol).encode()


def plan() -> Plan:
    return Plan.make(HEADER.split(","), "nfdump-csv")


def separate(data: bytes) -> tuple[np.ndarray, ...]:
    """Spans and values the unfused way: tokenize, then the row kernel over the lines with all fields."""
    p = plan()
    arr = np.frombuffer(data, np.uint8)
    tok = tokenize(arr, ord(","), len(p.names))
    rows = np.flatnonzero(tok.nfields == len(p.names))
    times, ints, _, proto, fail = convert_rows(arr, tok.ends, tok.line_start, rows, p.cols)
    return tok.line_start, tok.line_end, tok.nfields, tok.ends, rows, times, ints, proto, fail


def check_same(data: bytes) -> None:
    f = fused(np.frombuffer(data, np.uint8), plan())
    line_start, line_end, nfields, ends, rows, times, ints, proto, fail = separate(data)
    t = f.tokens
    assert t.line_start.tolist() == line_start.tolist()
    assert t.line_end.tolist() == line_end.tolist()
    assert t.nfields.tolist() == nfields.tolist()
    assert t.ends.tolist() == ends.tolist()
    assert f.times[:, rows].tolist() == times.tolist()
    assert f.ints[:, rows].tolist() == ints.tolist()
    assert f.proto[rows].tolist() == proto.tolist()
    assert f.fail[rows].tolist() == fail.tolist()
    assert (f.fail[np.setdiff1d(np.arange(t.n), rows)] == -2).all()


@pytest.mark.parametrize("n", [0, 1, 47, 3000])
def test_clean_chunks_split_and_convert_like_the_separate_kernels(n: int) -> None:
    check_same(text(n))


def test_crlf_and_a_last_line_without_newline_convert_alike() -> None:
    check_same(text(500, "\r\n"))
    check_same(text(500)[:-1])


def test_a_short_line_deep_in_a_chunk_falls_back_and_keeps_every_other_row() -> None:
    good = text(3000)
    cut = good.index(b"\n", len(good) // 2) + 1
    data = good[:cut] + b"Summary: total flows: 3000\n" + good[cut:]
    f = fused(np.frombuffer(data, np.uint8), plan())
    assert not f.tokens.clean
    assert int((f.fail == -2).sum()) == 1
    check_same(data)


def test_many_blank_lines_need_no_more_room_than_the_text() -> None:
    check_same(b"\n" * 1000)
    check_same(b"\n" * 1000 + text(3))


def test_clean_rows_mark_only_the_extras_that_are_set() -> None:
    f = fused(np.frombuffer(text(6), np.uint8), plan())
    assert f.xn.tolist() == [0, 1, 1, 0, 1, 1]  # exid 1, 2 set; smk, nh and the epoch tr are nfdump's zeros


def test_blocks_smaller_than_a_line_still_convert_every_line(monkeypatch: pytest.MonkeyPatch) -> None:
    # the block size is compiled in; the kernel run without numba's JIT sees the patched value
    monkeypatch.setattr(_nffused, "_BLOCK_WORDS", 3)
    fn = _nffused._fused.py_func
    p = plan()
    data = np.frombuffer(text(20), np.uint8)
    _, _, ends, clean, _, times, *_ = fn(data, len(p.names), p.cols, p.runs, p.xcol, p.xsub, p.key_off, 14)
    assert clean
    assert ends.shape == (20, 15)
    assert times.tolist() == fused(data, p).times.tolist()
