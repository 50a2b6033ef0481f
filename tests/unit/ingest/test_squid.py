"""SquidReader: native and combined access.log against the Zeek http.log rows they were rendered from."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest

from netspot.ingest.base import Source
from netspot.ingest.proxy.squid import SquidReader
from netspot.ingest.quarantine import Quarantine
from netspot.ingest.registry import get_reader

HTTP_LOG = "c2/zeek/005-simda-dga-ctu-botnet-355-1/http.log"
BASE = 1526315251  # make_fixtures.BASE
ROWS = 60


def read(path: Path) -> tuple[list[dict[str, object]], Quarantine]:
    q = Quarantine(str(path), "squid")
    reader = SquidReader()
    table = pa.Table.from_batches(list(reader.read(Source(path), q)), schema=reader.schema)
    return table.to_pylist(), q


def zeek(shared: Path) -> list[dict[str, str]]:
    lines = (shared / HTTP_LOG).read_text().splitlines()
    names = next(line for line in lines if line.startswith("#fields")).split("\t")[1:]
    return [dict(zip(names, line.split("\t"), strict=True)) for line in lines if not line.startswith("#")][:ROWS]


def test_registry_gives_the_squid_reader() -> None:
    assert isinstance(get_reader("squid"), SquidReader)


@pytest.mark.parametrize("name", ["squid-native.log", "squid-combined.log"])
def test_sniff_recognises_both_layouts(data: Path, name: str) -> None:
    assert SquidReader().sniff(Source(data / "proxy" / name).head())


def test_sniff_rejects_other_text() -> None:
    assert not SquidReader().sniff(b"#fields\tts\tuid\n1.0\tC1\n")


@pytest.mark.parametrize("name", ["squid-native.log", "squid-combined.log"])
def test_rendered_zeek_rows_come_back_field_for_field(shared: Path, data: Path, name: str) -> None:
    rows, _ = read(data / "proxy" / name)
    native = name == "squid-native.log"
    for i, (row, z) in enumerate(zip(rows[:ROWS], zeek(shared), strict=True)):
        ts_ms = round((BASE + float(z["ts"])) * 1000)
        assert int(row["ts"].timestamp() * 1000) == (ts_ms if native else ts_ms // 1000 * 1000)  # type: ignore[attr-defined]
        assert row["rid"] == i
        assert row["clientip"] == z["id.orig_h"]
        assert row["host"] == z["host"]
        assert row["reqmethod"] == z["method"]
        assert row["respcode"] == (0 if z["status_code"] == "-" else int(z["status_code"]))
        assert row["action"] == ("NONE" if z["status_code"] == "-" else "TCP_MISS")
        assert row["scbytes"] == int(z["response_body_len"])
        assert (row["urischeme"], row["uriport"]) == ("http", 80)
        assert row["uripath"] == z["uri"].split("?")[0]
        assert row["uriquery"] is None
        assert row["uriextension"] == ("php" if z["uri"].endswith(".php") else None)
        assert row["fulluri"] == z["host"] + (z["uri"] if len(z["uri"]) > 1 else "")
        assert row["source"] == "squid"
        assert dict(row["extra"])["url"] == f"http://{z['host']}{z['uri']}"  # type: ignore[arg-type]
        if native:
            assert row["serverip"] == z["id.resp_h"]
            assert row["duration"] == (i * 37) % 900
            assert row["resconttype"] == (None if z["resp_mime_types"] == "-" else z["resp_mime_types"])
            assert row["useragent"] is None and row["referer"] is None
        else:
            assert row["serverip"] is None and row["duration"] is None
            assert row["useragent"] == z["user_agent"]
            assert row["referer"] == z["referrer"]
        assert row["username"] is None and row["csbytes"] is None


def test_native_connect_ipv6_and_named_peer(data: Path) -> None:
    rows, q = read(data / "proxy" / "squid-native.log")
    connect, cdn, denied = rows[ROWS:]
    assert connect == {
        **connect, "clientip": "10.1.2.3", "reqmethod": "CONNECT", "host": "secure.example.org", "uriport": 443,
        "urischeme": None, "uripath": None, "fulluri": "secure.example.org", "username": "alice",
        "action": "TCP_TUNNEL",
        "respcode": 200, "scbytes": 4388, "duration": 15, "serverip": "93.184.216.34", "resconttype": None,
    }
    assert str(connect["ts"]) == "2018-05-14 16:30:00.123000+00:00"
    assert cdn == {
        **cdn, "clientip": "fd77::1", "urischeme": "https", "host": "cdn.example.net", "uriport": 8443,
        "uripath": "/a/b/logo.png", "uriquery": "?v=2&x=y", "uriextension": "png", "serverip": None,
        "fulluri": "cdn.example.net/a/b/logo.png?v=2&x=y", "resconttype": "image/png", "action": "TCP_HIT",
    }
    assert dict(cdn["extra"]) == {  # type: ignore[arg-type]
        "url": "https://cdn.example.net:8443/a/b/logo.png?v=2&x=y", "hierarchy": "FIRSTUP_PARENT",
        "peer": "parent.proxy.local",
    }
    assert (denied["respcode"], denied["action"], denied["serverip"]) == (403, "TCP_DENIED", None)
    assert q.skipped == Counter({"blank line": 1, "comment line": 1})
    bad = q.drain().to_pylist()  # type: ignore[union-attr]
    assert [(r["locator"], r["reason"], r["raw"]) for r in bad] == [
        (f"line {ROWS + 6}", "malformed", b"this is not a squid line")
    ]
    assert [r["rid"] for r in rows[ROWS:]] == [ROWS + 2, ROWS + 3, ROWS + 4]


def test_combined_zone_offset_is_converted_to_utc_and_bad_dates_quarantined(data: Path) -> None:
    rows, q = read(data / "proxy" / "squid-combined.log")
    connect, cdn = rows[ROWS:]
    assert str(connect["ts"]) == "2018-05-14 16:30:00+00:00"
    assert (connect["username"], connect["host"], connect["uriport"], connect["action"]) == (
        "alice", "secure.example.org", 443, "TCP_TUNNEL")
    assert (cdn["referer"], cdn["useragent"], cdn["uriquery"]) == (
        "http://ref.example/", "Mozilla/5.0 (X11; Linux)", "?v=2&x=y")
    bad = sorted((r["locator"], r["reason"]) for r in q.drain().to_pylist())  # type: ignore[union-attr]
    assert bad == [(f"line {ROWS + 3}", "bad_timestamp"), (f"line {ROWS + 4}", "malformed")]
    assert len(rows) == ROWS + 2
