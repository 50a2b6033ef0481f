"""nfdump CSV tokenizer and row kernel fused: each line is split, parsed and its extras checked in one pass.

:func:`fused` walks a chunk eight bytes at a time (the SWAR scan of
:mod:`netspot.ingest._delimited`), collects the delimiters of the current line in a small
buffer, and when the line's newline comes, while its bytes are still in L1 cache, writes
its field ends, parses its mapped columns (:func:`._nfrows.convert_row`) and marks its set
extras (:func:`._nfrows.extras_row`). Nothing is written per byte (the separate tokenizer
wrote an int32 per byte of every word holding a separator), and no byte is fetched from
memory twice. The result holds the same :class:`~netspot.ingest._delimited.Tokens` layout
(for the slow paths) and per-line values that :mod:`._nfchunk` slices into batches.

Lines whose field count is not the header's are only tokenized (``fail`` is -2 for them).

Examples
--------
>>> import numpy as np
>>> from netspot.ingest.flow._nfchunk import Plan
>>> plan = Plan.make(["ts", "sa", "da", "sp", "dp", "pr", "x"], "t")
>>> f = fused(np.frombuffer(b"2024-01-01 00:00:01,1.2.3.4,::1,1,2,tcp,7\\nx\\n", np.uint8), plan)
>>> f.tokens.nfields.tolist(), f.fail.tolist(), f.proto.tolist(), f.xn.tolist()
([7, 1], [-1, -2], [6, 0], [1, 0])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numba as nb
import numpy as np

from netspot.ingest._delimited import Tokens, _zero_bytes
from netspot.ingest.flow._nfrows import INTS, convert_row, extras_row

if TYPE_CHECKING:
    from netspot.ingest.flow._nfchunk import Plan

__all__ = ["Fused", "fused"]

_NL = 10
_CR = 13
_COMMA = 44


@dataclass(slots=True)
class Fused:
    """One chunk tokenized and converted: per-line arrays (see :func:`._nfrows.convert_rows` for their meaning)."""

    tokens: Tokens
    times: np.ndarray  #: (3, lines) ts, te, td in ms
    ints: np.ndarray  #: (len(INTS), lines)
    spans: np.ndarray  #: (4, 2, lines) trimmed spans of sa, da, ra, flg
    proto: np.ndarray
    fail: np.ndarray  #: index in CHECKS of the first failed check; -1 good; -2 wrong field count
    mask: np.ndarray  #: (lines, extras) the extras that are set
    xn: np.ndarray  #: per line: set extras, their key bytes, their value bytes
    xkb: np.ndarray
    xvb: np.ndarray


def fused(data: np.ndarray, plan: Plan) -> Fused:
    """Tokenize ``data`` (uint8, whole lines) by ``plan``'s header and convert its rows in one pass."""
    out = _fused(data, len(plan.names), plan.cols, plan.runs, plan.xcol, plan.xsub, plan.key_off, len(INTS))
    ls, le, nf, ends, clean, ascii, times, ints, spans, proto, fail, mask, xn, xkb, xvb = out
    tok = Tokens(data, ls, le, nf, ends, bool(clean), bool(ascii))
    return Fused(tok, times, ints, spans, proto, fail, mask, xn, xkb, xvb)


@nb.njit(cache=True, nogil=True)
def _count_lines(data: np.ndarray) -> int:  # pragma: no cover - numba
    c = 0
    for i in range(len(data)):  # vectorised by LLVM
        c += data[i] == _NL
    if len(data) and data[len(data) - 1] != _NL:
        c += 1
    return c


