"""Typing of raw Zeek columns: validated casts per Zeek type, bad values to the quarantine.

Each column of a :class:`~netspot.ingest._zeek.RawBlock` becomes the Arrow type of its Zeek
type: ``time`` → timestamp[ms, UTC], ``interval``/``double`` → float64 seconds,
``count``/``int``/``port`` → int64, ``bool`` → bool, ``set``/``vector`` → list<string>, and
anything else (``addr``, ``string``, ``enum``, ``subnet``, …) → string with ``\\xNN`` escapes
decoded. Casts are tried on the whole column first; only a column whose cast fails is
searched (vectorised) for the rows at fault, and those rows are quarantined (``BAD_VALUE``,
or ``BAD_TIMESTAMP`` for ``ts``) with the column, the expected type and the value.
"""

from __future__ import annotations

import re
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from netspot.ingest._zeek_addr import invalid_addrs
from netspot.ingest._zeek_block import RawBlock
from netspot.ingest.quarantine import Quarantine, QuarantineReason
from netspot.schema import TIMESTAMP

__all__ = ["MAX_EPOCH_S", "MAX_INTERVAL_S", "TypedBlock", "decode_escapes", "text_column", "to_list", "type_block"]

_INTS = {"count": (0, None), "int": (None, None), "port": (0, 65535)}
_FLOATS = {"interval", "double"}
_INT_RE = r"^-?[0-9]+$"
_FLOAT_RE = r"^-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$"
#: Largest |epoch seconds| accepted as a time (9999-12-31T23:59:59Z).
MAX_EPOCH_S = 253_402_300_799
#: Longest interval accepted, seconds (about 317 years).
MAX_INTERVAL_S = 1e10
#: JSON integer times above this are epoch milliseconds (Zeek's JSON::TS_MILLIS), below it seconds.
MILLIS_ABOVE = 100_000_000_000
# pyarrow turns a Python literal into a scalar on every call (and retries importing pandas each time):
# constants are made once.
_T, _F, _EMPTY = pa.scalar("T"), pa.scalar("F"), pa.scalar("")
_ZERO, _BIG, _DIGITS = pa.scalar(0.0), pa.scalar(2.0**62), pa.scalar(18, pa.int32())
_NO_ITEMS = pa.scalar([], pa.list_(pa.string()))
_BOUNDS = {k: tuple(None if v is None else pa.scalar(v, pa.int64()) for v in b) for k, b in _INTS.items()}
_ESCAPE = re.compile(rb"\\x([0-9a-fA-F]{2})")


class TypedBlock:
    """Typed columns of a block and the rows that failed (first failure per row kept)."""

    def __init__(self, block: RawBlock) -> None:
        self.block = block
        self.values: dict[str, pa.Array] = {}
        self.bad = np.zeros(block.num_rows, dtype=bool)
        self.why: dict[int, tuple[QuarantineReason, str]] = {}

    def fail(self, rows: np.ndarray, name: str, ztype: str, raw: pa.Array, reason: QuarantineReason) -> None:
        for i in rows.tolist():
            if i not in self.why:
                value = raw[i].as_py()
                self.why[i] = (reason, f"column {name}: expected {ztype}, got {value!r}")
        self.bad[rows] = True

    def flush(self, quarantine: Quarantine) -> None:
        """Quarantine the failed rows, in line order."""
        b = self.block
        for i in sorted(self.why):
            reason, detail = self.why[i]
            quarantine.add(f"line {b.lines[i]}", reason, detail, b.raws[i])


def _in_data(a: pa.Array, needle: bytes) -> bool:
    """Whether ``needle`` may occur in a string array: one scan of its data buffer, no per-value work."""
    if not pa.types.is_string(a.type):
        return True
    data = a.buffers()[2]
    return data is not None and re.search(re.escape(needle), memoryview(data)) is not None


def decode_escapes(a: pa.Array) -> pa.Array:
    """``\\xNN`` escapes decoded in the values that hold one (a scan of the data buffer first)."""
    if not _in_data(a, b"\\x"):
        return a
    mask = pc.fill_null(pc.match_substring(a, "\\x"), False)
    if not pc.any(mask).as_py():
        return a
    decoded = [_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), v.encode()).decode("utf-8", "backslashreplace")
               for v in a.filter(mask).to_pylist()]
    return pc.replace_with_mask(a, mask, pa.array(decoded, pa.string()))


