"""The ``extra`` column of every reader: unmapped columns as ``name -> text`` maps, built in numba.

A map row holds one entry per unmapped column whose value is set (unset values are left out,
as JSON logs leave them out). Entries must be row-major while the columns are column-major;
a numba kernel interleaves the columns' Arrow string buffers in two passes (sizes, then
bytes), instead of gathering millions of short strings with ``take``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from numba import njit

from netspot.schema._field import EXTRA

__all__ = ["extra_map", "span_map"]


@njit(cache=True, nogil=True)
def _sizes(valid: np.ndarray, starts: np.ndarray, ends: np.ndarray,
           name_len: np.ndarray) -> tuple[int, int, int]:  # pragma: no cover
    k, n = valid.shape
    entries = 0
    value_bytes = 0
    key_bytes = 0
    for j in range(k):
        for i in range(n):
            if valid[j, i]:
                entries += 1
                value_bytes += ends[j, i] - starts[j, i]
                key_bytes += name_len[j]
    return entries, value_bytes, key_bytes


@njit(cache=True, nogil=True)
def _interleave(valid: np.ndarray, starts: np.ndarray, ends: np.ndarray, data: np.ndarray, names: np.ndarray,
                name_offs: np.ndarray, map_offs: np.ndarray, key_offs: np.ndarray, key_data: np.ndarray,
                val_offs: np.ndarray, val_data: np.ndarray) -> None:  # pragma: no cover
    k, n = valid.shape
    e = 0
    kb = 0
    vb = 0
    for i in range(n):
        map_offs[i] = e
        for j in range(k):
            if not valid[j, i]:
                continue
            for b in range(name_offs[j], name_offs[j + 1]):
                key_data[kb] = names[b]
                kb += 1
            for b in range(starts[j, i], ends[j, i]):
                val_data[vb] = data[b]
                vb += 1
            e += 1
            key_offs[e] = kb
            val_offs[e] = vb
    map_offs[n] = e


def span_map(names: list[str], valid: np.ndarray, starts: np.ndarray, ends: np.ndarray,
             data: np.ndarray) -> pa.Array:
    """Rows of ``name -> text`` from byte spans: entry ``j`` of row ``i`` is ``data[starts[j, i]:ends[j, i]]``.

    ``valid``, ``starts`` and ``ends`` are (len(names), rows) arrays; values not valid are
    left out. The text must be UTF-8. Readers that tokenize text (Zeek TSV) call this on
    their field spans directly; :func:`extra_map` on Arrow string columns.

    Examples
    --------
    >>> d = np.frombuffer(b"10x", np.uint8)
    >>> span_map(["a"], np.array([[True, False]]), np.array([[0, 0]]), np.array([[2, 0]]), d).to_pylist()
    [[('a', '10')], []]
    """
    n = valid.shape[1]
    encoded = [m.encode() for m in names]
    names_buf = np.frombuffer(b"".join(encoded) or b"\0", dtype=np.uint8)
    name_len = np.array([len(m) for m in encoded], dtype=np.int64)
    name_offs = np.concatenate(([0], np.cumsum(name_len))).astype(np.int64)
    entries, value_bytes, key_bytes = _sizes(valid, starts, ends, name_len)
    map_offs = np.empty(n + 1, dtype=np.int32)
    key_offs = np.zeros(entries + 1, dtype=np.int32)
    val_offs = np.zeros(entries + 1, dtype=np.int32)
    key_data = np.empty(key_bytes, dtype=np.uint8)
    val_data = np.empty(value_bytes, dtype=np.uint8)
    _interleave(valid, starts, ends, data, names_buf, name_offs, map_offs, key_offs, key_data, val_offs, val_data)
    keys = pa.StringArray.from_buffers(entries, pa.py_buffer(key_offs), pa.py_buffer(key_data))
    values = pa.StringArray.from_buffers(entries, pa.py_buffer(val_offs), pa.py_buffer(val_data))
    return pa.MapArray.from_arrays(pa.array(map_offs), keys, values).cast(EXTRA)


def extra_map(texts: dict[str, pa.Array], n: int) -> pa.Array:
    """Rows of ``name -> text`` for the given string columns (each of length ``n``), unset values left out.

    Examples
    --------
    >>> m = extra_map({"label": pa.array(["Benign", None]), "orig_bytes": pa.array(["10", "0"])}, 2)
    >>> m.to_pylist()
    [[('label', 'Benign'), ('orig_bytes', '10')], [('orig_bytes', '0')]]
    """
    names = list(texts)
    k = len(names)
    if k == 0 or n == 0:
        return pa.MapArray.from_arrays(pa.array(np.zeros(n + 1, dtype=np.int32)), pa.array([], pa.string()),
                                       pa.array([], pa.string())).cast(EXTRA)
    cols = [texts[m].cast(pa.string()) for m in names]
    valid = np.empty((k, n), dtype=np.bool_)
    offs = np.empty((k, n + 1), dtype=np.int64)
    datas = []
    base = 0
    for j, a in enumerate(cols):
        valid[j] = a.is_valid().to_numpy(zero_copy_only=False)
        bufs = a.buffers()
        o = np.frombuffer(bufs[1], dtype=np.int32)[a.offset: a.offset + n + 1].astype(np.int64)
        buf = bufs[2]
        data = np.frombuffer(buf, dtype=np.uint8) if buf is not None else np.zeros(0, dtype=np.uint8)
        offs[j] = o + base
        datas.append(data)
        base += len(data)
    data = np.concatenate(datas) if datas else np.zeros(0, dtype=np.uint8)
    return span_map(names, valid, offs[:, :-1], offs[:, 1:], data)
