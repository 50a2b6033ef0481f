"""nfdump CSV text to ``schema.FLOW`` batches: header-driven, vectorised, bad rows quarantined.

One parser serves both readers of :mod:`netspot.ingest.flow.nfdump`: the CSV files that
``nfdump -o csv`` (and Apache Spot's modified nfdump) print, and the ``-o fmt:`` text that
:class:`~netspot.ingest.flow.nfdump.NfcapdReader` streams out of the nfdump binary.

The text is read in chunks of whole lines (a plain file by the worker threads themselves,
in parts at fixed offsets) and split by the numba tokenizer of
:mod:`netspot.ingest._delimited` (no quoting, one row per physical line); the row kernels
of :mod:`._nfrows` validate and convert every mapped column straight from the field spans
(:mod:`._nfchunk`). Chunks convert in :data:`WORKERS` threads while the caller writes the
previous batches; this module numbers their lines in order and fills the quarantine. A line with the wrong
number of fields is quarantined as FIELD_COUNT, a row whose time does not parse as
BAD_TIMESTAMP, one whose port, count or address does not parse, or that is
not UTF-8, as BAD_VALUE. nfdump's closing summary (``Summary`` and the two lines after it)
is counted as skipped, not quarantined; so are blank lines.

Times carry no zone in nfdump's text (it prints local time): they are read as UTC, which
is what nfdump prints when run with ``TZ=UTC`` (the NfcapdReader does so).
"""

from __future__ import annotations

import io
import os
import re
import stat
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import IO

import numpy as np
import pyarrow as pa

from netspot.errors import FormatError, Location
from netspot.ingest._delimited import MAX_LINE_BYTES, LineTooLongError, read_chunks
from netspot.ingest.base import BATCH_ROWS, Source, record_ids
from netspot.ingest.flow._nfchunk import Chunk, Event, Plan, convert_chunk
from netspot.ingest.quarantine import Quarantine, QuarantineReason
from netspot.schema import FLOW

__all__ = ["REQUIRED", "parse_header", "read_flows"]

#: Columns a header must have (``tr`` may stand in for ``ts``, as in Apache Spot's header).
REQUIRED = ("sa", "da", "sp", "dp", "pr")
#: Threads converting chunks (the numba kernels release the GIL; the caller writes meanwhile).
WORKERS = max(1, min(2, os.cpu_count() or 1))
#: Bytes of text per chunk (about 6,000 nfdump lines): small enough that a chunk's bytes and spans stay in
#: cache across the kernel passes (tokenize, rows, extras, strings). Measured single-threaded on the 48-column
#: CSV: 1.25 us/row at 2 MiB against 1.86 us/row at 16 MiB.
CHUNK_BYTES = 2 << 20

_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
_RID = FLOW.get_field_index("rid")
_RID_FIELD = FLOW.field("rid")
#: Bytes a part reads past its end for the line that straddles it (longer lines read more).
_TAIL = 64 << 10


def parse_header(line: bytes, path: str) -> list[str]:
    """Column names of an nfdump CSV header line; duplicates get a suffix (Spot's second ``trm``).

    Raises :class:`FormatError` naming ``path`` when the line is not an nfdump CSV header.

    Examples
    --------
    >>> parse_header(b"tr,try,trm,trd,trh,trm,trs,td,sa,da,sp,dp,pr\\n", "f")[:7]
    ['tr', 'try', 'trm', 'trd', 'trh', 'trm_2', 'trs']
    """
    try:
        text = line.decode("ascii").strip()
    except UnicodeDecodeError:
        raise FormatError("not an nfdump CSV header: the first line is not ASCII", Location(path, line=1)) from None
    names = [n.strip() for n in text.split(",")]
    missing = [n for n in REQUIRED if n not in names]
    if "ts" not in names and "tr" not in names:
        missing.insert(0, "ts")
    if missing or not all(_NAME.match(n) for n in names):
        raise FormatError(
            f"not an nfdump CSV header: expected columns ts (or tr),{','.join(REQUIRED)}, got {text[:120]!r}",
            Location(path, line=1),
        )
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}_{seen[n]}")
    return out


def read_flows(
    fh: IO[bytes],
    names: list[str],
    src: Source,
    q: Quarantine,
    reader: str,
    *,
    line0: int = 1,
    word: str = "line",
    record0: int = 2,
) -> Generator[pa.RecordBatch, None, int]:
    """Yield FLOW batches from nfdump CSV text in ``fh`` whose columns are ``names``; return the row count.

    ``line0`` is added to the stream's line numbers for locators (1 when a header line was
    consumed), and the record number of a row is its locator number minus ``record0``. The
    returned count includes quarantined and skipped rows (not nfdump's summary), so that a
    caller reading several streams as one source can continue the record numbers.
    """
    plan = Plan.make(names, reader)
    seq = _Sequencer(len(names), src, q, word, line0, record0)
    pending: deque[Future[Chunk]] = deque()
    pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="netspot-nfcsv")
    region = _file_region(fh)
    try:
        if region is None:  # a pipe or a decompressing stream: read here, in order
            tasks: Iterator[tuple[Callable[..., Chunk], tuple[object, ...]]] = (
                (convert_chunk, (data, plan, BATCH_ROWS)) for data in read_chunks(fh, CHUNK_BYTES)
            )
        else:  # a plain file: each worker reads its own part (the copy from the page cache leaves this thread)
            fd, first, size = region
            tasks = (
                (_convert_part, (fd, a, min(a + CHUNK_BYTES, size), first, size, plan))
                for a in range(first, size, CHUNK_BYTES)
            )
        for fn, args in tasks:
            pending.append(pool.submit(fn, *args))
            if len(pending) > WORKERS:  # keep the workers busy, and memory bounded
                yield from seq.emit(pending.popleft().result())
        while pending:
            yield from seq.emit(pending.popleft().result())
    except LineTooLongError as exc:
        raise FormatError(f"cannot read as nfdump CSV: {exc}", Location(src.name)) from exc
    finally:
        for f in pending:
            f.cancel()
        pool.shutdown(wait=True)
    return seq.lines - seq.noise


