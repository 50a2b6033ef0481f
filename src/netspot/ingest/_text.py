"""Shared machinery for line-oriented text readers (proxy logs, syslog, JSON lines).

A text reader sees its file as a stream of :class:`LineBlock`\\ s: at most
:data:`~netspot.ingest.base.BATCH_ROWS` lines each, read in bounded byte chunks,
split with numpy (no Python object per line), with 1-based line numbers. Its work
on a block is vectorised: :func:`extract` runs one RE2 pattern over every line with
``pyarrow.compute.extract_regex``, :func:`to_int` and :func:`parse_iso8601` validate
and convert text columns, and :func:`quarantine_lines` sends the lines a mask
selects to the quarantine with their line numbers and raw bytes (a slow path, taken
only for bad lines).

Record numbers are line numbers: line ``k`` (1-based) is record ``k - 1``, so the
record id of a row is stable whatever happens to the lines around it, and
:func:`line_rids` gives the ids of the rows a reader keeps.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from netspot.errors import FormatError, Location, TruncatedInputError
from netspot.ingest.base import BATCH_ROWS, DECOMPRESSION_ERRORS, Source
from netspot.ingest.quarantine import Quarantine, QuarantineReason

__all__ = [
    "CHUNK_BYTES",
    "MAX_LINE_BYTES",
    "LineBlock",
    "blank_and_comment",
    "constant",
    "extract",
    "iter_line_blocks",
    "line_rids",
    "null_if_dash",
    "parse_iso8601",
    "quarantine_lines",
    "read_head",
    "to_int",
]

#: Bytes read from the file at a time; a block never holds more than this plus one line.
CHUNK_BYTES = 8 << 20
#: Longest line a text reader accepts; longer ones are quarantined without being held in memory.
MAX_LINE_BYTES = 1 << 20

_ISO = (
    r"^\s*(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<time>\d{2}:\d{2}:\d{2})(?:[.,](?P<frac>\d{1,9}))?"
    r"(?P<zone>Z|z|[+-]\d{2}(?::?\d{2})?)?\s*$"
)


@dataclass(frozen=True, slots=True)
class LineBlock:
    """Consecutive lines of one file, without their line terminators.

    Attributes
    ----------
    lines
        The lines as text. A line that is not valid UTF-8 is replaced by ``""`` and
        flagged in ``bad_utf8`` (its bytes are in ``raw``).
    raw
        The lines' raw bytes, for the quarantine.
    first
        1-based line number of ``lines[0]``.
    bad_utf8
        True for lines that are not valid UTF-8.
    """

    lines: pa.StringArray
    raw: pa.BinaryArray
    first: int
    bad_utf8: np.ndarray

    def __len__(self) -> int:
        return len(self.lines)

    def slice(self, start: int, length: int) -> LineBlock:
        """Lines ``start`` to ``start + length`` of this block, as a block."""
        return LineBlock(
            self.lines.slice(start, length), self.raw.slice(start, length), self.first + start,
            self.bad_utf8[start : start + length],
        )

    def locators(self, mask: np.ndarray) -> list[str]:
        """``"line N"`` for each line where ``mask`` is true."""
        return [f"line {self.first + int(i)}" for i in np.flatnonzero(mask)]


def _split_lines(chunk: bytes) -> pa.BinaryArray:
    """Split ``chunk`` at ``\\n`` (dropping one ``\\r`` before it) into a binary array, vectorised."""
    buf = np.frombuffer(chunk, dtype=np.uint8)
    ends = np.flatnonzero(buf == 0x0A)
    if len(buf) and (not len(ends) or ends[-1] != len(buf) - 1):
        ends = np.append(ends, len(buf))  # a last line without a newline
    starts = np.concatenate(([0], ends[:-1] + 1)).astype(np.int64)
    stops = ends.astype(np.int64)
    cr = np.zeros(len(stops), dtype=bool)
    nonempty = stops > starts
    cr[nonempty] = buf[stops[nonempty] - 1] == 0x0D
    stops = stops - cr
    # Build offsets over a compacted copy so that terminators are not part of any value.
    lengths = stops - starts
    offsets = np.zeros(len(starts) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    keep = np.ones(len(buf), dtype=bool)
    keep[ends[ends < len(buf)]] = False
    keep[stops[cr]] = False
    data = buf[keep]
    return pa.Array.from_buffers(
        pa.binary(), len(starts), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )


def _decode(raw: pa.BinaryArray) -> tuple[pa.StringArray, np.ndarray]:
    """Text of ``raw``; lines that are not UTF-8 become ``""`` and are flagged (slow path only for them)."""
    bad = np.zeros(len(raw), dtype=bool)
    try:
        return raw.cast(pa.string()), bad
    except pa.ArrowInvalid:
        pass
    values = raw.to_pylist()
    for i, value in enumerate(values):
        try:
            value.decode("utf-8")
        except UnicodeDecodeError:
            bad[i] = True
    cleaned = pc.if_else(pa.array(bad), pa.scalar(b"", pa.binary()), raw)
    return cleaned.cast(pa.string()), bad


@contextmanager
def _named_errors(src: Source) -> Iterator[None]:
    """Turn decompression and I/O failures into errors that name the file."""
    try:
        yield
    except EOFError as exc:
        raise TruncatedInputError(f"compressed stream ends early: {exc}", Location(src.name)) from exc
    except DECOMPRESSION_ERRORS as exc:
        raise FormatError(f"cannot read: {exc}", Location(src.name)) from exc


def read_head(src: Source, size: int = 65536) -> bytes:
    """The first ``size`` bytes of ``src`` (decompressed); a corrupt file raises an error naming it."""
    with _named_errors(src):
        return src.head(size)


def iter_line_blocks(
    src: Source,
    quarantine: Quarantine | None = None,
    max_lines: int = BATCH_ROWS,
    chunk_bytes: int = CHUNK_BYTES,
    max_line_bytes: int = MAX_LINE_BYTES,
) -> Iterator[LineBlock]:
    """Stream ``src`` as blocks of at most ``max_lines`` lines, in bounded memory.

    Parameters
    ----------
    src
        The file (compressed files are decompressed transparently).
    quarantine
        Where a line longer than ``max_line_bytes`` goes (MALFORMED, first 4 KiB kept);
        such a line is never held whole in memory, and still counts as one line.
    max_lines
        Most lines per block (default :data:`BATCH_ROWS`).
    chunk_bytes
        Bytes read at a time (default 8 MiB).
    max_line_bytes
        Longest line accepted (default 1 MiB).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.log"
    >>> _ = p.write_bytes(b"a\\r\\nbb\\n\\xff\\nlast")
    >>> [(b.first, b.lines.to_pylist(), b.bad_utf8.tolist()) for b in iter_line_blocks(Source(p))]
    [(1, ['a', 'bb', ''], [False, False, True]), (4, ['last'], [False])]
    """
    with _named_errors(src), src.open() as fh:
        yield from _read_blocks(fh, quarantine, max_lines, chunk_bytes, max_line_bytes)


def _read_blocks(
    fh: IO[bytes], quarantine: Quarantine | None, max_lines: int, chunk_bytes: int, max_line_bytes: int
) -> Iterator[LineBlock]:
    line_no = 1
    carry = b""
    skipping = False  # inside an overlong line, dropping bytes up to its newline
    while True:
        chunk = fh.read(chunk_bytes)
        if not chunk:
            break
        if skipping:
            nl = chunk.find(b"\n")
            if nl < 0:
                continue
            chunk, skipping = chunk[nl + 1 :], False
            line_no += 1
        data = carry + chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            carry = data
            if len(carry) > max_line_bytes:
                if quarantine is not None:
                    quarantine.add(f"line {line_no}", QuarantineReason.MALFORMED,
                                   f"expected a line of at most {max_line_bytes} bytes, got more", carry)
                carry, skipping = b"", True
            continue
        carry = data[cut + 1 :]
        yield from _blocks(data[: cut + 1], line_no, max_lines)
        line_no += data.count(b"\n", 0, cut + 1)
    if carry:
        yield from _blocks(carry, line_no, max_lines)


def _blocks(data: bytes, first: int, max_lines: int) -> Iterator[LineBlock]:
    raw_all = _split_lines(data)
    for start in range(0, len(raw_all), max_lines):
        raw = raw_all.slice(start, max_lines)
        lines, bad = _decode(raw)
        yield LineBlock(lines, raw, first + start, bad)


def blank_and_comment(block: LineBlock, comment: str | None = "#") -> tuple[np.ndarray, np.ndarray]:
    """Masks of blank lines and of comment lines (first non-blank character ``comment``)."""
    stripped = pc.utf8_trim_whitespace(block.lines)
    blank = pc.equal(stripped, "").to_numpy(zero_copy_only=False) & ~block.bad_utf8
    if comment is None:
        return blank, np.zeros(len(block), dtype=bool)
    return blank, pc.starts_with(stripped, comment).to_numpy(zero_copy_only=False)


def constant(value: str, length: int) -> pa.Array:
    """A string column holding ``value`` ``length`` times (cheap: a take from one value)."""
    return pa.array([value], pa.string()).take(pa.array(np.zeros(length, dtype=np.int32)))


def extract(lines: pa.Array, pattern: str) -> tuple[pa.StructArray, np.ndarray]:
    """Match an RE2 ``pattern`` with named groups against every line.

    Returns the struct of named groups (null rows where it did not match) and the
    boolean mask of lines that matched.
    """
    groups = pc.extract_regex(lines, pattern)
    matched = groups.is_valid().to_numpy(zero_copy_only=False)
    return groups, matched


def null_if_dash(values: pa.Array) -> pa.Array:
    """``-`` and empty strings become null (the ELFF and Squid convention for 'no value')."""
    empty = pc.or_(pc.equal(values, "-"), pc.equal(values, ""))
    return pc.if_else(empty, pa.scalar(None, values.type), values)


def to_int(values: pa.Array, max_digits: int = 18) -> tuple[pa.Array, np.ndarray]:
    """Parse decimal integers; null stays null.

    Returns the int64 array (null where the text is not an integer) and the mask of
    values that were present but did not parse, for the caller to quarantine.
    """
    ok = pc.match_substring_regex(values, rf"^[+-]?\d{{1,{max_digits}}}$")
    ok = pc.fill_null(ok, False)
    bad = pc.and_(values.is_valid(), pc.invert(ok)).to_numpy(zero_copy_only=False)
    good = pc.if_else(ok, values, pa.scalar(None, values.type))
    return good.cast(pa.int64()), bad


def parse_iso8601(values: pa.Array, default_utc: bool = True) -> pa.Array:
    """ISO 8601 text (``2021-06-06T15:57:00.123+02:00``, ``... 15:57:00Z``) to UTC milliseconds.

    Fractions beyond milliseconds are truncated. Text without a zone is taken as UTC
    when ``default_utc`` (else null). Anything else is null.

    Examples
    --------
    >>> parse_iso8601(pa.array(["2021-06-06T15:57:00.5+02:00", "x", "2021-06-06 13:57:00Z"])).to_pylist()
    [1622987820500, None, 1622987820000]
    """
    g = pc.extract_regex(values, _ISO)
    base = pc.binary_join_element_wise(g.field("date"), g.field("time"), "T")
    secs = pc.strptime(base, format="%Y-%m-%dT%H:%M:%S", unit="s", error_is_null=True).cast(pa.int64())
    frac = pc.fill_null(g.field("frac"), "")
    frac = pc.utf8_slice_codeunits(pc.utf8_rpad(frac, 3, "0"), 0, 3).cast(pa.int64())
    zone = g.field("zone")  # an optional group that did not take part is "", not null
    zone = pc.if_else(pc.equal(zone, ""), pa.scalar(None, pa.string()), zone)
    sign = pc.if_else(pc.starts_with(zone, "-"), -1, 1)
    hours = pc.utf8_slice_codeunits(zone, 1, 3)
    minutes = pc.utf8_slice_codeunits(pc.replace_substring(zone, ":", ""), 3, 5)
    is_utc = pc.or_(pc.equal(zone, "Z"), pc.equal(zone, "z"))
    hours = pc.if_else(is_utc, "0", hours)
    minutes = pc.if_else(pc.or_(is_utc, pc.equal(minutes, "")), "0", minutes)
    zone_s = pc.add(pc.multiply(hours.cast(pa.int64()), 3600), pc.multiply(minutes.cast(pa.int64()), 60))
    offset = pc.multiply(sign, zone_s)
    if default_utc:
        offset = pc.if_else(zone.is_null(), 0, offset)
    ms = pc.add(pc.multiply(pc.subtract(secs, offset), 1000), frac)
    return ms


def quarantine_lines(
    quarantine: Quarantine,
    block: LineBlock,
    mask: np.ndarray,
    reason: QuarantineReason,
    details: Sequence[str] | str,
) -> None:
    """Quarantine the lines of ``block`` where ``mask`` is true, with their line numbers and raw bytes."""
    idx = np.flatnonzero(mask)
    if not len(idx):
        return
    raws = block.raw.take(pa.array(idx)).to_pylist()
    quarantine.add_many(block.locators(mask), reason, details, raws)


def line_rids(src: Source, block: LineBlock, keep: np.ndarray) -> pa.Array:
    """Record ids of the kept lines: line ``k`` of the file is record ``k - 1``."""
    base = (src.number << 32) + block.first - 1
    return pa.array(base + np.flatnonzero(keep).astype(np.int64))

