"""Make tests/data/netflow/v5-export.pcap: 3 NetFlow v5 datagrams (10 flows each) from 192.0.2.1 to port 2055."""

from __future__ import annotations

from pathlib import Path

from netspot.simulate.netflow import v5_datagram
from netspot.simulate.pcap import eth, ipv4, pcap_file, udp

SECS = 1_723_800_000


def main() -> None:
    packets = []
    for k in range(3):
        flows = [(f"10.0.0.{k + 1}", f"198.51.100.{i + 1}", 40000 + i, 443, 2 + i, 120 * (i + 1)) for i in range(10)]
        payload = v5_datagram(flows, SECS + k, seq=10 * k)
        packets.append(((SECS + k) * 1_000_000_000, eth(ipv4(udp(payload, 50000, 2055), "192.0.2.1", "192.0.2.9"))))
    (Path(__file__).parent / "v5-export.pcap").write_bytes(pcap_file(packets))


if __name__ == "__main__":
    main()
