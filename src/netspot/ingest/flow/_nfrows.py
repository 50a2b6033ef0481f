"""The nfdump row kernels: every mapped column of a batch of lines parsed in one numba pass over the spans.

:func:`convert_rows` walks the rows of a :class:`~netspot.ingest._delimited.Tokens` once,
parsing times, duration, addresses, integers and the protocol with the ``*_span``
functions of :mod:`._nfparse`; it returns the values, the trimmed spans of the text
columns, and per row the first check that failed (``-1``: none), in the order the reader
reports them (:data:`CHECKS`). :func:`extras` builds the ``extra`` map of the unmapped
columns that are set (not nfdump's zeros) straight from the spans: when nothing is set,
which is the common case, no string column is made at all.

Examples
--------
>>> proto_code(np.frombuffer(b" tcp", np.uint8), 0, 4), proto_code(np.frombuffer(b"17", np.uint8), 0, 2)
(6, 17)
"""

from __future__ import annotations

import numba as nb
import numpy as np

from netspot.ingest._delimited import field_span
from netspot.ingest.flow._nfparse import (
    PROTO_NAMES,
    default_span,
    duration_span,
    ip_span,
    time_span,
    uint_span,
)

__all__ = ["CHECKS", "INTS", "ROLES", "convert_rows", "extras", "proto_code"]

#: nfdump column -> (FLOW column, maximum value) of the unsigned integers, in the order they are checked.
INTS: dict[str, tuple[str, int]] = {
    "sp": ("sport", 65535),
    "dp": ("dport", 65535),
    "fwd": ("fwd", 32767),
    "stos": ("stos", 255),
    "dtos": ("dtos", 255),
    "dir": ("dir", 32767),
    "ipkt": ("ipkt", 2**63 - 1),
    "ibyt": ("ibyt", 2**63 - 1),
    "opkt": ("opkt", 2**63 - 1),
    "obyt": ("obyt", 2**63 - 1),
    "in": ("input", 2**31 - 1),
    "out": ("output", 2**31 - 1),
    "sas": ("sas", 2**32 - 1),
    "das": ("das", 2**32 - 1),
}
#: The roles a column can play, as indices into the ``cols`` argument of :func:`convert_rows`.
ROLES = ("ts", "te", "td", "sa", "da", "ra", "flg", "pr", *INTS)
#: The checks of a row in reporting order: the failing check's index is the row's ``fail`` code.
CHECKS = ("ts", "te", "td", "sa", "da", "ra", *INTS, "pr")
_FLG, _PR, _INT0 = 6, 7, 8
_CHECK_PR = len(CHECKS) - 1
_TOPS = np.array([top for _, top in INTS.values()], np.int64)
_LETTERS = np.array([name == "dir" for name in INTS], np.bool_)
_DOTTED = np.array([name == "dp" for name in INTS], np.bool_)

# Protocol names packed into a uint64 (up to 8 ASCII bytes) -> number, in an open-addressing table.
_SLOTS = 1024


def _pack(name: str) -> int:
    return int.from_bytes(name.encode().ljust(8, b"\0"), "little")


def _proto_table() -> tuple[np.ndarray, np.ndarray]:
    keys = np.zeros(_SLOTS, np.uint64)
    vals = np.full(_SLOTS, -1, np.int32)
    for num, name in enumerate(PROTO_NAMES):
        if name.isdigit() or len(name) > 8:
            continue  # digits are read as numbers
        key = _pack(name)
        h = key & (_SLOTS - 1)
        while vals[h] >= 0 and keys[h] != key:
            h = (h + 1) & (_SLOTS - 1)
        if vals[h] < 0:  # the first number of a name wins (IDPR), as pyarrow's index_in
            keys[h], vals[h] = key, num
    return keys, vals


_PKEYS, _PVALS = _proto_table()


