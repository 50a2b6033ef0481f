"""The shared Zeek log parser: classic TSV and JSON lines, streamed as blocks of raw columns.

:func:`iter_blocks` reads a source in chunks of whole lines (bounded memory) and yields
:class:`RawBlock`s of at most :data:`~netspot.ingest.base.BATCH_ROWS` rows:

* **TSV** is driven by the header block in force (``#separator``, ``#fields``, ``#types``, …;
  see :mod:`._zeek_header`), never by position. The data lines between two header lines go
  straight through pyarrow's CSV reader as strings (tab delimiter, no quoting, unset → null)
  when pyarrow takes them whole; otherwise field counts are checked for every line at once
  with numpy, lines with the wrong count are quarantined (``FIELD_COUNT``) with their line
  numbers, and the rest are read again.
* **JSON** lines: see :mod:`._zeek_json`.

Typing of the columns is :mod:`._zeek_types`; mapping to a schema is each reader's job.
"""

from __future__ import annotations

import io
import lzma
import zlib
from collections.abc import Iterator
from typing import IO

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from netspot.errors import FormatError, Location, TruncatedInputError
from netspot.ingest._zeek_block import Lines, RawBlock, Raws, one_chunk
from netspot.ingest._zeek_header import ZeekHeader, parse_directive
from netspot.ingest._zeek_json import json_block
from netspot.ingest.base import BATCH_ROWS, Source
from netspot.ingest.quarantine import Quarantine, QuarantineReason

__all__ = ["RawBlock", "iter_blocks"]

#: Bytes read per chunk; a chunk always ends at a line end.
CHUNK_BYTES = 8 << 20
#: A line longer than this is quarantined whole instead of being buffered.
MAX_LINE = 16 << 20


def _chunks(src: Source, quarantine: Quarantine) -> Iterator[tuple[bytes, int, int]]:
    """(chunk of whole lines, number of its first line, its newline count); the last may lack its newline."""
    line_no = 1
    carry = b""
    with src.open() as fh:
        while True:
            try:
                data = fh.read(CHUNK_BYTES)
            except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
                if line_no == 1 and not carry:  # not one line could be read
                    error = TruncatedInputError if isinstance(exc, EOFError) else FormatError
                    raise error(f"cannot decompress: {exc}", Location(src.name)) from exc
                # a cut or corrupt stream after good data: keep what was read, quarantine the tail
                quarantine.add(f"line {line_no}", QuarantineReason.TRUNCATED, f"stream ends early: {exc}", carry)
                return
            if not data:
                if carry:
                    yield carry, line_no, carry.count(b"\n")
                return
            buf = carry + data
            cut = buf.rfind(b"\n")
            if cut < 0:
                if len(buf) > MAX_LINE:
                    quarantine.add(f"line {line_no}", QuarantineReason.MALFORMED,
                                   f"line longer than {MAX_LINE} bytes", buf)
                    carry = _skip_rest_of_line(fh)
                    line_no += 1
                else:
                    carry = buf
                continue
            carry = buf[cut + 1:]
            chunk = buf[: cut + 1]
            newlines = chunk.count(b"\n")
            yield chunk, line_no, newlines
            line_no += newlines


def _skip_rest_of_line(fh: IO[bytes]) -> bytes:
    """Read past the end of an overlong line; the bytes after its newline."""
    while True:
        data = fh.read(CHUNK_BYTES)
        i = data.find(b"\n")
        if not data or i >= 0:
            return data[i + 1:] if data else b""


