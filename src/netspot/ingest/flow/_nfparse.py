"""Validated parsing of nfdump's text fields, vectorised: numba functions over byte spans.

Each ``*_span`` function parses one field, ``data[a:b]`` of a uint8 buffer, and says whether
it parsed; the nfdump row kernel (:mod:`._nfrows`) calls them on the spans of
:mod:`netspot.ingest._delimited`, and the ``parse_*`` functions apply them to a whole Arrow
string column (its offsets and data buffers). Both return values and a per-row ``ok`` so
that a reader can quarantine exactly the rows that do not parse instead of failing the
whole batch (``pyarrow.compute.cast`` raises on the first bad value). Surrounding blanks
are ignored: ``nfdump -o fmt:`` pads its columns.

The protocol table is nfdump 1.7.1's own (``ProtoString`` in its ``util.c``), captured by
running ``nfdump -o csv`` and ``nfdump -N -o fmt:%pr`` over flows of every protocol number
0-255 written by ``nfpcapd``; 4 (IPIP), 41 (IPv6) and 47 (GRE) come from the same table, as
nfpcapd decapsulates those instead of writing a flow.

Examples
--------
>>> import pyarrow as pa
>>> v, ok = parse_uint(pa.array([" 80", "x", ""]))
>>> v.tolist(), ok.tolist()
([80, 0, 0], [True, False, False])
>>> ms, ok = parse_time(pa.array(["1970-01-01 00:00:01.5", "2018-02-30 00:00:00"]))
>>> ms.tolist(), ok.tolist()
([1500, 0], [True, False])
"""

from __future__ import annotations

import numba as nb
import numpy as np
import pyarrow as pa

__all__ = [
    "PROTO_NAMES",
    "default_span",
    "duration_span",
    "ip_span",
    "is_default",
    "parse_duration_ms",
    "parse_ip",
    "parse_time",
    "parse_uint",
    "time_span",
    "uint_span",
]

#: nfdump 1.7.1's protocol names, indexed by protocol number (upper-cased as netspot stores them).
PROTO_NAMES: tuple[str, ...] = tuple(
    (
        "0 ICMP IGMP GGP IPIP ST TCP CBT EGP IGP BBN NVPII PUP ARGUS ENCOM XNET CHAOS UDP MUX DCN HMP PRM XNS "
        "Trnk1 Trnk2 Leaf1 Leaf2 RDP IRTP ISO-4 NETBK MFESP MEINP DCCP 3PC IDPR XTP DDP IDPR TP++ IL IPv6 SDRP "
        "Rte6 Frag6 IDRP RSVP GRE MHRP BNA ESP AH INLSP SWIPE NARP MOBIL TLSP SKIP ICMP6 NOHE6 OPTS6 HOST CFTP "
        "NET SATNT KLAN RVD IPPC FS SATM VISA IPCV CPNX CPHB WSN PVP BSATM SUNND WBMON WBEXP ISOIP VMTP SVMTP "
        "VINES TTP NSIGP DGP TCF EIGRP OSPF S-RPC LARP MTP AX.25 OS MICP SCCSP ETHIP ENCAP 99 GMTP IFMP PNNI "
        "PIM ARIS SCPS QNX A/N IPcmp SNP CpqPP IPXIP VRRP PGM 0hop L2TP DDX IATP STP SRP UTI SMP SM PTP ISIS4 "
        "FIRE CRTP CRUDP 128 IPLT SPS PIPE SCTP FC 134 MHEAD UDP-L MPLS"
    )
    .upper()
    .split()
    + [str(n) for n in range(138, 256)]
)

_SP = 32
_ZERO = 48
_NINE = 57