def _strings(a: pa.Array) -> pa.Array:
    """Any column as strings (JSON booleans as Zeek's T/F)."""
    if pa.types.is_string(a.type):
        return a
    if pa.types.is_large_string(a.type):
        return a.cast(pa.string())
    if pa.types.is_boolean(a.type):
        return pc.if_else(a, _T, _F)
    if pa.types.is_list(a.type) or pa.types.is_large_list(a.type):
        return pc.binary_join(_as_list(a), ",")
    if pa.types.is_null(a.type):
        return pa.nulls(len(a), pa.string())
    try:
        return a.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.array([None if v is None else str(v) for v in a.to_pylist()], pa.string())


def _as_list(a: pa.Array) -> pa.Array:
    """JSON arrays as list<string> (a scalar where an array belongs becomes a one-element list)."""
    if pa.types.is_list(a.type) or pa.types.is_large_list(a.type):
        values = _strings(a.values)
        return pa.ListArray.from_arrays(a.offsets, values, mask=a.is_null())
    s = _strings(a)
    offsets = pa.array(np.arange(len(s) + 1, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, s, mask=s.is_null())


def _bad_rows(s: pa.Array, pattern: str) -> np.ndarray:
    ok = pc.match_substring_regex(s, pattern)
    return np.flatnonzero(pc.fill_null(pc.invert(ok), False).to_numpy(zero_copy_only=False))


def _null_rows(a: pa.Array, rows: np.ndarray) -> pa.Array:
    if len(rows) == 0:
        return a
    mask = np.zeros(len(a), dtype=bool)
    mask[rows] = True
    return pc.if_else(pa.array(mask), pa.nulls(len(a), a.type), a)


def _to_float(tb: TypedBlock, name: str, ztype: str, a: pa.Array, reason: QuarantineReason) -> pa.Array:
    if pa.types.is_floating(a.type) or pa.types.is_integer(a.type):
        out = a.cast(pa.float64(), safe=False)  # 2**53 + 1 may round
        s = None
    else:
        s = _strings(a)
        try:
            out = s.cast(pa.float64())
        except pa.ArrowInvalid:
            bad = _bad_rows(s, _FLOAT_RE)
            tb.fail(bad, name, ztype, s, reason)
            out = _null_rows(s, bad).cast(pa.float64())
    # nan and inf are no Zeek values; an interval beyond MAX_INTERVAL_S is garbage
    limit = MAX_INTERVAL_S if ztype == "interval" else np.inf
    x = out.to_numpy(zero_copy_only=False)
    with np.errstate(invalid="ignore"):
        wrong = np.flatnonzero(out.is_valid().to_numpy(zero_copy_only=False) & ~(np.abs(x) <= limit))
    if len(wrong):
        tb.fail(wrong, name, ztype, s if s is not None else _strings(a), reason)
        out = _null_rows(out, wrong)
    return out


def _to_int(tb: TypedBlock, name: str, ztype: str, a: pa.Array) -> pa.Array:
    if pa.types.is_integer(a.type):
        out = a.cast(pa.int64())
    else:
        s = _strings(a)
        if pa.types.is_floating(a.type):  # JSON 80.0 is fine, 80.5 is not
            whole = pc.and_(pc.equal(pc.floor(a), a), pc.less(pc.abs(a), _BIG))
            s = pc.if_else(whole, pc.if_else(whole, a, _ZERO).cast(pa.int64(), safe=False).cast(pa.string()), s)
        try:
            out = s.cast(pa.int64())
        except pa.ArrowInvalid:
            bad = _bad_rows(s, _INT_RE)
            long = np.flatnonzero(pc.fill_null(pc.greater(pc.utf8_length(s), _DIGITS), False).to_numpy(False))
            long = np.setdiff1d(long, bad)
            overflow = [i for i in long.tolist() if not -(2**63) <= int(s[i].as_py()) < 2**63]
            bad = np.union1d(bad, np.setdiff1d(np.asarray(overflow, dtype=np.int64), bad)).astype(np.int64)
            tb.fail(bad, name, ztype, s, QuarantineReason.BAD_VALUE)
            out = _null_rows(s, bad).cast(pa.int64())
    lo, hi = _BOUNDS[ztype]
    if lo is not None or hi is not None:
        outside = pc.or_(pc.less(out, lo if lo is not None else out), pc.greater(out, hi if hi is not None else out))
        rows = np.flatnonzero(pc.fill_null(outside, False).to_numpy(zero_copy_only=False))
        if len(rows):
            tb.fail(rows, name, ztype, _strings(a), QuarantineReason.BAD_VALUE)
            out = _null_rows(out, rows)
    return out


def _iso_times(s: pa.Array) -> tuple[pa.Array, list[int]]:
    """ISO 8601 strings (JSON::TS_ISO8601) as microseconds, and the indices that are not; naive is UTC."""
    try:
        return s.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()), []
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    out: list[int | None] = []
    bad: list[int] = []
    for i, v in enumerate(s.to_pylist()):
        try:
            t = None if v is None else datetime.fromisoformat(v.replace("Z", "+00:00"))
        except ValueError:
            t = None
            bad.append(i)
        if t is not None and t.tzinfo is None:
            out.append(int((t - datetime(1970, 1, 1)).total_seconds() * 1_000_000))
        else:
            out.append(None if t is None else int(t.timestamp() * 1_000_000))
    return pa.array(out, pa.int64()), bad


