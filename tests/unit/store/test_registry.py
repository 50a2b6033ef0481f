from __future__ import annotations

from pathlib import Path

from netspot.store.registry import Registry


def test_same_content_same_reader_is_claimed_once(tmp_path: Path) -> None:
    reg = Registry(tmp_path / "r.sqlite")
    first = reg.claim("abc", "zeek-conn", "a.log")
    reg.finish(first.number, {"stored": 3})
    again = reg.claim("abc", "zeek-conn", "copy-of-a.log")
    assert (again.number, again.done) == (first.number, True)


def test_the_same_file_read_by_two_readers_gets_two_numbers(tmp_path: Path) -> None:
    reg = Registry(tmp_path / "r.sqlite")
    a = reg.claim("abc", "dns-pcap", "x.pcap")
    b = reg.claim("abc", "pcap-flow", "x.pcap")
    assert a.number != b.number


def test_an_interrupted_ingest_is_resumed_with_its_number(tmp_path: Path) -> None:
    reg = Registry(tmp_path / "r.sqlite")
    first = reg.claim("abc", "zeek-conn", "a.log")
    reg.close()
    again = Registry(tmp_path / "r.sqlite").claim("abc", "zeek-conn", "a.log")
    assert (again.number, again.done, again.resumed) == (first.number, False, True)
