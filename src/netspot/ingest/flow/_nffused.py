"""nfdump CSV tokenizer and row kernel fused: lines are split, parsed and their extras checked while in cache.

:func:`fused` scans a chunk eight bytes at a time (the SWAR scan of
:mod:`netspot.ingest._delimited`: every delimiter and newline appended, branch-free, to
one array that *is* the field-end matrix when every line has the header's field count).
After each 16 KB of text, the lines it completed get their starts and ends, their mapped
columns parsed (:func:`._nfrows.convert_row`) and their set extras marked
(:func:`._nfrows.extras_row`) while their bytes are still in L1 cache; the separate
passes of the tokenizer, row kernel and extras kernel each read the 2 MiB chunk again.
Each of the three steps is its own tight loop (one loop doing all three per line was
slower: the scan's registers spill around the parsers).

A chunk with a line of another field count (nfdump's summary, a bad line) is rare: it is
tokenized again by :func:`netspot.ingest._delimited.tokenize`, and only its lines with the
header's field count are converted (``fail`` is -2 for the others).

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

from netspot.ingest._delimited import Tokens, _zero_bytes, tokenize
from netspot.ingest.flow._nfrows import INTS, convert_row, extras_row

if TYPE_CHECKING:
    from netspot.ingest.flow._nfchunk import Plan

__all__ = ["Fused", "fused"]

_NL = 10
_CR = 13
_COMMA = 44
#: Words (8 bytes) scanned before the lines they complete are converted: 16 KB, so they are still in L1 cache.
_BLOCK_WORDS = 2048


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
    """Tokenize ``data`` (uint8, whole lines) by ``plan``'s header and convert its rows in one pass.

    A chunk with a line of another field count (nfdump's summary, a bad line) is tokenized
    again by :func:`netspot.ingest._delimited.tokenize` and its good lines converted after.
    """
    ncols = len(plan.names)
    args = (plan.cols, plan.runs, plan.xcol, plan.xsub, plan.key_off, len(INTS))
    ls, le, ends, clean, ascii, *values = _fused(data, ncols, *args)
    if clean:
        tok = Tokens(data, ls, le, np.full(len(ls), ncols, np.int32), ends, True, bool(ascii))
    else:
        tok = tokenize(data, _COMMA, ncols)
        values = list(_convert_valid(data, tok.ends, tok.line_start, tok.nfields, ncols, *args))
    return Fused(tok, *values)


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
    # every delimiter and newline; for clean lines, the field-end matrix (short lines: room for it anyway)
    seps = np.empty(max(n + 8, nl * ncols), np.int32)
    line_start = np.empty(nl, np.int32)
    line_end = np.empty(nl, np.int32)
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
    tcache = np.full(2, -1, np.int64)
    ends = seps[: nl * ncols].reshape(nl, ncols)
    nw = n // 8
    words = data[: nw * 8].view(np.uint64)
    dd = np.uint64(_COMMA) * np.uint64(0x0101010101010101)
    nlw = np.uint64(0x0A0A0A0A0A0A0A0A)
    high = np.uint64(0)
    k = 0
    done = 0  # lines split and converted
    s = 0  # start of line ``done``
    clean = True
    for w0 in range(0, nw, _BLOCK_WORDS):
        for w in range(w0, min(w0 + _BLOCK_WORDS, nw)):
            x = words[w]
            high |= x
            mk = (_zero_bytes(x ^ dd) | _zero_bytes(x ^ nlw)) >> np.uint64(7)
            if mk == 0:
                continue
            base = w * 8
            for j in range(8):  # branch-free append of the separators
                seps[k] = base + j
                k += int((mk >> np.uint64(8 * j)) & np.uint64(1))
        if clean:  # the lines completed in this block, while their bytes are in cache
            hi = min(k // ncols, nl)
            clean, s = _lines(data, seps, done, hi, ncols, s, line_start, line_end, n)
            if clean:
                _convert(
                    data, done, hi, ends, line_start, cols, times, ints, spans, proto, fail, tcache, runs, xcol,
                    xsub, key_off, tok, mask, xn, xkb, xvb,
                )  # fmt: skip
                done = hi
        if not clean:  # a line of another field count: fused() tokenizes the chunk again
            break
    ascii = (high & np.uint64(0x8080808080808080)) == 0
    for q in range(nw * 8, n):
        c = data[q]
        ascii = ascii and c < 128
        if c == _COMMA or c == _NL:  # noqa: SIM109 (numba)
            seps[k] = q
            k += 1
    if n and data[n - 1] != _NL:  # a last line without newline ends at the end of the data
        seps[k] = n
        k += 1
    clean = clean and k == nl * ncols
    if clean:
        clean, s = _lines(data, seps, done, nl, ncols, s, line_start, line_end, n)
    if clean:
        _convert(
            data, done, nl, ends, line_start, cols, times, ints, spans, proto, fail, tcache, runs, xcol, xsub,
            key_off, tok, mask, xn, xkb, xvb,
        )  # fmt: skip
    return line_start, line_end, ends, clean, ascii, times, ints, spans, proto, fail, mask, xn, xkb, xvb


@nb.njit(cache=True, nogil=True)
def _lines(
    data: np.ndarray, seps: np.ndarray, lo: int, hi: int, ncols: int, s: int, line_start: np.ndarray,
    line_end: np.ndarray, n: int,
) -> tuple[bool, int]:  # fmt: skip  # pragma: no cover - numba
    """Starts and ends of lines ``lo``..``hi - 1`` when each has ``ncols`` fields; (False, s) when one does not.

    The last field of each line is cut before a ``\r`` there. Returns the start of line ``hi``.
    """
    for i in range(lo, hi):
        slot = i * ncols + ncols - 1
        e = seps[slot]
        if e < n and data[e] != _NL:
            return False, s
        line_start[i] = s
        s = e + 1
        if e > line_start[i] and data[e - 1] == _CR:
            e -= 1
        line_end[i] = e
        seps[slot] = e
    return True, s


@nb.njit(cache=True, nogil=True)
def _convert(
    data: np.ndarray, lo: int, hi: int, ends: np.ndarray, line_start: np.ndarray, cols: np.ndarray,
    times: np.ndarray, ints: np.ndarray, spans: np.ndarray, proto: np.ndarray, fail: np.ndarray,
    tcache: np.ndarray, runs: np.ndarray, xcol: np.ndarray, xsub: np.ndarray, key_off: np.ndarray, tok: np.ndarray,
    mask: np.ndarray, xn: np.ndarray, xkb: np.ndarray, xvb: np.ndarray,
) -> None:  # fmt: skip  # pragma: no cover - numba
    """Values and extras of lines ``lo``..``hi - 1``, just split (their bytes still in cache)."""
    for i in range(lo, hi):
        convert_row(data, ends, line_start, i, cols, i, times, ints, spans, proto, fail, tcache)
    if len(xcol) == 0:
        return
    for i in range(lo, hi):  # a second tight loop: the lines are still in cache
        if fail[i] < 0:
            xn[i], xkb[i], xvb[i] = extras_row(data, ends, line_start, i, runs, xcol, xsub, key_off, tok, mask)


@nb.njit(cache=True, nogil=True)
def _convert_valid(
    data: np.ndarray, ends: np.ndarray, line_start: np.ndarray, nfields: np.ndarray, ncols: int, cols: np.ndarray,
    runs: np.ndarray, xcol: np.ndarray, xsub: np.ndarray, key_off: np.ndarray, nint: int,
) -> tuple[Any, ...]:  # fmt: skip  # pragma: no cover - numba
    """The values of :func:`_fused` for a tokenized chunk with ragged lines (those get ``fail`` -2)."""
    nl = len(line_start)
    times = np.zeros((3, nl), np.int64)
    ints = np.zeros((nint, nl), np.int64)
    spans = np.zeros((4, 2, nl), np.int32)
    proto = np.zeros(nl, np.int32)
    fail = np.full(nl, -1, np.int32)
    mask = np.zeros((nl, len(xcol)), np.bool_)
    xn = np.zeros(nl, np.int64)
    xkb = np.zeros(nl, np.int64)
    xvb = np.zeros(nl, np.int64)
    tok = np.zeros(20, np.int64)
    tcache = np.full(2, -1, np.int64)
    for i in range(nl):
        if nfields[i] != ncols:
            fail[i] = -2
            continue
        _convert(
            data, i, i + 1, ends, line_start, cols, times, ints, spans, proto, fail, tcache, runs, xcol, xsub,
            key_off, tok, mask, xn, xkb, xvb,
        )  # fmt: skip
    return times, ints, spans, proto, fail, mask, xn, xkb, xvb
