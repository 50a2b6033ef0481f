"""Rendering helpers for the CLI: plain-text tables on stdout, JSON for machines."""

from __future__ import annotations

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


def json_rows(table: pa.Table) -> str:
    """A table as JSON lines (one object per row)."""
    return "\n".join(json.dumps(row, default=str) for row in table.to_pylist())
