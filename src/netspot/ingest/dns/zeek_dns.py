"""Zeek ``dns.log`` (TSV or JSON) as ``dns`` records.

A row with a response (``rcode`` set, or answers) is a response and, as in Apache Spot's
tshark-based ODM, goes from the resolver to the client: ``ip_src`` = ``id.resp_h``,
``ip_dst`` = ``id.orig_h`` (ports likewise). A row without one is a query from the client.

``dns_qry_name/class/type/rcode`` come from ``query``, ``qclass``, ``qtype``, ``rcode``
(0 for queries), ``dns_id`` from ``trans_id``, ``dns_answers``/``dns_ttls`` from
``answers``/``TTLs``, ``rtt`` and ``uid`` as they are. Zeek logs no frame, so
``frame_len`` is null. Every other column (``AA``, ``RD``, ``rejected``, labels, …) is kept
in ``extra`` as text.

Examples
--------
>>> ZeekDnsReader().sniff(b'{"ts":1.0,"uid":"C1","id.orig_h":"10.0.0.1","query":"x.org","qtype":1}\\n')
True
"""

from __future__ import annotations

from typing import ClassVar

import pyarrow as pa
import pyarrow.compute as pc

from netspot.ingest._zeek_reader import Columns, ZeekReader
from netspot.schema import DataKind

__all__ = ["ZeekDnsReader"]

# pyarrow turns a Python literal into a scalar on every call (and retries importing pandas each time):
# constants are made once.
_NONE = pa.scalar(0, pa.int32())

class ZeekDnsReader(ZeekReader):
    """Reads Zeek dns logs into ``dns`` batches."""

    format: ClassVar[str] = "zeek-dns"
    kind: ClassVar[DataKind] = DataKind.DNS
    log_path: ClassVar[str] = "dns"
    typed: ClassVar[dict[str, str]] = {
        "ts": "time", "uid": "string", "id.orig_h": "addr", "id.orig_p": "port", "id.resp_h": "addr",
        "id.resp_p": "port", "proto": "enum", "trans_id": "count", "rtt": "interval", "query": "string",
        "qclass": "count", "qtype": "count", "rcode": "count", "answers": "vector[string]",
        "TTLs": "vector[interval]",
    }

    def map(self, c: Columns) -> dict[str, pa.Array]:
        rcode = c.get("rcode", pa.int64())
        answers = c.get("answers", pa.list_(pa.string()))
        has_answers = pc.fill_null(pc.greater(pc.list_value_length(answers), _NONE), False)
        response = pc.or_(rcode.is_valid(), has_answers)
        orig_h, resp_h = c.text("id.orig_h"), c.text("id.resp_h")
        orig_p, resp_p = c.get("id.orig_p", pa.int64()), c.get("id.resp_p", pa.int64())
        ttls = c.get("TTLs", pa.list_(pa.string()))
        ttl_values = pc.round(ttls.values.cast(pa.float64())).cast(pa.int64())
        return {
            "ts": c.ts,
            "ip_src": pc.if_else(response, resp_h, orig_h),
            "ip_dst": pc.if_else(response, orig_h, resp_h),
            "sport": pc.if_else(response, resp_p, orig_p),
            "dport": pc.if_else(response, orig_p, resp_p),
            "transport": pc.utf8_lower(c.text("proto")).dictionary_encode(),
            "dns_id": c.get("trans_id", pa.int64()),
            "is_response": response,
            "dns_qry_name": c.text("query"),
            "dns_qry_class": c.get("qclass", pa.int64()),
            "dns_qry_type": c.get("qtype", pa.int64()),
            "dns_qry_rcode": pc.fill_null(rcode, 0),
            "dns_answers": answers,
            "dns_ttls": pa.ListArray.from_arrays(ttls.offsets, ttl_values, mask=ttls.is_null()),
            "rtt": c.get("rtt", pa.float64()),
            "uid": c.text("uid"),
        }
