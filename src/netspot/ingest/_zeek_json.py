"""Zeek JSON logs (``LogAscii::use_json=T``, json-streaming-logs): one object per line.

A block of lines goes through pyarrow's JSON reader at once; nested objects are flattened to
dotted keys (``id.orig_h``), as Zeek writes them. A block pyarrow refuses (a bad line, a
value whose JSON type changes between rows) falls back to ``json.loads`` per line: bad lines
are quarantined (``MALFORMED``) and the others become text columns, typed afterwards like TSV.
JSON has no ``#types``: a field's type is Zeek's (:data:`._zeek_header.KNOWN_TYPES`) or the
JSON value's.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pyarrow as pa
import pyarrow.json as pajson

from netspot.ingest._zeek_block import Lines, RawBlock, Raws, one_chunk
from netspot.ingest._zeek_header import ZeekHeader
from netspot.ingest.quarantine import Quarantine, QuarantineReason

__all__ = ["json_block"]


def json_block(lines: Lines, idx: np.ndarray, records: np.ndarray, quarantine: Quarantine,
               known: dict[str, str]) -> RawBlock:
    """Rows ``idx`` of ``lines`` (JSON objects): pyarrow's JSON reader, or line by line if it refuses."""
    raws = lines.raws(idx)
    data = lines.buf[lines.starts[idx[0]]: lines.ends[idx[-1]]] + b"\n"  # blank lines between are skipped
    longest = int((lines.ends[idx] - lines.starts[idx]).max())
    try:
        table = pajson.read_json(io.BytesIO(data),
                                 read_options=pajson.ReadOptions(block_size=max(1 << 20, longest + 2)))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        table = None
    if table is not None and table.num_rows == len(idx):
        while any(pa.types.is_struct(t) for t in table.schema.types):
            table = table.flatten()
        cols = {name: one_chunk(table.column(name)) for name in table.column_names}
        return _result(cols, lines.numbers[idx], records, raws, known)
    return _slow(raws, lines.numbers[idx], records, quarantine, known)


def _slow(raws: Raws, lines_no: np.ndarray, records: np.ndarray, quarantine: Quarantine,
          known: dict[str, str]) -> RawBlock:
    """json.loads per line: bad lines are quarantined, good ones become text columns."""
    objs: list[dict[str, object]] = []
    keep: list[int] = []
    for k in range(len(raws)):
        raw = raws[k]
        try:
            obj = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            quarantine.add(f"line {lines_no[k]}", QuarantineReason.MALFORMED, f"invalid JSON: {exc}", raw)
            continue
        if not isinstance(obj, dict):
            quarantine.add(f"line {lines_no[k]}", QuarantineReason.MALFORMED,
                           f"expected a JSON object, got {type(obj).__name__}", raw)
            continue
        objs.append(_flatten(obj))
        keep.append(k)
    names = list(dict.fromkeys(name for obj in objs for name in obj))
    cols = {name: _text_column([obj.get(name) for obj in objs]) for name in names}
    sel = np.asarray(keep, dtype=np.int64)
    return _result(cols, lines_no[sel], records[sel], raws.take(sel), known)


def _result(cols: dict[str, pa.Array], lines_no: np.ndarray, records: np.ndarray, raws: Raws,
            known: dict[str, str]) -> RawBlock:
    types = {name: known.get(name) or _json_type(col.type) for name, col in cols.items()}
    return RawBlock(cols, types, lines_no, records, raws, None, ZeekHeader(), text=False)


def _flatten(obj: dict[str, object], prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in obj.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _scalar_text(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "T" if v else "F"
    if isinstance(v, str):
        return v
    if isinstance(v, float | int):
        return repr(v)
    return json.dumps(v)


def _text_column(values: list[object]) -> pa.Array:
    """A JSON column as text: lists become list<string>, everything else a string."""
    if any(isinstance(v, list) for v in values):
        return pa.array([[_scalar_text(x) for x in v] if isinstance(v, list) else
                         (None if v is None else [_scalar_text(v)]) for v in values], pa.list_(pa.string()))
    return pa.array([_scalar_text(v) for v in values], pa.string())


def _json_type(t: pa.DataType) -> str:
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_floating(t):
        return "double"
    if pa.types.is_timestamp(t):
        return "time"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return "vector[string]"
    return "string"
