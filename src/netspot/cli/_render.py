"""Rendering helpers for the CLI: plain-text tables on stdout, JSON for machines."""

from __future__ import annotations

import decimal
import json
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

__all__ = ["json_rows", "table_text"]


def table_text(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A left/right-aligned text table (numbers right-aligned).

    Examples
    --------
    >>> print(table_text(["type", "records"], [["flow", 12], ["dns", 3]]))
    type  records
    flow       12
    dns         3
    """
    cells = [[_fmt(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    numeric = [all(isinstance(r[i], int | float) for r in rows) and bool(rows) for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        out = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)]
        return "  ".join(out).rstrip()

    return "\n".join([line(list(headers)), *(line(r) for r in cells)])


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) < 1000 else f"{v:,.0f}"
    return str(v)


def _json_default(v: Any) -> Any:
    if isinstance(v, decimal.Decimal):  # DuckDB sums of BIGINT are HUGEINT, i.e. decimal128 in Arrow
        return int(v) if v == v.to_integral_value() else float(v)
    return str(v)


def json_rows(table: pa.Table) -> str:
    """A table as JSON lines (one object per row); times as ISO text, big integers as numbers."""
    return "\n".join(json.dumps(row, default=_json_default) for row in table.to_pylist())
