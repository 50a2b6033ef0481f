"""Zeek TSV values parsed straight from the field spans of :mod:`netspot.ingest._delimited`, in numba.

:func:`check_rows` walks the framed rows of a chunk once and, for each column whose Zeek
type can be wrong (``time``, ``interval``/``double``, ``count``/``int``/``port``, ``bool``,
``addr``), parses or validates the value of its span. A value the kernel does not accept
marks the row as *odd*; odd rows are left to the general (pyarrow) typing of
:mod:`._zeek_types`, which decides whether they are quarantined and says why, so that the
fast path never changes what is accepted. :func:`field_spans` gives the spans of the text
columns with Zeek's unset (``-``) and empty (``(empty)``) markers resolved, for
:func:`netspot.ingest._delimited.gather` and the ``extra`` map.

Floats are exact: a decimal whose digits make an integer below 2**53, with a power of ten up
to 10**22, is one correctly rounded division or product of two exact doubles (the classic
fast path of strtod); longer ones are flagged for pyarrow's parser.

Examples
--------
>>> data = np.frombuffer(b"1723801501.000100", np.uint8)
>>> float_span(data, 0, len(data))
(1723801501.0001, True, True)
>>> int_span(np.frombuffer(b"-42", np.uint8), 0, 3)
(-42, True)
"""

from __future__ import annotations

import numba as nb
import numpy as np

from netspot.ingest._zeek_addr import addr_span

__all__ = ["ADDR", "BOOL", "FLOAT", "INT", "TEXT", "TIME", "float_span", "int_span", "scan_rows"]

#: Kinds of columns (the ``kinds`` argument of :func:`scan_rows`): text, and the checked ones.
TEXT, ADDR, TIME, FLOAT, INT, BOOL = 0, 1, 2, 3, 4, 5
_POW10 = np.array([10.0**k for k in range(23)], np.float64)  # exact doubles up to 1e22
#: Largest mantissa that a double holds exactly.
_EXACT = 2**53
_I64_MAX = 2**63 - 1


@nb.njit(cache=True, nogil=True)
def float_span(data: np.ndarray, a: int, b: int) -> tuple[float, bool, bool]:  # pragma: no cover - numba
    """``-?(d+.?d*|.d+)([eE][-+]?d+)?`` in ``data[a:b]``: (value, ok, exact)."""
    i = a
    neg = i < b and data[i] == 45
    if neg:
        i += 1
    m = 0
    scale = 0  # power of ten to apply to m
    digits = 0
    lost = False
    while i < b and 48 <= data[i] <= 57:
        if m < 100_000_000_000_000_000:
            m = m * 10 + (data[i] - 48)
        else:
            scale += 1
            lost = True
        digits += 1
        i += 1
    if i < b and data[i] == 46:
        i += 1
        while i < b and 48 <= data[i] <= 57:
            if m < 100_000_000_000_000_000:
                m = m * 10 + (data[i] - 48)
                scale -= 1
            else:
                lost = True
            digits += 1
            i += 1
    if digits == 0:
        return 0.0, False, False
    if i < b and (data[i] == 101 or data[i] == 69):
        i += 1
        eneg = i < b and data[i] == 45
        if i < b and (data[i] == 45 or data[i] == 43):
            i += 1
        e = 0
        ed = 0
        while i < b and 48 <= data[i] <= 57:
            if e < 100_000:
                e = e * 10 + (data[i] - 48)
            ed += 1
            i += 1
        if ed == 0:
            return 0.0, False, False
        scale += -e if eneg else e
    if i != b:
        return 0.0, False, False
    x = float(m)
    exact = not lost and m <= _EXACT and -22 <= scale <= 22
    if exact:  # noqa: SIM108 (numba)
        x = x * _POW10[scale] if scale >= 0 else x / _POW10[-scale]
    else:  # an estimate: the caller parses these values again
        x = x * 10.0**scale
    return (-x if neg else x), True, exact


