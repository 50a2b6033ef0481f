"""DNS over TCP (RFC 1035 section 4.2.2, RFC 7766): stream reassembly and 2-byte length framing.

The slow path of :mod:`netspot.ingest.dns.pcap`: only TCP segments on port 53 with a
payload come here, one Python call per segment. Each direction of a connection is a
stream; segments are put in sequence order (retransmitted bytes are dropped, early
segments wait for the gap to fill), and every complete length-prefixed message is
returned with the segment that completed it, as tshark attributes it to that frame.

Examples
--------
>>> s = TcpStreams()
>>> s.feed(b"k", 100, 0x18, b"\\x00\\x03ab")
[]
>>> s.feed(b"k", 104, 0x18, b"c\\x00\\x01z")
[b'abc', b'z']
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["TcpStreams"]

_SYN = 0x02
_FIN = 0x01
_RST = 0x04
_MOD = 1 << 32
#: Out-of-order segments kept per stream while waiting for a gap to fill.
MAX_PENDING = 256
#: Streams tracked at once; the oldest is dropped beyond this (bounded memory on scans).
MAX_STREAMS = 65_536


def _diff(a: int, b: int) -> int:
    """Signed distance a - b in 32-bit sequence space."""
    d = (a - b) % _MOD
    return d - _MOD if d >= _MOD // 2 else d


@dataclass(slots=True)
class _Stream:
    next_seq: int | None = None
    data: bytearray = field(default_factory=bytearray)
    pending: dict[int, bytes] = field(default_factory=dict)
    last: object = None  # caller's tag of the last segment (for locating a cut message)


class TcpStreams:
    """Reassemble DNS messages from TCP segments of many streams."""

    def __init__(self) -> None:
        self._streams: dict[bytes, _Stream] = {}

    def feed(self, key: bytes, seq: int, flags: int, payload: bytes, tag: object = None) -> list[bytes]:
        """Add one segment of the stream ``key``; return the DNS messages it completes."""
        st = self._streams.get(key)
        if st is None:
            if len(self._streams) >= MAX_STREAMS:
                self._streams.pop(next(iter(self._streams)))
            st = self._streams[key] = _Stream()
        st.last = tag
        if flags & _SYN:
            st.next_seq = (seq + 1) % _MOD
            st.data.clear()
            st.pending.clear()
            seq = (seq + 1) % _MOD
        if payload:
            if st.next_seq is None:
                st.next_seq = seq
            self._add(st, seq, payload)
        out = self._messages(st)
        if flags & (_FIN | _RST) and not st.data:
            self._streams.pop(key, None)
        return out

    def _add(self, st: _Stream, seq: int, payload: bytes) -> None:
        assert st.next_seq is not None
        d = _diff(seq, st.next_seq)
        if d > 0:
            if len(st.pending) < MAX_PENDING:
                st.pending[seq] = payload
            return
        if -d >= len(payload):
            return  # a retransmission of bytes we have
        st.data += payload[-d:]
        st.next_seq = (st.next_seq + len(payload) + d) % _MOD
        while st.pending:
            ready = [s for s in st.pending if _diff(s, st.next_seq) <= 0]
            if not ready:
                break
            for s in ready:
                seg = st.pending.pop(s)
                k = -_diff(s, st.next_seq)
                if k < len(seg):
                    st.data += seg[k:]
                    st.next_seq = (st.next_seq + len(seg) - k) % _MOD

    @staticmethod
    def _messages(st: _Stream) -> list[bytes]:
        out = []
        data = st.data
        pos = 0
        while len(data) - pos >= 2:
            n = (data[pos] << 8) | data[pos + 1]
            if len(data) - pos - 2 < n:
                break
            out.append(bytes(data[pos + 2 : pos + 2 + n]))
            pos += 2 + n
        if pos:
            del data[:pos]
        return out

    def leftovers(self) -> list[tuple[object, bytes]]:
        """(tag of the last segment, bytes) of every stream that ends inside a message."""
        return [(st.last, bytes(st.data)) for st in self._streams.values() if st.data]
