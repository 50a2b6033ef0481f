"""Random input into the Zeek readers: no crash, no hang, only batches, quarantine rows or a FormatError."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netspot.errors import InputError
from netspot.ingest.base import Source
from netspot.ingest.dns.zeek_dns import ZeekDnsReader
from netspot.ingest.flow.zeek_conn import ZeekConnReader
from netspot.ingest.proxy.zeek_http import ZeekHttpReader
from netspot.ingest.quarantine import Quarantine

HEADER = (
    b"#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
    b"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tduration\torig_ip_bytes\ttunnel_parents\n"
    b"#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tinterval\tcount\tset[string]\n"
)
GOOD = b"1723801501.5\tC1\t10.0.0.1\t1234\t10.0.0.2\t80\ttcp\t0.5\t40\t(empty)\n"
READERS = [ZeekConnReader(), ZeekDnsReader(), ZeekHttpReader()]
FIELD = st.one_of(
    st.sampled_from(["-", "(empty)", "", "0", "-1", "65536", "1e400", "nan", "T", "a,b", "\\x41", "\\xzz",
                     "1723801501.5", "10.0.0.1", "::1", "tcp", "#", "{", "\r"]),
    st.text(max_size=12),
)
LINE = st.one_of(
    st.lists(FIELD, min_size=0, max_size=13).map(lambda fs: "\t".join(fs).encode("utf-8", "surrogatepass")),
    st.binary(max_size=60).map(lambda b: b.replace(b"\n", b" ")),
    st.sampled_from([b"#close\t2024", b"#fields\tts\tuid", b"#types\ttime", b"#separator \\x09", b"#path\tconn",
                     b'{"ts":1.0}', GOOD.rstrip(b"\n")]),
)


def _run(reader: object, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.log"
        path.write_bytes(data)
        q = Quarantine(str(path), reader.format)  # type: ignore[attr-defined]
        total = 0
        try:
            for batch in reader.read(Source(path), q):  # type: ignore[attr-defined]
                assert isinstance(batch, pa.RecordBatch) and batch.schema == reader.schema  # type: ignore[attr-defined]
                assert batch.column("ts").null_count == 0
                total += batch.num_rows
        except InputError as exc:  # FormatError / TruncatedInputError, naming the file
            assert str(path) in str(exc)
            return
        drained = q.drain()
        assert (0 if drained is None else drained.num_rows) == q.total


@settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(LINE, max_size=12))
def test_random_lines_after_a_valid_header_only_quarantine(lines: list[bytes]) -> None:
    _run(ZeekConnReader(), HEADER + GOOD + b"\n".join(lines) + b"\n" + GOOD)


@settings(max_examples=100, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=400), which=st.integers(0, 2))
def test_random_bytes_never_crash_a_zeek_reader(data: bytes, which: int) -> None:
    _run(READERS[which], data)


KEYS = ["ts", "id.orig_h", "id.orig_p", "id.resp_p", "proto", "duration", "orig_ip_bytes", "ip_proto", "trans_id",
        "qtype", "qclass", "rcode", "answers", "TTLs", "status_code", "uri", "resp_mime_types", "tunnel_parents"]
VALUE = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(), st.text(max_size=8),
                  st.lists(st.one_of(st.integers(-2**70, 2**70), st.floats(), st.text(max_size=3)), max_size=2))


@settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(objs=st.lists(st.dictionaries(st.sampled_from(KEYS), VALUE, max_size=6), max_size=4), which=st.integers(0, 2),
       garbage=st.booleans())
def test_random_json_values_never_crash_a_zeek_reader(objs: list[dict[str, object]], which: int,
                                                      garbage: bool) -> None:
    good = json.dumps({"ts": 1.5, "uid": "C2", "id.orig_h": "10.0.0.1", "conn_state": "SF"}).encode()
    body = b"".join(json.dumps({"ts": 1.5, **o}).encode() + b"\n" for o in objs)
    _run(READERS[which], good + b"\n" + (body[:-3] if garbage and body else body) + good + b"\n")