@nb.njit(cache=True, nogil=True)
def int_span(data: np.ndarray, a: int, b: int) -> tuple[int, bool]:  # pragma: no cover - numba
    """``-?[0-9]+`` within int64 in ``data[a:b]``: (value, ok)."""
    i = a
    neg = i < b and data[i] == 45
    if neg:
        i += 1
    if i == b or b - i > 19:
        return 0, False
    v = 0
    top = 0
    if b - i == 19:  # the one length that can overflow: the first digit apart
        c = data[i]
        if c < 48 or c > 57:
            return 0, False
        top = c - 48
        i += 1
    while i < b:
        c = data[i]
        if c < 48 or c > 57:
            return 0, False
        v = v * 10 + (c - 48)
        i += 1
    if top:  # v has 18 digits: top * 10**18 + v must stay within int64
        if v > _I64_MAX - top * 10**18:
            return 0, False
        v += top * 10**18
    return (-v if neg else v), True


@nb.njit(cache=True, nogil=True, inline="always")
def _is(data: np.ndarray, a: int, b: int, word: np.ndarray) -> bool:  # pragma: no cover - numba
    if b - a != len(word):
        return False
    for j in range(len(word)):  # noqa: SIM110 (numba)
        if data[a + j] != word[j]:
            return False
    return True


@nb.njit(cache=True, nogil=True, inline="always")
def _copy(data: np.ndarray, a: int, b: int, out: np.ndarray, p: int) -> int:  # pragma: no cover - numba
    for j in range(a, b):
        out[p] = data[j]
        p += 1
    return p