@nb.njit(cache=True, nogil=True)
def _fused(
    data: np.ndarray,
    ncols: int,
    cols: np.ndarray,
    runs: np.ndarray,
    xcol: np.ndarray,
    xsub: np.ndarray,
    key_off: np.ndarray,
    nint: int,
) -> tuple[Any, ...]:  # pragma: no cover - numba
    n = len(data)
    nl = _count_lines(data)
    m = len(xcol)
    line_start = np.empty(nl, np.int32)
    line_end = np.empty(nl, np.int32)
    nfields = np.empty(nl, np.int32)
    ends = np.empty((nl, ncols), np.int32)
    times = np.zeros((3, nl), np.int64)
    ints = np.zeros((nint, nl), np.int64)
    spans = np.zeros((4, 2, nl), np.int32)
    proto = np.zeros(nl, np.int32)
    fail = np.full(nl, -1, np.int32)
    mask = np.zeros((nl, m), np.bool_)
    xn = np.zeros(nl, np.int64)
    xkb = np.zeros(nl, np.int64)
    xvb = np.zeros(nl, np.int64)
    tok = np.zeros(20, np.int64)
    buf = np.empty(ncols + 8, np.int32)
    nw = n // 8
    words = data[: nw * 8].view(np.uint64)
    dd = np.uint64(_COMMA) * np.uint64(0x0101010101010101)
    nlw = np.uint64(0x0A0A0A0A0A0A0A0A)
    high = np.uint64(0)
    k = 0  # delimiters of the current line kept in buf (at most ncols)
    over = 0  # delimiters past those
    line = 0
    s = 0
    clean = True
    for w in range(nw):
        x = words[w]
        high |= x
        mn = _zero_bytes(x ^ nlw)
        md = _zero_bytes(x ^ dd)
        base = w * 8
        if mn == 0:
            if md == 0:
                continue
            m8 = md >> np.uint64(7)
            for j in range(8):  # branch-free append of the delimiters
                buf[k] = base + j
                k += int((m8 >> np.uint64(8 * j)) & np.uint64(1))
            if k > ncols:
                over += k - ncols
                k = ncols
            continue
        for j in range(8):
            c = data[base + j]
            if c == _COMMA:
                if k < ncols:
                    buf[k] = base + j
                    k += 1
                else:
                    over += 1
            elif c == _NL:
                clean &= _line(
                    data, line, s, base + j, k, over, ncols, buf, line_start, line_end, nfields, ends, cols, times,
                    ints, spans, proto, fail, runs, xcol, xsub, key_off, tok, mask, xn, xkb, xvb,
                )  # fmt: skip
                line += 1
                k = 0
                over = 0
                s = base + j + 1
    ascii = (high & np.uint64(0x8080808080808080)) == 0
    for p in range(nw * 8, n):
        c = data[p]
        ascii = ascii and c < 128
        if c == _COMMA:
            if k < ncols:
                buf[k] = p
                k += 1
            else:
                over += 1
        elif c == _NL:
            clean &= _line(
                data, line, s, p, k, over, ncols, buf, line_start, line_end, nfields, ends, cols, times, ints, spans,
                proto, fail, runs, xcol, xsub, key_off, tok, mask, xn, xkb, xvb,
            )  # fmt: skip
            line += 1
            k = 0
            over = 0
            s = p + 1
    if line < nl:  # a last line without newline
        clean &= _line(
            data, line, s, n, k, over, ncols, buf, line_start, line_end, nfields, ends, cols, times, ints, spans,
            proto, fail, runs, xcol, xsub, key_off, tok, mask, xn, xkb, xvb,
        )  # fmt: skip
    return (
        line_start, line_end, nfields, ends, clean, ascii, times, ints, spans, proto, fail, mask, xn, xkb, xvb,
    )  # fmt: skip


@nb.njit(cache=True, nogil=True)
def _line(
    data: np.ndarray,
    i: int,
    s: int,
    p: int,
    k: int,
    over: int,
    ncols: int,
    buf: np.ndarray,
    line_start: np.ndarray,
    line_end: np.ndarray,
    nfields: np.ndarray,
    ends: np.ndarray,
    cols: np.ndarray,
    times: np.ndarray,
    ints: np.ndarray,
    spans: np.ndarray,
    proto: np.ndarray,
    fail: np.ndarray,
    runs: np.ndarray,
    xcol: np.ndarray,
    xsub: np.ndarray,
    key_off: np.ndarray,
    tok: np.ndarray,
    mask: np.ndarray,
    xn: np.ndarray,
    xkb: np.ndarray,
    xvb: np.ndarray,
) -> bool:  # pragma: no cover - numba
    """Line ``i`` (bytes ``s``..``p``, its delimiters in ``buf``): spans, then values when it has ``ncols`` fields."""
    e = p
    if e > s and data[e - 1] == _CR:
        e -= 1
    line_start[i] = s
    line_end[i] = e
    nf = k + over + 1
    nfields[i] = nf
    kept = min(k, ncols - 1)
    for c in range(kept):
        ends[i, c] = buf[c]
    for c in range(kept, ncols):
        ends[i, c] = e
    if nf != ncols:
        fail[i] = -2
        return False
    convert_row(data, ends, line_start, i, cols, i, times, ints, spans, proto, fail)
    if len(xcol) and fail[i] < 0:
        xn[i], xkb[i], xvb[i] = extras_row(data, ends, line_start, i, runs, xcol, xsub, key_off, tok, mask[i])
    return True
