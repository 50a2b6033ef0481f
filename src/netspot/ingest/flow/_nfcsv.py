"""nfdump CSV text to ``schema.FLOW`` batches: header-driven, vectorised, bad rows quarantined.

One parser serves both readers of :mod:`netspot.ingest.flow.nfdump`: the CSV files that
``nfdump -o csv`` (and Apache Spot's modified nfdump) print, and the ``-o fmt:`` text that
:class:`~netspot.ingest.flow.nfdump.NfcapdReader` streams out of the nfdump binary.

pyarrow's streaming CSV reader splits the text (every column as binary, no quoting, one row
per physical line); the numba kernels of :mod:`._nfparse` then validate and convert the
columns. A line with the wrong number of fields is quarantined by the CSV reader's
invalid-row handler (FIELD_COUNT), a row whose time does not parse as BAD_TIMESTAMP, one
whose port, count or address does not parse as BAD_VALUE. nfdump's closing summary
(``Summary`` and the two lines after it) is counted as skipped, not quarantined.

Times carry no zone in nfdump's text (it prints local time): they are read as UTC, which
is what nfdump prints when run with ``TZ=UTC`` (the NfcapdReader does so).
"""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import IO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from netspot.errors import FormatError, Location
from netspot.ingest.base import BATCH_ROWS, Source, record_ids
from netspot.ingest.flow._nfparse import (
    PROTO_NAMES,
    is_default,
    parse_duration_ms,
    parse_ip,
    parse_time,
    parse_uint,
)
from netspot.ingest.quarantine import Quarantine, QuarantineReason
from netspot.schema import FLOW, conform

__all__ = ["REQUIRED", "parse_header", "read_flows"]

#: Columns a header must have (``tr`` may stand in for ``ts``, as in Apache Spot's header).
REQUIRED = ("sa", "da", "sp", "dp", "pr")
#: Apache Spot's split-out parts of ``tr`` (year .. second): redundant with ``tr``, not kept.
SPOT_TIME_PARTS = frozenset({"try", "trm", "trd", "trh", "trm_2", "trs"})
#: Bytes of text per CSV block: large enough for vectorised work, small enough for bounded memory.
BLOCK_BYTES = 8 << 20

_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
# nfdump column -> (FLOW column, maximum value) for the unsigned integers
_INTS: dict[str, tuple[str, int]] = {
    "sp": ("sport", 65535),
    "dp": ("dport", 65535),
    "fwd": ("fwd", 32767),
    "stos": ("stos", 255),
    "dtos": ("dtos", 255),
    "dir": ("dir", 32767),
    "ipkt": ("ipkt", 2**63 - 1),
    "ibyt": ("ibyt", 2**63 - 1),
    "opkt": ("opkt", 2**63 - 1),
    "obyt": ("obyt", 2**63 - 1),
    "in": ("input", 2**31 - 1),
    "out": ("output", 2**31 - 1),
    "sas": ("sas", 2**32 - 1),
    "das": ("das", 2**32 - 1),
}
_MAPPED = frozenset({"ts", "te", "td", "sa", "da", "pr", "flg", "ra", *_INTS})
_PROTO_TABLE = pa.array(PROTO_NAMES, pa.string())
_EXTRA_TYPE = FLOW.field("extra").type
#: A validation of one column: (ok mask, column, what was expected, reason when not ok).
_Check = tuple[np.ndarray, str, str, QuarantineReason]


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


