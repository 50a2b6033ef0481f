"""One segment of Zeek TSV (data lines under one header) to batches and quarantine events, in a worker thread.

A segment is tokenized by :func:`netspot.ingest._delimited.tokenize` (the header's separator),
lines with the wrong number of fields become events (``FIELD_COUNT``, or ``TRUNCATED`` for a
last line cut short), and the framed rows are checked and parsed from their spans by
:func:`._zeek_spans.scan_rows`. Rows whose values the kernel accepts take the fast path:
typed columns straight from the spans, strings gathered, ``extra`` built from the spans.
The others (a value the kernel does not accept, a CR before the newline, a byte >= 0x80)
take the general path that reads every line of a block before the tokenizer did: Python
``split`` of the line, pyarrow typing (:mod:`._zeek_types`), which says which are bad and why.
Both paths end in :meth:`ZeekReader.finish`; their rows are merged back in line order.

Nothing here touches the quarantine or the record counter: line and record numbers are
relative to the segment, and :mod:`._zeek` numbers them in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from netspot.ingest._delimited import Tokens, gather, tokenize
from netspot.ingest._zeek_block import RawBlock, Raws
from netspot.ingest._zeek_gather import scanned_map, text_columns
from netspot.ingest._zeek_header import ZeekHeader
from netspot.ingest._zeek_spans import ADDR, BOOL, FLOAT, INT, TEXT, TIME, scan_rows
from netspot.ingest._zeek_types import (
    MAX_EPOCH_S,
    MAX_INTERVAL_S,
    TypedBlock,
    decode_escapes,
    to_list,
    type_block,
)
from netspot.ingest.quarantine import QuarantineReason
from netspot.schema import TIMESTAMP

if TYPE_CHECKING:
    from netspot.ingest._zeek_reader import ZeekReader

__all__ = ["Event", "Part", "Segment", "convert_segment"]

_KINDS = {"time": TIME, "interval": FLOAT, "double": FLOAT, "count": INT, "int": INT, "port": INT, "bool": BOOL,
          "addr": ADDR}
_BOUNDS = {"count": (0, None), "int": (None, None), "port": (0, 65535)}


@dataclass(frozen=True, slots=True)
class Event:
    """A line quarantined: its index in the segment, why, and its raw bytes."""

    rel: int
    reason: QuarantineReason
    detail: str
    raw: bytes
    rank: int = 0  #: quarantine order, as before the tokenizer: field counts, then per group UTF-8, then values


@dataclass(slots=True)
class Part:
    """Rows of one batch (``rid`` still null) with their line and record index in the segment."""

    lines: np.ndarray
    records: np.ndarray
    batch: pa.RecordBatch


@dataclass(slots=True)
class Segment:
    nlines: int = 0
    nrecords: int = 0  #: lines that are records (not blank)
    blank: int = 0
    first_row: int = -1  #: line index of the first row with the header's field count, -1: none
    other: int = 0  #: rows of other logs (a ``_path`` column), skipped
    group: int = 0  #: the group of rows being converted (1, 2, ...)
    events: list[Event] = field(default_factory=list)
    parts: list[Part] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Plan:
    """What the header and the reader mean for a segment's columns."""

    fields: tuple[str, ...]
    types: dict[str, str]  #: Zeek type of each field as the log declares it
    wanted: dict[str, str]  #: type each field is read as (the reader's when it maps it)
    kinds: np.ndarray  #: kind of each column for the kernel (TEXT, or the kind of a checked column)
    slots: np.ndarray  #: row of a checked column in the kernel's float or integer values
    nfloat: int
    nint: int
    xnames: list[str]  #: columns kept in ``extra``
    xcols: np.ndarray
    xname_buf: np.ndarray  #: the names of ``xcols``, UTF-8, one after another
    xname_offs: np.ndarray  #: where each name ends in ``xname_buf`` (int64, 0 first)
    unset: np.ndarray
    empty: np.ndarray
    lo: np.ndarray  #: smallest value of each column the kernel accepts (times and floats: where exact)
    hi: np.ndarray  #: largest
    general: bool  #: every row takes the general path (a ``_path`` column: rows of other logs)


