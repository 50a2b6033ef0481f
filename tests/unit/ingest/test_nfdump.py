"""nfdump readers: nfdump CSV files (stock and Apache Spot headers) and nfcapd files decoded by nfdump."""

from __future__ import annotations

import csv
import gzip
import io
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from netspot.errors import FormatError, InputError, TruncatedInputError
from netspot.ingest.base import Source
from netspot.ingest.flow import _nfcsv
from netspot.ingest.flow.nfdump import NfcapdReader, NfdumpCsvReader
from netspot.ingest.quarantine import Quarantine
from netspot.schema import FLOW
from tests.conftest import require_tool

NFCAPD = "netflow/nfcapd/slips-test1-malicious.nfcapd"
# columns nfdump -o csv prints that netspot maps to FLOW columns (nfdump name -> FLOW name)
MAPPED = {"sa": "sip", "da": "dip", "sp": "sport", "dp": "dport", "flg": "flags", "fwd": "fwd", "stos": "stos",
          "dtos": "dtos", "ipkt": "ipkt", "ibyt": "ibyt", "opkt": "opkt", "obyt": "obyt", "in": "input",
          "out": "output", "sas": "sas", "das": "das", "dir": "dir", "ra": "rip"}  # fmt: skip
TIME = "YYYY-MM-DD HH:MM:SS[.fff]"
ABSENT = {"", "0", "0.000", "0.0.0.0", "::", "00:00:00:00:00:00", "0-0-0", "1970-01-01 00:00:00.000"}


def read(reader: NfdumpCsvReader | NfcapdReader, path: Path) -> tuple[pa.Table, Quarantine]:
    q = Quarantine(str(path), reader.format)
    batches = list(reader.read(Source(path), q))
    for b in batches:
        assert b.schema == FLOW
    return pa.Table.from_batches(batches, schema=FLOW), q


def nfdump_csv(path: Path) -> list[dict[str, str]]:
    """nfdump's own CSV of ``path`` (TZ=UTC), parsed with the csv module, summary lines dropped."""
    out = subprocess.run(
        [require_tool("nfdump"), "-r", str(path), "-o", "csv"],
        capture_output=True, check=True, env={**os.environ, "TZ": "UTC"},
    ).stdout.decode()  # fmt: skip
    lines = out.splitlines()
    end = lines.index("Summary") if "Summary" in lines else len(lines)
    return list(csv.DictReader(io.StringIO("\n".join(lines[:end]))))


def assert_equals_nfdump(table: pa.Table, rows: list[dict[str, str]]) -> None:
    """Every flow equals nfdump's CSV row value by value (times to the second nfdump prints)."""
    got = table.to_pylist()
    assert len(got) == len(rows)
    for mine, ref in zip(got, rows, strict=True):
        for name in ("ts", "te"):
            assert mine[name].strftime("%Y-%m-%d %H:%M:%S") == ref[name]
        assert mine["td"] == pytest.approx(float(ref["td"]), abs=1e-9)
        assert mine["proto"] == ref["pr"].upper()
        for name, target in MAPPED.items():
            assert str(mine[target]) == ref[name].strip(), (name, ref)
        extra = dict(mine["extra"])
        for name in ref.keys() - MAPPED.keys() - {"ts", "te", "td", "pr"}:
            value = ref[name].strip()
            assert extra.get(name, "0" if value in ABSENT else None) == ("0" if value in ABSENT else value), name


def test_nfcapd_file_equals_nfdumps_own_csv_value_by_value(shared: Path) -> None:
    table, q = read(NfcapdReader(), shared / NFCAPD)
    assert_equals_nfdump(table, nfdump_csv(shared / NFCAPD))
    assert q.total == 0
    assert table.num_rows == 4593
    flood = [
        r for r in table.select(["sip", "dip", "dport", "proto"]).to_pylist()
        if (r["sip"], r["dip"], r["dport"], r["proto"]) == ("147.32.80.119", "147.32.82.62", 902, "TCP")
    ]  # fmt: skip
    assert len(flood) == 2305


def test_nfcapd_times_keep_the_milliseconds_nfdump_csv_drops(shared: Path) -> None:
    table, _ = read(NfcapdReader(), shared / NFCAPD)
    first = table.column("ts")[0].as_py()
    assert first == datetime(2018, 1, 12, 15, 37, 30, 942000, tzinfo=UTC)
    assert table.column("rid").to_pylist() == list(range(4593))
    assert set(table.column("source").to_pylist()) == {"nfcapd"}


