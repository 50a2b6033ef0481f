"""Zeek log headers: the ``#separator`` … ``#types`` block of TSV logs, known field types, sniffing.

A classic Zeek ASCII log opens with a header block::

    #separator \\x09
    #set_separator	,
    #empty_field	(empty)
    #unset_field	-
    #path	conn
    #fields	ts	uid	id.orig_h	…
    #types	time	string	addr	…

and may hold several such blocks when a log was appended to. JSON logs have no header:
their field types come from :data:`KNOWN_TYPES` (Zeek's base scripts) or from the JSON values.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace

from netspot.errors import FormatError, Location

__all__ = ["KNOWN_TYPES", "ZeekHeader", "parse_directive", "sniff_zeek"]

_ID = {"id.orig_h": "addr", "id.orig_p": "port", "id.resp_h": "addr", "id.resp_p": "port"}

#: Field types of the logs netspot maps, as Zeek's base scripts declare them (peers.md §3.3).
KNOWN_TYPES: dict[str, dict[str, str]] = {
    "conn": {
        "ts": "time", "uid": "string", **_ID, "proto": "enum", "service": "string", "duration": "interval",
        "orig_bytes": "count", "resp_bytes": "count", "conn_state": "string", "local_orig": "bool",
        "local_resp": "bool", "missed_bytes": "count", "history": "string", "orig_pkts": "count",
        "orig_ip_bytes": "count", "resp_pkts": "count", "resp_ip_bytes": "count", "tunnel_parents": "set[string]",
        "ip_proto": "count", "vlan": "int", "inner_vlan": "int", "community_id": "string",
    },
    "dns": {
        "ts": "time", "uid": "string", **_ID, "proto": "enum", "trans_id": "count", "rtt": "interval",
        "query": "string", "qclass": "count", "qclass_name": "string", "qtype": "count", "qtype_name": "string",
        "rcode": "count", "rcode_name": "string", "AA": "bool", "TC": "bool", "RD": "bool", "RA": "bool",
        "Z": "count", "answers": "vector[string]", "TTLs": "vector[interval]", "rejected": "bool",
    },
    "http": {
        "ts": "time", "uid": "string", **_ID, "trans_depth": "count", "method": "string", "host": "string",
        "uri": "string", "referrer": "string", "version": "string", "user_agent": "string", "origin": "string",
        "request_body_len": "count", "response_body_len": "count", "status_code": "count", "status_msg": "string",
        "info_code": "count", "info_msg": "string", "tags": "set[enum]", "username": "string",
        "password": "string", "proxied": "set[string]", "orig_fuids": "vector[string]",
        "orig_filenames": "vector[string]", "orig_mime_types": "vector[string]", "resp_fuids": "vector[string]",
        "resp_filenames": "vector[string]", "resp_mime_types": "vector[string]",
    },
}

_ESCAPE = re.compile(rb"\\x([0-9a-fA-F]{2})")


def _unescape(value: bytes) -> bytes:
    return _ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), value)


@dataclass(frozen=True, slots=True)
class ZeekHeader:
    """The header state in force for the data lines that follow it."""

    separator: bytes = b"\t"
    set_separator: str = ","
    empty_field: str = "(empty)"
    unset_field: str = "-"
    path: str | None = None
    fields: tuple[str, ...] | None = None
    types: tuple[str, ...] | None = None

    def field_types(self, known: dict[str, str]) -> tuple[str, ...]:
        """The type of each field: ``#types`` when given, else the known type, else string."""
        assert self.fields is not None
        if self.types is not None:
            return self.types
        return tuple(known.get(f, "string") for f in self.fields)


def parse_directive(line: bytes, header: ZeekHeader, where: Location) -> ZeekHeader:
    """The header after the ``#`` line ``line`` (without its newline); other comments change nothing."""
    if line.startswith(b"#separator"):
        value = _unescape(line[len(b"#separator"):].strip(b" \t"))
        if len(value) != 1 or value in b"\n#":
            raise FormatError(f"#separator must be one byte, got {value!r}", where)
        # a new #separator opens a new header block (an appended log): forget the old fields
        return ZeekHeader(separator=value)
    name, _, rest = line[1:].partition(header.separator)
    try:
        key, text = name.decode("ascii"), rest.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"header line is not text: {line[:80]!r}", where) from exc
    if key == "set_separator":
        return replace(header, set_separator=_unescape(rest).decode("utf-8", "replace"))
    if key == "empty_field":
        return replace(header, empty_field=text)
    if key == "unset_field":
        return replace(header, unset_field=text)
    if key == "path":
        return replace(header, path=text)
    if key == "fields":
        fields = tuple(text.split(header.separator.decode("latin-1")))
        if len(set(fields)) != len(fields):
            raise FormatError(f"#fields names a column twice: {text[:200]!r}", where)
        if header.types is not None and len(header.types) != len(fields):
            header = replace(header, types=None)
        return replace(header, fields=fields)
    if key == "types":
        types = tuple(text.split(header.separator.decode("latin-1")))
        if header.fields is None or len(types) != len(header.fields):
            got = 0 if header.fields is None else len(header.fields)
            raise FormatError(f"#types has {len(types)} entries, #fields {got}", where)
        return replace(header, types=types)
    return header  # #open, #close and free comments


def _json_path(obj: dict[str, object]) -> str | None:
    path = obj.get("_path")
    if isinstance(path, str):
        return path
    keys = set(obj)
    inner = obj.get("id")  # nested "id": {"orig_h": …} objects, as some shippers write them
    if isinstance(inner, dict):
        keys |= {f"id.{k}" for k in inner}
    if "id.orig_h" not in keys and "uid" not in keys:
        return None
    if keys & {"conn_state", "orig_ip_bytes", "resp_ip_bytes", "history"}:
        return "conn"
    if keys & {"qtype", "qtype_name", "trans_id", "rcode_name"} and "query" in keys:
        return "dns"
    if keys & {"method", "status_code", "user_agent", "resp_mime_types", "trans_depth"} and (
        keys & {"uri", "host", "trans_depth"}
    ):
        return "http"
    return None


def sniff_zeek(head: bytes) -> str | None:
    """The Zeek log path (``conn``, ``dns``, ``http``, …) that ``head`` looks like, or None.

    Examples
    --------
    >>> sniff_zeek(b"#separator \\\\x09\\n#set_separator\\t,\\n#path\\tconn\\n")
    'conn'
    >>> sniff_zeek(b'{"ts":1.5,"uid":"C1","id.orig_h":"10.0.0.1","query":"a.b","qtype":1}\\n')
    'dns'
    >>> sniff_zeek(b"hello") is None
    True
    """
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"#separator"):
        m = re.search(rb"^#path[\t ,|;]([A-Za-z0-9_.\-]+)\r?$", text, re.MULTILINE)
        if m:
            return m.group(1).decode("ascii")
        m = re.search(rb"^#fields[\t ](.*)$", text, re.MULTILINE)
        if m:
            fields = set(re.split(rb"[\t ,|;]", m.group(1).strip()))
            return _json_path({f.decode("utf-8", "replace"): None for f in fields})
        return None
    if text.startswith(b"{"):
        line = text.split(b"\n", 1)[0]
        try:
            obj = json.loads(line)
        except ValueError:
            return None
        return _json_path(obj) if isinstance(obj, dict) else None
    return None
