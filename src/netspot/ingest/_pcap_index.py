"""Numba kernels that index the packet records of a pcap or pcapng buffer (used by :mod:`._pcap`).

Each kernel walks the record headers of one in-memory chunk of the file and fills
preallocated columns (frame offset, lengths, timestamp, file offset); it stops at the
end of the complete records in the chunk, at ``maxn`` packets, or (pcapng) at a block
the Python driver must handle itself (a section or interface header, a bad block).
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: A record whose captured length is larger than this is taken as corruption (libpcap uses 256 KiB for
#: pcap and 16 MiB for pcapng as its "maximum snapshot length"; we allow more before giving up).
MAX_CAPLEN = 64 * 1024 * 1024
#: ``ts_ns`` of a packet that carries no timestamp (pcapng Simple Packet Block).
NO_TS = np.iinfo(np.int64).min

# pcapng block types (IETF draft-ietf-opsawg-pcapng, section 4)
SHB = 0x0A0D0D0A
IDB = 0x00000001
OPB = 0x00000002
SPB = 0x00000003
EPB = 0x00000006

# kernel status codes
ST_MORE = 0  # stopped at the end of the complete records (or at maxn)
ST_CORRUPT = 1  # a record/block header is impossible; the rest of the file cannot be framed
ST_HEADER = 2  # pcapng: SHB or IDB at ``pos``, the driver parses it and calls again
ST_BADBLOCK = 3  # pcapng: a packet block whose fields disagree with its length; driver quarantines it

# timestamp unit kinds per pcapng interface
TS_MUL = 0  # ns = t * factor        (resolution 10^-k, k <= 9)
TS_DIV = 1  # ns = t // factor       (resolution 10^-k, k > 9)
TS_BIN = 2  # ns = t * 1e9 / 2^factor (resolution 2^-k)


@njit(cache=True, inline="always")
def rd16(buf: np.ndarray, pos: int, swap: bool) -> int:
    a = np.int64(buf[pos])
    b = np.int64(buf[pos + 1])
    return int((b << 8) | a) if not swap else int((a << 8) | b)


@njit(cache=True, inline="always")
def rd32(buf: np.ndarray, pos: int, swap: bool) -> int:
    a = np.int64(buf[pos])
    b = np.int64(buf[pos + 1])
    c = np.int64(buf[pos + 2])
    d = np.int64(buf[pos + 3])
    if swap:
        return int((a << 24) | (b << 16) | (c << 8) | d)
    return int((d << 24) | (c << 16) | (b << 8) | a)


@njit(cache=True)
def index_pcap(
    buf: np.ndarray, pos: int, end: int, swap: bool, frac_ns: int, maxn: int,
    off: np.ndarray, cap: np.ndarray, wire: np.ndarray, ts: np.ndarray, foff: np.ndarray, base: int,
) -> tuple[int, int, int]:
    """Index classic pcap records in ``buf[pos:end]``; returns (packets, new pos, status)."""
    n = 0
    while n < maxn and pos + 16 <= end:
        sec = rd32(buf, pos, swap)
        frac = rd32(buf, pos + 4, swap)
        c = rd32(buf, pos + 8, swap)
        w = rd32(buf, pos + 12, swap)
        if c > MAX_CAPLEN:
            return n, pos, ST_CORRUPT
        if pos + 16 + c > end:
            break
        off[n] = pos + 16
        cap[n] = c
        wire[n] = min(w, 0x7FFFFFFF)
        ts[n] = sec * 1_000_000_000 + frac * frac_ns
        foff[n] = base + pos
        pos += 16 + c
        n += 1
    return n, pos, ST_MORE


@njit(cache=True)
def _to_ns(t: int, kind: int, factor: int) -> int:
    if kind == TS_MUL:
        return t * factor
    if kind == TS_DIV:
        return t // factor
    whole = t >> factor
    frac = t - (whole << factor)
    return whole * 1_000_000_000 + int((frac / (2.0**factor)) * 1e9)


@njit(cache=True)
def index_pcapng(
    buf: np.ndarray, pos: int, end: int, swap: bool, maxn: int,
    if_link: np.ndarray, if_kind: np.ndarray, if_factor: np.ndarray, if_offset_ns: np.ndarray, n_if: int,
    off: np.ndarray, cap: np.ndarray, wire: np.ndarray, ts: np.ndarray, foff: np.ndarray, link: np.ndarray,
    base: int,
) -> tuple[int, int, int]:
    """Index pcapng packet blocks (EPB, SPB, OPB) in ``buf[pos:end]``; other blocks are skipped.

    Returns (packets, new pos, status); on ST_HEADER/ST_BADBLOCK ``pos`` is the block's start.
    """
    n = 0
    while n < maxn and pos + 12 <= end:
        btype = rd32(buf, pos, swap)
        blen = rd32(buf, pos + 4, swap)
        if btype in (SHB, IDB):
            return n, pos, ST_HEADER
        if blen < 12 or blen % 4 != 0 or blen > MAX_CAPLEN:
            return n, pos, ST_CORRUPT
        if pos + blen > end:
            break
        if btype in (EPB, OPB):
            if blen < 32:
                return n, pos, ST_BADBLOCK
            iface = rd32(buf, pos + 8, swap) if btype == EPB else rd16(buf, pos + 8, swap)
            t = (rd32(buf, pos + 12, swap) << 32) | rd32(buf, pos + 16, swap)
            c = rd32(buf, pos + 20, swap)
            w = rd32(buf, pos + 24, swap)
            if iface >= n_if or 28 + c + 4 > blen:
                return n, pos, ST_BADBLOCK
            off[n] = pos + 28
            cap[n] = c
            wire[n] = min(w, 0x7FFFFFFF)
            ts[n] = _to_ns(t, if_kind[iface], if_factor[iface]) + if_offset_ns[iface]
            link[n] = if_link[iface]
            foff[n] = base + pos
            n += 1
        elif btype == SPB:
            if blen < 16 or n_if == 0:
                return n, pos, ST_BADBLOCK
            w = rd32(buf, pos + 8, swap)
            off[n] = pos + 12
            cap[n] = min(w, blen - 16)
            wire[n] = min(w, 0x7FFFFFFF)
            ts[n] = NO_TS
            link[n] = if_link[0]
            foff[n] = base + pos
            n += 1
        pos += blen
    return n, pos, ST_MORE