class _Parser:
    """State carried across chunks: the header in force, the record counter."""

    def __init__(self, src: Source, quarantine: Quarantine, known: dict[str, str]) -> None:
        self.src = src
        self.q = quarantine
        self.known = known
        self.header = ZeekHeader()
        self.seen_separator = False
        self.record = 0

    # -- TSV -------------------------------------------------------------------------------
    def tsv_chunk(self, buf: bytes, first_line: int, newlines: int) -> Iterator[RawBlock]:
        """Header lines in order; the data between them through :meth:`_tsv_segment`."""
        pos, line, n = 0, first_line, len(buf)
        while pos < n:
            if buf[pos] == 0x23:  # '#': a header or #close line
                end = buf.find(b"\n", pos)
                end = n if end < 0 else end
                raw = buf[pos:end].rstrip(b"\r")
                self.header = parse_directive(raw, self.header, Location(self.src.name, line=line))
                self.seen_separator |= raw.startswith(b"#separator")
                pos, line = end + 1, line + 1
                continue
            nxt = buf.find(b"\n#", pos)
            stop = n if nxt < 0 else nxt + 1
            seg = buf[pos:stop]
            nlines = newlines if pos == 0 and stop == n else seg.count(b"\n")
            yield from self._tsv_segment(seg, line, nlines)
            line += nlines + (0 if seg.endswith(b"\n") else 1)
            pos = stop

    def _tsv_segment(self, seg: bytes, first_line: int, nlines: int) -> Iterator[RawBlock]:
        """Data lines with no header line between them: pyarrow alone when they are clean.

        Clean means one row per line, every line with the header's field count (pyarrow
        raises on any other), no blank line, no CR, valid UTF-8; anything else goes through
        the line-exact path (:meth:`tsv`), which quarantines with line numbers.
        """
        h = self.header
        # blank lines make pyarrow return fewer rows than lines: caught by the row count below
        if h.fields is None or nlines > BATCH_ROWS or not seg.endswith(b"\n") or b"\r" in seg:
            yield from self.tsv(Lines(seg, first_line))
            return
        # a line with the wrong field count makes pyarrow raise: then the line-exact path
        table = self._read_tsv(seg, len(seg) + 1)
        if table is None or table.num_rows != nlines:
            yield from self.tsv(Lines(seg, first_line))
            return
        records = self.record + np.arange(nlines, dtype=np.int64)
        self.record += nlines
        lines_no = np.arange(first_line, first_line + nlines, dtype=np.int64)
        yield self._tsv_result(table, lines_no, records, Raws(seg))

    def _read_tsv(self, data: bytes, block: int) -> pa.Table | None:
        """``data`` (whole lines) as string columns, or None when pyarrow will not take it.

        One block per call (a chunk is at most CHUNK_BYTES): the columns come back in one piece,
        and the machines netspot runs on share their cores; measured faster than 1 MiB blocks
        parsed in parallel and then combined.
        """
        h = self.header
        assert h.fields is not None
        names = [f"f{i}" for i in range(len(h.fields))]
        try:
            return pacsv.read_csv(
                io.BytesIO(data),
                read_options=pacsv.ReadOptions(column_names=names, block_size=block, use_threads=False),
                parse_options=pacsv.ParseOptions(delimiter=chr(h.separator[0]), quote_char=False, escape_char=False,
                                                 double_quote=False),
                convert_options=pacsv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.string()), null_values=[h.unset_field],
                    strings_can_be_null=True, quoted_strings_can_be_null=False),
            )
        except pa.ArrowInvalid:  # invalid UTF-8, a line longer than a block: take the slow path
            return None

    def _tsv_result(self, table: pa.Table, lines_no: np.ndarray, records: np.ndarray, raws: Raws) -> RawBlock:
        h = self.header
        assert h.fields is not None
        cols = {f: one_chunk(table.column(i)) for i, f in enumerate(h.fields)}
        types = dict(zip(h.fields, h.field_types(self.known), strict=True))
        return RawBlock(cols, types, lines_no, records, raws, h.path, h, text=True)

    def tsv(self, lines: Lines) -> Iterator[RawBlock]:
        arr, starts, ends = lines.arr, lines.starts, lines.ends
        n = len(lines)
        nonempty = starts < ends
        first = np.zeros(n, dtype=np.uint8)
        first[nonempty] = arr[starts[nonempty]]
        comment = first == ord("#")
        empty = ~nonempty
        # runs of data lines between comment lines
        cuts = np.flatnonzero(comment)
        begin = 0
        for c in [*cuts.tolist(), n]:
            if c > begin:
                yield from self._tsv_run(lines, begin, c, empty)
            if c < n:
                where = Location(self.src.name, line=int(lines.numbers[c]))
                self.header = parse_directive(lines.raw(c).rstrip(b"\r"), self.header, where)
                self.seen_separator |= lines.raw(c).startswith(b"#separator")
            begin = c + 1

    def _tsv_run(self, lines: Lines, lo: int, hi: int, empty: np.ndarray) -> Iterator[RawBlock]:
        idx = np.arange(lo, hi)
        blank = empty[lo:hi]
        if blank.any():
            self.q.skip("empty line", int(blank.sum()))
            idx = idx[~blank]
        if len(idx) == 0:
            return
        h = self.header
        if h.fields is None:
            where = Location(self.src.name, line=int(lines.numbers[idx[0]]))
            if self.seen_separator:
                raise TruncatedInputError("header ends before its #fields line", where)
            raise FormatError("not a Zeek log: no '#separator'/'#fields' header and not JSON", where)
        records = self.record + np.arange(len(idx), dtype=np.int64)
        self.record += len(idx)
        counts = lines.field_counts(h.separator[0], idx)
        want = len(h.fields)
        bad = counts != want
        if bad.any():
            for k in np.flatnonzero(bad).tolist():
                i = int(idx[k])
                last = i == len(lines) - 1 and lines.ends[i] == len(lines.buf) and counts[k] < want
                reason = QuarantineReason.TRUNCATED if last else QuarantineReason.FIELD_COUNT
                self.q.add(f"line {lines.numbers[i]}", reason,
                           f"expected {want} fields, got {counts[k]}", lines.raw(i))
            idx, records = idx[~bad], records[~bad]
        for s in range(0, len(idx), BATCH_ROWS):
            yield self._tsv_block(lines, idx[s: s + BATCH_ROWS], records[s: s + BATCH_ROWS])

    def _tsv_block(self, lines: Lines, idx: np.ndarray, records: np.ndarray) -> RawBlock:
        lo, hi = int(idx[0]), int(idx[-1])
        if hi - lo + 1 == len(idx):
            data = lines.buf[lines.starts[lo]: lines.ends[hi]] + b"\n"
        else:
            data = b"\n".join(lines.raw(int(i)) for i in idx) + b"\n"
        table = None if b"\r" in data else self._read_tsv(data, len(data) + 1)
        raws = lines.raws(idx)
        lines_no = lines.numbers[idx]
        if table is None or table.num_rows != len(idx):
            return self._tsv_slow(raws, lines_no, records)
        return self._tsv_result(table, lines_no, records, raws)

    def _tsv_slow(self, raws: Raws, lines_no: np.ndarray, records: np.ndarray) -> RawBlock:
        """Line by line, for a block pyarrow would not take (invalid UTF-8, stray CR)."""
        h = self.header
        assert h.fields is not None
        sep = h.separator.decode("latin-1")
        rows: list[list[str | None]] = []
        keep: list[int] = []
        for k in range(len(raws)):
            raw = raws[k]
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                self.q.add(f"line {lines_no[k]}", QuarantineReason.MALFORMED,
                           f"expected UTF-8 text, got byte {raw[exc.start]:#04x} at {exc.start}", raw)
                continue
            rows.append([None if v == h.unset_field else v for v in text.split(sep)])
            keep.append(k)
        cols = {f: pa.array([r[i] for r in rows], pa.string()) for i, f in enumerate(h.fields)}
        types = dict(zip(h.fields, h.field_types(self.known), strict=True))
        sel = np.asarray(keep, dtype=np.int64)
        return RawBlock(cols, types, lines_no[sel], records[sel], raws.take(sel), h.path, h, text=True)

    # -- JSON ------------------------------------------------------------------------------
    def json(self, lines: Lines) -> Iterator[RawBlock]:
        nonempty = np.flatnonzero(lines.starts < lines.ends)
        blank = len(lines) - len(nonempty)
        if blank:
            self.q.skip("empty line", blank)
        for s in range(0, len(nonempty), BATCH_ROWS):
            idx = nonempty[s: s + BATCH_ROWS]
            records = self.record + np.arange(len(idx), dtype=np.int64)
            self.record += len(idx)
            yield json_block(lines, idx, records, self.q, self.known)



