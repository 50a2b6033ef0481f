"""Squid ``access.log`` reader: the native format and the combined (Apache-like) logformat.

Native (``logformat squid``)::

    1286536309.586    921 192.168.0.68 TCP_MISS/200 507 POST http://rcv.example.com/x - DIRECT/10.0.0.1 text/html

Combined (``logformat combined``)::

    10.0.0.6 - bob [08/Oct/2010:11:11:49 +0000] "GET http://a.com/ HTTP/1.1" 200 507 "-" "curl/8" TCP_MISS:HIER_DIRECT

The layout is decided once per file from its first non-blank line. Columns:
``action`` is Squid's result code (``TCP_MISS``), ``respcode`` the HTTP status,
``scbytes`` the bytes sent to the client, ``duration`` the elapsed milliseconds
(native only), ``serverip`` the peer of the hierarchy code when it is an IP address
(native only), the URL is split into scheme/host/port/path/query/extension
(``CONNECT host:443`` too) and ``fulluri`` is built as Spot did. The hierarchy code,
a peer that is a name, and any trailing fields go to ``extra``.

References
----------
Squid wiki, "Squid Log Files" (access.log native format); squid.conf ``logformat``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from netspot.ingest._extra import extra_map
from netspot.ingest._text import (
    LineBlock,
    blank_and_comment,
    constant,
    extract,
    iter_line_blocks,
    line_rids,
    null_if_dash,
    quarantine_lines,
    read_head,
    to_int,
)
from netspot.ingest.base import Reader, Source
from netspot.ingest.proxy._url import fulluri, split_url
from netspot.ingest.quarantine import Quarantine, QuarantineReason
from netspot.schema import DataKind, conform

__all__ = ["SquidReader"]

_NATIVE = (
    r"^\s*(?P<ts>\d{1,12}(?:\.\d{1,6})?)\s+(?P<elapsed>-?\d+)\s+(?P<client>\S+)\s+"
    r"(?P<action>[^\s/]+)/(?P<status>\d{1,3})\s+(?P<bytes>\d+)\s+(?P<method>\S+)\s+(?P<url>\S+)\s+"
    r"(?P<user>\S+)\s+(?P<hier>[^\s/]+)/(?P<peer>\S+)\s+(?P<type>\S+)(?:\s+(?P<rest>.*?))?\s*$"
)
_COMBINED = (
    r"^(?P<client>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<time>[^\]]+)\] "
    r'"(?P<method>[^ "]+) (?P<url>[^ "]+)(?: (?P<proto>[^"]*))?" (?P<status>\d{1,3}) (?P<bytes>\d+|-)'
    r'(?: "(?P<referer>(?:[^"\\]|\\.)*)" "(?P<agent>(?:[^"\\]|\\.)*)")?'
    r"(?: (?P<action>[A-Z_]+):(?P<hier>\S+))?\s*$"
)
_IP = r"^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]+)$"
_SNIFF_NATIVE = r"^\s*\d{9,12}\.\d{3}\s+-?\d+\s+\S+\s+[A-Z_]+/\d{3}\s"
_SNIFF_COMBINED = r'^\S+ \S+ \S+ \[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "[^"]*" \d{3} .* [A-Z_]+:\S+\s*$'


def _first_line(head: bytes) -> str:
    for line in head.splitlines()[:20]:
        text = line.decode("utf-8", "replace").strip()
        if text and not text.startswith("#"):
            return text
    return ""


def _layout(head: bytes) -> str | None:
    """``"native"``, ``"combined"`` or None, from the first data line."""
    line = pa.array([_first_line(head)])
    if pc.match_substring_regex(line, _SNIFF_NATIVE)[0].as_py():
        return "native"
    if pc.match_substring_regex(line, _SNIFF_COMBINED)[0].as_py():
        return "combined"
    return None


class SquidReader(Reader):
    """Squid access.log, native or combined format (detected per file), to ``proxy`` rows.

    Blank lines and ``#`` comments are skipped (counted); a line that does not match
    the file's layout is quarantined MALFORMED, one with an out-of-range time
    BAD_TIMESTAMP.

    Examples
    --------
    >>> SquidReader().sniff(b"1286536309.586    921 10.0.0.1 TCP_MISS/200 507 GET http://a.com/ - DIRECT/1.2.3.4 -")
    True
    """

    format = "squid"
    kind = DataKind.PROXY

    def sniff(self, head: bytes) -> bool:
        return _layout(head) is not None

    def read(self, src: Source, quarantine: Quarantine) -> Iterator[pa.RecordBatch]:
        layout = _layout(read_head(src)) or "native"
        for block in iter_line_blocks(src, quarantine):
            batch = self._block(src, block, quarantine, layout)
            if batch is not None:
                yield batch

    def _block(self, src: Source, block: LineBlock, quarantine: Quarantine, layout: str) -> pa.RecordBatch | None:
        lines = block.lines
        blank, comment = blank_and_comment(block)
        quarantine.skip("blank line", int(blank.sum()))
        quarantine.skip("comment line", int(comment.sum()))
        quarantine_lines(quarantine, block, block.bad_utf8, QuarantineReason.MALFORMED, "expected UTF-8 text")
        groups, matched = extract(lines, _NATIVE if layout == "native" else _COMBINED)
        candidate = ~(blank | comment | block.bad_utf8)
        quarantine_lines(
            quarantine, block, candidate & ~matched, QuarantineReason.MALFORMED,
            f"expected a Squid {layout} access.log line",
        )
        keep = candidate & matched
        if not keep.any():
            return None
        rows = np.flatnonzero(keep)
        matched_groups = groups.filter(pa.array(keep))
        cols, ts_bad = (_native if layout == "native" else _combined)(matched_groups)
        if ts_bad.any():
            bad = np.zeros(len(block), dtype=bool)
            bad[rows[ts_bad]] = True
            got = matched_groups.field("time").filter(pa.array(ts_bad)).to_pylist()
            quarantine_lines(quarantine, block, bad, QuarantineReason.BAD_TIMESTAMP,
                             [f"expected a time as dd/Mon/yyyy:HH:MM:SS +zone, got {t!r}" for t in got])
            keep &= ~bad
            good = pa.array(~ts_bad)
            cols = {name: col.filter(good) for name, col in cols.items()}
        n = int(keep.sum())
        if n == 0:
            return None
        cols["rid"] = line_rids(src, block, keep)
        cols["source"] = constant(self.format, n)
        return conform(cols, self.schema, n)


def _common(g: pa.StructArray, extras: dict[str, pa.Array]) -> dict[str, pa.Array]:
    """Columns both layouts share: URL parts, status, bytes, method, client, action."""
    url = g.field("url")
    parts = split_url(url)
    status, _ = to_int(g.field("status"))
    scbytes, _ = to_int(null_if_dash(g.field("bytes")))
    cols: dict[str, pa.Array] = {
        "clientip": null_if_dash(g.field("client")),
        "reqmethod": null_if_dash(g.field("method")),
        "respcode": status,
        "scbytes": scbytes,
        "action": null_if_dash(g.field("action")),
        "host": parts.host,
        "urischeme": parts.scheme,
        "uriport": parts.port,
        "uripath": parts.path,
        "uriquery": parts.query,
        "uriextension": parts.extension,
        "fulluri": fulluri(parts.host, parts.path, parts.query),
    }
    cols["extra"] = extra_map({"url": url, **extras}, len(g))
    return cols


def _native(g: pa.StructArray) -> tuple[dict[str, pa.Array], np.ndarray]:
    secs = g.field("ts").cast(pa.float64())
    ms = pc.round(pc.multiply(secs, 1000.0)).cast(pa.int64())
    elapsed, _ = to_int(g.field("elapsed"))
    peer = null_if_dash(g.field("peer"))
    is_ip = pc.fill_null(pc.match_substring_regex(peer, _IP), False)
    cols = _common(g, {
        "hierarchy": null_if_dash(g.field("hier")),
        "peer": pc.if_else(is_ip, pa.scalar(None, pa.string()), peer),
        "rest": null_if_dash(g.field("rest")),
    })
    cols["ts"] = ms.cast(pa.timestamp("ms", tz="UTC"))
    cols["duration"] = elapsed
    cols["username"] = null_if_dash(g.field("user"))
    cols["serverip"] = pc.if_else(is_ip, peer, pa.scalar(None, pa.string()))
    cols["resconttype"] = null_if_dash(g.field("type"))
    return cols, np.zeros(len(g), dtype=bool)


def _combined(g: pa.StructArray) -> tuple[dict[str, pa.Array], np.ndarray]:
    ts = pc.strptime(g.field("time"), format="%d/%b/%Y:%H:%M:%S %z", unit="ms", error_is_null=True)
    bad = ts.is_null().to_numpy(zero_copy_only=False)
    ts = pc.fill_null(ts.cast(pa.int64()), 0).cast(pa.timestamp("ms", tz="UTC"))
    cols = _common(g, {"hierarchy": null_if_dash(g.field("hier")), "http_version": null_if_dash(g.field("proto"))})
    cols["ts"] = ts
    cols["username"] = pc.coalesce(null_if_dash(g.field("user")), null_if_dash(g.field("ident")))
    cols["referer"] = null_if_dash(g.field("referer"))
    cols["useragent"] = null_if_dash(g.field("agent"))
    return cols, bad
