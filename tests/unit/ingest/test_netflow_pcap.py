"""``netflow-pcap`` against pmacct's nfacctd (expected flows) and tshark, on real export captures."""

from __future__ import annotations

import json
import struct
import subprocess
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest

from netspot.errors import FormatError
from netspot.ingest.base import Source
from netspot.ingest.flow.netflow_pcap import NetflowPcapReader, looks_like_export
from netspot.ingest.quarantine import Quarantine
from tests.conftest import require_tool

PMACCT = ["100-IPFIXv10-CISCO", "101-NFv9-CISCO-cust_primitives", "102-NFv9-CISCO-f2rd-pretag-sampling-reload",
          "104-IPFIXv10-IPv6-CISCO-sampling_option", "106-IPFIXv10-HUAWEI-vrf_name",
          "111-IPFIXv10-NFv9-IPv6-IPv4-mix_sources", "112-IPFIXv10-CISCO-options-map-reassignment"]


def read(path: Path, number: int = 0) -> tuple[pa.Table, Quarantine]:
    reader = NetflowPcapReader()
    q = Quarantine(str(path), reader.format)
    return pa.Table.from_batches(list(reader.read(Source(path, number), q)), schema=reader.schema), q


def _key(proto: str, row: dict[str, object], fields: list[tuple[str, str]]) -> tuple[object, ...]:
    return (proto, *(row[ours] for _, ours in fields))


@pytest.mark.shared
@pytest.mark.parametrize("case", PMACCT)
def test_pmacct_export_captures_give_nfacctd_flow_keys_and_totals(shared: Path, case: str) -> None:
    folder = shared / "netflow" / "export-pcap" / "pmacct"
    expected = [json.loads(line) for line in (folder / f"{case}.expected-flows.json").read_text().splitlines()]
    reads = [read(p) for p in sorted(folder.glob(f"{case}*.pcap"))]
    table = pa.concat_tables([t for t, _ in reads])
    #: 104: nfacctd renormalises by the sampling options record (samplingPacketInterval 256); we report as exported
    scale = 256 if case.startswith("104-") else 1
    fields = [(theirs, ours) for theirs, ours in (("ip_src", "sip"), ("ip_dst", "dip"), ("port_src", "sport"),
                                                  ("port_dst", "dport"))
              if theirs in expected[0]]
    want_pkts: Counter[tuple[object, ...]] = Counter()
    want_bytes: Counter[tuple[object, ...]] = Counter()
    for e in expected:
        key = ({"ipv6-icmp": "icmp6"}.get(e["ip_proto"], e["ip_proto"]), *(e[t] for t, _ in fields))
        want_pkts[key] += e["packets"] // scale
        want_bytes[key] += e["bytes"] // scale
    got_pkts: Counter[tuple[object, ...]] = Counter()
    got_bytes: Counter[tuple[object, ...]] = Counter()
    for r in table.to_pylist():
        key = _key(str(r["proto"]).lower(), r, fields)
        got_pkts[key] += r["ipkt"] or 0
        got_bytes[key] += r["ibyt"] or 0
    if case.startswith("112-"):
        # nfacctd ran with a templates file from an earlier capture: templates 313, 341, 342 and 348 never
        # appear in this pcap, so their 4 data sets are quarantined (never guessed) and their flows missing
        assert sum(q.counts["no_template"] for _, q in reads) == 4
        want_pkts = Counter({k: v for k, v in want_pkts.items() if k in got_pkts})
        want_bytes = Counter({k: v for k, v in want_bytes.items() if k in got_pkts})
        assert len(want_pkts) >= 5
    assert set(want_pkts) <= set(got_pkts)
    assert {k: got_pkts[k] for k in want_pkts} == dict(want_pkts)
    assert {k: got_bytes[k] for k in want_bytes} == dict(want_bytes)


@pytest.mark.shared
def test_every_export_capture_is_sniffed_as_netflow_pcap(shared: Path) -> None:
    reader = NetflowPcapReader()
    pcaps = sorted((shared / "netflow" / "export-pcap").rglob("*.pcap"))
    assert len(pcaps) == 20
    assert all(reader.sniff(Source(p).head()) for p in pcaps)
    assert not reader.sniff(Source(shared / "dns" / "tunnel" / "dmachard-dns2tcp.pcap").head())
    assert not reader.sniff(b"ts,te,td,sa,da\n")


