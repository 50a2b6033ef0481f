"""Arrow schemas of netspot's data model: Apache Spot's ODM, modernised.

Each data type (:class:`DataKind`) has one Arrow schema. Every field carries its
documentation and its ECS and OCSF equivalents as metadata; ``docs/data-model.md``
is generated from them (``python -m netspot.schema.docs``).

Timestamps are UTC with millisecond precision, addresses are IPv4 or IPv6 text,
ports are integers and protocols are names.
"""

from __future__ import annotations

import enum

import pyarrow as pa

from netspot.schema._field import TIMESTAMP, describe
from netspot.schema.dns import DNS
from netspot.schema.event import EVENT
from netspot.schema.flow import FLOW
from netspot.schema.proxy import PROXY
from netspot.schema.quarantine import QUARANTINE

__all__ = ["DNS", "EVENT", "FLOW", "PROXY", "QUARANTINE", "SCHEMAS", "TIMESTAMP", "DataKind", "conform", "describe"]


class DataKind(enum.StrEnum):
    """The data types netspot stores; each is a folder of the store and a view in SQL."""

    FLOW = "flow"
    DNS = "dns"
    PROXY = "proxy"
    EVENT = "event"
    QUARANTINE = "quarantine"

    @property
    def schema(self) -> pa.Schema:
        return SCHEMAS[self]


SCHEMAS: dict[DataKind, pa.Schema] = {
    DataKind.FLOW: FLOW,
    DataKind.DNS: DNS,
    DataKind.PROXY: PROXY,
    DataKind.EVENT: EVENT,
    DataKind.QUARANTINE: QUARANTINE,
}


def conform(columns: dict[str, pa.Array], schema: pa.Schema, length: int) -> pa.RecordBatch:
    """Build a batch of ``schema`` from the columns a reader has; missing columns become nulls.

    Columns are cast to the schema's types (a failed cast is a programming error in the
    reader, not bad input: readers validate text before casting).

    Examples
    --------
    >>> import pyarrow as pa
    >>> b = conform({"ts": pa.array([0], pa.timestamp("ms", tz="UTC")), "rid": pa.array([1])}, FLOW, 1)
    >>> b.num_columns == len(FLOW), b.column("sip").null_count
    (True, 1)
    """
    unknown = set(columns) - set(schema.names)
    if unknown:
        raise KeyError(f"columns not in the schema: {sorted(unknown)}")
    arrays = []
    for f in schema:
        col = columns.get(f.name)
        if col is None:
            arrays.append(pa.nulls(length, f.type))
        else:
            if isinstance(col, pa.ChunkedArray):
                col = col.combine_chunks()
            arrays.append(col if col.type == f.type else col.cast(f.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
