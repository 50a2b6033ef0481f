"""Random datagrams into the NetFlow/IPFIX decoder: no crash, no hang, only flows of the schema or quarantine rows."""

from __future__ import annotations

import struct

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netspot.ingest.flow.netflow import NetflowDecoder
from netspot.ingest.quarantine import Quarantine
from netspot.schema import FLOW

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _run(datagrams: list[bytes]) -> tuple[list[pa.RecordBatch], Quarantine]:
    q = Quarantine("fuzz", "netflow-pcap")
    dec = NetflowDecoder(q, hold_per_exporter=4, batch_rows=64)
    for i, d in enumerate(datagrams):
        dec.feed(d, f"10.0.0.{i % 3}", 0, f"datagram {i}")
    dec.close()
    out = []
    while (b := dec.flush()) is not None:
        out.append(b)
    return out, q


def _check(batches: list[pa.RecordBatch], q: Quarantine) -> None:
    for b in batches:
        assert b.schema == FLOW
        assert 0 < b.num_rows <= 64
        assert b.column("ts").null_count == 0
    rows = q.drain()
    if rows is not None:
        assert all(r is not None and len(r) <= 4096 for r in rows.column("raw").to_pylist())


@SETTINGS
@given(st.lists(st.binary(max_size=300), max_size=8))
def test_random_bytes_never_crash_the_decoder(datagrams: list[bytes]) -> None:
    _check(*_run(datagrams))


def _v9(body: bytes, count: int) -> bytes:
    return struct.pack(">HHIIII", 9, count, 100_000, 1_700_000_000, 1, 0) + body


def _ipfix(body: bytes) -> bytes:
    return struct.pack(">HHIII", 10, 16 + len(body), 1_700_000_000, 1, 0) + body


fields = st.lists(st.tuples(st.sampled_from([1, 2, 4, 6, 7, 8, 11, 12, 21, 22, 27, 28, 82, 152, 153, 999]),
                            st.sampled_from([0, 1, 2, 3, 4, 8, 16, 65535])), min_size=0, max_size=6)


@st.composite
def template_then_data(draw: st.DrawFn) -> list[bytes]:
    tid = draw(st.integers(250, 260))
    flds = draw(fields)
    tpl = struct.pack(">HH", tid, len(flds)) + b"".join(struct.pack(">HH", ie, ln) for ie, ln in flds)
    data = draw(st.binary(max_size=200))
    version = draw(st.sampled_from([9, 10]))
    if version == 9:
        return [_v9(struct.pack(">HH", 0, 4 + len(tpl)) + tpl, draw(st.integers(0, 3))),
                _v9(struct.pack(">HH", tid, 4 + len(data)) + data, draw(st.integers(0, 3)))]
    return [_ipfix(struct.pack(">HH", 2, 4 + len(tpl)) + tpl),
            _ipfix(struct.pack(">HH", tid, 4 + len(data)) + data)]


@SETTINGS
@given(template_then_data())
def test_valid_headers_with_random_templates_and_bodies_give_flows_or_quarantine(datagrams: list[bytes]) -> None:
    _check(*_run(datagrams))


@SETTINGS
@given(st.integers(0, 40), st.binary(max_size=48 * 32))
def test_v5_header_with_random_records_gives_flows_or_quarantine(count: int, body: bytes) -> None:
    header = struct.pack(">HHIIIIBBH", 5, count, 100_000, 1_700_000_000, 0, 0, 0, 0, 0)
    batches, q = _run([header + body])
    n = sum(b.num_rows for b in batches)
    if 1 <= count <= 30 and len(body) >= 48 * count:
        assert n + q.counts["bad_timestamp"] == count
    else:
        assert (n, dict(q.counts)) == (0, {"malformed": 1})
    _check(batches, q)
