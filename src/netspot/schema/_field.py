"""Build Arrow fields that carry their own documentation and ECS/OCSF mappings."""

from __future__ import annotations

import pyarrow as pa

#: Every timestamp in netspot: UTC, millisecond precision.
TIMESTAMP = pa.timestamp("ms", tz="UTC")
#: Strings that repeat a lot (protocol names, methods) are dictionary-encoded.
CATEGORY = pa.dictionary(pa.int32(), pa.string())
#: Unknown columns from a source (Zeek extras, JSON keys we do not map) are kept here.
EXTRA = pa.map_(pa.string(), pa.string())


def field(
    name: str,
    type_: pa.DataType,
    doc: str,
    *,
    ecs: str = "",
    ocsf: str = "",
    spot: str = "",
    nullable: bool = True,
) -> pa.Field:
    """An Arrow field whose metadata documents it (rendered into docs/data-model.md)."""
    meta = {"doc": doc, "ecs": ecs, "ocsf": ocsf, "spot": spot}
    return pa.field(name, type_, nullable=nullable, metadata={k: v for k, v in meta.items() if v})


def describe(f: pa.Field) -> dict[str, str]:
    """The documentation stored on a field, as a plain dict."""
    meta = f.metadata or {}
    return {k.decode(): v.decode() for k, v in meta.items()}


# Columns every data type starts with.
def common(ocsf_time: str = "time") -> list[pa.Field]:
    return [
        field("ts", TIMESTAMP, "Event time, UTC (flow start, packet time, request time).", ecs="@timestamp",
              ocsf=ocsf_time, spot="treceived / frame_time / p_date+p_time", nullable=False),
        field("rid", pa.int64(), "Record id, unique in the store: source number × 2³² + record number in the source.",
              ecs="event.id", ocsf="metadata.uid", nullable=False),
    ]


def provenance() -> list[pa.Field]:
    return [
        field("source", CATEGORY, "Reader that produced the record (e.g. 'zeek-conn', 'netflow-v9').",
              ecs="event.module", ocsf="metadata.product.feature.name"),
        field("extra", EXTRA, "Columns of the source that have no place in the model, kept as text.",
              ecs="labels", ocsf="unmapped"),
    ]
