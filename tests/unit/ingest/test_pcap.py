"""Columnar pcap/pcapng reading, transport decoding and IP formatting."""

from __future__ import annotations

import ipaddress
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from netspot.errors import FormatError, TruncatedInputError
from netspot.ingest._pcap import (
    ST_FRAGMENT,
    ST_NOT_IP,
    ST_OK,
    ST_TRUNCATED,
    Packets,
    Transport,
    decode_transport,
    ip_text,
    is_capture,
    read_packets,
)
from netspot.ingest.base import Source
from netspot.ingest.quarantine import Quarantine
from netspot.simulate.pcap import eth, ipv4, ipv6, pcap_file, pcapng_file, tcp, udp
from tests.conftest import require_tool

T0 = 1_691_218_211_123_456_789


def _read(tmp_path: Path, data: bytes, chunk: int = 262_144) -> tuple[list[Packets], Quarantine]:
    f = tmp_path / "x.pcap"
    f.write_bytes(data)
    q = Quarantine(str(f), "test")
    return list(read_packets(Source(f), q, chunk_packets=chunk)), q


def _frames(n: int) -> list[tuple[int, bytes]]:
    return [(T0 + i * 1000, eth(ipv4(udp(bytes([i % 256]) * (i % 7), 1000 + i, 53), "10.0.0.1", "10.0.0.2")))
            for i in range(n)]