def iter_blocks(src: Source, quarantine: Quarantine, known: dict[str, str]) -> Iterator[RawBlock]:
    """Stream ``src`` (TSV or JSON Zeek log, any compression Source.open handles) as raw blocks.

    Raises :class:`FormatError` when the file is neither, :class:`TruncatedInputError` when it
    ends inside its header.
    """
    parser = _Parser(src, quarantine, known)
    mode: str | None = None
    for chunk, first_line, newlines in _chunks(src, quarantine):
        if mode is None:
            lead = chunk.lstrip(b" \t\r\n")
            if not lead:
                continue
            mode = "json" if lead[:1] == b"{" else "tsv"
            if mode == "tsv" and lead[:1] != b"#":
                raise FormatError("not a Zeek log: expected a '#separator' header or JSON objects",
                                  Location(src.name, line=first_line))
        if mode == "json":
            yield from parser.json(Lines(chunk, first_line))
        else:
            yield from parser.tsv_chunk(chunk, first_line, newlines)
    if mode == "tsv" and parser.header.fields is None and parser.record == 0 and parser.seen_separator:
        raise TruncatedInputError("file ends inside its header (no #fields line)", Location(src.name))
    if mode is None:
        raise FormatError("file is empty", Location(src.name))
    if mode == "tsv" and not parser.seen_separator and parser.header.fields is None:
        raise FormatError("not a Zeek log: '#' comments but no '#separator' header", Location(src.name))
