"""Build NetFlow v5 export datagrams (for tests, the demo and load generation)."""

from __future__ import annotations

import socket
import struct
from collections.abc import Sequence

__all__ = ["V5Flow", "v5_datagram"]

#: (src, dst, sport, dport, packets, bytes)
V5Flow = tuple[str, str, int, int, int, int]


def v5_datagram(flows: Sequence[V5Flow], unix_secs: int, uptime_ms: int = 50_000, seq: int = 0,
                proto: int = 6) -> bytes:
    """A NetFlow v5 datagram: the 24-byte header and one 48-byte record per flow.

    Each flow starts 2 s and ends 1 s before the export (router uptime ``uptime_ms``).

    Examples
    --------
    >>> d = v5_datagram([("10.0.0.1", "192.0.2.7", 40000, 443, 3, 180)], unix_secs=1_723_800_000)
    >>> len(d), d[:2].hex()
    (72, '0005')
    """
    head = struct.pack("!HHIIIIBBH", 5, len(flows), uptime_ms, unix_secs, 0, seq, 0, 0, 0)
    body = b"".join(
        struct.pack(
            "!4s4s4sHHIIIIHHBBBBHHBBH",
            socket.inet_aton(src), socket.inet_aton(dst), socket.inet_aton("0.0.0.0"), 1, 2, pkts, octets,
            uptime_ms - 2000, uptime_ms - 1000, sport, dport, 0, 0x1B, proto, 0, 0, 0, 0, 0, 0,
        )
        for src, dst, sport, dport, pkts, octets in flows
    )
    return head + body