@nb.njit(cache=True, nogil=True)
def proto_code(data: np.ndarray, a: int, b: int) -> int:  # pragma: no cover - numba
    """Protocol number of ``data[a:b]``: a number 0..255, a name of nfdump's table (any case).

    -1: not found here (a name not in the table, non-ASCII text: the caller's slow path);
    -2: empty; -3: a number over 255.
    """
    while a < b and (data[a] == 32 or 9 <= data[a] <= 13):
        a += 1
    while b > a and (data[b - 1] == 32 or 9 <= data[b - 1] <= 13):
        b -= 1
    if a == b:
        return -2
    v, ok = uint_span(data, a, b, False, False)
    if ok:
        return v if v <= 255 else -3
    if b - a > 8:
        return -1
    key = np.uint64(0)
    for j in range(b - 1, a - 1, -1):
        c = data[j]
        if c >= 128:
            return -1
        if 97 <= c <= 122:
            c -= 32
        key = (key << np.uint64(8)) | np.uint64(c)
    h = np.int64(key & np.uint64(_SLOTS - 1))
    while _PVALS[h] >= 0:
        if _PKEYS[h] == key:
            return int(_PVALS[h])
        h = (h + 1) & (_SLOTS - 1)
    return -1


@nb.njit(cache=True, nogil=True)
def _wtrim(data: np.ndarray, a: int, b: int) -> tuple[int, int]:  # pragma: no cover - numba
    while a < b and (data[a] == 32 or 9 <= data[a] <= 13):
        a += 1
    while b > a and (data[b - 1] == 32 or 9 <= data[b - 1] <= 13):
        b -= 1
    return a, b


