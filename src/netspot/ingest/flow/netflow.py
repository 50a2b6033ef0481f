"""Decode NetFlow v5, v9 and IPFIX export datagrams into ``schema.FLOW`` record batches.

:class:`NetflowDecoder` is fed one export datagram at a time (from a pcap, or from the
UDP listener of :mod:`netspot.ingest.listen`) and hands out batches::

    decoder = NetflowDecoder(quarantine, src)
    for payload, exporter, t_ns, where in datagrams:
        decoder.feed(payload, exporter, t_ns, where)
        if decoder.pending_rows >= BATCH_ROWS:
            while (batch := decoder.flush()) is not None:
                ...
    decoder.close()                       # held data without a template -> NO_TEMPLATE
    while (batch := decoder.flush()) is not None:
        ...

Data sets of fixed-length templates are queued as bytes and decoded at ``flush`` with
one ``np.frombuffer`` per template (many data sets together); v5 is a fixed template of
its own. Templates with variable-length fields take a slower record-by-record path.
A malformed datagram (bad version, a length that overruns, a set shorter than its
header, a template with zero fields...) is quarantined with the datagram bytes and the
rest of the stream goes on.
"""

from __future__ import annotations

import struct
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from netspot.ingest.base import BATCH_ROWS, Source, record_ids
from netspot.ingest.flow._templates import (
    Context,
    Held,
    Template,
    TemplateField,
    TemplateKey,
    TemplateStore,
    parse_ipfix_templates,
    parse_v9_options,
    parse_v9_templates,
)
from netspot.ingest.flow.ipfix import Values, flow_columns, frame_message, values_fixed, values_variable
from netspot.ingest.quarantine import Quarantine, QuarantineReason
from netspot.schema import FLOW, conform

__all__ = ["V5_TEMPLATE", "NetflowDecoder"]

_V5_HEADER = struct.Struct(">HHIIIIBBH")
_V9_HEADER = struct.Struct(">HHIIII")
_SET = struct.Struct(">HH")
#: Flow records a v5 datagram may carry (Cisco's NetFlow v5 format).
V5_MAX_COUNT = 30
V5_RECORD = 48
_SOURCES = {5: "netflow-v5", 9: "netflow-v9", 10: "ipfix"}

#: NetFlow v5's fixed record, written as the v9 template it is equivalent to (IE 210 = padding).
V5_TEMPLATE = Template(0, tuple(TemplateField(ie, n) for ie, n in (
    (8, 4), (12, 4), (15, 4), (10, 2), (14, 2), (2, 4), (1, 4), (22, 4), (21, 4), (7, 2), (11, 2),
    (210, 1), (6, 1), (4, 1), (5, 1), (16, 2), (17, 2), (9, 1), (13, 1), (210, 2))))


@dataclass
class _Group:
    """Queued data sets of one fixed-length template from one exporter."""

    tpl: Template
    exporter: str
    source: str
    bodies: list[bytes] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    ctxs: list[Context] = field(default_factory=list)


