"""Random bytes into the capture reader and the DNS decoder: no crash, no hang, only quarantine rows or FormatError."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netspot.errors import InputError
from netspot.ingest._pcap import decode_transport, read_packets
from netspot.ingest.base import Source
from netspot.ingest.dns.pcap import DnsPcapReader
from netspot.ingest.quarantine import Quarantine
from netspot.simulate.pcap import eth, ipv4, pcap_file, pcapng_file, tcp, udp

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PCAP_HEAD = pcap_file([])
PCAPNG_HEAD = pcapng_file([])


def _run(data: bytes) -> tuple[pa.Table | None, Quarantine]:
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "r.pcap"
        f.write_bytes(data)
        q = Quarantine(str(f), "dns-pcap")
        try:
            batches = list(DnsPcapReader().read(Source(f), q))
        except InputError:
            return None, q
        for p in read_packets(Source(f), Quarantine(str(f), "x")):
            decode_transport(p)
        schema = DnsPcapReader().schema
        table = pa.Table.from_batches(batches, schema=schema)
        assert all(b.schema == schema for b in batches)
        return table, q


@SETTINGS
@given(st.binary(max_size=2000))
def test_random_bytes_as_a_capture_raise_format_error_or_read(data: bytes) -> None:
    _run(data)


@SETTINGS
@given(st.sampled_from([PCAP_HEAD, PCAPNG_HEAD]), st.binary(max_size=3000))
def test_random_records_after_a_valid_header_never_crash(head: bytes, tail: bytes) -> None:
    table, _ = _run(head + tail)
    assert table is not None


@SETTINGS
@given(st.lists(st.binary(max_size=600), min_size=1, max_size=8), st.booleans())
def test_random_dns_payloads_give_rows_or_quarantine(payloads: list[bytes], over_tcp: bool) -> None:
    if over_tcp:
        stream = b"".join(len(p).to_bytes(2, "big") + p for p in payloads)
        frames = [eth(ipv4(tcp(stream, 5000, 53), "10.0.0.1", "10.0.0.2"))]
    else:
        frames = [eth(ipv4(udp(p, 5000, 53), "10.0.0.1", "10.0.0.2")) for p in payloads]
    table, q = _run(pcap_file([(10**18 + i, f) for i, f in enumerate(frames)]))
    assert table is not None
    assert table.num_rows + q.total == len(payloads)
