"""The engine interface: how analytics read and query the store (DuckDB by default, Spark as an extra)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import pyarrow as pa

from netspot.errors import ConfigError
from netspot.schema import DataKind

__all__ = ["Engine", "TimeRange"]


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A half-open UTC interval ``[start, end)``.

    Examples
    --------
    >>> TimeRange.parse("2024-08-16", "2024-08-16").hours  # a bare end date includes that day
    24
    >>> TimeRange.day("2024-08-16").end.isoformat()
    '2024-08-17T00:00:00+00:00'
    """

    start: dt.datetime
    end: dt.datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ConfigError("TimeRange needs timezone-aware datetimes")
        if self.end <= self.start:
            raise ConfigError(f"time range ends ({self.end}) before it starts ({self.start})")

    @staticmethod
    def _when(text: str) -> dt.datetime:
        try:
            t = dt.datetime.fromisoformat(text)
        except ValueError as exc:
            raise ConfigError(f"not a date or time: {text!r} (expected e.g. 2024-08-16 or 2024-08-16T09:00)") from exc
        return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)

    @classmethod
    def parse(cls, start: str, end: str) -> TimeRange:
        """From ISO dates or times (UTC unless they say otherwise); a bare end date includes that day."""
        s, e = cls._when(start), cls._when(end)
        if len(end) == 10:
            e += dt.timedelta(days=1)
        return cls(s, e)

    @classmethod
    def day(cls, date: str) -> TimeRange:
        s = cls._when(date)
        return cls(s, s + dt.timedelta(days=1))

    @property
    def hours(self) -> int:
        return int((self.end - self.start).total_seconds() // 3600)


class Engine(Protocol):
    """What every engine offers (DuckDB in-process by default; Spark past one machine)."""

    def scan(self, kind: DataKind, span: TimeRange) -> pa.RecordBatchReader:
        """The rows of one data type whose ``ts`` falls in ``span``, with partition pruning."""
        ...

    def sql(self, query: str, params: Mapping[str, object] | None = None) -> pa.RecordBatchReader:
        """Run SQL over the views ``flow``, ``dns``, ``proxy``, ``event``, ``quarantine``."""
        ...
