"""The decoder against tshark's cflow dissector on the 92 logstash export payloads.

Each vendor group of ``netflow/export-payload/logstash`` (template files first) is
wrapped in UDP packets of one pcap (a 20-line pcap writer below), decoded by tshark
(``-d udp.port==2055,cflow -T json``) and by :class:`NetflowDecoder`; the flows must
agree on addresses, ports, protocol, packets, octets and start time (where tshark
gives one). Where tshark 4.0 cannot decode (the H3C NetStream files) the values come
from logstash-codec-netflow's ``spec/codecs/netflow_spec.rb``.
"""

from __future__ import annotations

import json
import re
import struct
import subprocess
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from netspot.ingest.flow.netflow import NetflowDecoder
from netspot.ingest.quarantine import Quarantine
from tests.conftest import require_tool

INVALID = {"netflow5_test_invalid01.dat", "netflow5_test_invalid02.dat", "netflow9_test_invalid01.dat"}
#: tshark 4.0 cannot decode these (H3C NetStream's variable-length strings in v9).
TSHARK_FAILS = {"netflow9_test_h3c", "netflow9_test_h3c_netstream_varstring"}


def write_pcap(path: Path, payloads: list[bytes], src: str = "10.0.0.1", dport: int = 2055) -> None:
    """A classic pcap of Ethernet/IPv4/UDP packets carrying ``payloads`` (checksums zero)."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    s = bytes(int(x) for x in src.split("."))
    for i, p in enumerate(payloads):
        udp = struct.pack(">HHHH", 40000, dport, 8 + len(p), 0) + p
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0, 64, 17, 0, s, b"\x0a\0\0\x02") + udp
        frame = b"\0\1\2\3\4\5\0\1\2\3\4\6\x08\x00" + ip
        out.append(struct.pack("<IIII", 1000 + i, 0, len(frame), len(frame)) + frame)
    path.write_bytes(b"".join(out))


def groups(folder: Path) -> dict[str, list[Path]]:
    """Vendor groups: the name without its ``_tpl``/``_data``/``_opttpl`` tail; template files first."""
    out: dict[str, list[Path]] = {}
    for f in sorted(folder.glob("*.dat")):
        if f.name in INVALID:
            continue
        key = re.sub(r"_(tpl|data|opttpl|tpldata|tplopt|tpls).*$", "", f.stem)
        out.setdefault(key, []).append(f)
    for files in out.values():
        files.sort(key=lambda f: (0 if "tpl" in f.name else 1, f.name))
    return out


def _flows(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if any(k in node for k in ("cflow.srcaddr", "cflow.srcaddrv6", "cflow.octets", "cflow.protocol")):
            yield node
            return
        for v in node.values():
            yield from _flows(v)
    elif isinstance(node, list):
        for v in node:
            yield from _flows(v)


def _first_wins(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """tshark repeats a field name (IE 7 and 182 both show as cflow.srcport): keep the first, as we map it."""
    out: dict[str, Any] = {}
    for k, v in pairs:
        out.setdefault(k, v)
    return out


def _ms(text: str) -> int:
    m = re.match(r"(\w+ +\d+, \d+ [\d:]+)\.(\d+)", text)
    assert m is not None, text
    base = datetime.strptime(re.sub(" +", " ", m.group(1)), "%b %d, %Y %H:%M:%S").replace(tzinfo=UTC)
    return int(base.timestamp()) * 1000 + int(m.group(2)[:3])


def tshark_flows(pcap: Path) -> list[dict[str, object]]:
    """Flows tshark decodes, as dicts of our column names."""
    tshark = require_tool("tshark")
    res = subprocess.run([tshark, "-r", str(pcap), "-d", "udp.port==2055,cflow", "-T", "json"],
                         capture_output=True, text=True, timeout=120, check=True)
    out = []
    for pkt in json.loads(res.stdout, object_pairs_hook=_first_wins):
        cflow = pkt["_source"]["layers"].get("cflow", {})
        header_ms = _ms(cflow["cflow.timestamp"]) if "cflow.timestamp" in cflow else None
        uptime = cflow.get("cflow.sysuptime")
        for f in _flows(cflow):
            rec: dict[str, object] = {}
            for ours, theirs in (("sip", "cflow.srcaddr"), ("sip", "cflow.srcaddrv6"), ("dip", "cflow.dstaddr"),
                                 ("dip", "cflow.dstaddrv6")):
                if theirs in f and ours not in rec:
                    rec[ours] = str(f[theirs])
            for ours, theirs in (("sport", "cflow.srcport"), ("dport", "cflow.dstport"),
                                 ("proto_num", "cflow.protocol"), ("ipkt", "cflow.packets"),
                                 ("ibyt", "cflow.octets")):
                if theirs in f:
                    rec[ours] = int(f[theirs])
            if rec.get("proto_num") in (1, 58):
                rec.pop("dport", None)  # we follow nfdump: ICMP type*256+code in dport, tshark keeps 0
            times = f.get("cflow.timedelta_tree", f)
            if "cflow.abstimestart" in times:
                if _ms(times["cflow.abstimestart"]) > 0:  # tshark shows epoch 0 for a start it cannot place
                    rec["ts"] = _ms(times["cflow.abstimestart"])
            elif "cflow.timestart" in times and header_ms is not None and uptime is not None:
                # v5/v9: start = header time - sysUptime + first switched (32-bit ms wrap-around)
                back = (round(float(uptime) * 1000) - round(float(times["cflow.timestart"]) * 1000)) & 0xFFFFFFFF
                rec["ts"] = header_ms // 1000 * 1000 * (cflow.get("cflow.version") != "5") + \
                    header_ms * (cflow.get("cflow.version") == "5") - (back - (1 << 32) if back >= 1 << 31 else back)
            out.append(rec)
    return out


def decode(files: list[Path], exporter: str = "10.0.0.1") -> tuple[pa.Table, Quarantine]:
    q = Quarantine("logstash", "netflow-pcap")
    dec = NetflowDecoder(q)
    for f in files:
        dec.feed(f.read_bytes(), exporter, 0, f.name)
    dec.close()
    batches = []
    while (b := dec.flush()) is not None:
        batches.append(b)
    return pa.Table.from_batches(batches, schema=dec_schema()), q


def dec_schema() -> pa.Schema:
    from netspot.schema import FLOW

    return FLOW


def _ours(table: pa.Table, keys: set[str]) -> list[dict[str, object]]:
    rows = []
    for r in table.to_pylist():
        rec = {k: r[k] for k in keys if k in r and k != "ts"}
        if "ts" in keys:
            rec["ts"] = int(r["ts"].timestamp() * 1000 + 0.5) if r["ts"] is not None else None
        rows.append(rec)
    return rows


def _keyed(rows: list[dict[str, object]]) -> Counter[tuple[tuple[str, object], ...]]:
    return Counter(tuple(sorted((k, v) for k, v in r.items() if v is not None)) for r in rows)


#: IPFIX groups whose times are sysUpTime-relative with no systemInitTimeMilliseconds: tshark shows only the
#: relative time; we place the flow to end at the export time and say so (``time_basis=export``).
RELATIVE_ONLY = {"ipfix_test_barracuda", "ipfix_test_barracuda_extended_uniflow", "ipfix_test_mikrotik"}


def _groups_or_skip(shared: Path) -> dict[str, list[Path]]:
    return groups(shared / "netflow" / "export-payload" / "logstash")


@pytest.mark.shared
@pytest.mark.tools
def test_every_logstash_payload_decodes_like_tshark(shared: Path, tmp_path: Path) -> None:
    compared = 0
    for name, files in _groups_or_skip(shared).items():
        if name in TSHARK_FAILS:
            continue
        pcap = tmp_path / f"{name}.pcap"
        write_pcap(pcap, [f.read_bytes() for f in files])
        theirs = tshark_flows(pcap)
        table, _ = decode(files)
        if name in RELATIVE_ONLY:
            assert {dict(e)["time_basis"] for e in table.column("extra").to_pylist()} == {"export"}, name
        keys = set().union(*theirs) if theirs else set()
        mine = [{k: v for k, v in r.items() if k in keys} for r in _ours(table, keys | {"proto_num"})]
        for r in mine:
            if r.get("proto_num") in (1, 58):
                r.pop("dport", None)
        # tshark leaves out fields a record does not have; compare on the fields it gives per record
        assert len(mine) == len(theirs), name
        assert _keyed([{k: m.get(k) for k in t} for m, t in zip(_sorted(mine), _sorted(theirs), strict=True)]) \
            == _keyed(theirs), name
        compared += len(theirs)
    assert compared > 300


def _sorted(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    return sorted(rows, key=lambda r: tuple(str(r.get(k)) for k in ("sip", "dip", "sport", "dport", "ibyt", "ts")))


@pytest.mark.shared
def test_data_without_its_template_is_held_then_quarantined_not_guessed(shared: Path) -> None:
    folder = shared / "netflow" / "export-payload" / "logstash"
    table, q = decode([folder / "netflow9_test_iptnetflow_reduced_size_encoding_tpldata260.dat"])
    assert q.counts == Counter({"no_template": 6})  # six data sets of templates this exporter never sent
    assert table.num_rows == 12
    table, q = decode([folder / "netflow9_test_cisco_asa_1_data.dat"])
    assert table.num_rows == 0
    assert q.counts["no_template"] >= 1


@pytest.mark.shared
def test_data_arriving_before_its_template_is_decoded_once_the_template_comes(shared: Path) -> None:
    folder = shared / "netflow" / "export-payload" / "logstash"
    tpl, data = folder / "netflow9_test_cisco_asa_1_tpl.dat", folder / "netflow9_test_cisco_asa_1_data.dat"
    in_order, q1 = decode([tpl, data])
    reversed_, q2 = decode([data, tpl])
    assert q1.total == q2.total == 0
    assert in_order.num_rows == reversed_.num_rows == 14
    assert sorted(in_order.column("ibyt").to_pylist(), key=str) == sorted(reversed_.column("ibyt").to_pylist(),
                                                                          key=str)


@pytest.mark.shared
@pytest.mark.parametrize("name", sorted(INVALID))
def test_deliberately_malformed_logstash_payloads_are_quarantined_with_a_reason(shared: Path, name: str) -> None:
    raw = (shared / "netflow" / "export-payload" / "logstash" / name).read_bytes()
    table, q = decode([shared / "netflow" / "export-payload" / "logstash" / name])
    batch = q.drain()
    assert batch is not None
    rows = batch.to_pylist()
    assert {r["reason"] for r in rows} == {"malformed"}
    assert all(r["locator"].startswith(name) and r["raw"] == raw[:4096] for r in rows)
    expected = {"netflow5_test_invalid01.dat": "v5 count 55582", "netflow5_test_invalid02.dat": "v5 count 163",
                "netflow9_test_invalid01.dat": "header counts 2 records"}[name]
    # v9 invalid01: its header counts 2 records (the two templates, as tshark reads it) but more flowsets follow,
    # one of them 22 bytes long (not 4-aligned) that misaligns logstash's parser ("flowset_id 16")
    assert any(expected in r["detail"] for r in rows)
    assert table.num_rows == 0


def _row(table: pa.Table, **match: object) -> dict[str, object]:
    rows = [r for r in table.to_pylist() if all(r[k] == v for k, v in match.items())]
    assert len(rows) == 1, match
    return rows[0]


def _iso(row: dict[str, object], col: str) -> str:
    value = row[col]
    assert isinstance(value, datetime)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


@pytest.mark.shared
def test_h3c_netstream_values_match_the_logstash_spec(shared: Path) -> None:
    """tshark 4.0 cannot decode these; the expected values are those of logstash-codec-netflow's
    spec/codecs/netflow_spec.rb ("Netflow 9 H3C" decode[15], "Netflow 9 H3C Netstream with varstring" decode[0])."""
    folder = shared / "netflow" / "export-payload" / "logstash"
    table, q = decode([folder / "netflow9_test_h3c_tpl3281.dat", folder / "netflow9_test_h3c_data3281.dat"])
    assert q.total == 0
    assert table.num_rows == 16
    r = _row(table, sip="10.22.166.36", dip="10.21.75.38", ibyt=5092)
    assert (r["proto_num"], r["ipkt"], r["input"], r["output"], r["sport"], r["dport"]) == (6, 9, 2662, 1743, 0, 0)
    # logstash subtracts whole seconds and adds the millisecond remainder, one second late whenever the
    # remainder is not zero; the spec's 09:24:04.922 / 09:25:04.928 are ours + 1 s. Ours = header unix
    # seconds - (sysUptime - switched) ms, which is what tshark computes for every other v9 file.
    assert (_iso(r, "ts"), _iso(r, "te")) == ("2018-05-21T09:24:03.922Z", "2018-05-21T09:25:03.928Z")
    table, q = decode([folder / "netflow9_test_h3c_netstream_varstring_tpl3281.dat",
                       folder / "netflow9_test_h3c_netstream_varstring_data3281.dat"])
    assert q.total == 0
    r = _row(table, sip="20.20.20.20")
    assert (r["dip"], r["sport"], r["dport"], r["proto_num"], r["ipkt"], r["ibyt"], r["input"], r["output"]) == (
        "20.20.255.255", 137, 137, 17, 9, 702, 17, 0)
    assert (_iso(r, "ts"), _iso(r, "te")) == ("2018-07-18T01:34:33.274Z", "2018-07-18T01:35:02.969Z")  # spec + 1 s
    assert dict(r["extra"])["VRFname"] == ""  # type: ignore[call-overload]
