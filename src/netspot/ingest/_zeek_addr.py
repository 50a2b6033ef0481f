"""Validation of Zeek ``addr`` text (IPv4 dotted quads, IPv6 with ``::``, an optional ``%zone``), in numba.

One pass over an Arrow string array's buffers, no per-value Python: about ten times faster than
a regular expression per value, and stricter (octets above 255, too many IPv6 groups).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from numba import njit

__all__ = ["addr_span", "invalid_addrs"]


@njit(cache=True, nogil=True)
def _ipv4(data: np.ndarray, lo: int, hi: int) -> bool:  # pragma: no cover
    parts = 0
    digits = 0
    value = 0
    for i in range(lo, hi):
        c = data[i]
        if 48 <= c <= 57:
            value = value * 10 + (c - 48)
            digits += 1
            if digits > 3 or value > 255:
                return False
        elif c == 46:  # '.'
            if digits == 0:
                return False
            parts += 1
            digits = 0
            value = 0
        else:
            return False
    return digits > 0 and parts == 3


@njit(cache=True, nogil=True)
def _hex(c: int) -> bool:  # pragma: no cover
    return 48 <= c <= 57 or 97 <= c <= 102 or 65 <= c <= 70


@njit(cache=True, nogil=True)
def _ipv6(data: np.ndarray, lo: int, hi: int) -> bool:  # pragma: no cover
    for i in range(lo, hi):  # a zone id ends the address: fe80::1%eth0
        if data[i] == 37:
            if i == hi - 1:
                return False
            hi = i
            break
    groups = 0
    digits = 0
    double = False
    i = lo
    if hi - lo >= 2 and data[lo] == 58 and data[lo + 1] == 58:
        double = True
        i = lo + 2
    elif hi > lo and data[lo] == 58:
        return False
    start = i
    while i < hi:
        c = data[i]
        if _hex(c):
            digits += 1
            if digits > 4:
                return False
        elif c == 58:  # ':'
            if digits == 0:
                if (i + 1 < hi and data[i + 1] == 58) or double:
                    return False
                return False
            groups += 1
            digits = 0
            if i + 1 < hi and data[i + 1] == 58:
                if double:
                    return False
                double = True
                i += 1
                if i == hi - 1:  # trailing '::'
                    return groups <= 7
        elif c == 46:  # an IPv4 tail: ::ffff:1.2.3.4
            j = i - digits
            return j >= start and _ipv4(data, j, hi) and (groups <= 5 if double else groups == 6)
        else:
            return False
        i += 1
    if digits > 0:
        groups += 1
    elif hi > start and data[hi - 1] == 58 and not (hi - 2 >= lo and data[hi - 2] == 58):
        return False
    return groups <= 7 if double else groups == 8


@njit(cache=True, nogil=True)
def addr_span(data: np.ndarray, lo: int, hi: int) -> bool:  # pragma: no cover
    """Whether ``data[lo:hi]`` is an IPv4 or IPv6 address (numba; also used on TSV field spans).

    An address with a ``:`` is IPv6, any other IPv4. IPv4 is checked in the same pass that
    looks for the ``:``: where that check fails, the rest of the span is searched for one.
    """
    parts = 0
    digits = 0
    value = 0
    for i in range(lo, hi):
        c = data[i]
        if 48 <= c <= 57:
            value = value * 10 + (c - 48)
            digits += 1
            if digits <= 3 and value <= 255:
                continue
        elif c == 46 and digits:  # '.'
            parts += 1
            digits = 0
            value = 0
            continue
        for j in range(i, hi):  # not IPv4 from byte i on: IPv6 if a ':' is there
            if data[j] == 58:
                return _ipv6(data, lo, hi)
        return False
    return digits > 0 and parts == 3


@njit(cache=True, nogil=True)
def _check(offsets: np.ndarray, data: np.ndarray, valid: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover
    for k in range(len(valid)):
        if valid[k]:
            out[k] = not addr_span(data, offsets[k], offsets[k + 1])


def invalid_addrs(a: pa.Array) -> np.ndarray:
    """Indices of the set values of string array ``a`` that are not IPv4 or IPv6 addresses.

    Examples
    --------
    >>> invalid_addrs(pa.array(["10.0.0.1", "999.1.1.1", "fe80::1%eth0", "2001:db8::", "::", "1.2.3", None,
    ...                         "::ffff:10.0.0.1", "1:2:3:4:5:6:7:8:9", "abc"])).tolist()
    [1, 5, 8, 9]
    """
    n = len(a)
    bufs = a.buffers()
    empty = n == 0 or bufs[2] is None
    data = np.zeros(1, dtype=np.uint8) if empty else np.frombuffer(bufs[2], dtype=np.uint8)
    offsets = np.frombuffer(bufs[1], dtype=np.int32)[a.offset: a.offset + n + 1] if n else np.zeros(1, np.int32)
    valid = a.is_valid().to_numpy(zero_copy_only=False)
    out = np.zeros(n, dtype=np.bool_)
    _check(offsets, data, valid, out)
    return np.flatnonzero(out)
