"""Zeek http.log -> proxy: URI split, body lengths and labels, checked against the raw text."""

from __future__ import annotations

from pathlib import Path

import pytest

from netspot.ingest.proxy.zeek_http import ZeekHttpReader
from tests.unit.ingest.test_zeek import SHARED_LOGS, as_ms, ms, raw_rows, read_all


@pytest.mark.shared
@pytest.mark.parametrize("rel", SHARED_LOGS["http"])
def test_body_length_totals_equal_the_sums_over_the_raw_file(shared: Path, rel: str) -> None:
    table, _ = read_all(ZeekHttpReader(), shared / rel)
    raw = raw_rows(shared / rel)
    for col, field in [("csbytes", "request_body_len"), ("scbytes", "response_body_len")]:
        expected = sum(int(r[field]) for r in raw if r[field] is not None)
        assert sum(v for v in table.column(col).to_pylist() if v is not None) == expected


@pytest.mark.shared
@pytest.mark.parametrize("rel", SHARED_LOGS["http"])
def test_rows_match_the_raw_text(shared: Path, rel: str) -> None:
    table, _ = read_all(ZeekHttpReader(), shared / rel)
    raw = raw_rows(shared / rel)
    for r, got in zip(raw, table.to_pylist(), strict=True):
        assert as_ms(got["ts"]) == ms(r["ts"] or "")
        assert (got["clientip"], got["serverip"]) == (r["id.orig_h"], r["id.resp_h"])
        assert got["uriport"] == int(r["id.resp_p"] or 0)
        assert (got["host"], got["reqmethod"], got["useragent"]) == (r["host"], r["method"], r["user_agent"])
        assert got["referer"] == r["referrer"] and got["urischeme"] == "http"
        assert got["respcode"] == (None if r["status_code"] is None else int(r["status_code"]))
        uri = r["uri"]
        if uri is not None:
            path, sep, query = uri.partition("?")
            assert got["uripath"] == path and got["uriquery"] == (sep + query if sep else None)
            assert got["fulluri"] == (r["host"] or "") + uri
            last = path.rsplit("/", 1)[-1]
            assert got["uriextension"] == (last.rsplit(".", 1)[1] if "." in last and last[-1] != "." else None)
        mimes = r["resp_mime_types"]
        assert got["resconttype"] == (None if mimes in (None, "(empty)") else (mimes or "").split(",")[0])
        extra = dict(got["extra"])
        assert extra.get("status_msg") == r["status_msg"] and extra.get("trans_depth") == r["trans_depth"]


def test_uri_query_keeps_its_leading_question_mark(data: Path) -> None:
    table, _ = read_all(ZeekHttpReader(), data / "zeek" / "millis-stream-http.json")
    row = table.to_pylist()[0]
    assert (row["uripath"], row["uriquery"], row["uriextension"]) == ("/index.html", "?x=1", "html")
    assert row["fulluri"] == "example.com/index.html?x=1" and row["resconttype"] == "text/html"


def test_unset_request_fields_give_nulls_not_errors(data: Path) -> None:
    table, q = read_all(ZeekHttpReader(), data / "zeek" / "escapes-http.log")
    last = table.to_pylist()[-1]
    assert q.total == 0
    assert last["uripath"] is None and last["fulluri"] is None and last["reqmethod"] is None
    assert last["respcode"] is None and last["resconttype"] is None
