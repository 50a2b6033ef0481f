"""Random input into the nfdump readers: no crash, no hang, only batches, quarantine rows or a FormatError."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netspot.errors import InputError
from netspot.ingest.base import Reader, Source
from netspot.ingest.flow.nfdump import NfcapdReader, NfdumpCsvReader
from netspot.ingest.quarantine import Quarantine

STOCK = b"ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,smk,dmk,dtos,dir,ra,eng,tr\n"
SPOT = b"tr,try,trm,trd,trh,trm,trs,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,dtos,dir,ra\n"
GOOD = (
    b"2018-01-12 15:37:30,2018-01-12 15:37:30,0.000,1.2.3.4,::1,1,2,TCP,......S.,0,0,1,60,0,0,0,0,0,0,0,0,0,0,"
    b"1.1.1.1,0/1,x"
)
FIELD = st.one_of(
    st.sampled_from(["", "0", "65536", "99999999999999999999", "-1", "1.5", "8.0", "I", "E", "TCP", "tcp", "300",
                     "2018-01-12 15:37:30", "2018-02-30 00:00:00", "2018-01-12 15:37:30.9999", "1.2.3.4", "1.2.3.256",
                     "::1", "fe80::1:2", "0.0.0.0", "00:00:00:00:00:00", "0-0-0", "Summary", " ", "\r"]),
    st.text(max_size=12),
)  # fmt: skip
LINE = st.one_of(
    st.lists(FIELD, min_size=0, max_size=30).map(lambda fs: ",".join(fs).encode("utf-8", "surrogatepass")),
    st.binary(max_size=80).map(lambda b: b.replace(b"\n", b" ")),
    st.sampled_from([b"Summary", b"flows,bytes,packets,avg_bps,avg_pps,avg_bpp", b"1,2,3,4,5,6", GOOD, b""]),
)


def _run(reader: Reader, data: bytes, name: str = "x.csv") -> tuple[int, Quarantine]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        q = Quarantine(str(path), reader.format)
        total = 0
        try:
            for batch in reader.read(Source(path), q):
                assert isinstance(batch, pa.RecordBatch) and batch.schema == reader.schema
                assert batch.column("ts").null_count == 0 and batch.num_rows > 0
                total += batch.num_rows
        except InputError as exc:  # FormatError / TruncatedInputError, naming the file
            assert str(path) in str(exc)
            return -1, q
        drained = q.drain()
        assert (0 if drained is None else drained.num_rows) == q.total
        return total, q


@settings(max_examples=150, deadline=3000, suppress_health_check=[HealthCheck.too_slow])
@given(header=st.sampled_from([STOCK, SPOT]), lines=st.lists(LINE, max_size=12))
def test_random_lines_after_a_valid_header_only_quarantine(header: bytes, lines: list[bytes]) -> None:
    data = header + b"\n".join(lines) + (b"\n" if lines else b"")
    total, q = _run(NfdumpCsvReader(), data)
    assert total >= 0, "a valid header never makes the file a format error"
    # every line is accounted for: a flow, a quarantine row or a counted skip
    assert total + q.total + sum(q.skipped.values()) >= len([ln for ln in lines if ln.strip(b"\r")])


@settings(max_examples=100, deadline=3000, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=400))
def test_random_bytes_give_batches_quarantine_rows_or_a_format_error(data: bytes) -> None:
    _run(NfdumpCsvReader(), data)


@settings(max_examples=25, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
@given(version=st.sampled_from([b"\x01\x00", b"\x02\x00", b"\x03\x00"]), body=st.binary(min_size=0, max_size=600))
def test_random_nfcapd_bodies_give_batches_quarantine_rows_or_a_format_error(version: bytes, body: bytes) -> None:
    if shutil.which("nfdump") is None:
        pytest.skip("reference tool 'nfdump' not installed (apt-get install nfdump)")
    _run(NfcapdReader(), b"\x0c\xa5" + version + body, "x.nfcapd")
