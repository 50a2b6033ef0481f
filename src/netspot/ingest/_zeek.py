"""The shared Zeek log parser: classic TSV and JSON lines, streamed as batches of a reader's schema.

:func:`iter_batches` reads a source in chunks of whole lines (bounded memory):

* **TSV** is driven by the header block in force (``#separator``, ``#fields``, ``#types``, …;
  see :mod:`._zeek_header`), never by position. Each chunk is cut at its header lines into
  segments of data lines; the headers are read here, in order, and each segment is converted
  in a worker thread (:func:`._zeek_tsv.convert_segment`: numba tokenizer and kernels, which
  release the GIL) while the caller writes the previous batches. The results are taken in
  order: this module numbers their lines and records and fills the quarantine, so the
  output is the same as a sequential read.
* **JSON** lines: see :mod:`._zeek_json`, typed by :mod:`._zeek_types` in the calling thread.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

import numpy as np
import pyarrow as pa

from netspot.errors import FormatError, Location, TruncatedInputError
from netspot.ingest._zeek_block import Lines
from netspot.ingest._zeek_header import KNOWN_TYPES, ZeekHeader, parse_directive
from netspot.ingest._zeek_json import json_block
from netspot.ingest._zeek_tsv import Segment, convert_segment
from netspot.ingest._zeek_types import type_block
from netspot.ingest.base import BATCH_ROWS, DECOMPRESSION_ERRORS, Source, record_ids
from netspot.ingest.quarantine import Quarantine, QuarantineReason

if TYPE_CHECKING:
    from netspot.ingest._zeek_reader import ZeekReader

__all__ = ["iter_batches"]

#: Bytes read per chunk; a chunk always ends at a line end. Small enough that a segment's bytes and spans stay in
#: cache across the kernel passes, large enough that per-batch costs stay small (about 20,000 conn lines).
CHUNK_BYTES = 4 << 20
#: A line longer than this is quarantined whole instead of being buffered.
MAX_LINE = 16 << 20
#: Threads converting TSV segments.
WORKERS = max(1, min(2, os.cpu_count() or 1))


@dataclass(frozen=True, slots=True)
class _Cut:
    """A line the chunk reader quarantined itself (an overlong line, the tail of a cut stream)."""

    reason: QuarantineReason
    detail: str
    raw: bytes
    lines: int  #: lines it takes up


def _chunks(src: Source) -> Iterator[bytes | _Cut]:
    """Chunks of whole lines (the last may lack its newline), and the lines cut out of the stream."""
    carry = b""
    started = False
    with src.open() as fh:
        while True:
            try:
                data = fh.read(CHUNK_BYTES)
            except DECOMPRESSION_ERRORS as exc:
                if not started and not carry:  # not one line could be read
                    error = TruncatedInputError if isinstance(exc, EOFError) else FormatError
                    raise error(f"cannot decompress: {exc}", Location(src.name)) from exc
                # a cut or corrupt stream after good data: keep what was read, quarantine the tail
                yield _Cut(QuarantineReason.TRUNCATED, f"stream ends early: {exc}", carry, 0)
                return
            if not data:
                if carry:
                    yield carry
                return
            buf = carry + data
            cut = buf.rfind(b"\n")
            if cut < 0:
                if len(buf) > MAX_LINE:
                    yield _Cut(QuarantineReason.MALFORMED, f"line longer than {MAX_LINE} bytes", buf, 1)
                    carry = _skip_rest_of_line(fh)
                    started = True
                else:
                    carry = buf
                continue
            carry = buf[cut + 1:]
            started = True
            yield buf[: cut + 1]


def _skip_rest_of_line(fh: IO[bytes]) -> bytes:
    """Read past the end of an overlong line; the bytes after its newline."""
    while True:
        data = fh.read(CHUNK_BYTES)
        i = data.find(b"\n")
        if not data or i >= 0:
            return data[i + 1:] if data else b""


def _next_directive(buf: bytes, pos: int) -> int:
    """Index of the newline at or after ``pos`` that a ``#`` line follows, -1 if none.

    ``buf.find(b"\\n#")`` is about 30 times slower than ``memchr`` for one byte: ``#`` is
    searched for, and checked to start a line.
    """
    i = buf.find(b"#", pos + 1)
    while i >= 0 and buf[i - 1] != 0x0A:
        i = buf.find(b"#", i + 1)
    return i - 1 if i >= 0 else -1


def _with_rid(batch: pa.RecordBatch, records: np.ndarray, src: Source) -> pa.RecordBatch:
    n = len(records)
    first = int(records[0])
    if int(records[-1]) - first + 1 == n:
        rid = record_ids(src, first, n)
    else:
        rid = pa.array(records.astype(np.int64) + (src.number << 32))
    i = batch.schema.get_field_index("rid")
    return batch.set_column(i, batch.schema.field(i), rid)


class _Tsv:
    """TSV state: the header in force, the segments in flight, and the line and record counters."""

    def __init__(self, src: Source, q: Quarantine, reader: ZeekReader) -> None:
        self.src, self.q, self.reader = src, q, reader
        self.known = KNOWN_TYPES[reader.log_path]
        self.header = ZeekHeader()
        self.seen_separator = False
        self.failed = False  # an error is queued: read no further
        self.line = 1  # number of the next line to sequence
        self.record = 0
        self.items: deque[tuple[object, ...]] = deque()
        self.inflight = 0
        self.pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="netspot-zeek")

    def feed(self, buf: bytes) -> Iterator[pa.RecordBatch]:
        """Queue the header lines and segments of one chunk; emit what is ready."""
        pos, n = 0, len(buf)
        while pos < n and not self.failed:
            if buf[pos] == 0x23:  # '#': a header or #close line
                end = buf.find(b"\n", pos)
                end = n if end < 0 else end
                raw = buf[pos:end].rstrip(b"\r")
                try:
                    header = parse_directive(raw, self.header, Location(self.src.name))
                except FormatError:
                    self.items.append(("header", raw, self.header))
                    self.failed = True
                    break
                self.header = header
                self.seen_separator |= raw.startswith(b"#separator")
                self.items.append(("lines", 1))
                pos = end + 1
                continue
            nxt = _next_directive(buf, pos)
            stop = n if nxt < 0 else nxt + 1
            seg = buf[pos:stop]
            if self.header.fields is None:
                self.items.append(("nofields", seg, self.seen_separator))
                self.failed = bool(seg.strip(b"\n"))
            else:
                fut = self.pool.submit(convert_segment, seg, self.header, self.reader, self.known, BATCH_ROWS)
                self.items.append(("segment", fut, self.header))
                self.inflight += 1
            pos = stop
        while self.inflight > WORKERS:  # keep the workers busy, and memory bounded
            yield from self._emit()

    def cut(self, cut: _Cut) -> None:
        self.items.append(("cut", cut))

    def lines(self, n: int) -> None:
        self.items.append(("lines", n))

    def drain(self) -> Iterator[pa.RecordBatch]:
        while self.items:
            yield from self._emit()

    def close(self) -> None:
        for item in self.items:
            if item[0] == "segment":
                item[1].cancel()  # type: ignore[attr-defined]
        self.pool.shutdown(wait=True)

    def _emit(self) -> Iterator[pa.RecordBatch]:
        """Sequence items up to and including the next segment."""
        while self.items:
            item = self.items.popleft()
            kind = item[0]
            if kind == "lines":
                self.line += int(item[1])  # type: ignore[call-overload]
            elif kind == "cut":
                cut = item[1]
                assert isinstance(cut, _Cut)
                self.q.add(f"line {self.line}", cut.reason, cut.detail, cut.raw)
                self.line += cut.lines
            elif kind == "header":  # parse again where its line number is known: raises
                parse_directive(item[1], item[2], Location(self.src.name, line=self.line))  # type: ignore[arg-type]
            elif kind == "nofields":
                self._no_fields(item[1], bool(item[2]))  # type: ignore[arg-type]
            else:
                self.inflight -= 1
                fut, header = item[1], item[2]
                assert isinstance(fut, Future) and isinstance(header, ZeekHeader)
                yield from self._segment(fut.result(), header)
                return

    def _no_fields(self, seg: bytes, seen_separator: bool) -> None:
        lines = seg.split(b"\n")
        if seg.endswith(b"\n"):
            lines.pop()
        for k, line in enumerate(lines):
            if line:
                where = Location(self.src.name, line=self.line + k)
                if seen_separator:
                    raise TruncatedInputError("header ends before its #fields line", where)
                raise FormatError("not a Zeek log: no '#separator'/'#fields' header and not JSON", where)
        self.q.skip("empty line", len(lines))
        self.line += len(lines)

    def _segment(self, seg: Segment, header: ZeekHeader) -> Iterator[pa.RecordBatch]:
        log = self.reader.log_path
        if seg.first_row >= 0 and header.path is not None and header.path != log:
            raise FormatError(f"expected a {log} log, the header says #path {header.path}",
                              Location(self.src.name, line=self.line + seg.first_row))
        for e in seg.events:
            self.q.add(f"line {self.line + e.rel}", e.reason, e.detail, e.raw)
        if seg.blank:
            self.q.skip("empty line", seg.blank)
        if seg.other:
            self.q.skip("rows of another Zeek log (_path)", seg.other)
        for part in seg.parts:
            if part.batch.num_rows:
                yield _with_rid(part.batch, part.records + self.record, self.src)
        self.line += seg.nlines
        self.record += seg.nrecords


def _json(lines: Lines, record: int, src: Source, q: Quarantine, reader: ZeekReader) -> Iterator[pa.RecordBatch]:
    """JSON lines: pyarrow's JSON reader per block, typed and mapped in this thread."""
    nonempty = np.flatnonzero(lines.starts < lines.ends)
    if len(lines) - len(nonempty):
        q.skip("empty line", len(lines) - len(nonempty))
    for s in range(0, len(nonempty), BATCH_ROWS):
        idx = nonempty[s: s + BATCH_ROWS]
        records = record + s + np.arange(len(idx), dtype=np.int64)
        block = json_block(lines, idx, records, q, KNOWN_TYPES[reader.log_path])
        block, other = reader.own_rows(block)
        if other:
            q.skip("rows of another Zeek log (_path)", other)
        if block.num_rows == 0:
            continue
        tb = type_block(block, reader.typed)
        batch, keep = reader.finish(tb)
        tb.flush(q)
        if batch.num_rows:
            yield _with_rid(batch, block.records[keep], src)


