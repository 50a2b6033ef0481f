"""Zeek ``conn.log`` (TSV or JSON) as ``flow`` records.

Mapping (Spot's nfdump columns from Zeek's connection summary):

============  ==============================================================
ts, td        ``ts``, ``duration`` (seconds); ``te = ts + duration``
sip, dip      ``id.orig_h``, ``id.resp_h``
sport, dport  ``id.orig_p``, ``id.resp_p``; ICMP as nfdump writes it: sport 0,
              dport = type * 256 + code (Zeek logs type and code as the ports)
proto         upper-case ``proto`` (``ICMP6`` for ICMP over IPv6), proto_num
flags         ``history``
ipkt, ibyt    ``orig_pkts``, ``orig_ip_bytes``
opkt, obyt    ``resp_pkts``, ``resp_ip_bytes``
other         ``conn_state``, ``service``, ``uid``
============  ==============================================================

Every other column (``orig_bytes``, ``missed_bytes``, ``local_orig``, ``tunnel_parents``,
Stratosphere's ``label``/``detailedlabel``, …) is kept in ``extra`` as text.

Examples
--------
>>> ZeekConnReader().sniff(b"#separator \\\\x09\\n#set_separator\\t,\\n#path\\tconn\\n")
True
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from netspot.ingest._zeek_reader import Columns, ZeekReader
from netspot.schema import DataKind

__all__ = ["ZeekConnReader"]

#: IANA numbers of the transports Zeek names in ``proto``.
PROTO_NUMBERS = {"TCP": 6, "UDP": 17, "ICMP": 1, "ICMP6": 58}

# pyarrow turns a Python literal into a scalar on every call (and retries importing pandas each time):
# constants are made once.
_ICMP, _ICMP6 = pa.scalar("ICMP"), pa.scalar("ICMP6")
_NO_PORT, _TYPE_SHIFT = pa.scalar(0, pa.int64()), pa.scalar(256, pa.int64())
_NAMES = pa.array(list(PROTO_NUMBERS))
_NUMBERS = pa.array(np.array(list(PROTO_NUMBERS.values()), dtype=np.int64))
_FIRST_ICMP = 2  #: index of ICMP in _NAMES (ICMP6 follows)


def _contains(a: pa.Array, byte: int) -> np.ndarray:
    """Which values of string array ``a`` hold ``byte``: one numpy pass over its data buffer (nulls: False)."""
    n = len(a)
    bufs = a.buffers()
    out = np.zeros(n, dtype=bool)
    if n == 0 or bufs[2] is None:
        return out
    offs = np.frombuffer(bufs[1], dtype=np.int32)[a.offset: a.offset + n + 1]
    pos = np.flatnonzero(np.frombuffer(bufs[2], dtype=np.uint8)[offs[0]: offs[-1]] == byte)
    if len(pos):
        out[np.searchsorted(offs, pos + offs[0], side="right") - 1] = True
        if a.null_count:
            out &= a.is_valid().to_numpy(zero_copy_only=False)
    return out


class ZeekConnReader(ZeekReader):
    """Reads Zeek conn logs into ``flow`` batches."""

    format: ClassVar[str] = "zeek-conn"
    kind: ClassVar[DataKind] = DataKind.FLOW
    log_path: ClassVar[str] = "conn"
    typed: ClassVar[dict[str, str]] = {
        "ts": "time", "uid": "string", "id.orig_h": "addr", "id.orig_p": "port", "id.resp_h": "addr",
        "id.resp_p": "port", "proto": "enum", "service": "string", "duration": "interval",
        "conn_state": "string", "history": "string", "orig_pkts": "count", "orig_ip_bytes": "count",
        "resp_pkts": "count", "resp_ip_bytes": "count", "ip_proto": "count",
    }

    def map(self, c: Columns) -> dict[str, pa.Array]:
        ts = c.ts
        td = c.get("duration", pa.float64())
        secs = td.to_numpy(zero_copy_only=False)  # typed intervals are finite: a null reads as nan
        dur_ms = np.round(np.where(np.isnan(secs), 0.0, secs) * 1000.0).astype(np.int64)
        te = pc.add(ts.cast(pa.int64()), pa.array(dur_ms)).cast(ts.type)
        sip = c.text("id.orig_h")
        proto = pc.utf8_upper(c.text("proto"))
        v6 = _contains(sip, 0x3A)  # ':'
        if v6.any():
            is_icmp = pc.fill_null(pc.equal(proto, _ICMP), False)
            proto = pc.if_else(pc.and_(is_icmp, pa.array(v6)), _ICMP6, proto)
        idx = pc.index_in(proto, _NAMES)
        numbers = _NUMBERS.take(idx)
        if "ip_proto" in c:
            numbers = pc.coalesce(c.get("ip_proto", pa.int64()), numbers)
        sport = c.get("id.orig_p", pa.int64())
        dport = c.get("id.resp_p", pa.int64())
        icmp = pc.fill_null(idx, -1).to_numpy(zero_copy_only=False) >= _FIRST_ICMP
        if icmp.any():
            mask = pa.array(icmp)
            sport, dport = pc.if_else(mask, _NO_PORT, sport), pc.if_else(mask, pc.add(pc.multiply(sport, _TYPE_SHIFT),
                                                                                     dport), dport)
        known = idx.null_count == proto.null_count  # every name is one of _NAMES: encoded already
        return {
            "ts": ts,
            "te": te,
            "td": td,
            "sip": sip,
            "dip": c.text("id.resp_h"),
            "sport": sport,
            "dport": dport,
            "proto": pa.DictionaryArray.from_arrays(idx, _NAMES) if known else proto.dictionary_encode(),
            "proto_num": numbers,
            "flags": c.text("history"),
            "ipkt": c.get("orig_pkts", pa.int64()),
            "ibyt": c.get("orig_ip_bytes", pa.int64()),
            "opkt": c.get("resp_pkts", pa.int64()),
            "obyt": c.get("resp_ip_bytes", pa.int64()),
            "conn_state": c.text("conn_state").dictionary_encode(),
            "service": c.text("service"),
            "uid": c.text("uid"),
        }
