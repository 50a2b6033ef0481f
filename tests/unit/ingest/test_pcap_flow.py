"""pcap-flow: raw captures metered into flows by nfpcapd, read back through nfdump."""

from __future__ import annotations

import gzip
import os
import subprocess
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest

from netspot.errors import FormatError
from netspot.ingest.base import Source
from netspot.ingest.flow.nfdump import NfdumpCsvReader
from netspot.ingest.flow.pcap_flow import PcapFlowReader
from netspot.ingest.quarantine import Quarantine
from netspot.schema import FLOW
from tests.conftest import require_tool

SYNSCAN = "scan/pcap/chrissanders-synscan.pcapng"
BEACON = "c2/pcap/slips-test-cc-capture-1-periodic-2s.pcap"
KEY = ("sa", "da", "sp", "dp", "pr", "flg", "ipkt", "ibyt", "ts", "te")


def read(path: Path) -> tuple[pa.Table, Quarantine]:
    q = Quarantine(str(path), "pcap-flow")
    batches = list(PcapFlowReader().read(Source(path), q))
    assert all(b.schema == FLOW for b in batches)
    return pa.Table.from_batches(batches, schema=FLOW), q


def nfdump_reading(pcap: Path, tmp: Path) -> Counter[tuple[str, ...]]:
    """Flows as nfdump itself prints them, after metering ``pcap`` with nfpcapd (default timeouts)."""
    out = tmp / "ref"
    out.mkdir()
    subprocess.run([require_tool("nfpcapd"), "-r", str(pcap), "-w", str(out), "-t", "3600"], capture_output=True,
                   check=True)  # fmt: skip
    flows: Counter[tuple[str, ...]] = Counter()
    for f in sorted(out.glob("nfcapd.*")):
        text = subprocess.run([require_tool("nfdump"), "-r", str(f), "-o", "csv"], capture_output=True, check=True,
                              env={**os.environ, "TZ": "UTC"}).stdout  # fmt: skip
        (tmp / "ref.csv").write_bytes(text)
        table = pa.Table.from_batches(NfdumpCsvReader().read(Source(tmp / "ref.csv"), Quarantine("r", "r")))
        for r in table.to_pylist():
            flows[_key(r)] += 1
    return flows


def _key(r: dict[str, object]) -> tuple[str, ...]:
    ts, te = r["ts"], r["te"]
    assert hasattr(ts, "strftime") and hasattr(te, "strftime")
    return (str(r["sip"]), str(r["dip"]), str(r["sport"]), str(r["dport"]), str(r["proto"]), str(r["flags"]),
            str(r["ipkt"]), str(r["ibyt"]), ts.strftime("%F %T"), te.strftime("%F %T"))  # fmt: skip


@pytest.mark.parametrize("name", [SYNSCAN, BEACON])
def test_flows_equal_nfdumps_own_reading_of_nfpcapds_files(name: str, shared: Path, tmp_path: Path) -> None:
    table, q = read(shared / name)
    assert Counter(_key(r) for r in table.to_pylist()) == nfdump_reading(shared / name, tmp_path)
    assert q.total == 0
    assert set(table.column("source").to_pylist()) == {"pcap-flow"}
    assert table.column("rid").to_pylist() == list(range(table.num_rows))


def test_syn_scan_shows_a_thousand_ports_from_one_scanner(shared: Path) -> None:
    require_tool("nfpcapd")
    table, _ = read(shared / SYNSCAN)
    probes = {
        r["dport"] for r in table.select(["sip", "dip", "dport"]).to_pylist()
        if (r["sip"], r["dip"]) == ("172.16.0.8", "64.13.134.52")
    }  # fmt: skip
    assert 990 <= len(probes) <= 1010


def test_beacon_capture_gives_one_tls_flow_per_connection(shared: Path) -> None:
    require_tool("nfpcapd")
    table, _ = read(shared / BEACON)
    tls = [
        r for r in table.select(["sip", "dip", "dport", "proto"]).to_pylist()
        if r["sip"] == "147.32.80.37" and r["dport"] == 443 and r["proto"] == "TCP"
    ]  # fmt: skip
    assert len(tls) == 299
    assert {r["dip"] for r in tls} == {"141.193.213.21", "141.193.213.20"}


def test_flows_carry_millisecond_times(shared: Path) -> None:
    require_tool("nfpcapd")
    table, _ = read(shared / BEACON)
    assert any(t.microsecond for t in table.column("ts").to_pylist())


def test_a_gzipped_capture_reads_like_the_plain_one(shared: Path, tmp_path: Path) -> None:
    require_tool("nfpcapd")
    gz = tmp_path / "synscan.pcapng.gz"
    gz.write_bytes(gzip.compress((shared / SYNSCAN).read_bytes()))
    assert read(gz)[0].drop_columns(["extra"]).equals(read(shared / SYNSCAN)[0].drop_columns(["extra"]))


def test_sniff_takes_pcap_and_pcapng_but_not_text(shared: Path) -> None:
    reader = PcapFlowReader()
    assert reader.sniff((shared / SYNSCAN).read_bytes()[:4096])
    assert reader.sniff((shared / BEACON).read_bytes()[:4096])
    assert not reader.sniff(b"ts,te,td,sa,da,sp,dp,pr\n")
    assert not reader.sniff(bytes.fromhex("0ca50100") + bytes(200))


def test_a_capture_nfpcapd_cannot_open_is_a_format_error_naming_it(tmp_path: Path) -> None:
    require_tool("nfpcapd")
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(bytes.fromhex("d4c3b2a1") + b"\x02\x00")
    with pytest.raises(FormatError, match=r"bad\.pcap: nfpcapd cannot read this capture"):
        read(bad)


def test_temporary_flow_files_are_removed(shared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_tool("nfpcapd")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    read(shared / BEACON)
    assert list(tmp_path.iterdir()) == []


def test_a_corrupt_xz_capture_is_refused_naming_the_file(tmp_path: Path) -> None:
    from netspot.errors import InputError
    from netspot.ingest.base import Source
    from netspot.ingest.flow.pcap_flow import PcapFlowReader
    from netspot.ingest.quarantine import Quarantine

    bad = tmp_path / "cut.pcap.xz"
    bad.write_bytes(b"\xfd7zXZ\x00" + bytes(range(40)))
    with pytest.raises(InputError, match=r"cut\.pcap\.xz: cannot decompress"):
        list(PcapFlowReader().read(Source(bad), Quarantine(str(bad), "pcap-flow")))
