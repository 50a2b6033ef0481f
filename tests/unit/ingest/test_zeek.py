"""The shared Zeek parser: headers, framing, typing and quarantine, through the three readers.

Helpers here (``raw_rows``, ``read_all``, ``shared_logs``) parse Zeek logs with plain Python,
independently of netspot, so that the reader tests compare against the raw text.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from netspot.errors import FormatError, TruncatedInputError
from netspot.ingest.base import Source
from netspot.ingest.dns.zeek_dns import ZeekDnsReader
from netspot.ingest.flow.zeek_conn import ZeekConnReader
from netspot.ingest.proxy.zeek_http import ZeekHttpReader
from netspot.ingest.quarantine import Quarantine

#: Every conn, dns and http log under ../shared/datasets, TSV and JSON.
SHARED_LOGS = {
    "conn": [
        "bruteforce/zeek/006-ssh-honeypot-rpi/conn.log",
        "c2/zeek/001-njrat-ctu-botnet-230-1/labeled-conn.log",
        "c2/zeek/003-androidtester-rat/conn.log",
        "c2/zeek/005-simda-dga-ctu-botnet-355-1/conn.log",
        "mixed/zeek-labeled/008-ctu-normal-40-day1/conn.log.labeled",
        "mixed/zeek-labeled/010-ctu-normal-42-day2/conn.log.labeled",
        "scan/zeek/slips-horizontal-portscan-conn.log",
        "scan/zeek/slips-vertical-portscan-conn.log",
    ],
    "dns": [
        "c2/zeek/003-androidtester-rat/dns.log",
        "c2/zeek/005-simda-dga-ctu-botnet-355-1/dns.log",
        "mixed/zeek-labeled/010-ctu-normal-42-day2/dns.log.labeled",
    ],
    "http": [
        "c2/zeek/005-simda-dga-ctu-botnet-355-1/http.log",
        "mixed/zeek-labeled/008-ctu-normal-40-day1/http.log.labeled",
        "mixed/zeek-labeled/010-ctu-normal-42-day2/http.log.labeled",
    ],
}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
READERS = {"conn": ZeekConnReader, "dns": ZeekDnsReader, "http": ZeekHttpReader}


def raw_rows(path: Path) -> list[dict[str, str | None]]:
    """The data rows of a Zeek log as field -> raw text (None when unset), in plain Python."""
    rows: list[dict[str, str | None]] = []
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        fields: list[str] = []
        for line in fh:
            line = line.rstrip("\n")
            if not line:
                continue
            if line.startswith("{"):
                obj = json.loads(line)
                rows.append({k: None if v is None else (json.dumps(v) if isinstance(v, list | bool) else str(v))
                             for k, v in obj.items()})
            elif line.startswith("#fields"):
                fields = line.split("\t")[1:]
            elif not line.startswith("#"):
                rows.append({f: (None if v == "-" else v) for f, v in zip(fields, line.split("\t"), strict=True)})
    return rows


def ms(text: str) -> int:
    """Epoch milliseconds of a Zeek time, exactly (floor), from its text."""
    return int((Decimal(text) * 1000).to_integral_value(rounding="ROUND_FLOOR"))


def as_ms(t: datetime) -> int:
    """Epoch milliseconds of a timestamp read back, exactly."""
    return (t - EPOCH) // timedelta(milliseconds=1)


def read_all(reader: object, path: Path, number: int = 0) -> tuple[pa.Table, Quarantine]:
    q = Quarantine(str(path), reader.format)  # type: ignore[attr-defined]
    batches = list(reader.read(Source(path, number), q))  # type: ignore[attr-defined]
    return pa.Table.from_batches(batches, schema=reader.schema), q  # type: ignore[attr-defined]


def extras(table: pa.Table) -> list[dict[str, str]]:
    return [dict(e) for e in table.column("extra").to_pylist()]


# -- every shared log ----------------------------------------------------------------------------


@pytest.mark.shared
@pytest.mark.parametrize(("log", "rel"), [(k, f) for k, fs in SHARED_LOGS.items() for f in fs])
def test_every_shared_zeek_log_parses_with_no_quarantined_row(shared: Path, log: str, rel: str) -> None:
    path = shared / rel
    reader = READERS[log]()
    assert reader.sniff(Source(path).head())
    table, q = read_all(reader, path)
    assert q.total == 0, q.drain()
    assert table.num_rows == len(raw_rows(path))
    assert table.column("rid").to_pylist() == list(range(table.num_rows))
    assert all(b.num_rows <= 131_072 for b in table.to_batches())


@pytest.mark.shared
@pytest.mark.parametrize(("log", "rel"), [(k, f) for k, fs in SHARED_LOGS.items() for f in fs if "label" in f])
def test_labelled_logs_keep_label_and_detailedlabel_in_extra(shared: Path, log: str, rel: str) -> None:
    table, _ = read_all(READERS[log](), shared / rel)
    raw = raw_rows(shared / rel)
    got = extras(table)

    def text(v: str | None) -> str | None:
        return "" if v == "(empty)" else v

    assert all("label" in e for e in got)
    assert [e["label"] for e in got] == [text(r["label"]) for r in raw]
    assert [e.get("detailedlabel") for e in got] == [text(r["detailedlabel"]) for r in raw]


@pytest.mark.shared
def test_each_shared_log_is_sniffed_by_its_own_reader_only(shared: Path) -> None:
    for log, files in SHARED_LOGS.items():
        for rel in files:
            head = Source(shared / rel).head()
            assert [name for name, r in READERS.items() if r().sniff(head)] == [log], rel


@pytest.mark.shared
def test_other_zeek_logs_are_not_taken_for_conn_dns_or_http(shared: Path) -> None:
    for rel in ["bruteforce/zeek/007-ssh-honeypot-rpi-infected/ssh.log",
                "mixed/zeek-labeled/008-ctu-normal-40-day1/ssl.log.labeled",
                "mixed/zeek-labeled/010-ctu-normal-42-day2/weird.log.labeled"]:
        head = Source(shared / rel).head()
        assert not any(r().sniff(head) for r in READERS.values()), rel


# -- framing and headers -------------------------------------------------------------------------


def test_a_row_with_19_of_21_fields_and_bad_ports_are_quarantined_with_line_and_values(data: Path) -> None:
    table, q = read_all(ZeekConnReader(), data / "zeek" / "bad-rows-conn.log")
    rows = q.drain().to_pylist()  # type: ignore[union-attr]
    assert [(r["locator"], r["reason"], r["detail"]) for r in rows] == [
        ("line 10", "field_count", "expected 21 fields, got 19"),
        ("line 11", "bad_value", "column id.orig_p: expected port, got 'http'"),
        ("line 12", "bad_value", "column id.resp_p: expected port, got '70000'"),
    ]
    assert rows[0]["raw"].count(b"\t") == 18 and rows[1]["raw"].startswith(b"1723801501.000100\tCAbc1")
    # record numbers count the quarantined rows, so the survivors keep stable ids
    assert table.column("uid").to_pylist() == ["CAbc1", "CAbc2"]
    assert table.column("rid").to_pylist() == [0, 4]


def test_two_header_blocks_are_each_read_by_their_own_fields(data: Path) -> None:
    table, q = read_all(ZeekConnReader(), data / "zeek" / "appended-conn.log")
    assert q.total == 0
    assert table.column("uid").to_pylist() == ["CAbc1", "CAbc2", "CAbc3", "CAbc1"]
    # the second block swaps duration and service and adds a label column
    assert table.column("service").to_pylist() == ["ssl", None, None, "ssl"]
    assert table.column("td").to_pylist() == [2.5, None, 0.0001, 2.5]
    assert [e.get("label") for e in extras(table)] == [None, None, "Malicious", "Malicious"]


def test_gzip_compressed_log_reads_like_the_plain_one(data: Path) -> None:
    gz, q = read_all(ZeekConnReader(), data / "zeek" / "conn.log.gz")
    plain, _ = read_all(ZeekConnReader(), data / "zeek" / "unset-empty-conn.log")
    assert q.total == 0 and gz.num_rows == 3
    assert gz.equals(plain)


def test_unset_is_null_and_empty_set_is_an_empty_text_in_extra(data: Path) -> None:
    table, _ = read_all(ZeekConnReader(), data / "zeek" / "unset-empty-conn.log")
    row = table.slice(1, 1).to_pylist()[0]
    assert row["td"] is None and row["service"] is None and row["flags"] is None and row["dport"] is None
    assert row["te"] == row["ts"]  # no duration: the flow ends when it starts
    ex = extras(table)
    assert ex[0]["tunnel_parents"] == ""  # (empty)
    assert "tunnel_parents" not in ex[1] and "orig_bytes" not in ex[1]  # unset: left out
    assert ex[2]["tunnel_parents"] == "Cx1,y,Cz2"  # \x2c inside an element decoded


def test_escaped_bytes_are_decoded_in_strings_and_sets(data: Path) -> None:
    table, q = read_all(ZeekHttpReader(), data / "zeek" / "escapes-http.log")
    assert q.total == 0
    first = table.slice(0, 1).to_pylist()[0]
    assert first["uripath"] == "/a\tb/café.php"
    assert first["uriquery"] == "?q=1&r=-"
    assert first["useragent"] == "Mozilla/5.0 \\x"
    assert extras(table)[1]["orig_filenames"] == "up,load.bin"


def test_json_lines_with_iso_timestamps_are_read(data: Path) -> None:
    table, q = read_all(ZeekDnsReader(), data / "zeek" / "iso-dns.json")
    assert q.total == 0
    assert [t.isoformat() for t in table.column("ts").to_pylist()] == [
        "2024-08-16T09:45:01.123000+00:00", "2024-08-16T09:45:01.150000+00:00", "2024-08-16T09:45:02+00:00"]


def test_json_millisecond_timestamps_and_other_paths_in_a_stream(data: Path) -> None:
    table, q = read_all(ZeekHttpReader(), data / "zeek" / "millis-stream-http.json")
    assert q.total == 0 and q.skipped["rows of another Zeek log (_path)"] == 1
    assert table.column("ts").to_pylist()[0].isoformat() == "2024-08-16T09:45:01.500000+00:00"


def test_bad_json_lines_are_quarantined_and_the_rest_kept(tmp_path: Path) -> None:
    good = '{"ts":1700000000.5,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":1,"id.resp_h":"10.0.0.2",' \
           '"id.resp_p":80,"proto":"tcp","conn_state":"SF","orig_ip_bytes":40}'
    path = tmp_path / "conn.json"
    path.write_text("\n".join([good, '{"ts": 1.0, "uid": ', "[1, 2]", good.replace('"id.orig_p":1', '"id.orig_p":"x"'),
                               good.replace("1700000000.5", '"yesterday"'), good]) + "\n")
    table, q = read_all(ZeekConnReader(), path)
    rows = q.drain().to_pylist()  # type: ignore[union-attr]
    assert [(r["locator"], r["reason"]) for r in rows] == [
        ("line 2", "malformed"), ("line 3", "malformed"), ("line 4", "bad_value"), ("line 5", "bad_timestamp")]
    assert table.num_rows == 2 and table.column("rid").to_pylist() == [0, 5]
    assert table.column("ibyt").to_pylist() == [40, 40]


def test_a_row_without_timestamp_is_quarantined_as_bad_timestamp(tmp_path: Path, data: Path) -> None:
    text = (data / "zeek" / "unset-empty-conn.log").read_text().replace("1723801502.250000", "-")
    path = tmp_path / "conn.log"
    path.write_text(text)
    table, q = read_all(ZeekConnReader(), path)
    assert q.counts == {"bad_timestamp": 1} and table.num_rows == 2


def test_a_file_that_is_not_a_zeek_log_raises_format_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello\tworld\n")
    with pytest.raises(FormatError, match=r"notes\.txt"):
        read_all(ZeekConnReader(), path)


def test_a_header_cut_before_fields_raises_truncated_input(tmp_path: Path) -> None:
    path = tmp_path / "conn.log"
    path.write_text("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n")
    with pytest.raises(TruncatedInputError, match=r"conn\.log"):
        read_all(ZeekConnReader(), path)


def test_a_dns_log_given_to_the_conn_reader_raises_format_error(data: Path, tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    path.write_text((data / "zeek" / "unset-empty-conn.log").read_text().replace("#path\tconn", "#path\tdns"))
    with pytest.raises(FormatError, match="#path dns"):
        read_all(ZeekConnReader(), path)


def test_a_last_line_cut_short_is_quarantined_as_truncated(tmp_path: Path, data: Path) -> None:
    text = (data / "zeek" / "unset-empty-conn.log").read_text()
    path = tmp_path / "conn.log"
    path.write_text(text[: text.index("#close") - 40])
    table, q = read_all(ZeekConnReader(), path)
    assert q.counts == {"truncated": 1} and table.num_rows == 2


def test_record_ids_carry_the_source_number(data: Path) -> None:
    table, _ = read_all(ZeekConnReader(), data / "zeek" / "unset-empty-conn.log", number=3)
    assert table.column("rid").to_pylist() == [(3 << 32) + i for i in range(3)]


def test_a_gzip_log_cut_in_its_first_block_raises_truncated_input(data: Path, tmp_path: Path) -> None:
    whole = (data / "zeek" / "conn.log.gz").read_bytes()
    path = tmp_path / "conn.log.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(TruncatedInputError, match=r"conn\.log\.gz"):
        read_all(ZeekConnReader(), path)


def test_a_gzip_log_cut_after_good_chunks_keeps_them_and_quarantines_the_tail(data: Path, tmp_path: Path) -> None:
    text = (data / "zeek" / "unset-empty-conn.log").read_text()
    header, rows = text[: text.index("1723801501")], text[text.index("1723801501"): text.index("#close")]
    body = (header + rows * 40_000).encode()  # ~ 9 MiB: more than one read chunk
    packed = gzip.compress(body, mtime=0)
    path = tmp_path / "big.log.gz"
    path.write_bytes(packed[: int(len(packed) * 0.9)])
    table, q = read_all(ZeekConnReader(), path)
    assert q.counts == {"truncated": 1}
    assert 0 < table.num_rows < 120_000
    assert table.column("rid").to_pylist() == list(range(table.num_rows))