@nb.njit(cache=True, nogil=True)
def convert_rows(
    data: np.ndarray, ends: np.ndarray, line_start: np.ndarray, rows: np.ndarray, cols: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - numba
    """Parse the ``rows`` (line indices) whose column of each role is ``cols[role]`` (-1: absent).

    Returns ``times`` (3, n: ts, te, td in ms), ``ints`` (len(INTS), n), ``spans`` (3 text
    columns sa, da, ra, flg as (4, 2, n) trimmed starts/ends), ``proto`` (n: number, or a
    :func:`proto_code` below 0) and ``fail`` (n: index in :data:`CHECKS` of the first failed
    check, -1 when the row is good).
    """
    n = len(rows)
    nint = len(_TOPS)
    times = np.zeros((3, n), np.int64)
    ints = np.zeros((nint, n), np.int64)
    spans = np.zeros((4, 2, n), np.int32)
    proto = np.zeros(n, np.int32)
    fail = np.full(n, -1, np.int32)
    for r in range(n):
        i = rows[r]
        a, b = field_span(ends, line_start, i, cols[0])
        ts, ok = time_span(data, a, b)
        if not ok:
            fail[r] = 0
            continue
        te = ts
        if cols[1] >= 0:
            a, b = field_span(ends, line_start, i, cols[1])
            te, ok = time_span(data, a, b)
            if not ok:
                fail[r] = 1
                continue
        td = te - ts
        if cols[2] >= 0:
            a, b = field_span(ends, line_start, i, cols[2])
            td, ok = duration_span(data, a, b)
            if not ok:
                fail[r] = 2
                continue
            if cols[1] < 0:
                te = ts + td
        times[0, r], times[1, r], times[2, r] = ts, te, td
        bad = -1
        for k in range(3):  # sa, da, ra
            if cols[3 + k] >= 0:
                a, b = field_span(ends, line_start, i, cols[3 + k])
                if not ip_span(data, a, b):
                    bad = 3 + k
                    break
                spans[k, 0, r], spans[k, 1, r] = _wtrim(data, a, b)
        if bad < 0:
            for k in range(nint):
                c = cols[_INT0 + k]
                if c >= 0:
                    a, b = field_span(ends, line_start, i, c)
                    v, ok = uint_span(data, a, b, _LETTERS[k], _DOTTED[k])
                    if not ok or v > _TOPS[k]:
                        bad = 6 + k
                        break
                    ints[k, r] = v
        if bad < 0:
            a, b = field_span(ends, line_start, i, cols[_PR])
            p = proto_code(data, a, b)
            proto[r] = p
            if p == -2 or p == -3:
                bad = _CHECK_PR
        if bad >= 0:
            fail[r] = bad
            continue
        if cols[_FLG] >= 0:
            a, b = field_span(ends, line_start, i, cols[_FLG])
            spans[3, 0, r], spans[3, 1, r] = _wtrim(data, a, b)
    return times, ints, spans, proto, fail


@nb.njit(cache=True, nogil=True)
def _extra_span(
    data: np.ndarray, ends: np.ndarray, line_start: np.ndarray, i: int, col: int, sub: int, tok: np.ndarray
) -> tuple[int, int]:  # pragma: no cover - numba
    """Span of an extra: a whole field (``sub`` -1) or label ``sub`` of ``%mpls`` (its ten blank-separated labels)."""
    a, b = field_span(ends, line_start, i, col)
    if sub < 0:
        return a, b
    if sub == 0:  # split once per row, at the first label
        ntok = 0
        j = a
        while j < b:
            while j < b and (data[j] == 32 or 9 <= data[j] <= 13):
                j += 1
            if j == b:
                break
            s = j
            while j < b and not (data[j] == 32 or 9 <= data[j] <= 13):
                j += 1
            if ntok < 10:
                tok[2 * ntok], tok[2 * ntok + 1] = s, j
            ntok += 1
        if ntok != 10:
            tok[:] = a
    return tok[2 * sub], tok[2 * sub + 1]


#: Bytes nfdump's absent fields are made of ("0", "0.0.0.0", "00:00:..", "0-0-0", "    0.000") and the delimiter.
_ZEROISH = np.ones(256, np.uint8)
_ZEROISH[np.frombuffer(b"0.:- ,", np.uint8)] = 0


@nb.njit(cache=True, nogil=True)
def _all_zeroish(data: np.ndarray, a: int, b: int) -> bool:  # pragma: no cover - numba
    bad = 0
    for j in range(a, b):  # branch-free: one table load per byte
        bad |= _ZEROISH[data[j]]
    return bad == 0


@nb.njit(cache=True, nogil=True)
def extras(
    data: np.ndarray,
    ends: np.ndarray,
    line_start: np.ndarray,
    rows: np.ndarray,
    xcol: np.ndarray,
    xsub: np.ndarray,
    keys: np.ndarray,
    key_off: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - numba
    """The set extras of ``rows`` as map buffers: (map offsets, key offsets, key bytes, value offsets, value bytes).

    Extra ``j`` is column ``xcol[j]`` (label ``xsub[j]`` of it for ``%mpls``), named
    ``keys[key_off[j]:key_off[j + 1]]``; its value is kept, blanks trimmed, when it is not
    nfdump's rendering of an absent field. Runs of adjacent extra columns are first checked
    as one span (all of it zeros, dots, colons, dashes, blanks and commas means every field
    in it is absent), which is the common case, before field by field.
    """
    n = len(rows)
    m = len(xcol)
    runs = np.zeros(m + 1, np.int64)  # extras runs[t]..runs[t + 1] - 1 are adjacent whole columns
    nruns = 0
    for j in range(m):
        if j == 0 or xsub[j] >= 0 or xsub[j - 1] >= 0 or xcol[j] != xcol[j - 1] + 1:
            runs[nruns] = j
            nruns += 1
    runs[nruns] = m
    tok = np.zeros(20, np.int64)
    mask = np.zeros((n, m), np.bool_)
    offsets = np.zeros(n + 1, np.int32)
    kbytes = 0
    vbytes = 0
    entries = 0
    for r in range(n):
        i = rows[r]
        for t in range(nruns):
            j0, j1 = runs[t], runs[t + 1]
            if xsub[j0] < 0:
                a = field_span(ends, line_start, i, xcol[j0])[0]
                b = field_span(ends, line_start, i, xcol[j1 - 1])[1]
                if _all_zeroish(data, a, b):
                    continue
            for j in range(j0, j1):
                a, b = _extra_span(data, ends, line_start, i, xcol[j], xsub[j], tok)
                if not default_span(data, a, b):
                    mask[r, j] = True
                    entries += 1
                    a, b = _wtrim(data, a, b)
                    vbytes += b - a
                    kbytes += key_off[j + 1] - key_off[j]
        offsets[r + 1] = entries
    koff = np.zeros(entries + 1, np.int32)
    voff = np.zeros(entries + 1, np.int32)
    kdata = np.empty(max(kbytes, 1), np.uint8)
    vdata = np.empty(max(vbytes, 1), np.uint8)
    e = 0
    for r in range(n):
        if offsets[r + 1] == offsets[r]:
            continue
        for j in range(m):
            if xsub[j] == 0 or mask[r, j]:
                a, b = _extra_span(data, ends, line_start, rows[r], xcol[j], xsub[j], tok)
            if mask[r, j]:
                a, b = _wtrim(data, a, b)
                o = koff[e]
                for x in range(key_off[j], key_off[j + 1]):
                    kdata[o] = keys[x]
                    o += 1
                koff[e + 1] = o
                o = voff[e]
                for x in range(a, b):
                    vdata[o] = data[x]
                    o += 1
                voff[e + 1] = o
                e += 1
    return offsets, koff, kdata, voff, vdata