def _buffers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The (offsets, data) of a string array as numpy views, offsets already shifted to the slice."""
    if not pa.types.is_string(arr.type):
        arr = arr.cast(pa.string())
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int32)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(1, np.uint8)
    return offsets, data


@nb.njit(cache=True, nogil=True)
def _trim(data: np.ndarray, a: int, b: int) -> tuple[int, int]:  # pragma: no cover - numba
    while a < b and data[a] == _SP:
        a += 1
    while b > a and data[b - 1] == _SP:
        b -= 1
    return a, b


@nb.njit(cache=True, nogil=True)
def uint_span(data: np.ndarray, a: int, b: int, letters: bool, dotted: bool) -> tuple[int, bool]:  # pragma: no cover
    """An unsigned integer of at most 18 digits in ``data[a:b]`` (blanks around ignored): (value, ok)."""
    a, b = _trim(data, a, b)
    if b - a == 1 and letters and (data[a] == 73 or data[a] == 69):  # 'I' ingress, 'E' egress
        return (0 if data[a] == 73 else 1), True
    if b <= a or b - a > 18:
        return 0, False
    v = 0
    hi = -1
    for j in range(a, b):
        c = data[j]
        if c == 46 and dotted and hi < 0 and j > a and j < b - 1 and v < 256:
            hi = v  # nfdump -o fmt prints an ICMP port as "type.code"
            v = 0
            continue
        if c < _ZERO or c > _NINE:
            return 0, False
        v = v * 10 + (c - _ZERO)
    if hi >= 0:
        if v >= 256:
            return 0, False
        v = hi * 256 + v
    return v, True


@nb.njit(cache=True, nogil=True)
def _digits(data: np.ndarray, a: int, k: int) -> int:  # pragma: no cover - numba
    v = 0
    for j in range(a, a + k):
        c = data[j]
        if c < _ZERO or c > _NINE:
            return -1
        v = v * 10 + (c - _ZERO)
    return v


@nb.njit(cache=True, nogil=True)
def _days_from_civil(y: int, m: int, d: int) -> int:  # pragma: no cover - numba
    # Howard Hinnant's days_from_civil: days since 1970-01-01 in the proleptic Gregorian calendar.
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


_MDAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], np.int64)


@nb.njit(cache=True, nogil=True)
def time_span(data: np.ndarray, a: int, b: int) -> tuple[int, bool]:  # pragma: no cover - numba
    """``YYYY-MM-DD HH:MM:SS[.f{1,3}]`` in ``data[a:b]`` as epoch milliseconds (UTC): (ms, ok)."""
    a, b = _trim(data, a, b)
    if b - a < 19 or b - a > 23 or b - a == 20:
        return 0, False
    if data[a + 4] != 45 or data[a + 7] != 45 or data[a + 10] != _SP or data[a + 13] != 58 or data[a + 16] != 58:
        return 0, False
    y = _digits(data, a, 4)
    mo = _digits(data, a + 5, 2)
    d = _digits(data, a + 8, 2)
    h = _digits(data, a + 11, 2)
    mi = _digits(data, a + 14, 2)
    s = _digits(data, a + 17, 2)
    if y < 0 or mo < 1 or mo > 12 or d < 1 or h < 0 or h > 23 or mi < 0 or mi > 59 or s < 0 or s > 59:
        return 0, False
    leap = (y % 4 == 0 and y % 100 != 0) or y % 400 == 0
    if d > _MDAYS[mo - 1] + (1 if (mo == 2 and leap) else 0):
        return 0, False
    frac = 0
    if b - a > 19:
        if data[a + 19] != 46:
            return 0, False
        k = b - a - 20
        frac = _digits(data, a + 20, k)
        if frac < 0:
            return 0, False
        for _ in range(3 - k):
            frac *= 10
    return ((_days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000 + s * 1000 + frac, True


@nb.njit(cache=True, nogil=True)
def duration_span(data: np.ndarray, a: int, b: int) -> tuple[int, bool]:  # pragma: no cover - numba
    """Non-negative decimal seconds in ``data[a:b]`` as whole milliseconds: (ms, ok)."""
    a, b = _trim(data, a, b)
    if b <= a or b - a > 20:
        return 0, False
    whole = 0
    frac = 0
    scale = 1000
    seen_dot = False
    nd = 0
    for j in range(a, b):
        c = data[j]
        if c == 46 and not seen_dot:
            seen_dot = True
        elif _ZERO <= c <= _NINE:
            nd += 1
            if seen_dot:
                if scale > 1:
                    scale //= 10
                    frac += (c - _ZERO) * scale
            else:
                whole = whole * 10 + (c - _ZERO)
        else:
            return 0, False
    if nd == 0 or nd > 16:
        return 0, False
    return whole * 1000 + frac, True


@nb.njit(cache=True, nogil=True)
def ip_span(data: np.ndarray, a: int, b: int) -> bool:  # pragma: no cover - numba
    """Whether ``data[a:b]`` is a dotted IPv4 address or looks like IPv6 text (hex digits, colons, dots)."""
    a, b = _trim(data, a, b)
    if b <= a or b - a > 45:
        return False
    colons = 0
    for j in range(a, b):
        if data[j] == 58:
            colons += 1
    if colons >= 2:  # IPv6 text: hex digits, colons, and a dotted IPv4 tail
        for j in range(a, b):
            c = data[j]
            if not (c == 58 or c == 46 or _ZERO <= c <= _NINE or 97 <= c <= 102 or 65 <= c <= 70):
                return False
        return True
    if colons:
        return False
    dots = 0
    octet = 0
    nd = 0
    for j in range(a, b):
        c = data[j]
        if c == 46:
            if nd == 0:
                return False
            dots += 1
            octet = 0
            nd = 0
        elif _ZERO <= c <= _NINE:
            octet = octet * 10 + (c - _ZERO)
            nd += 1
            if nd > 3 or octet > 255:
                return False
        else:
            return False
    return dots == 3 and nd > 0


@nb.njit(cache=True, nogil=True)
def default_span(data: np.ndarray, a: int, b: int) -> bool:  # pragma: no cover - numba
    """Whether ``data[a:b]`` is nfdump's rendering of an absent field.

    nfdump prints an absent extension as zeros: 0, 0.000, 0.0.0.0, ::, 00:00:..:00, 0-0-0,
    and an unset received time as 1970-01-01 00:00:00.000; blanks around are ignored.
    """
    a, b = _trim(data, a, b)
    if b - a >= 19 and data[a] == 49 and data[a + 1] == 57 and data[a + 2] == 55 and data[a + 3] == 48:
        for j in range(a + 4, b):  # "1970": check the rest is "-01-01 00:00:00[.000]"
            c = data[j]
            if not (c == _ZERO or c == 49 or c == 45 or c == 58 or c == 46 or c == _SP):  # noqa: SIM109 (numba)
                return False
        return True
    for j in range(a, b):
        c = data[j]
        if not (c == _ZERO or c == 46 or c == 58 or c == 45 or c == _SP):  # noqa: SIM109 (numba)
            return False
    return True


@nb.njit(cache=True, nogil=True)
def _uint_kernel(
    off: np.ndarray, data: np.ndarray, letters: bool, dotted: bool
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - numba
    n = len(off) - 1
    vals = np.zeros(n, np.int64)
    ok = np.zeros(n, np.bool_)
    for i in range(n):
        vals[i], ok[i] = uint_span(data, off[i], off[i + 1], letters, dotted)
    return vals, ok


@nb.njit(cache=True, nogil=True)
def _time_kernel(off: np.ndarray, data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - numba
    n = len(off) - 1
    ms = np.zeros(n, np.int64)
    ok = np.zeros(n, np.bool_)
    for i in range(n):
        ms[i], ok[i] = time_span(data, off[i], off[i + 1])
    return ms, ok


@nb.njit(cache=True, nogil=True)
def _duration_kernel(off: np.ndarray, data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    n = len(off) - 1
    ms = np.zeros(n, np.int64)
    ok = np.zeros(n, np.bool_)
    for i in range(n):
        ms[i], ok[i] = duration_span(data, off[i], off[i + 1])
    return ms, ok


@nb.njit(cache=True, nogil=True)
def _ip_kernel(off: np.ndarray, data: np.ndarray) -> np.ndarray:  # pragma: no cover - numba
    n = len(off) - 1
    ok = np.zeros(n, np.bool_)
    for i in range(n):
        ok[i] = ip_span(data, off[i], off[i + 1])
    return ok


@nb.njit(cache=True, nogil=True)
def _default_kernel(off: np.ndarray, data: np.ndarray) -> np.ndarray:  # pragma: no cover - numba
    n = len(off) - 1
    out = np.ones(n, np.bool_)
    for i in range(n):
        out[i] = default_span(data, off[i], off[i + 1])
    return out


def parse_uint(arr: pa.Array, *, letters: bool = False, dotted: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Unsigned decimal integers (at most 18 digits).

    ``letters`` also maps nfdump's I/E directions to 0/1; ``dotted`` reads ICMP's "type.code" as type*256+code.
    """
    off, data = _buffers(arr)
    return _uint_kernel(off, data, letters, dotted)


def parse_time(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """``YYYY-MM-DD HH:MM:SS[.fff]`` read as UTC, to epoch milliseconds; impossible dates are not ok."""
    off, data = _buffers(arr)
    return _time_kernel(off, data)


def parse_duration_ms(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Non-negative decimal seconds (``12.345``) to whole milliseconds (digits past the third dropped)."""
    off, data = _buffers(arr)
    return _duration_kernel(off, data)


def parse_ip(arr: pa.Array) -> np.ndarray:
    """Mask of values that are a dotted IPv4 address or look like IPv6 text (hex, colons, dots)."""
    off, data = _buffers(arr)
    return _ip_kernel(off, data)


def is_default(arr: pa.Array) -> np.ndarray:
    """Mask of values that are nfdump's rendering of an absent field (zeros, empty, the epoch)."""
    off, data = _buffers(arr)
    return _default_kernel(off, data)
