"""Columnar packet capture reading: pcap and pcapng files as chunks of packets.

:func:`read_packets` reads a capture (classic pcap in either byte order with micro- or
nanosecond timestamps, or pcapng with any number of sections and interfaces) in
chunks of bytes, and yields one :class:`Packets` per chunk: the frames stay in the
chunk's byte buffer and the packets are described by columns (offset, lengths,
timestamp, link type, packet number). Memory stays bounded on multi-GB files.
:func:`decode_transport` decodes link, IP and TCP/UDP headers of a chunk in numba and
:func:`ip_text` renders addresses as text.

Examples
--------
>>> is_capture(bytes.fromhex("d4c3b2a1")), is_capture(b"hello")
(True, False)
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

import numpy as np

from netspot.errors import FormatError, Location, TruncatedInputError
from netspot.ingest._pcap_decode import (
    ST_FRAGMENT,
    ST_MALFORMED,
    ST_NOT_IP,
    ST_OK,
    ST_TRUNCATED,
    ST_UNSUPPORTED_LINK,
    Transport,
    decode_transport,
)
from netspot.ingest._pcap_index import (
    IDB,
    MAX_CAPLEN,
    NO_TS,
    SHB,
    ST_BADBLOCK,
    ST_CORRUPT,
    ST_HEADER,
    TS_BIN,
    TS_DIV,
    TS_MUL,
    index_pcap,
    index_pcapng,
)
from netspot.ingest._pcap_text import ip_text
from netspot.ingest.base import DECOMPRESSION_ERRORS, Source
from netspot.ingest.quarantine import Quarantine, QuarantineReason

__all__ = [
    "NO_TS",
    "ST_FRAGMENT",
    "ST_MALFORMED",
    "ST_NOT_IP",
    "ST_OK",
    "ST_TRUNCATED",
    "ST_UNSUPPORTED_LINK",
    "Packets",
    "Transport",
    "decode_transport",
    "ip_text",
    "is_capture",
    "read_packets",
]

#: Bytes read from the file at a time (each chunk of packets holds at most this much plus one record).
CHUNK_BYTES = 16 * 1024 * 1024

#: pcap magic (as read little-endian) -> (byte-swapped, nanoseconds per timestamp fraction unit)
_PCAP_MAGICS = {
    0xA1B2C3D4: (False, 1000),
    0xA1B23C4D: (False, 1),
    0xD4C3B2A1: (True, 1000),
    0x4D3CB2A1: (True, 1),
}
_PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"


def is_capture(head: bytes) -> bool:
    """True when ``head`` starts with a pcap or pcapng magic number."""
    if len(head) < 4:
        return False
    if head[:4] == _PCAPNG_MAGIC:
        return len(head) < 12 or head[8:12] in (b"\x1a\x2b\x3c\x4d", b"\x4d\x3c\x2b\x1a")
    return struct.unpack("<I", head[:4])[0] in _PCAP_MAGICS


@dataclass(slots=True)
class Packets:
    """One chunk of packets, columnar; frame ``i`` is ``buf[offset[i]:offset[i] + caplen[i]]``.

    ``ts_ns`` is :data:`NO_TS` for a packet that has no timestamp (pcapng Simple Packet Block).
    """

    buf: np.ndarray
    offset: np.ndarray
    caplen: np.ndarray
    wirelen: np.ndarray
    ts_ns: np.ndarray
    linktype: np.ndarray
    number: np.ndarray
    file_offset: np.ndarray

    def __len__(self) -> int:
        return len(self.offset)

    def frame(self, i: int) -> bytes:
        """The captured bytes of packet ``i`` (slow path: quarantine, tests)."""
        o = int(self.offset[i])
        return bytes(self.buf[o : o + int(self.caplen[i])])


class _Stream:
    """A file read in chunks into fresh numpy buffers; bytes not yet consumed move to the next buffer."""

    def __init__(self, fh: IO[bytes], chunk: int, name: str) -> None:
        self.fh = fh
        self.name = name
        self.chunk = chunk
        self.buf = np.empty(0, np.uint8)
        self.pos = 0
        self.end = 0
        self.base = 0  # file offset of buf[0]
        self.eof = False

    def refill(self, need: int = 0) -> None:
        left = self.end - self.pos
        new = np.empty(left + max(self.chunk, need), np.uint8)
        new[:left] = self.buf[self.pos : self.end]
        view = memoryview(new.data)[left:]
        got = 0
        while got < len(view):
            try:
                k = self.fh.readinto(view[got:])  # type: ignore[attr-defined]
            except EOFError:  # a cut compressed stream: keep what was read, the cut record is quarantined
                k = 0
            except DECOMPRESSION_ERRORS as exc:
                raise FormatError(f"cannot decompress: {exc}", Location(self.name, offset=self.base + got)) from exc
            if not k:
                self.eof = True
                break
            got += k
        self.base += self.pos
        self.buf, self.pos, self.end = new, 0, left + got

    def ensure(self, size: int) -> bool:
        """Make ``size`` bytes from ``pos`` available; False when the file ends first."""
        while self.end - self.pos < size and not self.eof:
            self.refill(size)
        return self.end - self.pos >= size

    def bytes_at(self, size: int) -> bytes:
        return bytes(self.buf[self.pos : self.pos + size])


class _Columns:
    """Preallocated output columns for one kernel call."""

    def __init__(self, n: int) -> None:
        self.off = np.empty(n, np.int64)
        self.cap = np.empty(n, np.int32)
        self.wire = np.empty(n, np.int32)
        self.ts = np.empty(n, np.int64)
        self.foff = np.empty(n, np.int64)
        self.link = np.empty(n, np.int32)

    def packets(self, buf: np.ndarray, n: int, first: int) -> Packets:
        return Packets(
            buf, self.off[:n].copy(), self.cap[:n].copy(), self.wire[:n].copy(), self.ts[:n].copy(),
            self.link[:n].copy(), np.arange(first, first + n, dtype=np.int64), self.foff[:n].copy(),
        )


def read_packets(src: Source, quarantine: Quarantine, chunk_packets: int = 262_144) -> Iterator[Packets]:
    """Yield the packets of the capture ``src`` in chunks of at most ``chunk_packets``.

    A truncated last record is quarantined (TRUNCATED, ``packet N (offset X)``); a
    record header that cannot be framed stops the read with a MALFORMED row. A file
    that is not a capture raises :class:`FormatError`; a cut file header raises
    :class:`TruncatedInputError`.
    """
    with src.open() as fh:
        st = _Stream(fh, CHUNK_BYTES, src.name)
        if not st.ensure(4):
            raise TruncatedInputError(f"expected a capture header, got {st.end} bytes", Location(src.name))
        magic = st.bytes_at(4)
        if magic == _PCAPNG_MAGIC:
            yield from _read_pcapng(src, st, quarantine, chunk_packets)
        elif struct.unpack("<I", magic)[0] in _PCAP_MAGICS:
            yield from _read_pcap(src, st, quarantine, chunk_packets)
        else:
            raise FormatError(f"not a pcap or pcapng file (magic {magic.hex()})", Location(src.name))


def _locator(number: int, offset: int) -> str:
    return f"packet {number} (offset {offset})"


def _tail(src: Source, st: _Stream, q: Quarantine, number: int, need: int) -> None:
    """Quarantine the bytes left at the end of the file (a cut record)."""
    if st.end > st.pos:
        q.add(_locator(number, st.base + st.pos), QuarantineReason.TRUNCATED,
              f"expected a {need}-byte record, file ends after {st.end - st.pos} bytes",
              st.bytes_at(st.end - st.pos))


def _read_pcap(src: Source, st: _Stream, q: Quarantine, maxn: int) -> Iterator[Packets]:
    if not st.ensure(24):
        raise TruncatedInputError(f"pcap header: expected 24 bytes, got {st.end}", Location(src.name))
    swap, frac_ns = _PCAP_MAGICS[struct.unpack("<I", st.bytes_at(4))[0]]
    link = struct.unpack(">I" if swap else "<I", st.bytes_at(24)[20:24])[0] & 0x03FFFFFF
    st.pos += 24
    number = 1
    while True:
        cols = _Columns(min(maxn, (st.end - st.pos) // 16 + 1))
        n, st.pos, status = index_pcap(st.buf, st.pos, st.end, swap, frac_ns, len(cols.off), cols.off,
                                       cols.cap, cols.wire, cols.ts, cols.foff, st.base)
        if n:
            cols.link[:n] = link
            yield cols.packets(st.buf, n, number)
            number += n
        if status == ST_CORRUPT:
            head = st.bytes_at(16)
            caplen = struct.unpack(">I" if swap else "<I", head[8:12])[0]
            q.add(_locator(number, st.base + st.pos), QuarantineReason.MALFORMED,
                  f"record header: expected caplen <= {MAX_CAPLEN}, got {caplen}; rest of file not readable",
                  st.bytes_at(min(st.end - st.pos, 4096)))
            return
        if n == len(cols.off) and n > 0:
            continue
        need = 16
        if st.end - st.pos >= 16:
            need += struct.unpack(">I" if swap else "<I", st.bytes_at(12)[8:12])[0]
        if st.eof or not st.ensure(need):
            _tail(src, st, q, number, need)
            return


@dataclass(slots=True)
class _Section:
    swap: bool = False
    link: list[int] | None = None
    kind: list[int] | None = None
    factor: list[int] | None = None
    offset_ns: list[int] | None = None


def _ts_unit(resol: int) -> tuple[int, int]:
    """pcapng if_tsresol -> (kind, factor) for the timestamp kernel."""
    if resol & 0x80:
        return TS_BIN, min(resol & 0x7F, 62)
    k = resol & 0x7F
    return (TS_MUL, 10 ** (9 - k)) if k <= 9 else (TS_DIV, 10 ** min(k - 9, 18))


def _parse_idb(body: bytes, swap: bool) -> tuple[int, int, int, int]:
    """An Interface Description Block's body -> (linktype, ts kind, ts factor, ts offset ns)."""
    e = ">" if swap else "<"
    link = struct.unpack(e + "H", body[0:2])[0]
    kind, factor, offset_s = TS_MUL, 1000, 0  # default resolution: microseconds
    pos = 8
    while pos + 4 <= len(body):
        code, olen = struct.unpack(e + "HH", body[pos : pos + 4])
        if code == 0:
            break
        val = body[pos + 4 : pos + 4 + olen]
        if code == 9 and olen >= 1:
            kind, factor = _ts_unit(val[0])
        elif code == 14 and olen >= 8:
            offset_s = struct.unpack(e + "q", val[:8])[0]
        pos += 4 + (olen + 3) // 4 * 4
    return link, kind, factor, offset_s * 1_000_000_000


