"""Vectorised IP address formatting: 16-byte address columns to an Arrow string array.

IPv4 is the dotted quad; IPv6 is the RFC 5952 canonical form (lower-case hex, no
leading zeros, the longest run of two or more zero groups - the first on a tie - as
``::``), with IPv4-mapped addresses as ``::ffff:a.b.c.d`` like tshark and inet_ntop.

Examples
--------
>>> import numpy as np
>>> a = np.zeros((2, 16), np.uint8); a[0, :4] = [10, 0, 0, 1]; a[1, 15] = 1
>>> ip_text(np.array([4, 6], np.int8), a).to_pylist()
['10.0.0.1', '::1']
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from numba import njit

__all__ = ["ip_text", "write_ipv4", "write_ipv6"]

_HEX = np.frombuffer(b"0123456789abcdef", np.uint8)


@njit(cache=True, inline="always")
def _dec(out: np.ndarray, o: int, v: int) -> int:
    if v >= 100:
        out[o] = 48 + v // 100
        o += 1
    if v >= 10:
        out[o] = 48 + (v // 10) % 10
        o += 1
    out[o] = 48 + v % 10
    return o + 1


@njit(cache=True)
def write_ipv4(src: np.ndarray, p: int, out: np.ndarray, o: int) -> int:
    """Write the IPv4 address in ``src[p:p+4]`` as a dotted quad into ``out`` at ``o``; the new end."""
    for k in range(4):
        o = _dec(out, o, int(src[p + k]))
        if k < 3:
            out[o] = 46  # '.'
            o += 1
    return o


@njit(cache=True)
def write_ipv6(src: np.ndarray, p: int, out: np.ndarray, o: int) -> int:
    """Write the IPv6 address in ``src[p:p+16]`` in RFC 5952 form into ``out`` at ``o``; the new end."""
    groups = np.empty(8, np.int64)
    for g in range(8):
        groups[g] = (np.int64(src[p + 2 * g]) << 8) | np.int64(src[p + 2 * g + 1])
    best, best_len, run, run_len = -1, 0, -1, 0
    for g in range(8):
        if groups[g] == 0:
            if run_len == 0:
                run = g
            run_len += 1
            if run_len > best_len:
                best, best_len = run, run_len
        else:
            run_len = 0
    if best_len < 2:
        best = -1
    mapped = best == 0 and best_len == 5 and groups[5] == 0xFFFF
    last = 6 if mapped else 8
    g = 0
    while g < last:
        if g == best:
            out[o] = 58
            out[o + 1] = 58
            o += 2
            g = min(g + best_len, last)
            continue
        if g > 0 and g != best + best_len:
            out[o] = 58
            o += 1
        started = False
        for sh in range(12, -4, -4):
            d = (groups[g] >> sh) & 0xF
            if d or started or sh == 0:
                out[o] = _HEX[d]
                o += 1
                started = True
        g += 1
    if mapped:
        out[o] = 58
        o = write_ipv4(src, p + 12, out, o + 1)
    return o


@njit(cache=True)
def _format(family: np.ndarray, addr: np.ndarray, valid: np.ndarray, offsets: np.ndarray, out: np.ndarray) -> int:
    o = 0
    for i in range(len(family)):
        offsets[i] = o
        if valid[i]:
            o = write_ipv4(addr[i], 0, out, o) if family[i] == 4 else write_ipv6(addr[i], 0, out, o)
    offsets[len(family)] = o
    return o


def ip_text(family: np.ndarray, addr: np.ndarray) -> pa.Array:
    """Format ``addr`` (n x 16 bytes) as text by ``family`` (4 or 6; anything else gives null)."""
    n = len(family)
    valid = (family == 4) | (family == 6)
    offsets = np.zeros(n + 1, np.int32)
    out = np.empty(max(n * 41, 1), np.uint8)
    size = _format(family, addr, valid, offsets, out)
    mask = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(out[:size].copy()), mask,
                                       n - int(valid.sum()))
