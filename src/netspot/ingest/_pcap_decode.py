"""Link, IP and TCP/UDP header decoding of a chunk of packets, in numba (used by :mod:`._pcap`).

Link types (tcpdump.org/linktypes.html): 0 BSD null, 1 Ethernet (with any number of
802.1Q/802.1ad/QinQ tags and PPPoE sessions), 12/14/101 raw IP, 108 OpenBSD loopback,
113 Linux cooked (SLL), 228 raw IPv4, 229 raw IPv6, 276 Linux cooked v2 (SLL2).
IPv4 options and IPv6 extension headers (hop-by-hop, routing, destination options,
fragment, AH) are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

if TYPE_CHECKING:
    from netspot.ingest._pcap import Packets

#: ``Transport.status`` codes.
ST_OK = 0  #: IPv4/IPv6 decoded, and its TCP/UDP header when the protocol is TCP or UDP
ST_NOT_IP = 1  #: the frame carries something other than IPv4/IPv6 (ARP, LLDP, ...)
ST_TRUNCATED = 2  #: the captured bytes end inside a link, IP or TCP/UDP header
ST_FRAGMENT = 3  #: an IP fragment (first or later): no complete L4 payload in this packet
ST_MALFORMED = 4  #: a header field is impossible (IPv4 IHL < 5, UDP length < 8, TCP offset < 5, ...)
ST_UNSUPPORTED_LINK = 5  #: a link type this decoder does not know

_ETH_IP4 = 0x0800
_ETH_IP6 = 0x86DD


@dataclass(slots=True)
class Transport:
    """L3/L4 header fields of a chunk of packets, one row per packet (see the ``ST_*`` status codes).

    ``src``/``dst`` are 16-byte addresses (IPv4 in the first 4 bytes); ``payload_off``
    indexes the chunk's ``buf``; ``payload_len`` is clipped to the captured bytes (UDP:
    from the UDP length; TCP: from the IP length). ``tcp_seq``/``tcp_flags`` are 0 but
    for TCP. For rows that are not ``ST_OK`` only the fields decoded so far are set.
    """

    status: np.ndarray
    family: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    proto: np.ndarray
    sport: np.ndarray
    dport: np.ndarray
    payload_off: np.ndarray
    payload_len: np.ndarray
    tcp_seq: np.ndarray
    tcp_flags: np.ndarray

    def __len__(self) -> int:
        return len(self.status)


@njit(cache=True, inline="always")
def _be16(buf: np.ndarray, p: int) -> int:
    return int((np.int64(buf[p]) << 8) | np.int64(buf[p + 1]))


@njit(cache=True)
def _link(buf: np.ndarray, p: int, end: int, link: int) -> tuple[int, int]:
    """Skip the link header: returns (status, IP header offset)."""
    if link == 1:  # Ethernet
        if p + 14 > end:
            return ST_TRUNCATED, p
        et = _be16(buf, p + 12)
        p += 14
        while et == 0x8100 or et == 0x88A8 or et == 0x9100:
            if p + 4 > end:
                return ST_TRUNCATED, p
            et = _be16(buf, p + 2)
            p += 4
        if et == 0x8864:  # PPPoE session: 6-byte header, then a PPP protocol number
            if p + 8 > end:
                return ST_TRUNCATED, p
            ppp = _be16(buf, p + 6)
            p += 8
            et = _ETH_IP4 if ppp == 0x0021 else (_ETH_IP6 if ppp == 0x0057 else 0)
        if et in (_ETH_IP4, _ETH_IP6):
            return ST_OK, p
        return ST_NOT_IP, p
    if link == 113 or link == 276:  # Linux cooked capture v1 / v2
        hl = 16 if link == 113 else 20
        if p + hl > end:
            return ST_TRUNCATED, p
        et = _be16(buf, p + (14 if link == 113 else 0))
        if et in (_ETH_IP4, _ETH_IP6):
            return ST_OK, p + hl
        return ST_NOT_IP, p
    if link == 101 or link == 228 or link == 229 or link == 12 or link == 14:
        return ST_OK, p
    if link == 0 or link == 108:  # BSD loopback: 4-byte address family, host or network order
        if p + 4 > end:
            return ST_TRUNCATED, p
        fam = np.int64(buf[p]) | np.int64(buf[p + 3])
        if fam == 2 or fam == 24 or fam == 28 or fam == 30:
            return ST_OK, p + 4
        return ST_NOT_IP, p
    return ST_UNSUPPORTED_LINK, p


@njit(cache=True)
def _decode(buf: np.ndarray, offset: np.ndarray, caplen: np.ndarray, linktype: np.ndarray,
            status: np.ndarray, family: np.ndarray, src: np.ndarray, dst: np.ndarray, proto: np.ndarray,
            sport: np.ndarray, dport: np.ndarray, poff: np.ndarray, plen: np.ndarray,
            seq: np.ndarray, flags: np.ndarray) -> None:
    for i in range(len(offset)):
        p = offset[i]
        end = p + caplen[i]
        st, p = _link(buf, p, end, linktype[i])
        status[i] = st
        if st != ST_OK:
            continue
        if p + 1 > end:
            status[i] = ST_TRUNCATED
            continue
        ver = buf[p] >> 4
        if ver == 4:
            if p + 20 > end:
                status[i] = ST_TRUNCATED
                continue
            ihl = (buf[p] & 0xF) * 4
            total = _be16(buf, p + 2)
            family[i] = 4
            for k in range(4):
                src[i, k] = buf[p + 12 + k]
                dst[i, k] = buf[p + 16 + k]
            proto[i] = buf[p + 9]
            if ihl < 20 or total < ihl:
                status[i] = ST_MALFORMED
                continue
            frag = _be16(buf, p + 6)
            if (frag & 0x3FFF) != 0:
                status[i] = ST_FRAGMENT
                continue
            ip_end = min(end, p + total)
            p += ihl
            nh = np.int64(proto[i])
        elif ver == 6:
            if p + 40 > end:
                status[i] = ST_TRUNCATED
                continue
            family[i] = 6
            for k in range(16):
                src[i, k] = buf[p + 8 + k]
                dst[i, k] = buf[p + 24 + k]
            pl = _be16(buf, p + 4)
            ip_end = min(end, p + 40 + pl) if pl else end
            nh = np.int64(buf[p + 6])
            p += 40
            while nh == 0 or nh == 43 or nh == 60 or nh == 44 or nh == 51:
                if p + 8 > ip_end:
                    status[i] = ST_TRUNCATED
                    break
                if nh == 44:
                    if (_be16(buf, p + 2) & 0xFFF9) != 0:
                        status[i] = ST_FRAGMENT
                        break
                    hl = 8
                elif nh == 51:
                    hl = (int(buf[p + 1]) + 2) * 4
                else:
                    hl = (int(buf[p + 1]) + 1) * 8
                nh = np.int64(buf[p])
                p += hl
            if status[i] != ST_OK:
                continue
            proto[i] = nh
        else:
            status[i] = ST_MALFORMED
            continue
        if p > ip_end:
            status[i] = ST_TRUNCATED
            continue
        if nh == 17:
            if p + 8 > ip_end:
                status[i] = ST_TRUNCATED
                continue
            sport[i] = _be16(buf, p)
            dport[i] = _be16(buf, p + 2)
            ulen = _be16(buf, p + 4)
            if ulen < 8:
                if not (ulen == 0 and family[i] == 6):  # 0 = IPv6 jumbogram
                    status[i] = ST_MALFORMED
                    continue
                ulen = ip_end - p
            poff[i] = p + 8
            plen[i] = max(0, min(ulen, ip_end - p) - 8)
        elif nh == 6:
            if p + 20 > ip_end:
                status[i] = ST_TRUNCATED
                continue
            sport[i] = _be16(buf, p)
            dport[i] = _be16(buf, p + 2)
            seq[i] = (_be16(buf, p + 4) << 16) | _be16(buf, p + 6)
            doff = (buf[p + 12] >> 4) * 4
            flags[i] = buf[p + 13]
            if doff < 20:
                status[i] = ST_MALFORMED
                continue
            if p + doff > ip_end:
                status[i] = ST_TRUNCATED
                continue
            poff[i] = p + doff
            plen[i] = ip_end - p - doff
        else:
            poff[i] = p
            plen[i] = ip_end - p


def decode_transport(p: Packets) -> Transport:
    """Decode the link, IP and TCP/UDP headers of every packet of a :class:`~._pcap.Packets` chunk."""
    n = len(p.offset)
    t = Transport(
        status=np.zeros(n, np.int8), family=np.zeros(n, np.int8), src=np.zeros((n, 16), np.uint8),
        dst=np.zeros((n, 16), np.uint8), proto=np.zeros(n, np.uint8), sport=np.zeros(n, np.int32),
        dport=np.zeros(n, np.int32), payload_off=np.zeros(n, np.int64), payload_len=np.zeros(n, np.int32),
        tcp_seq=np.zeros(n, np.int64), tcp_flags=np.zeros(n, np.uint8),
    )
    if n:
        _decode(p.buf, p.offset, p.caplen, p.linktype, t.status, t.family, t.src, t.dst,
                t.proto, t.sport, t.dport, t.payload_off, t.payload_len, t.tcp_seq, t.tcp_flags)
    return t