@pytest.mark.parametrize("big_endian", [False, True])
@pytest.mark.parametrize("nanos", [False, True])
def test_pcap_of_either_byte_order_and_resolution_gives_frames_times_and_numbers(
    tmp_path: Path, big_endian: bool, nanos: bool
) -> None:
    pkts = _frames(5)
    chunks, q = _read(tmp_path, pcap_file(pkts, nanos=nanos, big_endian=big_endian))
    p = chunks[0]
    assert [p.frame(i) for i in range(5)] == [f for _, f in pkts]
    want = np.array([t for t, _ in pkts]) if nanos else np.array([t // 1000 * 1000 for t, _ in pkts])
    assert p.ts_ns.tolist() == want.tolist()
    assert p.number.tolist() == [1, 2, 3, 4, 5]
    assert p.linktype.tolist() == [1] * 5
    assert p.file_offset[0] == 24
    assert q.total == 0


@pytest.mark.parametrize("big_endian", [False, True])
@pytest.mark.parametrize("tsresol", [6, 9, 3, 0x80 | 30])
def test_pcapng_honours_byte_order_and_if_tsresol(tmp_path: Path, big_endian: bool, tsresol: int) -> None:
    pkts = _frames(3)
    chunks, _ = _read(tmp_path, pcapng_file(pkts, tsresol=tsresol, big_endian=big_endian))
    p = chunks[0]
    assert [p.frame(i) for i in range(3)] == [f for _, f in pkts]
    err = 2 if tsresol & 0x80 else 10 ** (9 - tsresol)
    assert np.abs(p.ts_ns - np.array([t for t, _ in pkts])).max() < err
    assert p.number.tolist() == [1, 2, 3]


def test_chunks_are_bounded_and_numbered_continuously(tmp_path: Path) -> None:
    chunks, _ = _read(tmp_path, pcap_file(_frames(25)), chunk=10)
    assert [len(c) for c in chunks] == [10, 10, 5]
    assert np.concatenate([c.number for c in chunks]).tolist() == list(range(1, 26))


def test_truncated_pcap_quarantines_only_the_tail(tmp_path: Path) -> None:
    data = pcap_file(_frames(4))
    chunks, q = _read(tmp_path, data[:-3])
    assert sum(len(c) for c in chunks) == 3
    assert q.counts == {"truncated": 1}
    row = q.drain().to_pylist()[0]  # type: ignore[union-attr]
    last = chunks[0].file_offset[-1] + 16 + chunks[0].caplen[-1]
    assert row["locator"] == f"packet 4 (offset {last})"


def test_cut_pcapng_block_quarantines_only_the_tail(tmp_path: Path) -> None:
    chunks, q = _read(tmp_path, pcapng_file(_frames(4))[:-10])
    assert sum(len(c) for c in chunks) == 3
    assert q.counts == {"truncated": 1}


def test_not_a_capture_raises_format_error_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"x\.pcap"):
        _read(tmp_path, b"hello world, this is text\n")


def test_cut_global_header_raises_truncated_input(tmp_path: Path) -> None:
    with pytest.raises(TruncatedInputError, match=r"x\.pcap"):
        _read(tmp_path, pcap_file([])[:10])


def test_is_capture_knows_pcap_and_pcapng_magics() -> None:
    assert is_capture(pcap_file([]))
    assert is_capture(pcap_file([], nanos=True, big_endian=True))
    assert is_capture(pcapng_file([]))
    assert is_capture(pcapng_file([], big_endian=True))
    assert not is_capture(b"\x00\x01")
    assert not is_capture(b"#fields\tts\n")


def _decode(tmp_path: Path, frames: list[bytes], linktype: int = 1) -> tuple[Packets, Transport]:
    chunks, _ = _read(tmp_path, pcap_file([(T0, f) for f in frames], linktype=linktype))
    return chunks[0], decode_transport(chunks[0])


def test_decode_transport_reads_ports_payload_and_addresses_through_vlan_and_options(tmp_path: Path) -> None:
    frames = [
        eth(ipv4(udp(b"abc", 5353, 53), "192.168.1.2", "8.8.8.8"), vlans=[10, 20]),
        eth(ipv4(tcp(b"hello", 40000, 53, seq=77, flags=0x12), "1.2.3.4", "5.6.7.8", options=b"\x01" * 8)),
        eth(ipv6(udp(b"xy", 1, 2), "2001:db8::1", "fe80::2", ext=[(0, b"\x00\x00" + b"\x00" * 6)])),
    ]
    p, t = _decode(tmp_path, frames)
    assert t.status.tolist() == [ST_OK] * 3
    assert t.proto.tolist() == [17, 6, 17]
    assert t.sport.tolist() == [5353, 40000, 1]
    assert t.dport.tolist() == [53, 53, 2]
    assert (t.tcp_seq[1], t.tcp_flags[1]) == (77, 0x12)
    pay = [bytes(p.buf[o : o + n]) for o, n in zip(t.payload_off, t.payload_len, strict=True)]
    assert pay == [b"abc", b"hello", b"xy"]
    assert ip_text(t.family, t.src).to_pylist() == ["192.168.1.2", "1.2.3.4", "2001:db8::1"]


@pytest.mark.parametrize(
    ("linktype", "prefix"),
    [(101, b""), (228, b""), (0, struct.pack("<I", 2)), (108, struct.pack(">I", 2)),
     (113, b"\x00" * 14 + b"\x08\x00"), (276, b"\x08\x00" + b"\x00" * 18)],
)
def test_decode_transport_knows_raw_loopback_and_linux_cooked_links(
    tmp_path: Path, linktype: int, prefix: bytes
) -> None:
    _, t = _decode(tmp_path, [prefix + ipv4(udp(b"q", 9, 53), "10.1.1.1", "10.2.2.2")], linktype)
    assert (t.status.tolist(), t.dport.tolist()) == ([ST_OK], [53])


def test_decode_transport_flags_fragments_non_ip_and_cut_headers(tmp_path: Path) -> None:
    good = eth(ipv4(udp(b"q", 9, 53), "10.1.1.1", "10.2.2.2"))
    frames = [
        eth(ipv4(udp(b"q", 9, 53), "10.1.1.1", "10.2.2.2", frag=0x2000)),
        good[:12] + b"\x08\x06" + b"\x00" * 28,
        good[:30],
    ]
    _, t = _decode(tmp_path, frames)
    assert t.status.tolist() == [ST_FRAGMENT, ST_NOT_IP, ST_TRUNCATED]


def test_ip_text_matches_python_ipaddress_rfc5952() -> None:
    texts = ["::", "::1", "1::", "2001:db8::1:0:0:1", "2001:0:0:1::1", "fe80::1:2:3:4", "1:0:0:2:0:0:0:3",
             "::ffff:1.2.3.4", "1:2:3:4:5:6:7:8"]
    addr = np.array([list(ipaddress.IPv6Address(a).packed) for a in texts], np.uint8)
    out = ip_text(np.full(len(texts), 6, np.int8), addr).to_pylist()
    assert out == [a if "." in a else str(ipaddress.IPv6Address(a)) for a in texts]


def test_every_shared_capture_has_tshark_packet_count_times_and_lengths(shared: Path) -> None:
    tshark = require_tool("tshark")
    for f in sorted(shared.glob("*/pcap/*.pcap*")) + sorted(shared.glob("dns/tunnel/dmachard-*.pcap")):
        cmd = [tshark, "-r", str(f), "-T", "fields", "-e", "frame.time_epoch", "-e", "frame.len"]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.split()
        q = Quarantine(str(f), "test")
        chunks = list(read_packets(Source(f), q))
        ts = np.concatenate([c.ts_ns for c in chunks])
        wire = np.concatenate([c.wirelen for c in chunks])
        want_ts = [int(x.replace(".", "")) * 10 ** (9 - len(x.split(".")[1])) for x in out[::2]]
        assert ts.tolist() == want_ts, f.name
        assert wire.tolist() == [int(x) for x in out[1::2]], f.name
        assert q.total == 0
