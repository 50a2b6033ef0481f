"""EcsJsonReader: ECS-like JSON lines, nested or dotted keys, to event rows."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow as pa

from netspot.ingest.base import Source
from netspot.ingest.event.jsonl import EcsJsonReader
from netspot.ingest.quarantine import Quarantine
from netspot.ingest.registry import get_reader


def read(path: Path) -> tuple[list[dict[str, object]], Quarantine]:
    q = Quarantine(str(path), "ecs-json")
    reader = EcsJsonReader()
    table = pa.Table.from_batches(list(reader.read(Source(path), q)), schema=reader.schema)
    return table.to_pylist(), q


def test_registry_gives_the_ecs_json_reader() -> None:
    assert isinstance(get_reader("ecs-json"), EcsJsonReader)


def test_sniff_takes_ecs_and_leaves_zeek_json_alone(data: Path) -> None:
    reader = EcsJsonReader()
    assert reader.sniff(Source(data / "event" / "ecs-events.jsonl").head())
    assert reader.sniff(b'{"event.action": "x", "message": "m"}\n')
    assert not reader.sniff(b'{"ts": 1.5, "uid": "C1", "id.orig_h": "10.0.0.1", "id.orig_p": 1}\n')
    assert not reader.sniff(b'{"_path": "conn", "@timestamp": "2020-01-01T00:00:00Z"}\n')
    assert not reader.sniff(b'{"ts": 1.5, "id": {"orig_h": "10.0.0.1"}}\n')
    assert not reader.sniff(b"not json\n")


def test_nested_keys_map_to_columns_and_the_rest_to_extra(data: Path) -> None:
    rows, _ = read(data / "event" / "ecs-events.jsonl")
    first = rows[0]
    assert {k: v for k, v in first.items() if k not in ("ts", "extra")} == {
        "rid": 0, "category": "authentication", "action": "ssh_login", "outcome": "failure", "severity": 3,
        "src_ip": "203.0.113.7", "src_port": 51022, "dst_ip": "10.0.0.5", "dst_port": 22, "proto": "tcp",
        "user": "root", "host": "bastion", "process": "sshd", "rule": None, "message": "Failed password for root",
        "source": "ecs-json",
    }
    assert str(first["ts"]) == "2024-03-01 09:00:00.250000+00:00"
    assert dict(first["extra"]) == {"labels.env": '"prod"', "tags": '["a", "b"]'}  # type: ignore[arg-type]


def test_dotted_keys_and_string_ports_read_like_nested_ones(data: Path) -> None:
    rows, _ = read(data / "event" / "ecs-events.jsonl")
    second = rows[1]
    assert (second["category"], second["action"], second["src_ip"], second["src_port"], second["dst_port"]) == (
        "network", "firewall_deny", "198.51.100.9", 4444, 3389)
    assert (second["rule"], second["host"], second["proto"]) == ("block-rdp", "fw1", "tcp")
    assert dict(second["extra"]) == {"observer.vendor": '"Acme \\"FW\\""'}  # type: ignore[arg-type]


def test_epoch_milliseconds_seconds_and_zoneless_times(data: Path) -> None:
    rows, _ = read(data / "event" / "ecs-events.jsonl")
    times = {r["action"]: str(r["ts"]) for r in rows}
    assert times["alert"] == "2024-03-01 10:00:02+00:00"
    assert times["heartbeat"] == "2024-03-01 10:00:03+00:00"
    assert times["zoneless"] == "2024-03-01 09:00:09+00:00"
    alert = next(r for r in rows if r["action"] == "alert")
    assert dict(alert["extra"]) == {"count": "7", "ok": "true"}  # type: ignore[arg-type]


def test_bad_lines_are_quarantined_with_line_numbers_and_good_ones_keep_their_ids(data: Path) -> None:
    rows, q = read(data / "event" / "ecs-events.jsonl")
    assert [r["rid"] for r in rows] == [0, 1, 3, 4, 10]
    assert q.skipped == Counter({"blank line": 1})
    bad = sorted((r["locator"], r["reason"], r["detail"]) for r in q.drain().to_pylist())  # type: ignore[union-attr]
    assert [(loc, reason) for loc, reason, _ in bad] == [
        ("line 10", "malformed"), ("line 6", "malformed"), ("line 7", "bad_timestamp"), ("line 8", "bad_timestamp"),
        ("line 9", "bad_value"),
    ]
    details = {loc: detail for loc, _, detail in bad}
    assert details["line 8"].endswith("got 'yesterday'")
    assert details["line 9"] == "source.port: expected an integer 0..65535, got 'http'"


def test_a_key_whose_type_changes_between_lines_loses_no_line(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    lines = [
        '{"@timestamp": "2024-01-01T00:00:00Z", "source": {"port": 1}, "x": 1}',
        '{"@timestamp": "2024-01-01T00:00:01Z", "source": {"port": "2"}, "x": "one"}',
        '{"@timestamp": 1704067202, "source.port": 3, "x": {"y": true}}',
    ]
    path.write_text("\n".join(lines * 50) + "\n")
    rows, q = read(path)
    assert q.total == 0
    assert [r["src_port"] for r in rows] == [1, 2, 3] * 50
    assert [dict(r["extra"]) for r in rows[:3]] == [{"x": "1"}, {"x": '"one"'}, {"x.y": "true"}]  # type: ignore[arg-type]
    assert [r["rid"] for r in rows] == list(range(150))