def test_nfdump_csv_file_equals_nfdumps_own_csv(shared: Path, tmp_path: Path) -> None:
    out = subprocess.run(
        [require_tool("nfdump"), "-r", str(shared / NFCAPD), "-o", "csv"],
        capture_output=True, check=True, env={**os.environ, "TZ": "UTC"},
    ).stdout  # fmt: skip
    (tmp_path / "flows.csv").write_bytes(out)
    table, q = read(NfdumpCsvReader(), tmp_path / "flows.csv")
    assert_equals_nfdump(table, nfdump_csv(shared / NFCAPD))
    assert q.total == 0
    assert q.skipped["nfdump summary line"] == 3


def test_bad_port_short_line_and_bad_time_are_quarantined_with_their_line(data: Path) -> None:
    table, q = read(NfdumpCsvReader(), data / "nfdump" / "stock-171-bad-rows.csv")
    assert table.num_rows == 8
    rows = q.drain().to_pylist()
    found = {r["locator"]: (r["reason"], r["detail"]) for r in rows}
    assert found == {
        "line 7": ("bad_value", "column 'dp': expected an integer 0..65535, got 'http'"),
        "line 8": ("field_count", "expected 48 fields, got 8"),
        "line 9": ("bad_timestamp", f"column 'ts': expected a time {TIME}, got '2018-13-12 15:37:31'"),
    }
    assert [r["raw"][:20] for r in rows] == [b"2018-01-12 15:37:31,"] * 2 + [b"2018-13-12 15:37:31,"], rows
    assert q.skipped["nfdump summary line"] == 3


def test_record_ids_count_quarantined_lines_so_they_stay_stable(data: Path) -> None:
    table, _ = read(NfdumpCsvReader(), data / "nfdump" / "stock-171-bad-rows.csv")
    assert table.column("rid").to_pylist() == [0, 1, 2, 3, 4, 8, 9, 10]


def test_unset_extensions_are_left_out_of_extra_and_set_ones_kept(data: Path) -> None:
    table, _ = read(NfdumpCsvReader(), data / "nfdump" / "stock-171-bad-rows.csv")
    last = table.to_pylist()[-1]
    assert dict(last["extra"]) == {"smk": "24", "dmk": "64", "svln": "7", "ismc": "00:11:22:33:44:55",
                                   "eng": "0/58", "exid": "1"}  # fmt: skip
    assert (last["sip"], last["dip"], last["input"], last["output"], last["dir"]) == ("2001:db8::1", "fe80::2", 2, 3, 1)
    assert (last["proto"], last["proto_num"], last["td"]) == ("UDP", 17, 1.5)


def test_spot_27_column_csv_takes_time_from_tr_and_end_from_duration(data: Path) -> None:
    table, q = read(NfdumpCsvReader(), data / "nfdump" / "spot-27col.csv")
    assert q.total == 0
    rows = table.to_pylist()
    assert [r["ts"] for r in rows[:2]] == [datetime(2016, 7, 8, tzinfo=UTC), datetime(2016, 7, 8, 0, 0, 1, tzinfo=UTC)]
    first = rows[0]
    assert first["te"] == datetime(2016, 7, 8, 0, 0, 1, 344000, tzinfo=UTC)
    assert (first["sip"], first["dip"], first["sport"], first["dport"]) == ("10.0.2.15", "23.253.126.58", 49201, 80)
    assert (first["proto"], first["proto_num"], first["flags"]) == ("TCP", 6, ".AP.SF")
    assert (first["ipkt"], first["ibyt"], first["opkt"], first["obyt"]) == (12, 1850, 10, 9400)
    assert (first["input"], first["output"], first["rip"]) == (3, 4, "10.219.32.250")
    assert rows[1]["das"] == 15169 and rows[1]["dir"] == 1
    assert (rows[2]["proto"], rows[2]["proto_num"], rows[2]["dport"]) == ("ICMP", 1, 2048)
    assert rows[3]["sip"] == "fd77:48a1:c0bb:0:b96c:506d:6c7f:e8be"
    assert all(not r["extra"] for r in rows)  # try..trs repeat tr; nothing else is unmapped


def test_proto_is_upper_case_and_numbers_get_nfdumps_name(tmp_path: Path) -> None:
    text = "ts,sa,da,sp,dp,pr\n" + "".join(
        f"2020-01-01 00:00:00,10.0.0.1,10.0.0.2,0,0,{p}\n" for p in ("tcp", "ICMP6", "47", "250", "Trnk1", "xyz")
    )
    (tmp_path / "p.csv").write_text(text)
    table, _ = read(NfdumpCsvReader(), tmp_path / "p.csv")
    assert table.column("proto").to_pylist() == ["TCP", "ICMP6", "GRE", "250", "TRNK1", "XYZ"]
    assert table.column("proto_num").to_pylist() == [6, 58, 47, 250, 23, None]


