"""Random lines and bytes into the text readers: no crash, no hang, only rows or quarantine rows."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netspot.errors import FormatError, TruncatedInputError
from netspot.ingest.base import Reader, Source
from netspot.ingest.event.jsonl import EcsJsonReader
from netspot.ingest.event.sshd import SshdReader
from netspot.ingest.proxy.bluecoat import BluecoatReader
from netspot.ingest.proxy.squid import SquidReader
from netspot.ingest.quarantine import Quarantine

READERS = [SquidReader(), BluecoatReader(), EcsJsonReader(), SshdReader(year=2024)]
SEEDS = [
    "1526315400.123     15 10.1.2.3 TCP_TUNNEL/200 4388 CONNECT a.org:443 alice HIER_DIRECT/93.184.216.34 -",
    '10.1.2.4 - - [14/May/2018:16:30:01 +0000] "GET http://a/b?c HTTP/1.1" 200 12 "-" "x y" TCP_HIT:HIER_DIRECT',
    "2018-05-14 16:30:01 9 10.1.2.3 - - - DENIED \"Malicious Sources\" - 403 TCP_DENIED CONNECT - tcp b.net 443 / "
    "- - - 10.0.0.1 0 120 EICAR - -",
    "#Fields: date time c-ip cs-host sc-bytes",
    '{"@timestamp": "2024-03-01T09:00:01Z", "event": {"action": "x"}, "source.port": 22}',
    '{"@timestamp": 1709287202000, "source": {"ip": "1.2.3.4", "port": "80"}, "tags": [1, 2]}',
    "Dec 10 06:55:46 LabSZ sshd[24200]: Failed password for invalid user x from 1.2.3.4 port 38926 ssh2",
    "<38>1 2024-01-02T02:04:06Z web sshd 9 - - Invalid user admin from 10.0.0.9 port 2223",
]
PROPS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def run(reader: Reader, path: Path) -> None:
    q = Quarantine(str(path), reader.format)
    try:
        batches = list(reader.read(Source(path), q))
    except (FormatError, TruncatedInputError) as exc:
        assert exc.location is not None and exc.location.path == str(path)
        return
    lines = path.read_bytes().count(b"\n") + (0 if path.read_bytes().endswith(b"\n") else 1)
    rids: list[int] = []
    for batch in batches:
        assert batch.schema == reader.schema
        assert batch.num_rows > 0
        rids += batch.column("rid").to_pylist()
    assert rids == sorted(set(rids))
    assert all(0 <= r < max(lines, 1) for r in rids)
    drained = q.drain()
    if drained is not None:
        assert set(drained.column("reason").to_pylist()) <= {
            "malformed", "field_count", "bad_value", "bad_timestamp"}
        assert all(loc.startswith("line ") for loc in drained.column("locator").to_pylist())
    assert len(rids) + q.total + sum(q.skipped.values()) == lines or not path.read_bytes()


@pytest.mark.parametrize("reader", READERS, ids=lambda r: r.format)
@PROPS
@given(data=st.binary(max_size=2000))
def test_random_bytes_give_only_rows_or_quarantine(reader: Reader, data: bytes, tmp_path: Path) -> None:
    path = tmp_path / "in.log"
    path.write_bytes(data)
    run(reader, path)


line = st.one_of(
    st.sampled_from(SEEDS),
    st.text(max_size=200),
    st.builds(lambda s, i, j, t: s[:i] + t + s[j:], st.sampled_from(SEEDS), st.integers(0, 120),
              st.integers(0, 120), st.text(max_size=10)),
)


@pytest.mark.parametrize("reader", READERS, ids=lambda r: r.format)
@PROPS
@given(lines=st.lists(line, max_size=30))
def test_random_and_mutated_lines_give_only_rows_or_quarantine(
    reader: Reader, lines: list[str], tmp_path: Path
) -> None:
    path = tmp_path / "in.log"
    path.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass"))
    run(reader, path)


def test_schema_of_every_reader_is_its_kinds() -> None:
    for reader in READERS:
        assert reader.schema == pa.schema(reader.kind.schema)
