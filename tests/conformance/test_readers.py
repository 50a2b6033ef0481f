"""Every registered reader through one suite: the contract of ingest.base.Reader.

Each reader gets a small fixture of its format (hand-made, in tests/data, or written by
the sample day), and must: be detected from content, produce batches of exactly its
schema with unique record ids and a timestamp on every row, read deterministically, and
turn random bytes into quarantine rows or one InputError, never a crash.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netspot.errors import InputError
from netspot.ingest.base import BATCH_ROWS, Source
from netspot.ingest.quarantine import Quarantine
from netspot.ingest.registry import detect, get_reader, reader_names
from netspot.simulate.sample import write_sample
from tests.conftest import DATA

#: A fixture per format; None means "written by the sample day" (see ``fixture_for``).
FIXTURES: dict[str, str | None] = {
    "nfdump-csv": None,
    "dns-pcap": None,
    "squid": None,
    "sshd": None,
    "ecs-json": None,
    "zeek-conn": "zeek/unset-empty-conn.log",
    "zeek-dns": "zeek/iso-dns.json",
    "zeek-http": "zeek/escapes-http.log",
    "bluecoat": "proxy/bluecoat.log",
    "nfcapd": "nfdump/tiny.nfcapd",
    "netflow-pcap": "netflow/v5-export.pcap",
    "pcap-flow": None,
}
SAMPLE_KEYS = {"nfdump-csv": "flow", "dns-pcap": "dns", "squid": "proxy", "sshd": "sshd", "ecs-json": "event",
               "pcap-flow": "dns"}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_sample(tmp_path_factory.mktemp("sample"), flows=500)


def fixture_for(fmt: str, sample: dict[str, Path]) -> Path:
    rel = FIXTURES[fmt]
    path = sample[SAMPLE_KEYS[fmt]] if rel is None else DATA / rel
    if not path.exists():
        pytest.fail(f"conformance fixture for {fmt} missing: {path}")
    return path


def read_all(fmt: str, path: Path, number: int = 1) -> Iterator[tuple[pa.RecordBatch, Quarantine]]:
    q = Quarantine(str(path), fmt)
    for batch in get_reader(fmt).read(Source(path, number), q):
        yield batch, q


def test_every_builtin_format_has_a_conformance_fixture() -> None:
    assert set(reader_names()) >= set(FIXTURES)
    assert set(FIXTURES) >= set(reader_names())


@pytest.mark.parametrize("fmt", sorted(FIXTURES))
def test_reader_is_detected_from_content(fmt: str, sample: dict[str, Path]) -> None:
    assert fmt in [r.format for r in detect(Source(fixture_for(fmt, sample)))]


@pytest.mark.parametrize("fmt", sorted(FIXTURES))
def test_batches_have_the_schema_unique_ids_and_a_time(fmt: str, sample: dict[str, Path]) -> None:
    reader = get_reader(fmt)
    assert (type(reader).__doc__ or "").strip(), "readers document themselves (netspot formats shows it)"
    batches = [b for b, _ in read_all(fmt, fixture_for(fmt, sample), number=7)]
    assert batches, "the fixture yields records"
    table = pa.Table.from_batches(batches)
    assert table.schema.equals(reader.schema, check_metadata=True)
    assert all(b.num_rows <= BATCH_ROWS for b in batches)
    assert table.column("ts").null_count == 0
    rids = table.column("rid").to_pylist()
    assert len(set(rids)) == len(rids)
    assert all(r >> 32 == 7 for r in rids)


@pytest.mark.parametrize("fmt", sorted(FIXTURES))
def test_reading_twice_gives_the_same_records(fmt: str, sample: dict[str, Path]) -> None:
    path = fixture_for(fmt, sample)
    first = pa.Table.from_batches([b for b, _ in read_all(fmt, path)])
    second = pa.Table.from_batches([b for b, _ in read_all(fmt, path)])
    assert first.equals(second)


@pytest.mark.parametrize("fmt", sorted(FIXTURES))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blob=st.binary(min_size=0, max_size=2048))
def test_random_bytes_are_quarantined_or_refused_never_a_crash(fmt: str, blob: bytes, tmp_path: Path) -> None:
    path = tmp_path / "random.bin"
    path.write_bytes(blob)
    try:
        for batch, _ in read_all(fmt, path):
            assert batch.schema.equals(get_reader(fmt).schema)
    except InputError as exc:
        assert str(path) in str(exc)