@lru_cache(maxsize=64)
def _plan(header: ZeekHeader, typed: tuple[tuple[str, str], ...], also_extra: frozenset[str],
          known: tuple[tuple[str, str], ...]) -> _Plan:
    assert header.fields is not None
    mine = dict(typed)
    types = dict(zip(header.fields, header.field_types(dict(known)), strict=True))
    wanted = {f: mine.get(f) or types[f] for f in header.fields}
    kinds = np.array([_KINDS.get(t, TEXT) for t in wanted.values()], np.int64)
    floats = np.isin(kinds, [TIME, FLOAT])
    ints = np.isin(kinds, [INT, BOOL])
    slots = np.where(floats, np.cumsum(floats) - 1, np.where(ints, np.cumsum(ints) - 1, 0))
    skip = set(mine) - also_extra
    lo, hi = np.full(len(kinds), -np.inf), np.full(len(kinds), np.inf)  # float64: exact for the int64 bounds used
    for c, (kind, ztype) in enumerate(zip(kinds.tolist(), wanted.values(), strict=True)):
        if kind in (TIME, FLOAT):
            limit = MAX_EPOCH_S if kind == TIME else MAX_INTERVAL_S if ztype == "interval" else np.inf
            lo[c], hi[c] = -limit, limit
        elif kind == INT:
            lo[c] = -np.inf if _BOUNDS[ztype][0] is None else _BOUNDS[ztype][0]
            hi[c] = np.inf if _BOUNDS[ztype][1] is None else _BOUNDS[ztype][1]
    xnames = [f for f in header.fields if f not in skip]
    encoded = [f.encode() for f in xnames]
    return _Plan(
        header.fields, types, wanted, kinds, slots.astype(np.int64), int(floats.sum()), int(ints.sum()),
        xnames, np.array([header.fields.index(f) for f in xnames], np.int64),
        np.frombuffer(b"".join(encoded) or b"\0", np.uint8),
        np.concatenate(([0], np.cumsum([len(x) for x in encoded]))).astype(np.int64),
        np.frombuffer(header.unset_field.encode(), np.uint8), np.frombuffer(header.empty_field.encode(), np.uint8),
        lo, hi, "_path" in header.fields,
    )  # fmt: skip


def convert_segment(data: bytes, header: ZeekHeader, reader: ZeekReader, known: dict[str, str],
                    batch_rows: int) -> Segment:
    """Tokenize and convert one segment (runs in a worker thread: touches nothing shared)."""
    assert header.fields is not None
    plan = _plan(header, tuple(reader.typed.items()), reader.also_extra, tuple(known.items()))
    arr = np.frombuffer(data, np.uint8)
    ncols = len(header.fields)
    tok = tokenize(arr, header.separator[0], ncols)
    out = Segment(tok.n)
    if tok.n == 0:
        return out
    raw_end = np.empty(tok.n, np.int64)  # line ends with a CR kept: the raw bytes, as quarantined
    raw_end[:-1] = tok.line_start[1:].astype(np.int64) - 1
    raw_end[-1] = len(data) - 1 if data.endswith(b"\n") else len(data)
    starts = tok.line_start.astype(np.int64)
    blank = raw_end == starts
    out.blank = int(blank.sum())
    out.nrecords = tok.n - out.blank
    records = np.cumsum(~blank) - 1
    framed = ~blank if tok.clean else ~blank & (tok.nfields == ncols)
    if not tok.clean:
        for i in np.flatnonzero(~blank & ~framed).tolist():
            got = int(tok.nfields[i])
            cut = i == tok.n - 1 and not data.endswith(b"\n") and got < ncols
            out.events.append(Event(i, QuarantineReason.TRUNCATED if cut else QuarantineReason.FIELD_COUNT,
                                    f"expected {ncols} fields, got {got}", data[starts[i]: raw_end[i]]))
    rows = np.flatnonzero(framed)
    if len(rows) == 0:
        return out
    raws = Raws(data, starts, raw_end)
    for s in range(0, len(rows), batch_rows):
        out.group += 1
        part = _convert(tok, rows[s: s + batch_rows], records, raws, header, plan, reader, out)
        if part is not None:
            out.parts.append(part)
    out.events.sort(key=lambda e: (e.rank, e.rel))
    return out


