"""Quarantine: where a reader puts the records it cannot accept, with where and why.

A reader never raises for a bad record and never drops one silently: it calls
:meth:`Quarantine.add` (one record) or :meth:`Quarantine.add_many` (vectorised), and
the collector drains the rows into the store's ``quarantine`` table and counts them
per reason in the ingest report. Input that is simply not for this reader (a non-DNS
packet in a capture read for DNS) is counted with :meth:`Quarantine.skip`.
"""

from __future__ import annotations

import enum
import time
from collections import Counter
from collections.abc import Sequence

import pyarrow as pa

from netspot.schema import QUARANTINE

__all__ = ["RAW_LIMIT", "Quarantine", "QuarantineReason"]

#: Raw bytes kept per quarantined record (STYLE B5: capped at 4 KiB).
RAW_LIMIT = 4096


class QuarantineReason(enum.StrEnum):
    """Why a record was quarantined."""

    FIELD_COUNT = "field_count"  # a line has more or fewer fields than its header says
    BAD_VALUE = "bad_value"  # a field does not parse as its type (port 'abc', IP '999.1.1.1')
    BAD_TIMESTAMP = "bad_timestamp"  # no usable event time
    MALFORMED = "malformed"  # the record's structure is broken (bad JSON, bad DNS message)
    TRUNCATED = "truncated"  # the record ends early (short packet, cut last line)
    UNSUPPORTED = "unsupported"  # well-formed but of a version or kind we do not decode
    NO_TEMPLATE = "no_template"  # NetFlow v9/IPFIX data whose template never arrived


class Quarantine:
    """Collects rejected records of one source read by one reader.

    Examples
    --------
    >>> q = Quarantine("conn.log", "zeek-conn")
    >>> q.add("line 3", QuarantineReason.FIELD_COUNT, "expected 21 fields, got 19", b"1.0\\tx")
    >>> q.counts
    Counter({'field_count': 1})
    >>> q.drain().num_rows, q.drain() is None
    (1, True)
    """

    def __init__(self, path: str, reader: str) -> None:
        self.path = path
        self.reader = reader
        self.counts: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()
        self._locators: list[str] = []
        self._reasons: list[str] = []
        self._details: list[str] = []
        self._raws: list[bytes | None] = []

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def add(self, locator: str, reason: QuarantineReason, detail: str, raw: bytes | None = None) -> None:
        """Quarantine one record."""
        self._locators.append(locator)
        self._reasons.append(reason.value)
        self._details.append(detail)
        self._raws.append(raw[:RAW_LIMIT] if raw is not None else None)
        self.counts[reason.value] += 1

    def add_many(
        self,
        locators: Sequence[str],
        reason: QuarantineReason,
        details: Sequence[str] | str,
        raws: Sequence[bytes | None] | None = None,
    ) -> None:
        """Quarantine many records for the same reason."""
        n = len(locators)
        if n == 0:
            return
        self._locators.extend(locators)
        self._reasons.extend([reason.value] * n)
        self._details.extend([details] * n if isinstance(details, str) else details)
        self._raws.extend([r[:RAW_LIMIT] if r is not None else None for r in raws] if raws is not None else [None] * n)
        self.counts[reason.value] += n

    def skip(self, why: str, n: int = 1) -> None:
        """Count input that is not for this reader (not an error, but never silent)."""
        if n:
            self.skipped[why] += n

    def drain(self) -> pa.RecordBatch | None:
        """The rows collected since the last drain, as a batch of ``schema.QUARANTINE``."""
        n = len(self._locators)
        if n == 0:
            return None
        now = pa.array([int(time.time() * 1000)] * n, pa.int64()).cast(QUARANTINE.field("ingested").type)
        batch = pa.RecordBatch.from_arrays(
            [
                now,
                pa.array([self.path] * n, pa.string()),
                pa.array(self._locators, pa.string()),
                pa.array([self.reader] * n, pa.string()).dictionary_encode(),
                pa.array(self._reasons, pa.string()).dictionary_encode(),
                pa.array(self._details, pa.string()),
                pa.array(self._raws, pa.binary()),
            ],
            schema=QUARANTINE,
        )
        self._locators, self._reasons, self._details, self._raws = [], [], [], []
        return batch
