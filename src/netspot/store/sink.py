"""The store as the collector's sink: registry claims plus atomic hourly writers."""

from __future__ import annotations

from pathlib import Path

from netspot.ingest.collect import IngestReport
from netspot.schema import DataKind
from netspot.store.dataset import HourWriter, Store
from netspot.store.registry import Registry, fingerprint

__all__ = ["StoreSink"]


class StoreSink:
    """Implements :class:`netspot.ingest.collect.Sink` over a :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.registry = Registry(store.root / "_registry.sqlite")

    def fingerprint(self, path: Path) -> str:
        return fingerprint(path)

    def claim(self, fp: str, reader: str, path: str) -> tuple[int, bool]:
        claim = self.registry.claim(fp, reader, path)
        if claim.resumed:
            self.store.remove_source(claim.number)
        return claim.number, claim.done

    def writer(self, kind: DataKind, number: int) -> HourWriter:
        return self.store.writer(kind, number)

    def finish(self, number: int, report: IngestReport) -> None:
        self.registry.finish(number, report.as_dict())

    def forget(self, number: int) -> None:
        self.store.remove_source(number)
        self.registry.forget(number)

    def close(self) -> None:
        self.registry.close()
