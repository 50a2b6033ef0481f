"""A minimal pcap writer (Ethernet / IPv4 / UDP) for synthetic captures."""

from __future__ import annotations

import ipaddress
import struct
from typing import BinaryIO

__all__ = ["PcapWriter"]

_ETH = bytes.fromhex("020000000001020000000002") + b"\x08\x00"


class PcapWriter:
    """Write Ethernet/IPv4/UDP packets to a classic little-endian microsecond pcap."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))

    def udp(self, ts_us: int, src: str, dst: str, sport: int, dport: int, payload: bytes) -> None:
        udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
        total = 20 + len(udp)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000, 64, 17, 0,
                         ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed)
        frame = _ETH + ip + udp
        self.fh.write(struct.pack("<IIII", ts_us // 1_000_000, ts_us % 1_000_000, len(frame), len(frame)))
        self.fh.write(frame)
