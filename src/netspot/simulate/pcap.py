"""Build small packet captures in memory: frames for tests, benchmarks and wrapping export payloads.

Examples
--------
>>> frame = eth(ipv4(udp(b"hi", 1234, 53), "10.0.0.1", "10.0.0.2"))
>>> data = pcap_file([(1_600_000_000_000_000_000, frame)])
>>> len(data), data[:4].hex()
(84, 'd4c3b2a1')
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable, Sequence

__all__ = ["eth", "ipv4", "ipv6", "pcap_file", "pcapng_file", "tcp", "udp"]


def udp(payload: bytes, sport: int, dport: int) -> tuple[int, bytes]:
    """A UDP header + payload, tagged with protocol number 17 for :func:`ipv4`/:func:`ipv6`."""
    return 17, struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload


def tcp(payload: bytes, sport: int, dport: int, seq: int = 1, flags: int = 0x18) -> tuple[int, bytes]:
    """A 20-byte TCP header + payload (protocol 6)."""
    head = struct.pack(">HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, 0, 5 << 4, flags, 65535, 0, 0)
    return 6, head + payload


def ipv4(l4: tuple[int, bytes], src: str, dst: str, *, options: bytes = b"", frag: int = 0) -> bytes:
    """An IPv4 packet (checksum left 0: readers do not check it)."""
    proto, body = l4
    ihl = 5 + len(options) // 4
    head = struct.pack(">BBHHHBBH4s4s", 0x40 | ihl, 0, ihl * 4 + len(body), 1, frag, 64, proto, 0,
                       ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed)
    return head + options + body


def ipv6(l4: tuple[int, bytes], src: str, dst: str, *, ext: Sequence[tuple[int, bytes]] = ()) -> bytes:
    """An IPv6 packet; ``ext`` is a list of (header type, header bytes) placed before the L4 header."""
    proto, body = l4
    chain = b""
    types = [t for t, _ in ext] + [proto]
    for k, (_, h) in enumerate(ext):
        chain += bytes([types[k + 1]]) + h[1:]
    return struct.pack(">IHBB16s16s", 6 << 28, len(chain) + len(body), types[0], 64,
                       ipaddress.IPv6Address(src).packed, ipaddress.IPv6Address(dst).packed) + chain + body


def eth(ip: bytes, vlans: Sequence[int] = ()) -> bytes:
    """An Ethernet II frame around ``ip`` (ethertype from the IP version), with optional 802.1Q tags."""
    tags = b"".join(struct.pack(">HH", 0x8100, v) for v in vlans)
    et = 0x86DD if ip[0] >> 4 == 6 else 0x0800
    return b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb" + tags + struct.pack(">H", et) + ip


def pcap_file(packets: Iterable[tuple[int, bytes]], linktype: int = 1, *, nanos: bool = False,
              big_endian: bool = False) -> bytes:
    """A classic pcap file of (epoch ns, frame) pairs."""
    e = ">" if big_endian else "<"
    out = [struct.pack(e + "IHHiIII", 0xA1B23C4D if nanos else 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype)]
    for ts_ns, frame in packets:
        sec, ns = divmod(ts_ns, 1_000_000_000)
        out.append(struct.pack(e + "IIII", sec, ns if nanos else ns // 1000, len(frame), len(frame)) + frame)
    return b"".join(out)


def _block(e: str, btype: int, body: bytes) -> bytes:
    body += b"\x00" * (-len(body) % 4)
    n = len(body) + 12
    return struct.pack(e + "II", btype, n) + body + struct.pack(e + "I", n)


def pcapng_file(packets: Iterable[tuple[int, bytes]], linktype: int = 1, *, tsresol: int = 6,
                big_endian: bool = False) -> bytes:
    """A pcapng file: one section, one interface with ``if_tsresol`` = ``tsresol``, one EPB per packet."""
    e = ">" if big_endian else "<"
    out = [_block(e, 0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1))]
    opts = struct.pack(e + "HH", 9, 1) + bytes([tsresol, 0, 0, 0]) + struct.pack(e + "HH", 0, 0)
    out.append(_block(e, 1, struct.pack(e + "HHI", linktype, 0, 262144) + opts))
    for ts_ns, frame in packets:
        scaled = ts_ns << (tsresol & 0x7F) if tsresol & 0x80 else ts_ns * 10**tsresol
        t = scaled // 1_000_000_000
        body = struct.pack(e + "IIIII", 0, t >> 32, t & 0xFFFFFFFF, len(frame), len(frame)) + frame
        out.append(_block(e, 6, body))
    return b"".join(out)
