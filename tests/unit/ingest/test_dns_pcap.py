"""The dns-pcap reader on hand-made packets: compression, loops, truncation, TCP, IPv6, VLAN."""

from __future__ import annotations

import struct
from pathlib import Path

import pyarrow as pa
import pytest

from netspot.ingest.base import Source
from netspot.ingest.dns.pcap import DnsPcapReader
from netspot.ingest.quarantine import Quarantine
from netspot.simulate.pcap import eth, ipv4, ipv6, pcap_file, tcp, udp
from tests.conftest import require_tool
from tests.unit.ingest.test_dns_pcap_tshark import expected_row, netspot_rows, tshark_frames

T0 = 1_700_000_000_000_000_000


def name(*labels: bytes) -> bytes:
    return b"".join(bytes([len(x)]) + x for x in labels) + b"\0"


def header(ident: int, flags: int, qd: int = 1, an: int = 0) -> bytes:
    return struct.pack(">HHHHHH", ident, flags, qd, an, 0, 0)


def rr(owner: bytes, rtype: int, ttl: int, rdata: bytes) -> bytes:
    return owner + struct.pack(">HHIH", rtype, 1, ttl, len(rdata)) + rdata


QUERY = header(0x1234, 0x0100) + name(b"www", b"Example", b"com") + struct.pack(">HH", 1, 1)
PTR_Q = b"\xc0\x0c"  # pointer to the question name
RESPONSE = (
    header(0x1234, 0x8180, an=7) + name(b"www", b"Example", b"com") + struct.pack(">HH", 1, 1)
    + rr(PTR_Q, 5, 300, b"\x03cdn" + PTR_Q)  # CNAME cdn.www.Example.com, compressed
    + rr(PTR_Q, 1, 60, bytes([93, 184, 216, 34]))
    + rr(PTR_Q, 28, 60, bytes.fromhex("20010db8000000000000000000000001"))
    + rr(PTR_Q, 15, 60, b"\x00\x0a" + name(b"mx", b"example", b"com"))
    + rr(PTR_Q, 16, 60, b"\x05hello\x06 world")
    + rr(PTR_Q, 10, 60, b"\x00\xff\x10")
    + rr(PTR_Q, 33, 60, b"\x00\x01\x00\x02\x00\x35" + name(b"sip", b"example", b"com"))
)
ODD = header(9, 0x0100) + name(b"a\x01b", b"t\tb", b"g\xe4h", b"i\xc3\xa9j", b"c.d") + struct.pack(">HH", 16, 1)


def _read(tmp_path: Path, frames: list[bytes]) -> tuple[list[dict[str, object]], Quarantine, Path]:
    f = tmp_path / "dns.pcap"
    f.write_bytes(pcap_file([(T0 + i * 1_000_000, fr) for i, fr in enumerate(frames)]))
    q = Quarantine(str(f), "dns-pcap")
    table = pa.Table.from_batches(DnsPcapReader().read(Source(f), q), schema=DnsPcapReader().schema)
    return table.to_pylist(), q, f


def _udp(msg: bytes, sport: int = 40000, dport: int = 53) -> bytes:
    return eth(ipv4(udp(msg, sport, dport), "192.168.1.10", "192.168.1.1"))


def test_answers_of_every_common_type_are_rendered_as_tshark_prints_them(tmp_path: Path) -> None:
    rows, q, _ = _read(tmp_path, [_udp(QUERY), _udp(RESPONSE, 53, 40000)])
    assert q.total == 0
    query, resp = rows
    assert (query["dns_qry_name"], query["dns_qry_type"], query["dns_qry_class"]) == ("www.Example.com", 1, 1)
    assert (query["is_response"], query["dns_answers"], query["dns_id"]) == (False, [], 0x1234)
    assert resp["dns_answers"] == ["cdn.www.Example.com", "93.184.216.34", "2001:db8::1", "mx.example.com",
                                   "hello world", "00ff10", "sip.example.com"]
    assert resp["dns_answer_types"] == [5, 1, 28, 15, 16, 10, 33]
    assert resp["dns_ttls"] == [300, 60, 60, 60, 60, 60, 60]
    assert (resp["is_response"], resp["flags"], resp["dns_qry_rcode"], resp["opcode"]) == (True, 0x8180, 0, 0)
    assert (resp["sport"], resp["dport"], resp["transport"]) == (53, 40000, "udp")
    assert resp["frame_len"] == len(_udp(RESPONSE))


def test_hand_made_messages_equal_tshark(tmp_path: Path) -> None:
    tshark = require_tool("tshark")
    _, _, f = _read(tmp_path, [_udp(QUERY), _udp(RESPONSE, 53, 40000), _udp(ODD)])
    rows, _ = netspot_rows(f)
    for fr, row in zip(tshark_frames(tshark, f), rows, strict=True):
        want = expected_row(fr)
        got = {k: row[k] for k in want}
        # a multi-string TXT record is one answer here, several dns.txt in tshark (see test_dns_pcap_tshark)
        got["dns_answers"] = [a if w is not None else None
                              for a, w in zip(row["dns_answers"], want["dns_answers"], strict=True)]  # type: ignore[call-overload]
        assert got == want


