"""Zeek ``http.log`` (TSV or JSON) as ``proxy`` records.

``clientip``/``serverip`` are ``id.orig_h``/``id.resp_h``, ``uriport`` is ``id.resp_p``;
``host``, ``reqmethod`` (``method``), ``useragent``, ``referer`` (``referrer``),
``username``, ``respcode`` (``status_code``) as they are; ``resconttype`` is the first of
``resp_mime_types``; ``uri`` splits into ``uripath`` and ``uriquery`` (with its leading
``?``, as Bluecoat logs it) and ``uriextension``; ``csbytes``/``scbytes`` are the request
and response body lengths; ``fulluri`` is host + uri and ``urischeme`` is ``http``. Every
other column (``trans_depth``, ``status_msg``, ``tags``, file ids, the full
``resp_mime_types``, labels, …) is kept in ``extra`` as text.

Examples
--------
>>> ZeekHttpReader().sniff(b"#separator \\\\x09\\n#path\\thttp\\n")
True
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from netspot.ingest._zeek_reader import Columns, ZeekReader
from netspot.schema import DataKind

__all__ = ["ZeekHttpReader"]

# pyarrow turns a Python literal into a scalar on every call (and retries importing pandas each time):
# constants are made once.
_EMPTY, _NULL = pa.scalar(""), pa.scalar(None, pa.string())

def _first(lists: pa.Array) -> pa.Array:
    """The first element of each list (null for null or empty lists)."""
    lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False)
    offsets = lists.offsets.to_numpy(zero_copy_only=False)[:-1]
    present = lengths > 0
    where = np.where(present, offsets, 0).astype(np.int64)
    if len(lists.values) == 0:
        return pa.nulls(len(lists), pa.string())
    return pc.if_else(pa.array(present), lists.values.take(pa.array(where)), _NULL)


class ZeekHttpReader(ZeekReader):
    """Reads Zeek http logs into ``proxy`` batches."""

    format: ClassVar[str] = "zeek-http"
    kind: ClassVar[DataKind] = DataKind.PROXY
    log_path: ClassVar[str] = "http"
    typed: ClassVar[dict[str, str]] = {
        "ts": "time", "uid": "string", "id.orig_h": "addr", "id.resp_h": "addr", "id.resp_p": "port",
        "method": "string", "host": "string", "uri": "string", "referrer": "string", "user_agent": "string",
        "request_body_len": "count", "response_body_len": "count", "status_code": "count",
        "username": "string", "resp_mime_types": "vector[string]",
    }
    also_extra: ClassVar[frozenset[str]] = frozenset({"resp_mime_types"})

    def map(self, c: Columns) -> dict[str, pa.Array]:
        host, uri = c.text("host"), c.text("uri")
        parts = pc.extract_regex(uri, r"(?s)^(?P<path>[^?]*)(?P<query>\?.*)?$")
        path = pc.struct_field(parts, "path")
        query = pc.struct_field(parts, "query")
        query = pc.if_else(pc.equal(query, _EMPTY), _NULL, query)
        ext = pc.struct_field(pc.extract_regex(path, r"(?s)\.(?P<ext>[^./]+)$"), "ext")
        fulluri = pc.if_else(uri.is_null(), host, pc.binary_join_element_wise(pc.fill_null(host, ""), uri, _EMPTY))
        n = len(uri)
        return {
            "ts": c.ts,
            "clientip": c.text("id.orig_h"),
            "serverip": c.text("id.resp_h"),
            "host": host,
            "reqmethod": c.text("method").dictionary_encode(),
            "useragent": c.text("user_agent"),
            "resconttype": _first(c.get("resp_mime_types", pa.list_(pa.string()))).dictionary_encode(),
            "username": c.text("username"),
            "referer": c.text("referrer"),
            "respcode": c.get("status_code", pa.int64()),
            "urischeme": pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), pa.array(["http"])),
            "uriport": c.get("id.resp_p", pa.int64()),
            "uripath": path,
            "uriquery": query,
            "uriextension": ext,
            "csbytes": c.get("request_body_len", pa.int64()),
            "scbytes": c.get("response_body_len", pa.int64()),
            "fulluri": fulluri,
            "uid": c.text("uid"),
        }