def _read_pcapng(src: Source, st: _Stream, q: Quarantine, maxn: int) -> Iterator[Packets]:
    sec = _Section()
    number = 1
    first = True
    while True:
        # a block header the driver handles: SHB, IDB (or the file start)
        if st.ensure(12):
            head = st.bytes_at(12)
            if head[:4] == _PCAPNG_MAGIC:
                bom = head[8:12]
                if bom not in (b"\x1a\x2b\x3c\x4d", b"\x4d\x3c\x2b\x1a"):
                    if first:
                        raise FormatError(f"pcapng: bad byte-order magic {bom.hex()}", Location(src.name))
                    _bad(st, q, number, "section header: bad byte-order magic")
                    return
                sec = _Section(swap=bom == b"\x1a\x2b\x3c\x4d", link=[], kind=[], factor=[], offset_ns=[])
            e = ">" if sec.swap else "<"
            btype, blen = struct.unpack(e + "II", head[:8])
            if btype in (SHB, IDB):
                if blen < 12 or blen % 4 or blen > MAX_CAPLEN:
                    if first:
                        raise FormatError(f"pcapng: bad section header length {blen}", Location(src.name))
                    _bad(st, q, number, f"block length: expected a multiple of 4 in 12..{MAX_CAPLEN}, "
                                        f"got {blen}")
                    return
                if not st.ensure(blen):
                    if first:
                        raise TruncatedInputError(f"pcapng section header: expected {blen} bytes, got "
                                                  f"{st.end - st.pos}", Location(src.name))
                    _tail(src, st, q, number, blen)
                    return
                if btype == IDB and sec.link is not None and blen >= 20:
                    link, kind, factor, off = _parse_idb(st.bytes_at(blen - 4)[8:], sec.swap)
                    sec.link.append(link)
                    sec.kind.append(kind)  # type: ignore[union-attr]
                    sec.factor.append(factor)  # type: ignore[union-attr]
                    sec.offset_ns.append(off)  # type: ignore[union-attr]
                st.pos += blen
                first = False
                continue
        elif first:
            raise TruncatedInputError(f"pcapng section header: expected 12 bytes, got {st.end}",
                                      Location(src.name))
        first = False
        if_link = np.array(sec.link or [0], np.int32)
        if_kind = np.array(sec.kind or [0], np.int64)
        if_factor = np.array(sec.factor or [1], np.int64)
        if_off = np.array(sec.offset_ns or [0], np.int64)
        n_if = len(sec.link or [])
        status = ST_HEADER
        while True:
            cols = _Columns(min(maxn, (st.end - st.pos) // 16 + 1))
            n, st.pos, status = index_pcapng(st.buf, st.pos, st.end, sec.swap, len(cols.off), if_link,
                                             if_kind, if_factor, if_off, n_if, cols.off, cols.cap, cols.wire,
                                             cols.ts, cols.foff, cols.link, st.base)
            if n:
                yield cols.packets(st.buf, n, number)
                number += n
            if status != 0 or (n == len(cols.off) and n > 0):
                if status != 0:
                    break
                continue
            if st.eof:
                break
            st.refill()
        if status == ST_HEADER:
            continue
        if status == ST_CORRUPT:
            _bad(st, q, number, "block length: expected a multiple of 4 of at least 12 bytes")
            return
        if status == ST_BADBLOCK:
            blen = struct.unpack((">" if sec.swap else "<") + "I", st.bytes_at(8)[4:8])[0]
            q.add(_locator(number, st.base + st.pos), QuarantineReason.MALFORMED,
                  "packet block: captured length or interface id does not fit the block",
                  st.bytes_at(min(blen, 4096)))
            number += 1
            st.pos += blen
            continue
        # end of file
        need = 12
        if st.end - st.pos >= 8:
            need = struct.unpack((">" if sec.swap else "<") + "I", st.bytes_at(8)[4:8])[0]
        _tail(src, st, q, number, need)
        return


def _bad(st: _Stream, q: Quarantine, number: int, why: str) -> None:
    q.add(_locator(number, st.base + st.pos), QuarantineReason.MALFORMED, why + "; rest of file not readable",
          st.bytes_at(min(st.end - st.pos, 4096)))
