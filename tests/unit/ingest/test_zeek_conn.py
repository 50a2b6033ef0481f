"""Zeek conn.log -> flow: values checked against the raw text of every shared conn log."""

from __future__ import annotations

from pathlib import Path

import pytest

from netspot.ingest.flow.zeek_conn import ZeekConnReader
from tests.unit.ingest.test_zeek import SHARED_LOGS, as_ms, ms, raw_rows, read_all

CONN = SHARED_LOGS["conn"]


def _int(v: str | None) -> int | None:
    return None if v is None else int(v)


@pytest.mark.shared
@pytest.mark.parametrize("rel", CONN)
def test_byte_and_packet_totals_equal_the_sums_over_the_raw_file(shared: Path, rel: str) -> None:
    table, _ = read_all(ZeekConnReader(), shared / rel)
    raw = raw_rows(shared / rel)
    for col, field in [("ibyt", "orig_ip_bytes"), ("obyt", "resp_ip_bytes"), ("ipkt", "orig_pkts"),
                       ("opkt", "resp_pkts")]:
        expected = sum(int(r[field]) for r in raw if r[field] is not None)
        assert sum(v for v in table.column(col).to_pylist() if v is not None) == expected, col


@pytest.mark.shared
@pytest.mark.parametrize("rel", CONN)
def test_golden_rows_match_the_raw_text(shared: Path, rel: str) -> None:
    table, _ = read_all(ZeekConnReader(), shared / rel)
    raw = raw_rows(shared / rel)
    for i in sorted({0, 1, len(raw) // 2, len(raw) - 1}):
        r, got = raw[i], table.slice(i, 1).to_pylist()[0]
        ts = r["ts"]
        assert ts is not None
        start = ms(ts)
        assert as_ms(got["ts"]) == start  # relative (epoch ~ 0) times stay as they are
        if r["duration"] is not None:
            assert got["td"] == float(r["duration"])
            assert as_ms(got["te"]) - start == round(float(r["duration"]) * 1000)
        assert (got["uid"], got["sip"], got["dip"]) == (r["uid"], r["id.orig_h"], r["id.resp_h"])
        assert (got["ipkt"], got["ibyt"]) == (_int(r["orig_pkts"]), _int(r["orig_ip_bytes"]))
        assert (got["opkt"], got["obyt"]) == (_int(r["resp_pkts"]), _int(r["resp_ip_bytes"]))
        assert got["proto"] in ((r["proto"] or "").upper(), "ICMP6")
        assert got["conn_state"] == r["conn_state"] and got["service"] == r.get("service")
        assert got["flags"] == r["history"]
        if r["proto"] != "icmp":
            assert (got["sport"], got["dport"]) == (_int(r["id.orig_p"]), _int(r["id.resp_p"]))
        extra = dict(got["extra"])
        for field in ("orig_bytes", "resp_bytes", "missed_bytes", "local_orig"):
            if r.get(field) is not None:
                assert extra[field] in (r[field], {"true": "T", "false": "F"}.get(r[field] or "")), field


@pytest.mark.shared
def test_icmp_ports_follow_nfdump_type_and_code(shared: Path) -> None:
    rel = "bruteforce/zeek/006-ssh-honeypot-rpi/conn.log"
    table, _ = read_all(ZeekConnReader(), shared / rel)
    raw = raw_rows(shared / rel)
    icmp = [(r, got) for r, got in zip(raw, table.to_pylist(), strict=True) if r["proto"] == "icmp"]
    assert icmp
    for r, got in icmp:
        assert got["sport"] == 0
        assert got["dport"] == int(r["id.orig_p"] or 0) * 256 + int(r["id.resp_p"] or 0)
        assert (got["proto"], got["proto_num"]) == (("ICMP6", 58) if ":" in (r["id.orig_h"] or "") else ("ICMP", 1))


@pytest.mark.shared
def test_json_conn_log_keeps_unknown_columns_in_extra(shared: Path) -> None:
    table, _ = read_all(ZeekConnReader(), shared / "scan/zeek/slips-vertical-portscan-conn.log")
    first = dict(table.column("extra")[0].as_py())
    assert first["orig_l2_addr"] == "c4:23:60:3d:fd:d3" and first["local_orig"] == "T"
    assert set(table.column("conn_state").to_pylist()) >= {"REJ"}


def test_icmp_type_and_code_become_dport_in_a_hand_made_log(data: Path) -> None:
    table, _ = read_all(ZeekConnReader(), data / "zeek" / "unset-empty-conn.log")
    assert table.column("dport").to_pylist() == [443, None, 3 * 256 + 4]
    assert table.column("proto").to_pylist() == ["TCP", "ICMP", "ICMP6"]
    assert table.column("proto_num").to_pylist() == [6, 1, 58]
    assert str(table.column("te")[0].as_py()) == "2024-08-16 09:45:03.500000+00:00"


def test_nested_id_objects_in_json_are_flattened_to_dotted_keys(tmp_path: Path) -> None:
    path = tmp_path / "conn.json"
    path.write_text('{"ts":1.5,"uid":"C1","id":{"orig_h":"10.0.0.1","orig_p":5,"resp_h":"10.0.0.2","resp_p":80},'
                    '"proto":"tcp","conn_state":"SF","orig_ip_bytes":40}\n')
    assert ZeekConnReader().sniff(path.read_bytes())
    table, q = read_all(ZeekConnReader(), path)
    assert q.total == 0
    assert table.select(["sip", "dip", "sport", "dport", "ibyt"]).to_pylist() == [
        {"sip": "10.0.0.1", "dip": "10.0.0.2", "sport": 5, "dport": 80, "ibyt": 40}]


def test_unknown_and_missing_transports_keep_their_name_and_have_no_number() -> None:
    import pyarrow as pa

    from netspot.ingest._zeek_reader import Columns

    n = 5
    values = {
        "ts": pa.array([0, 1000, 2000, 3000, 4000], pa.timestamp("ms", tz="UTC")),
        "duration": pa.array([1.0005, None, 0.0025, 2.0, 0.5]),
        "proto": pa.array(["tcp", "unknown_transport", None, "icmp", "icmp"]),
        "id.orig_h": pa.array(["10.0.0.1", "fe80::1", None, "fe80::2", "10.0.0.3"]),
        "id.orig_p": pa.array([1, 2, 3, 8, 3], pa.int64()),
        "id.resp_p": pa.array([80, 0, 0, 0, 1], pa.int64()),
    }
    cols = ZeekConnReader().map(Columns(values, n))
    assert cols["proto"].to_pylist() == ["TCP", "UNKNOWN_TRANSPORT", None, "ICMP6", "ICMP"]
    assert cols["proto_num"].to_pylist() == [6, None, None, 58, 1]
    assert cols["sport"].to_pylist() == [1, 2, 3, 0, 0]
    assert cols["dport"].to_pylist() == [80, 0, 0, 8 * 256, 3 * 256 + 1]
    assert cols["te"].cast(pa.int64()).to_pylist() == [1000, 1000, 2002, 5000, 4500]
