"""The base of the Zeek readers: parse, type, map to a schema, keep the rest in ``extra``."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator
from functools import lru_cache
from typing import ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from netspot.ingest._extra import extra_map
from netspot.ingest._zeek import iter_batches
from netspot.ingest._zeek_block import RawBlock
from netspot.ingest._zeek_header import sniff_zeek
from netspot.ingest._zeek_types import TypedBlock, text_column
from netspot.ingest.base import Reader, Source
from netspot.ingest.quarantine import Quarantine, QuarantineReason
from netspot.schema import TIMESTAMP, conform

__all__ = ["Columns", "ZeekReader"]


@lru_cache(maxsize=16)
def _names(fmt: str) -> pa.Array:
    """The one-entry dictionary of the ``source`` column (``pa.array`` of a list retries importing pandas)."""
    return pa.array([fmt])


class Columns:
    """Typed Zeek columns of one block, by name; a column the log lacks reads as nulls."""

    def __init__(self, values: dict[str, pa.Array], n: int) -> None:
        self.values = values
        self.n = n

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def get(self, name: str, type_: pa.DataType) -> pa.Array:
        v = self.values.get(name)
        if v is None:
            return pa.nulls(self.n, type_)
        return v if v.type == type_ else v.cast(type_)

    @property
    def ts(self) -> pa.Array:
        return self.get("ts", TIMESTAMP)

    def text(self, name: str) -> pa.Array:
        return self.get(name, pa.string())


class ZeekReader(Reader):
    """A reader of one Zeek log (``conn``, ``dns``, ``http``), TSV or JSON.

    Subclasses name the log (``log_path``), the Zeek columns they map with the type the
    mapping needs (``typed``; every other column goes to ``extra`` as text, as do the ones
    in ``also_extra``, which are mapped only in part) and implement :meth:`map`.
    """

    log_path: ClassVar[str]
    typed: ClassVar[dict[str, str]]
    also_extra: ClassVar[frozenset[str]] = frozenset()

    def sniff(self, head: bytes) -> bool:
        return sniff_zeek(head) == self.log_path

    @abstractmethod
    def map(self, c: Columns) -> dict[str, pa.Array]:
        """Schema columns (other than rid, source, extra) from the typed Zeek columns."""

    def _narrow(self, cols: dict[str, pa.Array], tb: TypedBlock) -> None:
        """Quarantine rows whose integers do not fit the schema's narrower columns (a count in an int32)."""
        for name, col in list(cols.items()):
            target = self.schema.field(name).type
            if not pa.types.is_integer(target) or not pa.types.is_integer(col.type) or target.bit_width >= 64:
                continue
            info = np.iinfo(target.to_pandas_dtype())
            x = pc.fill_null(col, 0).to_numpy(zero_copy_only=False)
            rows = np.flatnonzero((x < info.min) | (x > info.max))
            if len(rows):
                tb.fail(rows, name, str(target), col, QuarantineReason.BAD_VALUE)
                cols[name] = pc.if_else(pa.array(np.isin(np.arange(len(col)), rows)), pa.scalar(None, col.type), col)

    def own_rows(self, block: RawBlock) -> tuple[RawBlock, int]:
        """The rows of ``block`` that belong to this log (one JSON stream may hold every log: ``_path``).

        Returns the block and how many rows of other logs were left out.
        """
        if "_path" not in block.columns:
            return block, 0
        mine = pc.fill_null(pc.equal(block.columns["_path"].cast(pa.string()), self.log_path), True)
        rows = np.flatnonzero(mine.to_numpy(zero_copy_only=False))
        if len(rows) == block.num_rows:
            return block, 0
        return block.take(rows), block.num_rows - len(rows)

    def finish(self, tb: TypedBlock, extra: pa.Array | None = None) -> tuple[pa.RecordBatch, np.ndarray]:
        """The batch of a typed block (``rid`` left null) and the indices of the rows kept.

        Rows without a time, and rows whose integers do not fit the schema, join the failed
        rows of ``tb`` (their reasons in ``tb.why``). ``extra`` is the ``extra`` column when
        the caller built it already (from TSV spans); otherwise it is made from the text.
        """
        block = tb.block
        n = block.num_rows
        ts = tb.values.get("ts")
        unset = np.ones(n, dtype=bool) if ts is None else ts.is_null().to_numpy(zero_copy_only=False)
        if unset.any():
            for i in np.flatnonzero(unset & ~tb.bad).tolist():
                tb.why[i] = (QuarantineReason.BAD_TIMESTAMP, "column ts: expected time, got no value")
            tb.bad |= unset
        cols = self.map(Columns(tb.values, n))
        self._narrow(cols, tb)
        if extra is None:
            skip = set(self.typed) - self.also_extra
            extra = extra_map({k: text_column(tb, k) for k in block.columns if k not in skip}, n)
        cols["extra"] = extra
        cols["source"] = pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), _names(self.format))
        batch = conform(cols, self.schema, n)
        if not tb.bad.any():
            return batch, np.arange(n, dtype=np.int64)
        return batch.filter(pa.array(~tb.bad)), np.flatnonzero(~tb.bad)

    def read(self, src: Source, quarantine: Quarantine) -> Iterator[pa.RecordBatch]:
        yield from iter_batches(src, quarantine, self)