def _to_time(tb: TypedBlock, name: str, a: pa.Array, reason: QuarantineReason) -> pa.Array:
    if pa.types.is_timestamp(a.type):
        return a.cast(pa.timestamp(a.type.unit)).cast(pa.timestamp("ms")).cast(pa.int64()).cast(TIMESTAMP)
    if pa.types.is_integer(a.type):  # JSON::TS_MILLIS, or whole epoch seconds
        x = a.cast(pa.float64(), safe=False).to_numpy(zero_copy_only=False)
        x = np.where(np.abs(x) > MILLIS_ABOVE, x / 1000.0, x)
    elif pa.types.is_floating(a.type) or tb.block.text:  # TSV: epoch seconds only
        x = _to_float(tb, name, "time", a, reason).to_numpy(zero_copy_only=False)
    else:  # JSON strings: numbers and ISO 8601 (JSON::TS_ISO8601) may mix
        s = _strings(a)
        iso_rows = np.flatnonzero(~pc.fill_null(pc.match_substring_regex(s, _FLOAT_RE), True).to_numpy(False))
        x = _to_float(tb, name, "time", _null_rows(s, iso_rows), reason).to_numpy(zero_copy_only=False)
        if len(iso_rows):
            iso, bad = _iso_times(s.take(pa.array(iso_rows)))
            tb.fail(iso_rows[bad], name, "time", s, reason)
            x[iso_rows] = iso.cast(pa.float64(), safe=False).to_numpy(zero_copy_only=False) / 1e6
    x = np.asarray(x, dtype=np.float64)
    present = a.is_valid().to_numpy(zero_copy_only=False)
    ok = np.isfinite(x) & (np.abs(np.nan_to_num(x)) <= MAX_EPOCH_S)
    wrong = np.flatnonzero(present & ~ok & ~tb.bad)
    if len(wrong):
        tb.fail(wrong, name, "time", _strings(a), reason)
    us = np.round(np.where(ok, x, 0.0) * 1e6).astype(np.int64)
    return pa.array(us // 1000, pa.int64(), mask=~ok).cast(TIMESTAMP)


def _to_bool(tb: TypedBlock, name: str, a: pa.Array) -> pa.Array:
    if pa.types.is_boolean(a.type):
        return a
    s = _strings(a)
    true = pc.is_in(s, pa.array(["T", "true"]))
    false = pc.is_in(s, pa.array(["F", "false"]))
    bad = np.flatnonzero(pc.and_(s.is_valid(), pc.invert(pc.or_(true, false))).to_numpy(zero_copy_only=False))
    tb.fail(bad, name, "bool", s, QuarantineReason.BAD_VALUE)
    return _null_rows(true, bad)


def to_list(tb: TypedBlock, name: str, ztype: str, a: pa.Array) -> pa.Array:
    """A set or vector column as list<string>; rows with a bad number in a numeric list fail."""
    h = tb.block.header
    if tb.block.text and pa.types.is_string(a.type):
        is_empty = pc.equal(a, h.empty_field)
        lists = pc.split_pattern(pc.if_else(is_empty, _EMPTY, a), h.set_separator)
        # '(empty)' is the empty container; a lone '' element would be one empty string
        lists = pc.if_else(is_empty, _NO_ITEMS, lists)
    else:
        lists = _as_list(a)
    values = decode_escapes(lists.values) if len(lists.values) else lists.values
    lists = pa.ListArray.from_arrays(lists.offsets, values, mask=lists.is_null())
    inner = ztype[ztype.find("[") + 1: -1]
    if inner in _FLOATS or inner in _INTS or inner == "time":
        ok = pc.match_substring_regex(values, _FLOAT_RE)
        bad_vals = np.flatnonzero(pc.fill_null(pc.invert(ok), False).to_numpy(zero_copy_only=False))
        numbers = _null_rows(values, bad_vals).cast(pa.float64()).to_numpy(zero_copy_only=False)
        with np.errstate(invalid="ignore"):
            huge = np.flatnonzero(np.abs(numbers) > MAX_INTERVAL_S)  # nan (null) compares False
        bad_vals = np.union1d(bad_vals, huge).astype(np.int64)
        if len(bad_vals):
            parents = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
            rows = np.unique(parents[bad_vals])
            tb.fail(rows, name, ztype, _strings(a), QuarantineReason.BAD_VALUE)
            lists = _null_rows(lists, rows)
    return lists


def _to_string(tb: TypedBlock, name: str, ztype: str, a: pa.Array) -> pa.Array:
    s = _strings(a)
    h = tb.block.header
    if tb.block.text and _in_data(s, h.empty_field.encode()):
        s = pc.if_else(pc.fill_null(pc.equal(s, h.empty_field), False), _EMPTY, s)
    s = decode_escapes(s)
    if ztype == "addr":
        bad = invalid_addrs(s)
        if len(bad):
            tb.fail(bad, name, ztype, s, QuarantineReason.BAD_VALUE)
            s = _null_rows(s, bad)
    return s


_CHECKED = {"time", "addr", "bool", *_INTS, *_FLOATS}


def _needs_check(ztype: str) -> bool:
    """Whether a value of ``ztype`` can fail to parse (strings and sets of strings cannot)."""
    inner = ztype[ztype.find("[") + 1: -1] if ztype.endswith("]") else ztype
    return inner in _CHECKED


def type_block(block: RawBlock, wanted: dict[str, str]) -> TypedBlock:
    """Type the columns of ``block``: those in ``wanted``, and every other one whose values can be wrong.

    ``wanted`` maps the columns a reader maps to the Zeek type the mapping needs; that type
    wins over the log's own ``#types`` (the other columns are validated as declared).
    """
    tb = TypedBlock(block)
    for name, a in block.columns.items():
        ztype = wanted.get(name) or block.types.get(name, "string")
        if name not in wanted and not _needs_check(ztype):
            continue
        reason = QuarantineReason.BAD_TIMESTAMP if name == "ts" else QuarantineReason.BAD_VALUE
        if ztype == "time":
            v = _to_time(tb, name, a, reason)
        elif ztype in _INTS:
            v = _to_int(tb, name, ztype, a)
        elif ztype in _FLOATS:
            v = _to_float(tb, name, ztype, a, reason)
        elif ztype == "bool":
            v = _to_bool(tb, name, a)
        elif ztype.startswith(("set[", "vector[", "table[")):
            v = to_list(tb, name, ztype, a)
        else:
            v = _to_string(tb, name, ztype, a)
        tb.values[name] = v
    return tb


def text_column(tb: TypedBlock, name: str) -> pa.Array:
    """A column as text for ``extra``: unset → null, empty container → '', escapes decoded."""
    block = tb.block
    a = block.columns[name]
    typed = tb.values.get(name)
    if typed is not None and pa.types.is_string(typed.type):
        return typed  # strings and addresses: already decoded
    if block.text and pa.types.is_string(a.type):
        if typed is not None and not pa.types.is_list(typed.type):
            return a  # numbers, times, bools: their text is valid, or the row is quarantined
        s = pc.if_else(pc.fill_null(pc.equal(a, block.header.empty_field), False), _EMPTY, a)
    else:
        s = _strings(a)
    return decode_escapes(s)