class _Rows:
    """Tracks the physical line of every CSV row, as pyarrow drops invalid rows from its batches."""

    def __init__(self, q: Quarantine, word: str, line0: int) -> None:
        self.q, self.word, self.line0 = q, word, line0
        self.pending: list[int] = []  # line numbers (relative to the stream) of rows handed to the handler
        self.cursor = 1
        self.summary = False
        self.noise = 0  # lines nfdump prints that are not records (summary, messages)

    def handler(self, row: pcsv.InvalidRow) -> str:
        number = row.number if row.number is not None else self.cursor + len(self.pending)
        self.pending.append(number)
        text = row.text or ""
        if self.summary or text.strip() == "Summary":
            self.summary = True
            self.q.skip("nfdump summary line")
            self.noise += 1
            return "skip"
        if text.strip() == "No matching flows":  # what nfdump prints, even with -q, for a file without flows
            self.q.skip("nfdump: no matching flows")
            self.noise += 1
            return "skip"
        self.q.add(
            f"{self.word} {number + self.line0}",
            QuarantineReason.FIELD_COUNT,
            f"expected {row.expected_columns} fields, got {row.actual_columns}",
            text.encode("utf-8", "surrogateescape"),
        )
        return "skip"

    def lines(self, n: int) -> np.ndarray:
        """Stream line numbers of the next ``n`` rows pyarrow returned (the handler's rows excluded)."""
        bad = np.array(sorted(self.pending), dtype=np.int64)
        end = self.cursor + n
        while True:
            k = int(np.searchsorted(bad, end))
            if self.cursor + n + k == end:
                break
            end = self.cursor + n + k
        span = np.arange(self.cursor, end, dtype=np.int64)
        out = np.setdiff1d(span, bad[:k], assume_unique=True) if k else span
        self.pending = bad[k:].tolist()
        self.cursor = end
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
    returned count includes quarantined and skipped rows, so that a caller reading several
    streams as one source can continue the record numbers.
    """
    rows = _Rows(q, word, line0)
    guard = _Utf8Guard(fh)
    opts = pcsv.ReadOptions(column_names=names, use_threads=False, block_size=BLOCK_BYTES)
    parse = pcsv.ParseOptions(quote_char=False, ignore_empty_lines=False, invalid_row_handler=rows.handler)
    conv = pcsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()))
    try:
        stream = pcsv.open_csv(guard, read_options=opts, parse_options=parse, convert_options=conv)
    except StopIteration:
        return 0
    except pa.ArrowInvalid as exc:
        if "Empty CSV file" in str(exc):
            return 0
        raise FormatError(f"cannot read as nfdump CSV: {exc}", Location(src.name)) from exc
    while True:
        try:
            batch = stream.read_next_batch()
        except StopIteration:
            break
        except pa.ArrowInvalid as exc:  # e.g. a line longer than a block
            raise FormatError(f"cannot read as nfdump CSV: {exc}", Location(src.name)) from exc
        lines = rows.lines(batch.num_rows) + line0
        for start in range(0, batch.num_rows, BATCH_ROWS):
            part = batch.slice(start, BATCH_ROWS)
            out = _convert(part, lines[start : start + BATCH_ROWS], src, q, reader, word, record0, guard)
            if out is not None:
                yield out
    return rows.cursor - 1 + len(rows.pending) - rows.noise


class _Utf8Guard:
    """A binary stream whose invalid UTF-8 bytes become U+FFFD, flagging it (pyarrow cannot hand such a line over).

    The rows that carry a replacement character are then quarantined by :func:`_utf8_rows`.
    """

    def __init__(self, fh: IO[bytes]) -> None:
        self.fh = fh
        self.carry = b""
        self.dirty = False
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        data = self.carry + self.fh.read(size)
        self.carry = b""
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.reason == "unexpected end of data" and exc.start >= len(data) - 3 and size != 0:
                more = self.fh.read(4)  # a character cut by the read size
                if more:
                    self.carry = data[exc.start :] + more
                    data = data[: exc.start]
                    return data if data else self.read(size)
            self.dirty = True
            data = data.decode("utf-8", "replace").encode("utf-8")
        return data

    def close(self) -> None:
        self.closed = True


def _utf8_checks(names: list[str], strs: list[pa.Array], guard: _Utf8Guard) -> list[_Check]:
    """One check per column that held invalid UTF-8 (now U+FFFD); none while the stream has been clean."""
    out: list[_Check] = []
    if guard.dirty:
        for name, col in zip(names, strs, strict=True):
            ok = ~pc.match_substring(col, "\ufffd").to_numpy(zero_copy_only=False)
            if not ok.all():
                out.append((ok, name, "UTF-8 text", QuarantineReason.BAD_VALUE))
    return out


def _convert(
    batch: pa.RecordBatch,
    lines: np.ndarray,
    src: Source,
    q: Quarantine,
    reader: str,
    word: str,
    record0: int,
    guard: _Utf8Guard,
) -> pa.RecordBatch | None:
    names = batch.schema.names
    strs = list(batch.columns)
    if "mpls" in names:  # nfdump -o fmt's %mpls: the ten labels separated by blanks
        i = names.index("mpls")
        names = [*names[:i], *(f"mpls{k}" for k in range(1, 11)), *names[i + 1 :]]
        strs = [*strs[:i], *_split_mpls(strs[i]), *strs[i + 1 :]]
    col = dict(zip(names, strs, strict=True))
    checks = _utf8_checks(list(names), strs, guard)
    out: dict[str, np.ndarray | pa.Array] = {}

    tname = "ts" if "ts" in col else "tr"
    ts, ok = parse_time(col[tname])
    checks.append((ok, tname, "a time YYYY-MM-DD HH:MM:SS[.fff]", QuarantineReason.BAD_TIMESTAMP))
    td = te = None
    if "te" in col:
        te, ok = parse_time(col["te"])
        checks.append((ok, "te", "a time YYYY-MM-DD HH:MM:SS[.fff]", QuarantineReason.BAD_TIMESTAMP))
    if "td" in col:
        td, ok = parse_duration_ms(col["td"])
        checks.append((ok, "td", "a duration in seconds", QuarantineReason.BAD_VALUE))
    if te is None:
        te = ts + td if td is not None else ts
    if td is None:
        td = te - ts
    for name, target in (("sa", "sip"), ("da", "dip"), ("ra", "rip")):
        if name in col:
            checks.append((parse_ip(col[name]), name, "an IP address", QuarantineReason.BAD_VALUE))
            out[target] = pc.utf8_trim_whitespace(col[name])
    for name, (target, top) in _INTS.items():
        if name in col:
            vals, ok = parse_uint(col[name], letters=name == "dir", dotted=name == "dp")
            ok &= vals <= top
            checks.append((ok, name, f"an integer 0..{top}", QuarantineReason.BAD_VALUE))
            out[target] = vals
    pr = pc.utf8_upper(pc.utf8_trim_whitespace(col["pr"]))
    pnum, numeric = parse_uint(pr)
    ok = ~numeric | (pnum <= 255)
    ok &= pc.utf8_length(pr).to_numpy(zero_copy_only=False) > 0
    checks.append((ok, "pr", "a protocol name or number 0..255", QuarantineReason.BAD_VALUE))
    by_name = pc.index_in(pr, value_set=_PROTO_TABLE)
    out["proto_num"] = pc.if_else(pa.array(numeric), pa.array(np.minimum(pnum, 255)), by_name)
    out["proto"] = pc.if_else(pa.array(numeric), _PROTO_TABLE.take(pa.array(np.minimum(pnum, 255))), pr)
    if "flg" in col:
        out["flags"] = pc.utf8_trim_whitespace(col["flg"])

    good = np.ones(batch.num_rows, np.bool_)
    for ok, *_ in checks:
        good &= ok
    if not good.all():
        _quarantine(batch, names, strs, good, checks, lines, q, word)
    keep = np.flatnonzero(good)
    if len(keep) == 0:
        return None
    take = None if len(keep) == len(good) else pa.array(keep)  # all good: no copies
    first = int(lines[keep[0]]) - record0
    rid = record_ids(src, first, int(lines[keep[-1]]) - record0 - first + 1).take(
        pa.array(lines[keep] - record0 - first)
    )
    cols: dict[str, pa.Array] = {
        "ts": pa.array(ts[keep], pa.timestamp("ms", tz="UTC")),
        "te": pa.array(te[keep], pa.timestamp("ms", tz="UTC")),
        "td": pa.array(td[keep] / 1000.0),
        "rid": rid,
        "source": pa.DictionaryArray.from_arrays(pa.array(np.zeros(len(keep), np.int32)), pa.array([reader])),
        "extra": _extra(names, strs, keep, take),
    }
    for name, v in out.items():
        if isinstance(v, np.ndarray):
            cols[name] = pa.array(v if take is None else v[keep])
        else:
            cols[name] = v if take is None else v.take(take)
    return conform(cols, FLOW, len(keep))


def _split_mpls(arr: pa.Array) -> list[pa.Array]:
    """The ten MPLS labels of ``%mpls`` as ten columns (empty where a row does not have ten)."""
    parts = pc.utf8_split_whitespace(pc.utf8_trim_whitespace(arr))
    ten = pc.equal(pc.list_value_length(parts), 10).to_numpy(zero_copy_only=False)
    if not ten.all():
        filler = pa.array([[""] * 10], pa.list_(pa.string())).take(pa.array(np.zeros(len(arr), np.int64)))
        parts = pc.if_else(pa.array(ten), parts, filler)
    return [pc.list_element(parts, k) for k in range(10)]


def _extra(names: list[str], strs: list[pa.Array], keep: np.ndarray, take: pa.Array | None) -> pa.Array:
    """The unmapped columns whose value is not nfdump's 'absent' (zeros, epoch) as a map per row.

    nfdump prints every extension it does not have as zeros, so keeping only set values loses
    nothing (an absent key means nfdump's zero) and keeps rows small.
    """
    n = len(keep)
    parts: list[pa.Array] = []
    masks: list[np.ndarray] = []
    keys: list[str] = []
    for name, arr in zip(names, strs, strict=True):
        if name in _MAPPED or name in SPOT_TIME_PARTS or (name == "tr" and "ts" not in names):
            continue
        vals = arr if take is None else arr.take(take)
        keys.append(name)
        masks.append(~is_default(vals))
        parts.append(pc.utf8_trim_whitespace(vals))
    if not keys:
        return pa.nulls(n, _EXTRA_TYPE)
    mask = np.stack(masks, axis=1)  # (rows, keys), row-major = map entry order
    counts = mask.sum(axis=1)
    offsets = np.zeros(n + 1, np.int32)
    np.cumsum(counts, out=offsets[1:])
    rows, kidx = np.nonzero(mask)
    flat_vals = pa.concat_arrays(parts).take(pa.array(kidx.astype(np.int64) * n + rows))
    flat_keys = pa.array(keys, pa.string()).take(pa.array(kidx))
    return pa.MapArray.from_arrays(pa.array(offsets), flat_keys, flat_vals)


def _quarantine(
    batch: pa.RecordBatch,
    names: list[str],
    strs: list[pa.Array],
    good: np.ndarray,
    checks: list[_Check],
    lines: np.ndarray,
    q: Quarantine,
    word: str,
) -> None:
    """Quarantine the rows not ``good`` (slow path: one Python step per bad row), skipping blank lines."""
    bad = np.flatnonzero(~good)
    idx = pa.array(bad)
    raws = [r.encode() for r in pc.binary_join_element_wise(*[c.take(idx) for c in batch.columns], ",").to_pylist()]
    for j, i in enumerate(bad):
        raw = raws[j]
        if not raw.strip(b", \r"):
            q.skip("blank line")
            continue
        for ok, name, expected, reason in checks:
            if not ok[i]:
                got = strs[names.index(name)][i].as_py()
                q.add(f"{word} {lines[i]}", reason, f"column {name!r}: expected {expected}, got {got!r}", raw)
                break
