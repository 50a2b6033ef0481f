"""The ``quarantine`` schema: records a reader could not accept, with where and why."""

from __future__ import annotations

import pyarrow as pa

from netspot.schema._field import CATEGORY, TIMESTAMP, field

QUARANTINE = pa.schema(
    [
        field("ingested", TIMESTAMP, "When the record was quarantined, UTC.", nullable=False),
        field("path", pa.string(), "File (or listener address) the record came from.", ecs="log.file.path",
              nullable=False),
        field("locator", pa.string(), "Where in the source: 'line 12', 'packet 3', 'offset 4096'.", nullable=False),
        field("reader", CATEGORY, "Reader that rejected it.", nullable=False),
        field("reason", CATEGORY, "Reason code (a QuarantineReason value).", nullable=False),
        field("detail", pa.string(), "Expected against actual, in words."),
        field("raw", pa.binary(), "The record's raw bytes, at most 4 KiB."),
    ]
)
