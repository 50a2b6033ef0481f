"""The collector: take files and folders, detect each file's format, read it, hand the batches to a sink.

:func:`ingest` is what ``netspot ingest`` runs. It is independent of where the data goes:
the sink (the store, in practice :class:`netspot.store.sink.StoreSink`) says whether a
source is new, and writes the batches atomically. Ingesting the same file twice stores it
once: the sink's registry knows the file's fingerprint.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import pyarrow as pa

from netspot.errors import InputError
from netspot.ingest.base import Reader, Source
from netspot.ingest.quarantine import Quarantine
from netspot.ingest.registry import detect, get_reader
from netspot.schema import DataKind

__all__ = ["BatchWriter", "IngestReport", "Sink", "expand", "ingest", "ingest_source"]


class BatchWriter(Protocol):
    """Writes the batches of one source and one data type; nothing is visible before ``commit``."""

    def write(self, batch: pa.RecordBatch) -> None: ...
    def commit(self) -> int: ...
    def abort(self) -> None: ...


class Sink(Protocol):
    """Where ingested batches go."""

    def fingerprint(self, path: Path) -> str: ...
    def claim(self, fp: str, reader: str, path: str) -> tuple[int, bool]:
        """(source number, already stored?)."""
        ...
    def writer(self, kind: DataKind, number: int) -> BatchWriter: ...
    def finish(self, number: int, report: IngestReport) -> None: ...
    def forget(self, number: int) -> None: ...


@dataclass(slots=True)
class IngestReport:
    """What happened to one source read by one reader."""

    path: str
    format: str
    kind: str
    read: int = 0  # records the reader saw (stored + quarantined)
    stored: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    duplicate: bool = False
    error: str | None = None
    seconds: float = 0.0

    @property
    def quarantined_total(self) -> int:
        return sum(self.quarantined.values())

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def expand(paths: Iterable[Path]) -> Iterator[Path]:
    """Files named, and the files under folders named (recursively, sorted).

    Under a folder, names starting with ``.`` or ``_`` are skipped, as Spark and Hive do: they are
    metadata (``_labels.json``, ``_SUCCESS``) or files being written (``.x.tmp``).
    """
    for p in paths:
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and not any(part[0] in "._" for part in f.relative_to(p).parts):
                    yield f
        elif p.exists():
            yield p
        else:
            raise InputError(f"{p}: no such file or folder")


def ingest_source(
    src: Source, reader: Reader, sink: Sink, on_batch: Callable[[int], object] | None = None
) -> IngestReport:
    """Read one source with one reader into the sink (the source must already be claimed as ``src.number``)."""
    started = time.perf_counter()
    report = IngestReport(path=src.name, format=reader.format, kind=reader.kind.value)
    quarantine = Quarantine(src.name, reader.format)
    data = sink.writer(reader.kind, src.number)
    rejected = sink.writer(DataKind.QUARANTINE, src.number)
    try:
        for batch in reader.read(src, quarantine):
            data.write(batch)
            if (q := quarantine.drain()) is not None:
                rejected.write(q)
            if on_batch is not None:
                on_batch(batch.num_rows)
        if (q := quarantine.drain()) is not None:
            rejected.write(q)
    except BaseException:
        data.abort()
        rejected.abort()
        raise
    report.stored = data.commit()
    rejected.commit()
    report.quarantined = dict(quarantine.counts)
    report.skipped = dict(quarantine.skipped)
    report.read = report.stored + report.quarantined_total
    report.seconds = time.perf_counter() - started
    return report


def ingest(
    paths: Iterable[Path],
    sink: Sink,
    fmt: str | None = None,
    on_batch: Callable[[int], object] | None = None,
    on_report: Callable[[IngestReport], None] | None = None,
) -> list[IngestReport]:
    """Ingest files and folders; one report per (file, reader). A bad file is reported, not fatal."""
    reports: list[IngestReport] = []
    for path in expand(paths):
        for report in _ingest_file(path, sink, fmt, on_batch):
            reports.append(report)
            if on_report is not None:
                on_report(report)
    return reports


def _ingest_file(
    path: Path, sink: Sink, fmt: str | None, on_batch: Callable[[int], object] | None
) -> list[IngestReport]:
    src = Source(path)
    try:
        readers = [get_reader(fmt)] if fmt else detect(src)
    except InputError as exc:
        return [IngestReport(path=str(path), format=fmt or "?", kind="?", error=str(exc))]
    fp = sink.fingerprint(path)
    reports = []
    for reader in readers:
        number, done = sink.claim(fp, reader.format, str(path))
        if done:
            reports.append(IngestReport(str(path), reader.format, reader.kind.value, duplicate=True))
            continue
        try:
            report = ingest_source(Source(path, number), reader, sink, on_batch)
        except InputError as exc:
            sink.forget(number)
            reports.append(IngestReport(str(path), reader.format, reader.kind.value, error=str(exc)))
            continue
        sink.finish(number, report)
        reports.append(report)
    return reports
