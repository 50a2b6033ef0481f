"""SshdReader: OpenSSH syslog lines to authentication events."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest

from netspot.ingest.base import Source
from netspot.ingest.event.sshd import SshdReader
from netspot.ingest.quarantine import Quarantine
from netspot.ingest.registry import get_reader

LOGHUB = "bruteforce/authlog/loghub-OpenSSH_2k.log"


def read(path: Path, **kw: object) -> tuple[pa.Table, Quarantine]:
    q = Quarantine(str(path), "sshd")
    reader = SshdReader(**kw)  # type: ignore[arg-type]
    table = pa.Table.from_batches(list(reader.read(Source(path), q)), schema=reader.schema)
    return table, q


@pytest.fixture(scope="module")
def loghub(shared: Path) -> tuple[pa.Table, Quarantine, list[str]]:
    path = shared / LOGHUB
    table, q = read(path, year=2016)
    return table, q, path.read_text().splitlines()


def test_registry_gives_the_sshd_reader() -> None:
    assert isinstance(get_reader("sshd"), SshdReader)


def test_loghub_loses_no_line(loghub: tuple[pa.Table, Quarantine, list[str]]) -> None:
    table, q, lines = loghub
    assert len(lines) == 2000
    assert table.num_rows + sum(q.skipped.values()) + q.total == 2000
    assert q.total == 0
    assert table.num_rows == 2000


def test_loghub_counts_520_failed_passwords(loghub: tuple[pa.Table, Quarantine, list[str]]) -> None:
    table, _, lines = loghub
    expected = sum(1 for line in lines if re.search(r"\bFailed password for ", line))
    assert expected == 520
    assert table.column("action").to_pylist().count("failed_password") == expected


def test_loghub_has_exactly_one_accepted_login_fztu(loghub: tuple[pa.Table, Quarantine, list[str]]) -> None:
    table, _, _ = loghub
    ok = [r for r in table.to_pylist() if r["action"].startswith("accepted_")]
    assert [(r["user"], r["src_ip"], r["outcome"], r["action"]) for r in ok] == [
        ("fztu", "119.137.62.142", "success", "accepted_password")
    ]
    port = re.search(r"Accepted password .* port (\d+)", "\n".join(loghub[2]))
    assert port is not None
    assert ok[0]["src_port"] == int(port.group(1))


def test_loghub_top_failing_source_is_183_62_140_253(loghub: tuple[pa.Table, Quarantine, list[str]]) -> None:
    table, _, lines = loghub
    pattern = re.compile(r"Failed password for .* from (\S+) port")
    expected = Counter(m.group(1) for line in lines if (m := pattern.search(line)))
    got = Counter(r["src_ip"] for r in table.to_pylist() if r["action"] == "failed_password")
    assert got == expected
    assert got.most_common(1)[0][0] == "183.62.140.253"


def test_loghub_rows_carry_time_host_user_and_record_ids(loghub: tuple[pa.Table, Quarantine, list[str]]) -> None:
    table, _, lines = loghub
    first = table.slice(0, 2).to_pylist()
    assert str(first[0]["ts"]) == "2016-12-10 06:55:46+00:00"
    assert first[1]["host"] == "LabSZ"
    assert (first[1]["action"], first[1]["user"], first[1]["src_ip"]) == ("invalid_user", "webmaster", "173.234.31.186")
    assert first[1]["category"] == "authentication" and first[1]["process"] == "sshd"
    assert dict(first[1]["extra"])["pid"] == "24200"
    assert table.column("rid").to_pylist() == list(range(2000))
    assert table.column("message").to_pylist()[1] == lines[1].split(": ", 1)[1]


def test_other_programs_are_skipped_and_unknown_sshd_lines_kept(tmp_path: Path) -> None:
    path = tmp_path / "auth.log"
    path.write_text(
        "Mar  3 01:02:03 h CRON[12]: pam_unix(cron:session): session opened for user root\n"
        "Mar  3 01:02:04 h sshd[13]: Server listening on 0.0.0.0 port 22.\n"
        "\n"
        "not syslog at all\n"
        "Mar  3 01:02:05 h sshd[14]: Accepted publickey for bob from 2001:db8::7 port 50000 ssh2: ED25519 SHA256:x\n"
    )
    table, q = read(path, year=2023)
    assert table.column("action").to_pylist() == ["other", "accepted_publickey"]
    assert table.column("outcome").to_pylist() == ["unknown", "success"]
    assert table.column("src_ip").to_pylist() == [None, "2001:db8::7"]
    assert table.column("rid").to_pylist() == [1, 4]
    assert q.skipped == Counter({"not sshd": 1, "blank line": 1})
    rows = q.drain().to_pylist()  # type: ignore[union-attr]
    assert [(r["locator"], r["reason"], r["raw"]) for r in rows] == [("line 4", "malformed", b"not syslog at all")]


def test_iso_and_rfc5424_timestamps_are_utc(tmp_path: Path) -> None:
    path = tmp_path / "auth.log"
    path.write_text(
        "2024-01-02T03:04:05.250+01:00 web sshd[9]: Failed password for invalid user admin from 10.0.0.9 "
        "port 2222 ssh2\n"
        "<38>1 2024-01-02T02:04:06Z web sshd 9 - - Invalid user admin from 10.0.0.9 port 2223\n"
        "Jan  2 02:04:07 web sshd[9]: message repeated 3 times: [ Failed password for root from 10.0.0.9 "
        "port 2224 ssh2]\n"
    )
    table, q = read(path, year=2024)
    assert q.total == 0
    assert [str(t) for t in table.column("ts").to_pylist()] == [
        "2024-01-02 02:04:05.250000+00:00", "2024-01-02 02:04:06+00:00", "2024-01-02 02:04:07+00:00"
    ]
    assert table.column("action").to_pylist() == ["failed_password", "invalid_user", "failed_password"]
    assert table.column("user").to_pylist() == ["admin", "admin", "root"]
    assert table.column("src_port").to_pylist() == [2222, 2223, 2224]
    assert dict(table.column("extra").to_pylist()[2])["repeated"] == "3"


def test_classic_year_defaults_to_the_files_modification_year(tmp_path: Path) -> None:
    import os

    path = tmp_path / "auth.log"
    path.write_text("Feb 29 12:00:00 h sshd[1]: Connection closed by 10.1.1.1 port 22 [preauth]\n")
    os.utime(path, (951825600, 951825600))  # 2000-02-29
    table, _ = read(path)
    assert str(table.column("ts")[0].as_py()) == "2000-02-29 12:00:00+00:00"


def test_an_iso_timestamped_auth_log_is_detected_as_sshd() -> None:
    from netspot.ingest.registry import get_reader

    head = b"2024-08-16T00:34:45+00:00 srv22 sshd[2001]: Accepted publickey for alice from 10.0.0.11 port 42001 ssh2\n"
    assert get_reader("sshd").sniff(head)