def _tshark_columns(tshark: str, path: Path, fields: list[str]) -> list[list[str]]:
    ports = subprocess.run([tshark, "-r", str(path), "-T", "fields", "-e", "udp.dstport"], capture_output=True,
                           text=True, timeout=60, check=True).stdout.split()
    decode_as = [a for p in sorted(set(ports)) for a in ("-d", f"udp.port=={p},cflow")]
    res = subprocess.run([tshark, "-r", str(path), *decode_as, "-T", "fields", "-E", "occurrence=a",
                          *[a for f in fields for a in ("-e", f)]], capture_output=True, text=True, timeout=60,
                         check=True)
    columns: list[list[str]] = [[] for _ in fields]
    for line in res.stdout.splitlines():
        for k, cell in enumerate(line.split("\t")):
            columns[k].extend(cell.split(",") if cell else [])
    return columns


@pytest.mark.shared
@pytest.mark.tools
@pytest.mark.parametrize("name", ["nfv5", "data+templates", "nat", "physicalinterfaces"])
def test_akvorado_captures_decode_like_tshark(shared: Path, name: str) -> None:
    tshark = require_tool("tshark")
    path = shared / "netflow" / "export-pcap" / "akvorado" / f"{name}.pcap"
    src, dst, octets, packets = _tshark_columns(tshark, path, ["cflow.srcaddr", "cflow.dstaddr", "cflow.octets",
                                                               "cflow.packets"])
    table, q = read(path)
    assert len(src) > 0
    ours = Counter(zip(table.column("sip").to_pylist(), table.column("dip").to_pylist(), strict=True))
    assert q.total == 0
    if name == "data+templates":
        # its one datagram sends Data:257 *before* Data-Template:257; tshark decodes only the 10 records after
        # the template, we hold the early set and decode it once the template arrives: 11 more records
        assert not Counter(zip(src, dst, strict=True)) - ours
        assert table.num_rows == len(src) + 11
        return
    assert ours == Counter(zip(src, dst, strict=True))
    assert sum(int(x) for x in octets) == sum(v or 0 for v in table.column("ibyt").to_pylist())
    assert sum(int(x) for x in packets) == sum(v or 0 for v in table.column("ipkt").to_pylist())


@pytest.mark.shared
def test_data_only_capture_is_quarantined_as_no_template(shared: Path) -> None:
    table, q = read(shared / "netflow" / "export-pcap" / "akvorado" / "data.pcap")
    assert table.num_rows == 0
    rows = q.drain()
    assert rows is not None
    assert rows.column("reason").to_pylist() == ["no_template"]
    assert rows.column("locator").to_pylist()[0].startswith("packet 1 (offset 24)")


@pytest.mark.shared
def test_record_ids_are_unique_and_carry_the_source_number(shared: Path) -> None:
    table, _ = read(shared / "netflow" / "export-pcap" / "pmacct" / "101-NFv9-CISCO-cust_primitives.pcap", 7)
    rids = table.column("rid").to_pylist()
    assert len(set(rids)) == len(rids) == table.num_rows > 0
    assert all(r >> 32 == 7 for r in rids)


def test_a_file_that_is_not_a_capture_raises_format_error(tmp_path: Path) -> None:
    bad = tmp_path / "x.pcap"
    bad.write_bytes(b"not a capture at all")
    with pytest.raises(FormatError, match=r"x\.pcap"):
        read(bad)


def test_export_header_plausibility() -> None:
    v5 = struct.pack(">HHIIIIBBH", 5, 1, 0, 0, 0, 0, 0, 0, 0) + bytes(48)
    assert looks_like_export(v5)
    assert not looks_like_export(v5[:-1])
    assert not looks_like_export(struct.pack(">HH", 9, 1) + bytes(16) + struct.pack(">HH", 7, 8))
    assert looks_like_export(struct.pack(">HH", 9, 1) + bytes(16) + struct.pack(">HH", 0, 8) + bytes(4))
