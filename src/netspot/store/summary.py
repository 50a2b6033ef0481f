"""Ingest summary: records per data type per hour (it feeds the Ingest Summary view)."""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa

from netspot.schema import DataKind
from netspot.store.engine import TimeRange
from netspot.store.engines.duckdb import DuckDBEngine, hour_filter

__all__ = ["SUMMARY_KINDS", "ingest_summary"]

#: The data types summarised by default (the quarantine is summarised by when records were rejected).
SUMMARY_KINDS = (DataKind.FLOW, DataKind.DNS, DataKind.PROXY, DataKind.EVENT, DataKind.QUARANTINE)


def ingest_summary(engine: DuckDBEngine, span: TimeRange, kinds: Iterable[DataKind] = SUMMARY_KINDS) -> pa.Table:
    """Records per type per hour in ``span``: columns ``type``, ``hour`` (UTC), ``records``; hours with none omitted.

    Uses the partition columns, so DuckDB answers most of it from Parquet footers.
    """
    parts = []
    for kind in kinds:
        tcol = "ingested" if kind is DataKind.QUARANTINE else "ts"
        parts.append(
            f"SELECT '{kind.value}' AS type, date_trunc('hour', {tcol}) AS hour, count(*) AS records "
            f"FROM {kind.value} WHERE {hour_filter(span)} AND {tcol} >= $start AND {tcol} < $end GROUP BY ALL"
        )
    query = " UNION ALL ".join(parts) + " ORDER BY hour, type"
    return engine.table(query, {"start": span.start, "end": span.end})