def iter_batches(src: Source, quarantine: Quarantine, reader: ZeekReader) -> Iterator[pa.RecordBatch]:
    """Stream ``src`` (TSV or JSON Zeek log, any compression Source.open handles) as ``reader``'s batches.

    Raises :class:`FormatError` when the file is neither, :class:`TruncatedInputError` when it
    ends inside its header.
    """
    mode: str | None = None
    tsv = _Tsv(src, quarantine, reader)
    line, record = 1, 0  # JSON counters
    try:
        for chunk in _chunks(src):
            if isinstance(chunk, _Cut):
                if mode == "json":
                    quarantine.add(f"line {line}", chunk.reason, chunk.detail, chunk.raw)
                    line += chunk.lines
                else:
                    tsv.cut(chunk)
                continue
            if mode is None:
                lead = chunk.lstrip(b" \t\r\n")
                if not lead:
                    tsv.lines(chunk.count(b"\n"))
                    line += chunk.count(b"\n")
                    continue
                mode = "json" if lead[:1] == b"{" else "tsv"
                if mode == "tsv" and lead[:1] != b"#":
                    raise FormatError("not a Zeek log: expected a '#separator' header or JSON objects",
                                      Location(src.name, line=line))
            if mode == "json":
                lines = Lines(chunk, line)
                yield from _json(lines, record, src, quarantine, reader)
                record += int((lines.starts < lines.ends).sum())
                line += len(lines)
            else:
                yield from tsv.feed(chunk)
                if tsv.failed:
                    break
        yield from tsv.drain()
    finally:
        tsv.close()
    header = tsv.header
    if mode == "tsv" and header.fields is None and tsv.record == 0 and tsv.seen_separator:
        raise TruncatedInputError("file ends inside its header (no #fields line)", Location(src.name))
    if mode is None:
        raise FormatError("file is empty", Location(src.name))
    if mode == "tsv" and not tsv.seen_separator and header.fields is None:
        raise FormatError("not a Zeek log: '#' comments but no '#separator' header", Location(src.name))