class NetflowDecoder:
    """Stateful decoder of export datagrams (templates persist across ``feed`` calls).

    Parameters
    ----------
    quarantine
        Where malformed datagrams, held data sets that never get a template
        (NO_TEMPLATE) and records without a usable time (BAD_TIMESTAMP) go.
    src
        The source, for record ids (``rid``); records are numbered in the order they
        are decoded or quarantined.
    hold_per_exporter
        Data sets held per exporter while their template is missing; the oldest is
        quarantined beyond this.
    batch_rows
        Most rows per batch from :meth:`flush`.
    """

    def __init__(self, quarantine: Quarantine, src: Source | None = None, *, hold_per_exporter: int = 1024,
                 batch_rows: int = BATCH_ROWS) -> None:
        self.quarantine = quarantine
        self.src = src if src is not None else Source(Path(quarantine.path))
        self.batch_rows = batch_rows
        self.templates = TemplateStore(hold_per_exporter)
        self._groups: dict[tuple[int, str], _Group] = {}
        self._decoded: list[tuple[int, dict[str, pa.Array]]] = []
        self._out: deque[pa.RecordBatch] = deque()
        self._init_ms: dict[tuple[str, int, int], int] = {}
        self._next = 0
        self.pending_rows = 0

    # -- input ---------------------------------------------------------------------------
    def feed(self, payload: bytes, exporter: str, received_ns: int, locator: str) -> None:
        """Decode one export datagram sent by ``exporter`` (its IP address as text)."""
        if len(payload) < 4:
            self._bad(locator, QuarantineReason.TRUNCATED,
                      f"datagram of {len(payload)} bytes: expected at least a 4-byte version and count", payload)
            return
        version = (payload[0] << 8) | payload[1]
        if version == 5:
            self._feed_v5(payload, exporter, locator)
        elif version == 9:
            self._feed_v9(payload, exporter, locator)
        elif version == 10:
            self._feed_ipfix(payload, exporter, locator)
        else:
            self._bad(locator, QuarantineReason.UNSUPPORTED, f"export version {version}: expected 5, 9 or 10",
                      payload)

    def _bad(self, locator: str, reason: QuarantineReason, detail: str, raw: bytes | None) -> None:
        self.quarantine.add(locator, reason, detail, raw)
        self._next += 1

    def _feed_v5(self, payload: bytes, exporter: str, locator: str) -> None:
        if len(payload) < _V5_HEADER.size:
            self._bad(locator, QuarantineReason.TRUNCATED,
                      f"v5 header needs {_V5_HEADER.size} bytes, got {len(payload)}", payload)
            return
        _, count, uptime, secs, nsecs, _seq, _etype, _eid, _sampling = _V5_HEADER.unpack_from(payload)
        need = _V5_HEADER.size + V5_RECORD * count
        if not 1 <= count <= V5_MAX_COUNT or need > len(payload):
            self._bad(locator, QuarantineReason.MALFORMED,
                      f"v5 count {count}: expected 1..{V5_MAX_COUNT} records fitting the datagram "
                      f"({need} bytes needed, {len(payload)} present)", payload)
            return
        ctx = Context(exporter, 5, 0, secs * 1000 + nsecs // 1_000_000, uptime, -1, locator)
        self._queue(V5_TEMPLATE, payload[_V5_HEADER.size:need], count, ctx)

    def _feed_v9(self, payload: bytes, exporter: str, locator: str) -> None:
        if len(payload) < _V9_HEADER.size:
            self._bad(locator, QuarantineReason.TRUNCATED,
                      f"v9 header needs {_V9_HEADER.size} bytes, got {len(payload)}", payload)
            return
        _, count, uptime, secs, _seq, source_id = _V9_HEADER.unpack_from(payload)
        ctx = Context(exporter, 9, source_id, secs * 1000, uptime, -1, locator)
        pos, end = _V9_HEADER.size, len(payload)
        # The header's count is the number of records (RFC 3954 section 5.1); like tshark we count a template
        # flowset as one and a data flowset as its records, and flowsets past the count are not decoded.
        seen = 0
        while end - pos >= 4:
            if count and seen >= count and any(payload[pos:]):
                self._bad(f"{locator} flowset at offset {pos}", QuarantineReason.MALFORMED,
                          f"header counts {count} records, {seen} already read: expected nothing after them, "
                          f"got {end - pos} bytes of flowsets", payload)
                return
            sid, slen = _SET.unpack_from(payload, pos)
            if slen < 4 or pos + slen > end:
                if not any(payload[pos:]):
                    return  # zero padding after the last flowset
                what = "shorter than its 4-byte header" if slen < 4 else f"overruns the datagram ({end - pos} left)"
                self._bad(f"{locator} flowset at offset {pos}", QuarantineReason.MALFORMED,
                          f"flowset {sid} length {slen}: {what}", payload)
                return
            body = payload[pos + 4:pos + slen]
            where = f"{locator} flowset at offset {pos}"
            if sid == 0 or sid == 1:
                templates, error = parse_v9_templates(body) if sid == 0 else parse_v9_options(body)
                for tpl in templates:
                    self._define((exporter, 9, source_id, tpl.tid), tpl)
                seen += 1
                if error:
                    self._bad(where, QuarantineReason.MALFORMED, error, payload)
            elif sid >= 256:
                known = self.templates.get((exporter, 9, source_id, sid))
                seen += len(body) // known.record_len if known is not None and known.record_len > 0 else 1
                self._data((exporter, 9, source_id, sid), body, ctx, where)
            else:
                self._bad(where, QuarantineReason.MALFORMED,
                          f"flowset id {sid}: expected 0 (template), 1 (options template) or >= 256 (data)", payload)
                return
            pos += slen

    def _feed_ipfix(self, payload: bytes, exporter: str, locator: str) -> None:
        header, sets, error = frame_message(payload)
        if header is not None:
            export_s, _seq, domain = header
            init = self._init_ms.get((exporter, 10, domain), -1)
            for sid, start, end in sets:
                body = payload[start:end]
                where = f"{locator} set at offset {start - 4}"
                if sid in (2, 3):
                    templates, withdrawn, terr = parse_ipfix_templates(body, options=sid == 3)
                    for tid in withdrawn:
                        self.templates.withdraw(exporter, 10, domain, tid, options=sid == 3)
                    for tpl in templates:
                        self._define((exporter, 10, domain, tpl.tid), tpl)
                    if terr:
                        self._bad(where, QuarantineReason.MALFORMED, terr, payload)
                elif sid >= 256:
                    init = self._init_ms.get((exporter, 10, domain), init)
                    ctx = Context(exporter, 10, domain, export_s * 1000, -1, init, where)
                    self._data((exporter, 10, domain, sid), body, ctx, where)
                else:
                    self._bad(where, QuarantineReason.MALFORMED,
                              f"set id {sid}: expected 2 (template), 3 (options template) or >= 256 (data)", payload)
                    return
        if error:
            self._bad(locator, QuarantineReason.MALFORMED, error, payload)

    # -- templates and data --------------------------------------------------------------
    def _define(self, key: TemplateKey, tpl: Template) -> None:
        for held in self.templates.put(key, tpl):
            self._decode(self.templates.get(key) or tpl, held.body, held.ctx)

    def _data(self, key: TemplateKey, body: bytes, ctx: Context, where: str) -> None:
        tpl = self.templates.get(key)
        if tpl is None:
            evicted = self.templates.hold(Held(key, body, Context(*_ctx_fields(ctx, where))))
            if evicted is not None:
                self._bad(evicted.ctx.locator, QuarantineReason.NO_TEMPLATE,
                          f"data set for template {evicted.key[3]} (domain {evicted.key[2]}) held past the cap "
                          f"of {self.templates.hold_per_exporter} sets without its template", evicted.body)
            return
        self._decode(tpl, body, ctx)

    def _decode(self, tpl: Template, body: bytes, ctx: Context) -> None:
        if tpl.record_len == 0:
            self.quarantine.skip("data set of a template without data fields")
            return
        if tpl.options:
            self._options(tpl, body, ctx)
            return
        if tpl.dtype is not None:
            n = len(body) // tpl.record_len
            if n:
                self._queue(tpl, body[:n * tpl.record_len], n, ctx)
            return
        n, values, error = values_variable(tpl, body)
        if n:
            self._columns(tpl, values, n, [ctx], [n], ctx.exporter, [body])
        if error:
            self._bad(ctx.locator, QuarantineReason.MALFORMED, error, body)

    def _options(self, tpl: Template, body: bytes, ctx: Context) -> None:
        """Options data are not flows: remember systemInitTimeMilliseconds, count the rest as skipped."""
        if tpl.dtype is not None:
            n, values = values_fixed(tpl, body)
        else:
            n, values, _ = values_variable(tpl, body)
        for f, v in zip(tpl.fields, values, strict=True):
            if f.ie == 160 and f.pen == 0 and isinstance(v, np.ndarray) and v.ndim == 1 and n:
                self._init_ms[(ctx.exporter, ctx.version, ctx.domain)] = int(v[-1])
        self.quarantine.skip("options data record", n)

    def _queue(self, tpl: Template, body: bytes, n: int, ctx: Context) -> None:
        key = (id(tpl), ctx.exporter)
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = _Group(tpl, ctx.exporter, _SOURCES[ctx.version])
        group.bodies.append(body)
        group.counts.append(n)
        group.ctxs.append(ctx)
        self.pending_rows += n

    # -- output --------------------------------------------------------------------------
    def _columns(self, tpl: Template, values: Values, n: int, ctxs: list[Context], counts: list[int],
                 exporter: str, bodies: list[bytes]) -> None:
        def per_record(attr: str) -> np.ndarray:
            return np.repeat(np.array([getattr(c, attr) for c in ctxs], np.int64), counts)

        cols, bad = flow_columns(tpl, values, n, per_record("export_ms"), per_record("uptime_ms"),
                                 per_record("init_ms"), exporter, _SOURCES[ctxs[0].version])
        if bad.any():
            self._quarantine_records(tpl, bad, ctxs, counts, bodies)
            keep = pa.array(~bad)
            cols = {k: v.filter(keep) for k, v in cols.items()}
            n = int((~bad).sum())
        if n:
            self._decoded.append((n, cols))
            if not self._groups:
                self.pending_rows = sum(k for k, _ in self._decoded)

    def _quarantine_records(self, tpl: Template, bad: np.ndarray, ctxs: list[Context], counts: list[int],
                            bodies: list[bytes]) -> None:
        starts = np.cumsum([0, *counts])
        for i in np.flatnonzero(bad):  # only the bad ones: rare
            chunk = int(np.searchsorted(starts, i, side="right") - 1)
            j = int(i - starts[chunk])
            size = tpl.record_len
            raw = bodies[chunk][j * size:(j + 1) * size] if size > 0 else bodies[chunk]
            self.quarantine.add(f"{ctxs[chunk].locator} record {j}", QuarantineReason.BAD_TIMESTAMP,
                                "no usable flow time: expected a start after 1970-01-01, got none or zero "
                                "(from the record's time fields or the export header)", raw)

    def _materialise(self) -> None:
        for group in self._groups.values():
            buf = b"".join(group.bodies)
            n, values = values_fixed(group.tpl, buf)
            self._columns(group.tpl, values, n, group.ctxs, group.counts, group.exporter, group.bodies)
        self._groups.clear()
        if not self._decoded:
            self.pending_rows = 0
            return
        names = [f.name for f in FLOW if f.name != "rid"]
        arrays = {}
        for name in names:
            parts = [cols[name] if name in cols else pa.nulls(k, _plain(FLOW.field(name).type))
                     for k, cols in self._decoded]
            if any(isinstance(p.type, pa.DictionaryType) for p in parts):
                parts = [p.cast(pa.string()) if isinstance(p.type, pa.DictionaryType) else p for p in parts]
            arrays[name] = pa.concat_arrays(parts)
        total = sum(k for k, _ in self._decoded)
        self._decoded.clear()
        self.pending_rows = 0
        for start in range(0, total, self.batch_rows):
            k = min(self.batch_rows, total - start)
            cols = {name: a.slice(start, k) for name, a in arrays.items()}
            cols["rid"] = record_ids(self.src, self._next, k)
            self._next += k
            self._out.append(conform(cols, FLOW, k))

    def flush(self) -> pa.RecordBatch | None:
        """The next batch of at most ``batch_rows`` decoded records, or None when nothing is pending."""
        if not self._out and (self._groups or self._decoded):
            self._materialise()
        return self._out.popleft() if self._out else None

    def close(self) -> None:
        """End of input: data sets still waiting for a template are quarantined as NO_TEMPLATE."""
        for held in self.templates.release_all():
            self._bad(held.ctx.locator, QuarantineReason.NO_TEMPLATE,
                      f"data set for template {held.key[3]} (domain {held.key[2]}) of exporter {held.key[0]}: "
                      "its template never arrived", held.body)


def _plain(t: pa.DataType) -> pa.DataType:
    return pa.string() if isinstance(t, pa.DictionaryType) else t


def _ctx_fields(ctx: Context, where: str) -> tuple[str, int, int, int, int, int, str]:
    return ctx.exporter, ctx.version, ctx.domain, ctx.export_ms, ctx.uptime_ms, ctx.init_ms, where
