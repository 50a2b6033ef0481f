"""BluecoatReader: ELFF proxy logs with Spot's rules, with and without a #Fields: header."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest

from netspot.errors import FormatError
from netspot.ingest.base import Source
from netspot.ingest.proxy.bluecoat import BluecoatReader
from netspot.ingest.quarantine import Quarantine
from netspot.ingest.registry import get_reader

HTTP_LOG = "c2/zeek/005-simda-dga-ctu-botnet-355-1/http.log"
ROWS = 60


def read(path: Path) -> tuple[list[dict[str, object]], Quarantine]:
    q = Quarantine(str(path), "bluecoat")
    reader = BluecoatReader()
    table = pa.Table.from_batches(list(reader.read(Source(path), q)), schema=reader.schema)
    return table.to_pylist(), q


def test_registry_gives_the_bluecoat_reader() -> None:
    assert isinstance(get_reader("bluecoat"), BluecoatReader)


@pytest.mark.parametrize("name", ["bluecoat.log", "bluecoat-noheader.log"])
def test_sniff_recognises_with_and_without_header(data: Path, name: str) -> None:
    assert BluecoatReader().sniff(Source(data / "proxy" / name).head())
    assert not BluecoatReader().sniff(Source(data / "proxy" / "squid-native.log").head())


@pytest.mark.parametrize(("name", "header_lines"), [("bluecoat.log", 4), ("bluecoat-noheader.log", 0)])
def test_rendered_zeek_rows_come_back_field_for_field(shared: Path, data: Path, name: str, header_lines: int) -> None:
    lines = (shared / HTTP_LOG).read_text().splitlines()
    names = next(line for line in lines if line.startswith("#fields")).split("\t")[1:]
    zeek = [dict(zip(names, line.split("\t"), strict=True)) for line in lines if not line.startswith("#")][:ROWS]
    rows, q = read(data / "proxy" / name)
    assert q.skipped == (Counter({"header line": header_lines}) if header_lines else Counter())
    for i, (row, z) in enumerate(zip(rows[:ROWS], zeek, strict=True)):
        assert int(row["ts"].timestamp()) == int(1526315251 + float(z["ts"]))  # type: ignore[attr-defined]
        assert row["rid"] == header_lines + i
        assert row["clientip"] == z["id.orig_h"]
        assert row["serverip"] == z["id.resp_h"]
        assert row["host"] == z["host"]
        assert row["reqmethod"] == z["method"]
        assert row["respcode"] == (0 if z["status_code"] == "-" else int(z["status_code"]))
        assert row["scbytes"] == int(z["response_body_len"])
        assert row["csbytes"] == int(z["request_body_len"])
        assert row["useragent"] == z["user_agent"]
        assert row["referer"] == z["referrer"]
        assert row["resconttype"] == (None if z["resp_mime_types"] == "-" else z["resp_mime_types"])
        assert (row["urischeme"], row["uriport"], row["uripath"], row["uriquery"]) == ("http", 80, z["uri"], None)
        assert row["uriextension"] == ("php" if z["uri"].endswith(".php") else None)
        assert row["fulluri"] == z["host"] + (z["uri"] if len(z["uri"]) > 1 else "")
        assert row["duration"] == (i * 37) % 900
        assert (row["filterresult"], row["action"], row["webcat"]) == ("OBSERVED", "TCP_NC_MISS", "unavailable")
        assert (row["username"], row["authgroup"], row["exceptionid"], row["virusid"]) == (None, None, None, None)
        assert (row["bcappname"], row["bcappoper"], row["source"], row["extra"]) == ("none", "none", "bluecoat", [])


def test_hand_made_rows_map_every_field(data: Path) -> None:
    rows, q = read(data / "proxy" / "bluecoat.log")
    full, denied = rows[ROWS:]
    assert {k: v for k, v in full.items() if k not in ("ts", "extra")} == {
        "rid": ROWS + 4, "clientip": "10.1.2.3", "host": "www.example.com", "reqmethod": "GET",
        "useragent": "Mozilla/5.0 (Windows NT 10.0; Win64)", "resconttype": "text/html", "duration": 15,
        "username": "alice", "authgroup": "CN=Users,DC=corp", "exceptionid": None, "filterresult": "PROXIED",
        "webcat": "Technology/Internet;Business", "referer": "http://ref.example/", "respcode": 200,
        "action": "TCP_HIT", "urischeme": "http", "uriport": 80, "uripath": "/index.html", "uriquery": "?a=1&b=2",
        "uriextension": "html", "serverip": "10.0.0.1", "scbytes": 5120, "csbytes": 310, "virusid": None,
        "bcappname": "Google Search", "bcappoper": "Search", "fulluri": "www.example.com/index.html?a=1&b=2",
        "uid": None, "source": "bluecoat",
    }
    assert str(full["ts"]) == "2018-05-14 16:30:00+00:00"
    assert (denied["fulluri"], denied["filterresult"], denied["virusid"], denied["respcode"]) == (
        "bad.example.net", "DENIED", "EICAR", 403)
    bad = [(r["locator"], r["reason"], r["detail"]) for r in q.drain().to_pylist()]  # type: ignore[union-attr]
    assert bad == [
        (f"line {ROWS + 7}", "field_count", "expected 27 fields, got 7"),
        (f"line {ROWS + 8}", "bad_timestamp",
         "expected date and time as YYYY-MM-DD HH:MM:SS, got '2018-13-14 16:30:03'"),
    ]


def test_fields_header_maps_columns_by_name_and_keeps_unknown_ones(tmp_path: Path) -> None:
    path = tmp_path / "elff.log"
    path.write_text(
        "#Fields: time date c-ip cs-host sc-status sc-bytes x-custom\n"
        '12:00:01 2024-02-03 10.9.9.9 example.org - 42 "some value"\n'
        "12:00:02 2024-02-03 10.9.9.9 example.org 200 lots -\n"
        "#Fields: date time cs-host\n"
        "2024-02-03 12:00:03 other.example\n"
    )
    rows, q = read(path)
    assert [(r["host"], r["respcode"], r["scbytes"], r["rid"]) for r in rows] == [
        ("example.org", 0, 42, 1), ("other.example", None, None, 4)]
    assert dict(rows[0]["extra"]) == {"x-custom": "some value"}  # type: ignore[arg-type]
    bad = [(r["locator"], r["reason"], r["detail"]) for r in q.drain().to_pylist()]  # type: ignore[union-attr]
    assert bad == [("line 3", "bad_value", "field sc-bytes: expected an integer, got 'lots'")]


def test_fields_header_without_date_is_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / "elff.log"
    path.write_text("#Fields: c-ip cs-host\n10.0.0.1 a.example\n")
    with pytest.raises(FormatError, match=r"elff.log:1"):
        read(path)
