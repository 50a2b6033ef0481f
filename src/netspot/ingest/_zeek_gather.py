"""Text columns and the ``extra`` map of Zeek TSV rows, copied straight from the tokenizer's field ends.

The fast path of :mod:`._zeek_tsv` knows, for each row and column, the field's span (from
:class:`netspot.ingest._delimited.Tokens`) and its state from :func:`._zeek_spans.scan_rows`
(0 unset, 1 a value, 2 the empty marker). :func:`text_columns` gathers several string
columns in one row-major pass over the field-end matrix (no numpy column of starts and ends
per column). The ``extra`` map of the unmapped columns is copied by the scan kernel itself,
in its pass over the fields, and :func:`scanned_map` makes it an Arrow map: keys and values
interleaved row by row, unset values left out, the empty marker as an empty string (as
:func:`netspot.ingest._extra.span_map` builds it from spans).

Examples
--------
>>> data = np.frombuffer(b"a\\t-\\nbb\\t(empty)\\n", np.uint8)
>>> ends = np.array([[1, 3], [6, 14]], np.int32)
>>> starts = np.array([0, 4], np.int32)
>>> state = np.array([[1, 0], [1, 2]], np.uint8)
>>> rows = np.arange(2)
>>> [a.to_pylist() for a in text_columns(data, ends, starts, rows, np.array([0, 1]), np.ones(2, np.bool_), state)]
[['a', 'bb'], [None, '']]
"""

from __future__ import annotations

import numba as nb
import numpy as np
import pyarrow as pa

from netspot.schema._field import EXTRA

__all__ = ["scanned_map", "text_columns"]


@nb.njit(cache=True, nogil=True)
def _texts(
    data: np.ndarray, ends: np.ndarray, line_start: np.ndarray, rows: np.ndarray, cols: np.ndarray,
    blank_empty: np.ndarray, state: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - numba
    """Offsets (k, n + 1, relative to each column's base), bases (k + 1) and the bytes of ``k`` columns."""
    n = len(rows)
    k = len(cols)
    sizes = np.zeros(k, np.int64)
    for r in range(n):
        i = rows[r]
        for x in range(k):
            c = cols[x]
            s = state[r, c]
            if s == 0 or (s == 2 and blank_empty[x]):
                continue
            b = ends[i, c]
            a = line_start[i] if c == 0 else min(ends[i, c - 1] + 1, b)
            sizes[x] += b - a
    bases = np.zeros(k + 1, np.int64)
    for x in range(k):
        bases[x + 1] = bases[x] + sizes[x]
    out = np.empty(max(bases[k], 1), np.uint8)
    offsets = np.empty((k, n + 1), np.int32)
    pos = bases[:k].copy()
    for x in range(k):
        offsets[x, 0] = 0
    for r in range(n):
        i = rows[r]
        for x in range(k):
            c = cols[x]
            s = state[r, c]
            p = pos[x]
            if not (s == 0 or (s == 2 and blank_empty[x])):
                b = ends[i, c]
                a = line_start[i] if c == 0 else min(ends[i, c - 1] + 1, b)
                for j in range(a, b):
                    out[p] = data[j]
                    p += 1
                pos[x] = p
            offsets[x, r + 1] = p - bases[x]
    return offsets, bases, out


def text_columns(data: np.ndarray, ends: np.ndarray, line_start: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                 blank_empty: np.ndarray, state: np.ndarray) -> list[pa.Array]:
    """String arrays of the columns ``cols`` for the lines ``rows``.

    ``state`` is (rows, columns): unset values (0) are null; the empty marker (2) is an
    empty string where ``blank_empty`` is set for the column, its text otherwise (sets and
    vectors, whose list code reads the marker itself). The text must be UTF-8.
    """
    n = len(rows)
    offsets, bases, out = _texts(data, ends, line_start, rows, cols, blank_empty, state)
    arrays = []
    for x, c in enumerate(cols.tolist()):
        valid = state[:, c] != 0
        bits = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
        body = pa.py_buffer(out[bases[x]: max(bases[x + 1], bases[x] + 1)])
        arrays.append(pa.Array.from_buffers(pa.string(), n, [bits, pa.py_buffer(offsets[x]), body]))
    return arrays


def _trim(a: np.ndarray, used: int) -> np.ndarray:
    """The first ``used`` items of a buffer sized for the worst case; copied when most of it is unused.

    A view would keep the whole buffer alive as long as the batch (the store holds batches
    until a row group is full).
    """
    used = max(used, 1)
    return a[:used].copy() if 2 * used < len(a) else a[:used]


def scanned_map(map_offs: np.ndarray, key_offs: np.ndarray, val_offs: np.ndarray, key_data: np.ndarray,
                val_data: np.ndarray, sizes: np.ndarray) -> pa.Array:
    """The ``extra`` map that :func:`._zeek_spans.scan_rows` built in its pass (arrays cut to their sizes)."""
    e, kb, vb, n = (int(v) for v in sizes)
    keys = pa.StringArray.from_buffers(e, pa.py_buffer(key_offs[: e + 1]), pa.py_buffer(_trim(key_data, kb)))
    values = pa.StringArray.from_buffers(e, pa.py_buffer(val_offs[: e + 1]), pa.py_buffer(_trim(val_data, vb)))
    return pa.MapArray.from_arrays(pa.array(map_offs[: n + 1]), keys, values).cast(EXTRA)