def _convert(tok: Tokens, rows: np.ndarray, records: np.ndarray, raws: Raws, header: ZeekHeader, plan: _Plan,
             reader: ZeekReader, out: Segment) -> Part | None:
    """One group of framed rows: the fast path for the rows the kernel accepts, the general one for the rest."""
    if plan.general:
        odd = np.ones(len(rows), np.bool_)
        parsed = None
    else:
        parsed = scan_rows(tok.data, tok.ends, tok.line_start, rows, plan.kinds, plan.slots, plan.unset, plan.empty,
                           plan.nfloat, plan.nint, plan.lo, plan.hi, plan.xcols, plan.xname_buf, plan.xname_offs)
        odd = parsed[4]
        scanned = ~odd  # the rows whose extra the kernel built
        _reparse(tok, rows, plan, parsed[:5])
        odd |= raws.ends[rows] != tok.line_end[rows]  # a CR before the newline stays in the last field
        if not tok.ascii:
            odd |= np.maximum.reduceat(tok.data, tok.line_start[rows]) >= 128
    parts = []
    if parsed is not None and not odd.all():
        extra = scanned_map(*parsed[5])
        if odd.any():
            good = np.flatnonzero(~odd)
            rows_good, values = rows[good], (parsed[0][good], parsed[1][:, good], parsed[2][:, good])
            if len(good) < len(extra):  # rows found odd after the kernel (rare): their entries go too
                extra = extra.filter(pa.array(~odd[scanned]))
        else:
            rows_good, values = rows, parsed[:3]
        parts.append(_fast(tok, rows_good, records, raws, header, plan, reader, out, values, extra))
    if odd.any():
        parts.append(_general(rows[odd], records, raws, header, plan, reader, out))
    parts = [p for p in parts if p.batch.num_rows]
    if len(parts) < 2:
        return parts[0] if parts else None
    lines = np.concatenate([p.lines for p in parts])
    order = np.argsort(lines, kind="stable")
    table = pa.Table.from_batches([p.batch for p in parts]).take(pa.array(order))
    return Part(lines[order], np.concatenate([p.records for p in parts])[order], table.combine_chunks().to_batches()[0])


def _reparse(tok: Tokens, rows: np.ndarray, plan: _Plan, parsed: tuple[np.ndarray, ...]) -> None:
    """Floats the kernel could not parse exactly: parsed again by pyarrow, then their bounds checked."""
    state, f64, _, inexact, odd = parsed
    if not inexact.any():
        return
    for col, kind in enumerate(plan.kinds.tolist()):
        if kind not in (TIME, FLOAT):
            continue
        j = int(plan.slots[col])
        redo = np.flatnonzero(inexact[j] & (state[:, col] == 1) & ~odd)
        if len(redo):
            f64[j, redo] = gather(tok.data, *tok.span(col, rows[redo])).cast(pa.float64()).to_numpy()
            with np.errstate(invalid="ignore"):
                odd[redo] |= ~(np.abs(f64[j, redo]) <= plan.hi[col])


