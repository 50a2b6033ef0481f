"""Zeek dns.log -> dns: queries and responses oriented as in Apache Spot, checked against the raw text."""

from __future__ import annotations

from pathlib import Path

import pytest

from netspot.ingest.dns.zeek_dns import ZeekDnsReader
from tests.unit.ingest.test_zeek import SHARED_LOGS, as_ms, ms, raw_rows, read_all


def _is_response(r: dict[str, str | None]) -> bool:
    return r["rcode"] is not None or r["answers"] not in (None, "(empty)")


@pytest.mark.shared
@pytest.mark.parametrize("rel", SHARED_LOGS["dns"])
def test_rows_match_the_raw_text_with_responses_from_the_resolver(shared: Path, rel: str) -> None:
    table, _ = read_all(ZeekDnsReader(), shared / rel)
    raw = raw_rows(shared / rel)
    got_rows = table.to_pylist()
    assert sum(g["is_response"] for g in got_rows) == sum(_is_response(r) for r in raw)
    for r, got in zip(raw, got_rows, strict=True):
        assert as_ms(got["ts"]) == ms(r["ts"] or "")
        client, resolver = r["id.orig_h"], r["id.resp_h"]
        if _is_response(r):
            assert (got["ip_src"], got["ip_dst"], got["sport"]) == (resolver, client, int(r["id.resp_p"] or 0))
        else:
            assert (got["ip_src"], got["ip_dst"], got["dport"]) == (client, resolver, int(r["id.resp_p"] or 0))
        assert got["dns_qry_name"] == r["query"]
        assert got["dns_id"] == int(r["trans_id"] or -1)
        assert got["dns_qry_type"] == (None if r["qtype"] is None else int(r["qtype"]))
        assert got["dns_qry_rcode"] == int(r["rcode"] or 0)
        answers = [] if r["answers"] in (None, "(empty)") else (r["answers"] or "").split(",")
        assert (got["dns_answers"] or []) == answers
        ttls = [] if r["TTLs"] in (None, "(empty)") else [round(float(t)) for t in (r["TTLs"] or "").split(",")]
        assert (got["dns_ttls"] or []) == ttls
        assert got["rtt"] == (None if r.get("rtt") is None else float(r["rtt"] or 0))
        assert got["frame_len"] is None and got["uid"] == r["uid"]
        assert dict(got["extra"]).get("qtype_name") == r["qtype_name"]


@pytest.mark.shared
def test_simda_nxdomain_count_matches_the_raw_rcodes(shared: Path) -> None:
    rel = "c2/zeek/005-simda-dga-ctu-botnet-355-1/dns.log"
    table, _ = read_all(ZeekDnsReader(), shared / rel)
    expected = sum(1 for r in raw_rows(shared / rel) if r["rcode"] == "3")
    assert expected > 0
    assert table.column("dns_qry_rcode").to_pylist().count(3) == expected


def test_json_query_and_response_are_oriented_and_keep_extras(data: Path) -> None:
    table, _ = read_all(ZeekDnsReader(), data / "zeek" / "iso-dns.json")
    rows = table.to_pylist()
    assert [r["is_response"] for r in rows] == [False, True, True]
    assert [(r["ip_src"], r["sport"]) for r in rows] == [("10.0.0.1", 53001), ("10.0.0.53", 53), ("10.0.0.53", 53)]
    assert rows[1]["dns_answers"] == ["93.184.216.34", "example.net"] and rows[1]["dns_ttls"] == [3600, 59]
    assert dict(rows[2]["extra"])["agent_uuid"] == "a1b2"


def test_a_transaction_id_too_big_for_the_schema_is_quarantined(tmp_path: Path) -> None:
    path = tmp_path / "dns.json"
    ok = '{"ts":1.5,"uid":"C1","id.orig_h":"10.0.0.1","id.resp_h":"10.0.0.53","query":"a.org","qtype":1,"trans_id":7}'
    path.write_text(ok + "\n" + ok.replace('"trans_id":7', '"trans_id":5000000000') + "\n")
    table, q = read_all(ZeekDnsReader(), path)
    rows = q.drain().to_pylist()  # type: ignore[union-attr]
    assert [(r["locator"], r["reason"], r["detail"]) for r in rows] == [
        ("line 2", "bad_value", "column dns_id: expected int32, got 5000000000")]
    assert table.column("dns_id").to_pylist() == [7]