def _file_region(fh: IO[bytes]) -> tuple[int, int, int] | None:
    """(descriptor, offset of the next unread byte, size) when ``fh`` is a plain file opened for reading."""
    if type(fh) is not io.BufferedReader or not isinstance(fh.raw, io.FileIO):
        return None
    try:
        fd = fh.fileno()
        st = os.fstat(fd)
        first = fh.tell()
    except (OSError, ValueError):
        return None
    return (fd, first, st.st_size) if stat.S_ISREG(st.st_mode) else None


def _convert_part(fd: int, a: int, b: int, first: int, size: int, plan: Plan) -> Chunk:
    """Read and convert the lines of the file that start in bytes ``a``..``b - 1`` (runs in a worker thread).

    Parts cut the file at fixed offsets and a line belongs to the part its first byte is in:
    a part reads from the first line start at or after ``a`` (``first`` is the text's start;
    elsewhere a line starts after the first newline at or after ``a - 1``) to the end of the
    line that holds byte ``b - 1``. A file cut short meanwhile reads as ending there.
    """
    lo = a if a == first else a - 1
    head = os.pread(fd, b - lo + _TAIL, lo)
    start = 0
    if a != first:
        k = head.find(b"\n", 0, b - lo)
        if k < 0:  # no line starts in this part: it is inside one long line
            return convert_chunk(np.empty(0, np.uint8), plan, BATCH_ROWS)
        start = k + 1
    if lo + start >= b:
        return convert_chunk(np.empty(0, np.uint8), plan, BATCH_ROWS)
    end = head.find(b"\n", b - 1 - lo)  # the end of the line holding byte b - 1
    blobs = [head]
    got = len(head)
    while end < 0 and len(blobs[-1]) and lo + got < size:  # that line is longer than _TAIL
        if got > MAX_LINE_BYTES + CHUNK_BYTES + _TAIL:
            raise LineTooLongError(f"a line longer than {MAX_LINE_BYTES} bytes")
        more = os.pread(fd, max(_TAIL, got), lo + got)
        k = more.find(b"\n")
        end = got + k if k >= 0 else -1
        blobs.append(more)
        got += len(more)
    blob = b"".join(blobs) if len(blobs) > 1 else head
    return convert_chunk(np.frombuffer(blob, np.uint8)[start : len(blob) if end < 0 else end + 1], plan, BATCH_ROWS)


class _Sequencer:
    """Numbers the lines of converted chunks in order, fills the quarantine and makes the batches."""

    def __init__(self, ncols: int, src: Source, q: Quarantine, word: str, line0: int, record0: int) -> None:
        self.ncols, self.src, self.q, self.word = ncols, src, q, word
        self.line0, self.record0 = line0, record0
        self.lines = 0  # lines of the stream before the next chunk
        self.summary = False
        self.noise = 0  # lines nfdump prints that are not records (summary, messages)

    def emit(self, chunk: Chunk) -> Iterator[pa.RecordBatch]:
        base = self.lines + self.line0 + 1  # locator number of the chunk's line 0
        e = 0
        for part in chunk.parts:
            while e < len(chunk.events) and chunk.events[e].rel < part.upto:
                self._event(chunk.events[e], base)
                e += 1
            n = len(part.rel)
            numbers = part.rel + (base - self.record0)
            first = int(numbers[0])
            if int(numbers[-1]) - first + 1 == n:
                rid = record_ids(self.src, first, n)
            else:
                rid = pa.array(numbers + (self.src.number << 32))
            yield part.batch.set_column(_RID, _RID_FIELD, rid)
        for event in chunk.events[e:]:
            self._event(event, base)
        self.lines += chunk.nlines

    def _event(self, event: Event, base: int) -> None:
        locator = f"{self.word} {base + event.rel}"
        if event.kind == "blank":
            self.q.skip("blank line")
        elif event.kind == "value":
            self.q.add(locator, event.reason, event.detail, event.raw)
        else:
            text = event.raw.decode("utf-8", "replace").strip()
            if self.summary or text == "Summary":
                self.summary = True
                self.q.skip("nfdump summary line")
                self.noise += 1
            elif text == "No matching flows":  # what nfdump prints, even with -q, for a file without flows
                self.q.skip("nfdump: no matching flows")
                self.noise += 1
            else:
                self.q.add(
                    locator, QuarantineReason.FIELD_COUNT, f"expected {self.ncols} fields, got {event.nfields}",
                    event.raw,
                )  # fmt: skip
