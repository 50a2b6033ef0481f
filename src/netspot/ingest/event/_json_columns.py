"""Column helpers for JSON-lines readers: flatten nested keys, render values as text or JSON text.

All work is on Arrow arrays; only list values (rare in event logs) take a per-value
slow path through :func:`json.dumps`.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from netspot.ingest._text import to_int
from netspot.ingest.quarantine import QuarantineReason

__all__ = ["INT_COLUMNS", "Problem", "details", "flatten", "map_columns", "to_json_text", "to_text"]

#: ``event`` columns that are integers, with their largest valid value.
INT_COLUMNS = {"severity": 32767, "src_port": 65535, "dst_port": 65535}
_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"

#: Rows to quarantine: reason, mask, and row -> detail (expected against actual).
Problem = tuple[QuarantineReason, np.ndarray, dict[int, str]]


def details(mask: np.ndarray, values: pa.Array | None, expected: str) -> dict[int, str]:
    """Row -> ``"expected ..., got ..."`` for the rows ``mask`` selects (slow path, bad rows only)."""
    rows = np.flatnonzero(mask)
    got = values.filter(pa.array(mask)).to_pylist() if values is not None else [None] * len(rows)
    return {int(i): f"{expected}, got {'nothing' if v is None else repr(v)}" for i, v in zip(rows, got, strict=True)}


def _combine(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def flatten(table: pa.Table) -> dict[str, pa.Array]:
    """Columns of ``table`` with nested objects flattened to dotted names.

    A key present both nested and dotted (``{"source": {"ip": ..}}`` in one line,
    ``"source.ip"`` in another) becomes one column, the first non-null value winning;
    when the two have different types both are rendered as text first.

    Examples
    --------
    >>> t = pa.table({"source": pa.array([{"ip": "1.1.1.1"}, None]), "source.ip": pa.array([None, "2.2.2.2"])})
    >>> flatten(t)["source.ip"].to_pylist()
    ['1.1.1.1', '2.2.2.2']
    """
    out: dict[str, pa.Array] = {}

    def add(name: str, values: pa.Array) -> None:
        if pa.types.is_struct(values.type):
            for i, child in enumerate(values.flatten()):
                add(f"{name}.{values.type.field(i).name}", child)
            return
        if name in out:
            old = out[name]
            if old.type != values.type:
                old, values = to_text(old), to_text(values)
            out[name] = pc.coalesce(old, values)
        else:
            out[name] = values

    for name, column in zip(table.column_names, table.columns, strict=True):
        add(name, _combine(column))
    return out


def to_text(values: pa.Array) -> pa.Array:
    """Values as plain text: strings as they are, lists joined with commas, objects as JSON."""
    t = values.type
    if pa.types.is_string(t):
        return values
    if pa.types.is_large_string(t) or pa.types.is_null(t):
        return values.cast(pa.string())
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        if pa.types.is_string(t.value_type) or pa.types.is_integer(t.value_type):
            return pc.binary_join(values.cast(pa.list_(pa.string())), ",")
        return _dumps(values)
    if pa.types.is_struct(t):
        return _dumps(values)
    return values.cast(pa.string())


def to_json_text(values: pa.Array) -> pa.Array:
    """Values as JSON text: strings quoted and escaped, numbers and booleans as they are.

    Examples
    --------
    >>> to_json_text(pa.array(['a"b', None])).to_pylist(), to_json_text(pa.array([1, 2])).to_pylist()
    (['"a\\\\"b"', None], ['1', '2'])
    """
    t = values.type
    if pa.types.is_null(t):
        return values.cast(pa.string())
    if pa.types.is_timestamp(t):
        values, t = values.cast(pa.string()), pa.string()
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        values = values.cast(pa.string())
        if pc.any(pc.match_substring_regex(values, _CONTROL)).as_py():
            return _dumps(values)
        for old, new in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
            values = pc.replace_substring(values, old, new)
        return pc.binary_join_element_wise('"', values, '"', "")
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t):
        return values.cast(pa.string())
    return _dumps(values)


def _dumps(values: pa.Array) -> pa.Array:
    """JSON text per value: the slow path, for lists, objects and strings with control characters."""
    return pa.array([None if v is None else json.dumps(v, default=str) for v in values.to_pylist()], pa.string())


def map_columns(
    columns: dict[str, pa.Array], fields: dict[str, str]
) -> tuple[dict[str, pa.Array], dict[str, pa.Array], list[Problem]]:
    """Split flattened JSON columns into mapped ``event`` columns and extras; list bad integers."""
    cols: dict[str, pa.Array] = {}
    extras: dict[str, pa.Array] = {}
    problems: list[Problem] = []
    for name, values in columns.items():
        target = fields.get(name)
        if target is None:
            if not pa.types.is_null(values.type):
                extras[name] = values
            continue
        text = to_text(values)
        if target in INT_COLUMNS:
            if pa.types.is_floating(values.type):
                whole = pc.equal(pc.floor(values), values)
                text = pc.if_else(whole, pc.floor(values).cast(pa.int64()).cast(pa.string()), text)
            number, bad = to_int(text, max_digits=6)
            limit = INT_COLUMNS[target]
            out = pc.fill_null(pc.and_(pc.greater_equal(number, 0), pc.less_equal(number, limit)), True)
            bad = bad | ~out.to_numpy(zero_copy_only=False)
            if bad.any():
                problems.append((QuarantineReason.BAD_VALUE, bad,
                                 details(bad, text, f"{name}: expected an integer 0..{limit}")))
            cols[target] = number
        elif target in ("proto",):
            cols[target] = pc.utf8_lower(text)
        else:
            cols[target] = text
    return cols, extras, problems
