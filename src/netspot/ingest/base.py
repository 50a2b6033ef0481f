"""The reader interface: one class per input format, streaming Arrow record batches.

A reader turns one source (a file, or datagrams from a listener) into record batches
of one schema (``flow``, ``dns``, ``proxy`` or ``event``), in bounded memory:
batches of at most :data:`BATCH_ROWS` rows, never the whole file. Bad records go to
the :class:`~netspot.ingest.quarantine.Quarantine`; a file that is not in the format
at all raises :class:`~netspot.errors.FormatError` naming it.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import zlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, ClassVar

import numpy as np
import pyarrow as pa

from netspot.ingest.quarantine import Quarantine
from netspot.schema import DataKind

__all__ = ["BATCH_ROWS", "DECOMPRESSION_ERRORS", "Reader", "Source", "record_ids"]

#: What reading a cut or corrupt gzip/bzip2/xz file through :meth:`Source.open` can raise.
DECOMPRESSION_ERRORS: tuple[type[Exception], ...] = (OSError, EOFError, lzma.LZMAError, zlib.error)

#: Rows per record batch: large enough for vectorised work, small enough for bounded memory.
BATCH_ROWS = 131_072

_COMPRESSED = {b"\x1f\x8b": gzip.open, b"BZ": bz2.open, b"\xfd7": lzma.open}


@dataclass(frozen=True, slots=True)
class Source:
    """One input: a file path, and the number the store's registry gave it.

    ``number`` makes record ids unique in the store: ``rid = number << 32 | index``.
    """

    path: Path
    number: int = 0

    @property
    def name(self) -> str:
        return str(self.path)

    def open(self) -> IO[bytes]:
        """Open the file for binary reading, decompressing gzip, bzip2 and xz transparently."""
        with open(self.path, "rb") as fh:
            magic = fh.read(2)
        opener = _COMPRESSED.get(magic)
        if opener is not None:
            return opener(self.path, "rb")  # type: ignore[no-any-return, operator]
        return open(self.path, "rb")

    def head(self, size: int = 65536) -> bytes:
        """The first ``size`` bytes (decompressed), for format sniffing."""
        with self.open() as fh:
            return fh.read(size)


def record_ids(src: Source, start: int, count: int) -> pa.Array:
    """Record ids for ``count`` records starting at record number ``start`` of ``src``.

    Examples
    --------
    >>> record_ids(Source(Path("x"), number=2), 5, 2).to_pylist()
    [8589934597, 8589934598]
    """
    base = (src.number << 32) + start
    return pa.array(np.arange(base, base + count, dtype=np.int64))


class Reader(ABC):
    """Base of every reader. Subclasses set ``format`` and ``kind`` and implement ``sniff`` and ``read``.

    ``format`` is the name users type (``--format zeek-conn``); ``kind`` says which
    schema the batches have.
    """

    format: ClassVar[str]
    kind: ClassVar[DataKind]

    @property
    def schema(self) -> pa.Schema:
        return self.kind.schema

    @abstractmethod
    def sniff(self, head: bytes) -> bool:
        """True when ``head`` (the first bytes of a file, decompressed) looks like this format."""

    @abstractmethod
    def read(self, src: Source, quarantine: Quarantine) -> Iterator[pa.RecordBatch]:
        """Yield batches of ``self.schema`` for ``src``; bad records go to ``quarantine``."""

    @classmethod
    def _test_params(cls) -> dict[str, object]:
        """Constructor arguments for the conformance suite."""
        return {}
