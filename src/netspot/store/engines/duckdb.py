"""The default engine: DuckDB in-process over the store's Parquet files.

Each data type is a view over ``<root>/<type>/**/*.parquet`` with Hive partitioning, so
``y``, ``m``, ``d`` and ``h`` are columns that prune files. A type with no files yet is
an empty view of its schema, so queries never fail because nothing was ingested.
The session time zone is UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import duckdb
import pyarrow as pa

from netspot.errors import EngineError
from netspot.schema import SCHEMAS, DataKind
from netspot.store.dataset import Store
from netspot.store.engine import TimeRange

__all__ = ["DuckDBEngine"]


_HIVE_TYPES = "{'y': 'INTEGER', 'm': 'INTEGER', 'd': 'INTEGER', 'h': 'INTEGER'}"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class DuckDBEngine:
    """DuckDB over a :class:`Store`.

    Parameters
    ----------
    store
        The store to query.
    database
        A DuckDB database file to keep tables users create, or ``":memory:"``; the views over
        the store are temporary, made anew by each connection.
    threads
        DuckDB worker threads (default: DuckDB's choice, one per core).
    """

    def __init__(self, store: Store, database: str | Path = ":memory:", threads: int | None = None) -> None:
        self.store = store
        self.database = str(database)
        self._con: duckdb.DuckDBPyConnection | None = None
        self._threads = threads
        self._views: dict[DataKind, bool] = {}

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            self._con = duckdb.connect(self.database)
            self._con.execute("SET TimeZone = 'UTC'")
            if self._threads:
                self._con.execute(f"SET threads = {int(self._threads)}")
        self.refresh()
        return self._con

    def refresh(self) -> None:
        """(Re)create the views; a view switches from empty to Parquet once files exist."""
        assert self._con is not None
        for kind in DataKind:
            has_files = any(self.store.dataset_dir(kind).glob("y=*/m=*/d=*/h=*/*.parquet"))
            if self._views.get(kind) == has_files:
                continue
            if has_files:
                glob = (self.store.dataset_dir(kind) / "**" / "*.parquet").as_posix()
                self._con.execute(
                    f"CREATE OR REPLACE TEMP VIEW {kind.value} AS SELECT * FROM read_parquet({_quote(glob)}, "
                    f"hive_partitioning = true, hive_types = {_HIVE_TYPES}, union_by_name = true)"
                )
            else:
                empty = pa.Table.from_batches([], schema=SCHEMAS[kind]).append_column(
                    "y", pa.array([], pa.int32())).append_column("m", pa.array([], pa.int32())).append_column(
                    "d", pa.array([], pa.int32())).append_column("h", pa.array([], pa.int32()))
                self._con.register(f"_empty_{kind.value}", empty)
                self._con.execute(f"CREATE OR REPLACE TEMP VIEW {kind.value} AS SELECT * FROM _empty_{kind.value}")
            self._views[kind] = has_files

    def sql(self, query: str, params: Mapping[str, object] | None = None) -> pa.RecordBatchReader:
        try:
            rel = self.con.sql(query, params=dict(params) if params else None)
            if rel is None:  # a statement that returns nothing (CREATE, SET, ...)
                return pa.RecordBatchReader.from_batches(pa.schema([]), [])
            return rel.to_arrow_reader()
        except duckdb.Error as exc:
            raise EngineError(f"query failed: {exc}") from exc

    def table(self, query: str, params: Mapping[str, object] | None = None) -> pa.Table:
        """Run SQL and return the whole result as a table (small results only)."""
        return self.sql(query, params).read_all()

    def scan(self, kind: DataKind, span: TimeRange) -> pa.RecordBatchReader:
        cols = ", ".join(f'"{n}"' for n in SCHEMAS[kind].names)
        tcol = "ingested" if kind is DataKind.QUARANTINE else "ts"
        reader = self.sql(
            f"SELECT {cols} FROM {kind.value} WHERE {hour_filter(span)} AND {tcol} >= $start AND {tcol} < $end",
            {"start": span.start, "end": span.end},
        )
        return reader.cast(SCHEMAS[kind])  # DuckDB hands back µs timestamps and plain strings

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
            self._views.clear()


def hour_filter(span: TimeRange) -> str:
    """A predicate on the partition columns that prunes whole files outside ``span``."""
    s, e = span.start, span.end
    key = "(y * 1000000 + m * 10000 + d * 100 + h)"
    lo = s.year * 1000000 + s.month * 10000 + s.day * 100 + s.hour
    hi = e.year * 1000000 + e.month * 10000 + e.day * 100 + e.hour
    return f"{key} BETWEEN {lo} AND {hi}"
