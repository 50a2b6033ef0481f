"""The UDP listener against nfcapd + nfdump, both fed by softflowd from a shared pcap (loopback only)."""

from __future__ import annotations

import csv
import io
import os
import signal
import socket
import subprocess
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest

from netspot.errors import ConfigError
from netspot.ingest.listen import Listener, parse_listen
from tests.conftest import require_tool

PCAP = Path("c2") / "pcap" / "slips-test-cc-capture-1-periodic-2s.pcap"
Key = tuple[str, str, int, int, int]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _softflowd(pcap: Path, port: int, version: int) -> None:
    softflowd = require_tool("softflowd")
    subprocess.run([softflowd, "-r", str(pcap), "-n", f"127.0.0.1:{port}", "-v", str(version), "-d"],
                   capture_output=True, timeout=120, check=True)


def _totals(rows: list[tuple[Key, int, int]]) -> dict[Key, tuple[int, int]]:
    pk: Counter[Key] = Counter()
    by: Counter[Key] = Counter()
    for key, p, b in rows:
        pk[key] += p
        by[key] += b
    return {k: (pk[k], by[k]) for k in pk}


def _listen(pcap: Path, version: int) -> tuple[list[pa.RecordBatch], list[pa.RecordBatch], int]:
    batches: list[pa.RecordBatch] = []
    quarantined: list[pa.RecordBatch] = []
    listener = Listener("127.0.0.1", 0, batches.append, quarantined.append, flush_s=0.2)
    with listener:
        _softflowd(pcap, listener.address[1], version)
        deadline, seen = time.monotonic() + 10, -1
        while time.monotonic() < deadline and seen != listener.datagrams:  # until quiet for 0.5 s
            seen = listener.datagrams
            time.sleep(0.5)
    return batches, quarantined, listener.datagrams


def _nfcapd(pcap: Path, version: int, folder: Path) -> list[tuple[Key, int, int]]:
    nfcapd, nfdump = require_tool("nfcapd"), require_tool("nfdump")
    port = _free_port()
    proc = subprocess.Popen([nfcapd, "-b", "127.0.0.1", "-p", str(port), "-w", str(folder)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)  # nfcapd binds
        _softflowd(pcap, port, version)
        time.sleep(1.0)
    finally:
        proc.send_signal(signal.SIGTERM)  # nfcapd writes its current file on TERM
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    files = [p for p in folder.rglob("nfcapd.*") if p.is_file()]
    assert files, "nfcapd wrote no file"
    out = []
    for f in files:
        res = subprocess.run([nfdump, "-r", str(f), "-o", "csv", "-q"], capture_output=True, text=True,
                             timeout=60, check=True)
        reader = csv.reader(io.StringIO(res.stdout))
        for row in reader:
            if len(row) < 15 or row[0] == "ts":
                continue
            proto = {"TCP": 6, "UDP": 17, "ICMP": 1}.get(row[7].strip(), -1)
            if proto < 0 and row[7].strip().isdigit():
                proto = int(row[7])
            out.append(((row[3], row[4], int(row[5]), int(float(row[6])), proto), int(row[11]), int(row[12])))
    return out


@pytest.mark.shared
@pytest.mark.tools
@pytest.mark.parametrize("version", [9, 10])
def test_listener_decodes_softflowd_exports_like_nfcapd(shared: Path, tmp_path: Path, version: int) -> None:
    pcap = shared / PCAP
    batches, quarantined, datagrams = _listen(pcap, version)
    assert datagrams > 0
    assert quarantined == []
    table = pa.Table.from_batches(batches)
    ours = _totals([((r["sip"], r["dip"], r["sport"], r["dport"], r["proto_num"]), r["ipkt"], r["ibyt"])
                    for r in table.to_pylist()])
    theirs = _totals(_nfcapd(pcap, version, tmp_path))
    assert len(theirs) > 100
    assert ours == theirs
    assert set(table.column("source").to_pylist()) == {"netflow-v9" if version == 9 else "ipfix"}
    assert set(table.column("rip").to_pylist()) == {"127.0.0.1"}


def test_listener_quarantines_a_bad_datagram_and_goes_on() -> None:
    batches: list[pa.RecordBatch] = []
    quarantined: list[pa.RecordBatch] = []
    v5 = bytes.fromhex("0005 0001 00000000 5f5e1000 00000000 00000000 0000 0000".replace(" ", ""))
    record = bytes.fromhex("0a000001 0a000002 00000000 0001 0002 00000003 00000064 00000000 00000000 "
                           "04d2 0050 00 12 06 00 0000 0000 00 00 0000".replace(" ", ""))
    with Listener("127.0.0.1", 0, batches.append, quarantined.append, flush_s=0.1) as listener, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"\x00\x07garbage", listener.address)
        s.sendto(v5 + record, listener.address)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and listener.datagrams < 2:
            time.sleep(0.05)
    rows = pa.Table.from_batches(batches).to_pylist()
    assert [(r["sip"], r["dip"], r["sport"], r["dport"], r["proto"], r["flags"]) for r in rows] == [
        ("10.0.0.1", "10.0.0.2", 1234, 80, "TCP", "...A..S.")]
    bad = pa.Table.from_batches(quarantined).to_pylist()
    assert [(r["reason"], r["detail"]) for r in bad] == [("unsupported", "export version 7: expected 5, 9 or 10")]
    assert bad[0]["locator"].startswith("datagram 1 from 127.0.0.1:")


@pytest.mark.skipif(not socket.has_ipv6 or os.environ.get("NETSPOT_NO_IPV6") == "1", reason="no IPv6")
def test_listener_binds_ipv6_loopback() -> None:
    try:
        listener = Listener("::1", 0, lambda b: None, lambda b: None).start()
    except ConfigError as exc:
        pytest.skip(f"IPv6 loopback unavailable: {exc}")
    try:
        assert listener.address[0] == "::1"
    finally:
        listener.stop()


def test_listen_address_parsing() -> None:
    assert parse_listen("0.0.0.0:2055") == ("0.0.0.0", 2055)
    assert parse_listen("[::]:4739") == ("::", 4739)
    with pytest.raises(ConfigError, match="HOST:PORT"):
        parse_listen("2055x")