@nb.njit(cache=True, nogil=True)
def scan_rows(
    data: np.ndarray,
    ends: np.ndarray,
    line_start: np.ndarray,
    rows: np.ndarray,
    kinds: np.ndarray,
    slots: np.ndarray,
    unset: np.ndarray,
    empty: np.ndarray,
    nfloat: int,
    nint: int,
    lo: np.ndarray,
    hi: np.ndarray,
    xcols: np.ndarray,
    names: np.ndarray,
    name_offs: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
           tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:  # pragma: no cover
    """One pass over the fields of the lines ``rows``: markers resolved, checked columns parsed, extra copied.

    A parsed value outside ``[lo[c], hi[c]]`` (as float64 for times and floats, whose bound
    is checked only where the parse is exact; int64 for integers) is not accepted either.

    ``kinds[c]`` is TEXT (0: only the markers), or the kind of a checked column, whose value
    goes to row ``slots[c]`` of ``f64`` (times and floats) or ``i64`` (integers, bools as 0/1).
    Returns ``state`` (n, columns: 0 unset, 1 a value, 2 the empty marker; row-major, as the
    kernel walks the fields), ``f64`` (nfloat, n), ``i64`` (nint, n), ``inexact`` (nfloat, n:
    a float to parse again), ``odd`` (n: a value the kernel does not accept, for the general
    typing to judge; values of unset or odd fields are 0) and the ``extra`` map of the rows
    that are not odd, in the same pass: the columns ``xcols`` (increasing) named by ``names``
    (UTF-8 bytes cut at ``name_offs``), set values only, the empty marker as ``""``. The map
    is (map offsets, key offsets, value offsets, key bytes, value bytes, sizes: entries, key
    bytes, value bytes, rows), its arrays longer than their sizes.
    """
    n = len(rows)
    m = len(kinds)
    nx = len(xcols)
    state = np.empty((n, m), np.uint8)
    f64 = np.empty((nfloat, n), np.float64)
    i64 = np.empty((nint, n), np.int64)
    inexact = np.empty((nfloat, n), np.bool_)
    odd = np.zeros(n, np.bool_)
    u0 = unset[0] if len(unset) else -1
    e0 = empty[0] if len(empty) else -1
    is_x = np.zeros(m, np.bool_)
    for t in range(nx):
        is_x[xcols[t]] = True
    value_cap = 0
    for r in range(n):
        value_cap += ends[rows[r], m - 1] - line_start[rows[r]]
    map_offs = np.empty(n + 1, np.int32)
    key_offs = np.empty(n * nx + 1, np.int32)
    val_offs = np.empty(n * nx + 1, np.int32)
    key_data = np.empty(max(n * name_offs[nx], 1), np.uint8)
    val_data = np.empty(max(value_cap, 1), np.uint8)
    key_offs[0] = 0
    val_offs[0] = 0
    # the keys of a row depend only on which of its extra columns are set: those of the last pattern are kept
    # whole and copied in one run (the rows of a log mostly repeat a pattern)
    pat_keys = np.empty(max(name_offs[nx], 1), np.uint8)
    pat_ends = np.empty(max(nx, 1), np.int64)
    last = np.zeros(max(nx, 1), np.bool_)
    built = False
    e = 0
    kb = 0
    vb = 0
    g = 0
    for r in range(n):
        i = rows[r]
        a = line_start[i]
        e_row, vb_row = e, vb
        for c in range(m):
            b = ends[i, c]
            if c > 0:
                a = min(ends[i, c - 1] + 1, b)
            k = kinds[c]
            if b > a and data[a] == u0 and _is(data, a, b, unset):
                state[r, c] = 0
                if k == TIME or k == FLOAT:  # noqa: SIM109 (numba)
                    f64[slots[c], r] = 0.0
                    inexact[slots[c], r] = False
                elif k != TEXT and k != ADDR:
                    i64[slots[c], r] = 0
                continue
            if k == TEXT:
                if b > a and data[a] == e0 and _is(data, a, b, empty):
                    state[r, c] = 2
                    b = a
                else:
                    state[r, c] = 1
                if is_x[c]:
                    vb = _copy(data, a, b, val_data, vb)
                    e += 1
                    val_offs[e] = vb
                continue
            j = slots[c]
            ok = True
            if k == TIME or k == FLOAT:  # noqa: SIM109 (numba)
                x, ok, exact = float_span(data, a, b)
                f64[j, r] = x
                inexact[j, r] = not exact
                ok = ok and not (exact and (x < lo[c] or x > hi[c]))
            elif k == INT:
                v, ok = int_span(data, a, b)
                i64[j, r] = v
                ok = ok and lo[c] <= v <= hi[c]
            elif k == BOOL:
                ok = b - a == 1 and (data[a] == 84 or data[a] == 70)  # T, F
                i64[j, r] = data[a] == 84 if ok else 0
            elif k == ADDR:
                ok = addr_span(data, a, b)
            if not ok:
                odd[r] = True
                for c2 in range(c, m):  # the rest of an odd row is not read: defined values all the same
                    state[r, c2] = 0
                    if kinds[c2] == TIME or kinds[c2] == FLOAT:
                        f64[slots[c2], r] = 0.0
                        inexact[slots[c2], r] = False
                    elif kinds[c2] != TEXT and kinds[c2] != ADDR:
                        i64[slots[c2], r] = 0
                break
            state[r, c] = 1
            if is_x[c]:
                vb = _copy(data, a, b, val_data, vb)
                e += 1
                val_offs[e] = vb
        if odd[r]:  # its extra entries are dropped
            e, vb = e_row, vb_row
            continue
        map_offs[g] = e_row
        g += 1
        same = built
        for t in range(nx):
            on = state[r, xcols[t]] != 0
            if on != last[t]:
                same = False
            last[t] = on
        if not same:
            built = True
            p = 0
            q = 0
            for t in range(nx):
                if last[t]:
                    p = _copy(names, name_offs[t], name_offs[t + 1], pat_keys, p)
                    pat_ends[q] = p
                    q += 1
        for q in range(e - e_row):
            key_offs[e_row + q + 1] = kb + pat_ends[q]
        if e > e_row:
            kb = _copy(pat_keys, 0, pat_ends[e - e_row - 1], key_data, kb)
    map_offs[g] = e
    sizes = np.array([e, kb, vb, g], np.int64)
    return state, f64, i64, inexact, odd, (map_offs, key_offs, val_offs, key_data, val_data, sizes)