def test_gzipped_csv_reads_like_the_plain_file(data: Path, tmp_path: Path) -> None:
    gz = tmp_path / "spot.csv.gz"
    gz.write_bytes(gzip.compress((data / "nfdump" / "spot-27col.csv").read_bytes()))
    assert read(NfdumpCsvReader(), gz)[0].equals(read(NfdumpCsvReader(), data / "nfdump" / "spot-27col.csv")[0])


def test_batches_stay_under_the_batch_size_and_ids_run_on(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_nfcsv, "BATCH_ROWS", 3)
    q = Quarantine("x", "nfdump-csv")
    batches = list(NfdumpCsvReader().read(Source(data / "nfdump" / "stock-171-bad-rows.csv"), q))
    assert [b.num_rows for b in batches] == [3, 2, 2, 1]
    assert pa.Table.from_batches(batches).column("rid").to_pylist() == [0, 1, 2, 3, 4, 8, 9, 10]


def test_a_file_that_is_not_nfdump_csv_is_a_format_error_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "conn.log"
    bad.write_text("#separator \\x09\n#fields\tts\tuid\n")
    with pytest.raises(FormatError, match=r"conn\.log:1: not an nfdump CSV header"):
        read(NfdumpCsvReader(), bad)
    assert not NfdumpCsvReader().sniff(bad.read_bytes())


def test_sniffing_tells_the_formats_apart(data: Path, shared: Path) -> None:
    csv_head = (data / "nfdump" / "spot-27col.csv").read_bytes()
    nfcapd_head = (shared / NFCAPD).read_bytes()[:4096]
    assert NfdumpCsvReader().sniff(csv_head) and not NfcapdReader().sniff(csv_head)
    assert NfcapdReader().sniff(nfcapd_head) and not NfdumpCsvReader().sniff(nfcapd_head)


def test_nfpcapd_written_nfcapd_17_layout_is_recognised(tmp_path: Path, shared: Path) -> None:
    out = tmp_path / "flows"
    out.mkdir()
    pcap = shared / "scan/pcap/slips-test12-icmp-portscan.pcap"
    subprocess.run([require_tool("nfpcapd"), "-r", str(pcap), "-w", str(out)], capture_output=True, check=True)
    (path,) = out.glob("nfcapd.*")
    assert path.read_bytes()[:4] == bytes.fromhex("0ca50200")
    table, q = read(NfcapdReader(), path)
    assert_equals_nfdump(table, nfdump_csv(path))
    assert q.total == 0
    assert set(table.column("proto").to_pylist()) == {"ICMP"}


def test_a_short_nfcapd_header_is_a_truncated_input_error(shared: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.nfcapd"
    cut.write_bytes((shared / NFCAPD).read_bytes()[:100])
    with pytest.raises(TruncatedInputError, match=r"cut\.nfcapd: file ends inside the nfcapd header"):
        read(NfcapdReader(), cut)


def test_a_cut_nfcapd_body_quarantines_the_lost_block(shared: Path, tmp_path: Path) -> None:
    require_tool("nfdump")
    cut = tmp_path / "cut.nfcapd"
    cut.write_bytes((shared / NFCAPD).read_bytes()[:5000])
    table, q = read(NfcapdReader(), cut)
    assert table.num_rows == 0
    (row,) = q.drain().to_pylist()
    assert row["reason"] == "truncated" and "Short read" in row["detail"]


def test_a_corrupt_nfcapd_file_is_a_format_error_with_nfdumps_message(shared: Path, tmp_path: Path) -> None:
    require_tool("nfdump")
    data = bytearray((shared / NFCAPD).read_bytes())
    data[400:2000] = bytes(range(256)) * 6 + bytes(64)
    bad = tmp_path / "corrupt.nfcapd"
    bad.write_bytes(bytes(data))
    with pytest.raises(FormatError, match=r"corrupt\.nfcapd: nfdump cannot read .*Corrupt data file"):
        read(NfcapdReader(), bad)


def test_not_an_nfcapd_file_is_a_format_error(tmp_path: Path) -> None:
    bad = tmp_path / "x.nfcapd"
    bad.write_bytes(b"hello world, not flows")
    with pytest.raises(FormatError, match=r"x\.nfcapd: not an nfcapd file"):
        read(NfcapdReader(), bad)


def test_missing_nfdump_says_how_to_install_it(shared: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name == "nfdump" else real(name, *a, **k))
    with pytest.raises(InputError, match="apt-get install nfdump"):
        read(NfcapdReader(), shared / NFCAPD)