def test_compression_pointer_loop_is_quarantined_with_packet_and_reason(tmp_path: Path) -> None:
    loop = header(7, 0x0100) + b"\xc0\x0c" + struct.pack(">HH", 1, 1)  # name points at itself
    rows, q, _ = _read(tmp_path, [_udp(QUERY), _udp(loop)])
    assert len(rows) == 1
    bad = q.drain().to_pylist()  # type: ignore[union-attr]
    assert [b["reason"] for b in bad] == ["malformed"]
    assert bad[0]["locator"].startswith("packet 2 (offset ")
    assert "loop" in bad[0]["detail"]
    assert bad[0]["raw"] == loop


def test_truncated_message_is_quarantined_and_keeps_its_record_id(tmp_path: Path) -> None:
    rows, q, _ = _read(tmp_path, [_udp(RESPONSE[:-5], 53, 40000), _udp(QUERY)])
    assert q.counts == {"malformed": 1}
    assert "past the end" in q.drain().to_pylist()[0]["detail"]  # type: ignore[union-attr]
    assert [r["rid"] for r in rows] == [1]


def test_pointer_outside_the_message_and_short_header_are_malformed(tmp_path: Path) -> None:
    out = header(8, 0x0100) + b"\xc0\xff" + struct.pack(">HH", 1, 1)
    rows, q, _ = _read(tmp_path, [_udp(out), _udp(b"\x00\x01\x02")])
    assert rows == []
    assert q.counts == {"malformed": 2}


def test_tcp_dns_split_across_segments_out_of_order_is_reassembled(tmp_path: Path) -> None:
    stream = struct.pack(">H", len(QUERY)) + QUERY + struct.pack(">H", len(RESPONSE)) + RESPONSE
    a, b, c = stream[:5], stream[5:40], stream[40:]

    def seg(data: bytes, seq: int, flags: int = 0x18) -> bytes:
        return eth(ipv4(tcp(data, 50000, 53, seq=seq, flags=flags), "10.0.0.1", "10.0.0.2"))

    syn = seg(b"", 999, 0x02)
    rows, q, _ = _read(tmp_path, [syn, seg(a, 1000), seg(c, 1040), seg(b, 1005), seg(b, 1005)])
    assert q.total == 0
    assert [r["transport"] for r in rows] == ["tcp", "tcp"]
    assert [r["dns_qry_name"] for r in rows] == ["www.Example.com"] * 2
    assert rows[1]["dns_answer_types"] == [5, 1, 28, 15, 16, 10, 33]
    assert q.skipped["TCP segment without payload"] == 1


def test_tcp_stream_cut_inside_a_message_is_quarantined_as_truncated(tmp_path: Path) -> None:
    data = struct.pack(">H", len(QUERY)) + QUERY
    rows, q, _ = _read(tmp_path, [eth(ipv4(tcp(data[:10], 50000, 53), "10.0.0.1", "10.0.0.2"))])
    assert rows == []
    assert q.counts == {"truncated": 1}


def test_ipv6_and_vlan_tagged_dns_is_read(tmp_path: Path) -> None:
    frames = [
        eth(ipv6(udp(QUERY, 40000, 53), "2001:db8::10", "2001:db8::53")),
        eth(ipv4(udp(QUERY, 40000, 53), "10.1.1.1", "10.1.1.2"), vlans=[100, 200]),
    ]
    rows, q, _ = _read(tmp_path, frames)
    assert q.total == 0
    assert [(r["ip_src"], r["ip_dst"]) for r in rows] == [("2001:db8::10", "2001:db8::53"), ("10.1.1.1", "10.1.1.2")]


def test_non_dns_packets_are_counted_not_quarantined(tmp_path: Path) -> None:
    frames = [_udp(QUERY), eth(ipv4(udp(b"x" * 30, 1234, 80), "10.0.0.1", "10.0.0.2")),
              eth(ipv4(udp(QUERY, 1, 53), "10.0.0.1", "10.0.0.2", frag=0x2000))]
    rows, q, _ = _read(tmp_path, frames)
    assert len(rows) == 1
    assert q.total == 0
    assert sum(q.skipped.values()) == 2


def test_names_with_odd_bytes_are_escaped_like_tshark(tmp_path: Path) -> None:
    rows, _, _ = _read(tmp_path, [_udp(ODD)])
    assert rows[0]["dns_qry_name"] == "a\\001b.t\\tb.g\ufffdh.i\u00e9j.c.d"


@pytest.mark.parametrize("head", [b"#fields\tts\n", b"", b"\x00\x01\x02\x03"])
def test_sniff_rejects_what_is_not_a_capture(head: bytes) -> None:
    assert not DnsPcapReader().sniff(head)


def test_sniff_accepts_a_capture() -> None:
    assert DnsPcapReader().sniff(pcap_file([(T0, _udp(QUERY))]))