def _fast(tok: Tokens, rows: np.ndarray, records: np.ndarray, raws: Raws, header: ZeekHeader, plan: _Plan,
          reader: ZeekReader, out: Segment, parsed: tuple[np.ndarray, ...], extra: pa.Array) -> Part:
    state, f64, i64 = parsed
    assert header.fields is not None
    escapes = b"\\" in raws.buf  # rare: then the text columns are searched for \xNN
    block = RawBlock({}, plan.types, rows, records[rows], raws.take(rows), header.path, header, text=True)
    tb = TypedBlock(block)
    texts: list[tuple[str, str, int]] = []
    for name in reader.typed:
        if name not in plan.wanted:
            continue
        col = header.fields.index(name)
        ztype = plan.wanted[name]
        kind, j = plan.kinds[col], plan.slots[col]
        mask = state[:, col] == 0
        if kind == TIME:
            us = np.round(np.where(mask, 0.0, f64[j]) * 1e6).astype(np.int64)
            tb.values[name] = pa.array(us // 1000, pa.int64(), mask=mask).cast(TIMESTAMP)
        elif kind == FLOAT:
            tb.values[name] = pa.array(f64[j], pa.float64(), mask=mask)
        elif kind == INT:
            tb.values[name] = pa.array(i64[j], pa.int64(), mask=mask)
        elif kind == BOOL:
            tb.values[name] = pa.array(i64[j].astype(np.bool_), pa.bool_(), mask=mask)
        else:
            texts.append((name, ztype, col))
    if texts:
        lists = np.array([z.startswith(("set[", "vector[", "table[")) for _, z, _ in texts], np.bool_)
        cols = np.array([c for _, _, c in texts], np.int64)
        arrays = text_columns(tok.data, tok.ends, tok.line_start, rows, cols, ~lists, state)
        for (name, ztype, col), s, is_list in zip(texts, arrays, lists.tolist(), strict=True):
            if is_list:  # the list code reads the empty marker itself
                tb.values[name] = to_list(tb, name, ztype, s)
            else:
                tb.values[name] = decode_escapes(s) if escapes and plan.kinds[col] != ADDR else s
    tb.values = {name: tb.values[name] for name in reader.typed if name in tb.values}  # the reader's order
    if escapes:
        extra = pa.MapArray.from_arrays(extra.offsets, extra.keys, decode_escapes(extra.items)).cast(extra.type)
    return _part(reader, tb, extra, out)


def _general(rows: np.ndarray, records: np.ndarray, raws: Raws, header: ZeekHeader, plan: _Plan,
             reader: ZeekReader, out: Segment) -> Part:
    """Rows split in Python and typed by pyarrow: what the reader did for every row before the tokenizer."""
    assert header.fields is not None
    sep = header.separator.decode("latin-1")
    texts: list[list[str | None]] = []
    keep: list[int] = []
    for k, i in enumerate(rows.tolist()):
        raw = raws[i]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            out.events.append(Event(i, QuarantineReason.MALFORMED,
                                f"expected UTF-8 text, got byte {raw[exc.start]:#04x} at {exc.start}", raw,
                                2 * out.group - 1))
            continue
        texts.append([None if v == header.unset_field else v for v in text.split(sep)])
        keep.append(k)
    rows = rows[np.asarray(keep, np.int64)]
    cols = {f: pa.array([t[c] for t in texts], pa.string()) for c, f in enumerate(header.fields)}
    block = RawBlock(cols, plan.types, rows, records[rows], raws.take(rows), header.path, header, text=True)
    block, other = reader.own_rows(block)
    out.other += other
    return _part(reader, type_block(block, reader.typed), None, out)


def _part(reader: ZeekReader, tb: TypedBlock, extra: pa.Array | None, out: Segment) -> Part:
    block = tb.block
    if block.num_rows == 0:
        return Part(block.lines, block.records, pa.RecordBatch.from_pylist([], schema=reader.schema))
    if out.first_row < 0 or block.lines[0] < out.first_row:
        out.first_row = int(block.lines[0])
    batch, keep = reader.finish(tb, extra)
    for i in sorted(tb.why):
        reason, detail = tb.why[i]
        out.events.append(Event(int(block.lines[i]), reason, detail, block.raws[i], 2 * out.group))
    return Part(block.lines[keep], block.records[keep], batch)

