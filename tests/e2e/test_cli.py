"""The command line end to end, through a real subprocess, a real store and DuckDB."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from netspot.simulate.sample import write_sample

NETSPOT = [sys.executable, "-m", "netspot.cli.main"]


def run(*args: str | Path, store: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NETSPOT_STORE": str(store)}
    proc = subprocess.run([*NETSPOT, *map(str, args)], capture_output=True, text=True, env=env, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"netspot {args} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_sample(tmp_path_factory.mktemp("sample"), flows=3000)


def reports(proc: subprocess.CompletedProcess[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def test_help_lists_every_subcommand(tmp_path: Path) -> None:
    out = run("--help", store=tmp_path).stdout
    for cmd in ("ingest", "watch", "collect", "query", "summary", "demo", "formats"):
        assert cmd in out


def test_ingest_stores_every_sample_record_once_even_when_run_twice(tmp_path: Path, sample: dict[str, Path]) -> None:
    store = tmp_path / "store"
    inputs = [p for k, p in sample.items() if k != "labels"]
    first = reports(run("ingest", "--json", *inputs, store=store))
    # a raw capture is read twice: its DNS messages and the flows nfpcapd meters from it
    assert {r["format"] for r in first} == {"nfdump-csv", "dns-pcap", "pcap-flow", "squid", "sshd", "ecs-json"}
    assert all(r["error"] is None and r["stored"] > 0 and not r["quarantined"] for r in first)
    second = reports(run("ingest", "--json", sample["flow"].parent, store=store))  # the folder; _labels.json skipped
    assert len(second) == len(first)
    assert all(r["duplicate"] for r in second)
    metered = next(r["stored"] for r in first if r["format"] == "pcap-flow")
    flows = len(sample["flow"].read_text().splitlines()) - 1 + metered
    counted = run("query", "--output", "json", "SELECT count(*) AS n, count(DISTINCT rid) AS ids FROM flow",
                  store=store)
    assert json.loads(counted.stdout) == {"n": flows, "ids": flows}


def test_summary_counts_records_per_type_per_hour(tmp_path: Path, sample: dict[str, Path]) -> None:
    store = tmp_path / "store"
    run("ingest", sample["flow"], sample["sshd"], store=store)
    rows = [json.loads(x) for x in run("summary", "--from", "2024-08-16", "--to", "2024-08-16", "--json",
                                        store=store).stdout.splitlines()]
    flows = sum(r["records"] for r in rows if r["type"] == "flow")
    assert flows == len(sample["flow"].read_text().splitlines()) - 1
    assert len({r["hour"] for r in rows if r["type"] == "flow"}) == 24
    assert sum(r["records"] for r in rows if r["type"] == "event") == 101  # 60 logins, 40 failures, 1 success


def test_a_file_of_no_known_format_is_named_in_an_error(tmp_path: Path) -> None:
    junk = tmp_path / "notes.bin"
    junk.write_bytes(b"\x00\x01\x02 hello, not telemetry\n" * 10)
    proc = run("ingest", junk, store=tmp_path / "store", check=False)
    assert proc.returncode == 1
    assert "notes.bin" in proc.stdout and "format not recognised" in proc.stdout


def test_bad_lines_are_quarantined_counted_and_queryable(tmp_path: Path, sample: dict[str, Path]) -> None:
    bad = tmp_path / "flows.csv"
    lines = sample["flow"].read_text().splitlines()[:11]
    fields = lines[5].split(",")
    fields[6] = "notaport"  # the destination port of the fifth flow (line 6)
    lines[5] = ",".join(fields)
    bad.write_text("\n".join(lines) + "\n")
    proc = run("ingest", "--json", "--fail-on-quarantine", bad, store=tmp_path / "store", check=False)
    assert proc.returncode == 1
    (report,) = reports(proc)
    assert report["stored"] == 9 and sum(report["quarantined"].values()) == 1
    q = json.loads(run("query", "--output", "json", "SELECT path, locator, reason FROM quarantine",
                       store=tmp_path / "store").stdout)
    assert q["path"].endswith("flows.csv") and "6" in q["locator"]


def test_watch_ingests_a_file_that_arrives(tmp_path: Path, sample: dict[str, Path]) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    store = tmp_path / "store"
    env = {**os.environ, "NETSPOT_STORE": str(store), "NETSPOT_WATCH_SETTLE_S": "0.5"}
    proc = subprocess.Popen([*NETSPOT, "watch", str(inbox), "--duration", "8"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    time.sleep(2)
    shutil.copy(sample["sshd"], inbox / "auth.log")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "auth.log" in out
    n = json.loads(run("query", "--output", "json", "SELECT count(*) AS n FROM event", store=store).stdout)["n"]
    assert n == 101


def test_demo_ingests_the_sample_day_and_prints_the_summary(tmp_path: Path) -> None:
    proc = run("demo", "--dir", tmp_path / "demo", "--flows", "2000", store=tmp_path / "unused", check=True)
    assert "ingest summary for 2024-08-16" in proc.stdout
    for kind in ("flow", "dns", "proxy", "event"):
        assert f"\n{kind}" in proc.stdout
