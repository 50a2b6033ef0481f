"""The Parquet store: one dataset per data type, partitioned by hour, written atomically.

Layout (plain Hive-style Parquet that DuckDB and Spark read as they are)::

    <root>/<type>/y=2024/m=08/d=16/h=09/part-00000042-0000.parquet
    <root>/_registry.sqlite

``<type>`` is a :class:`~netspot.schema.DataKind` value. Rows are placed by their ``ts``
(the quarantine by its ``ingested`` time). A file is written under a hidden temporary
name (``.part-….parquet.tmp``, which both engines ignore) and renamed when its source
has been read completely: a reader never sees half a source, and a crash leaves only
temporary files, removed on the next attempt. File names derive from the source number,
so a re-attempt writes the same names again.
"""

from __future__ import annotations

import itertools
import os
import queue
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from netspot.errors import SchemaError, StoreError
from netspot.schema import DataKind

__all__ = ["COMPRESSIONS", "HourWriter", "Store", "partition_dir"]

_MS_PER_HOUR = 3_600_000
#: Rows buffered (over all open hours) before row groups are written.
ROW_GROUP_ROWS = 262_144
#: Up to this many hour changes in a batch, it is sliced in place; past it, rows are sorted by hour first.
_MAX_RUNS = 64
#: Batches waiting for the writer thread (bounds memory when reading outpaces writing).
QUEUED_BATCHES = 4
#: Open Parquet files per writer; past it the least recently used hour is closed (its later rows go to a new file).
MAX_OPEN_FILES = 48


def partition_dir(root: Path, kind: DataKind, hour: int) -> Path:
    """Folder of one hour (``hour`` = epoch milliseconds // 3 600 000).

    Examples
    --------
    >>> partition_dir(Path("/s"), DataKind.FLOW, 480_000).as_posix()
    '/s/flow/y=2024/m=10/d=04/h=00'
    """
    t = np.datetime64(hour * _MS_PER_HOUR, "ms").astype(object)
    return root / kind.value / f"y={t.year:04d}" / f"m={t.month:02d}" / f"d={t.day:02d}" / f"h={t.hour:02d}"


#: Parquet compressions a store can use. CPU to write a flow row, measured on the 2-core reference machine
#: (1M nfdump flows): none 0.44 µs (202 B/row), lz4 0.54 µs (41 B), snappy 0.58 µs (45 B), zstd-1 0.90 µs (23 B).
COMPRESSIONS = ("lz4", "zstd", "snappy", "none")


def _parquet_options(schema: pa.Schema, compression: str = "lz4") -> dict[str, object]:
    """Writer options measured to matter: dictionary encoding and min/max statistics only where they pay.

    Dictionary-encoding high-cardinality text (IPs, URLs) and keeping string min/max doubled the
    write time for no gain in size or pruning.
    """
    dictionary = [f.name for f in schema if pa.types.is_dictionary(f.type)]
    stats = [f.name for f in schema if pa.types.is_integer(f.type) or pa.types.is_floating(f.type)
             or pa.types.is_timestamp(f.type) or pa.types.is_boolean(f.type)]
    options: dict[str, object] = {"compression": compression, "use_dictionary": dictionary, "write_statistics": stats}
    if compression == "zstd":
        options["compression_level"] = 1
    return options


class _OpenFile:
    __slots__ = ("buffered", "final", "rows", "tmp", "writer")

    def __init__(self, final: Path, schema: pa.Schema, compression: str) -> None:
        self.final = final
        self.tmp = final.with_name("." + final.name + ".tmp")
        final.parent.mkdir(parents=True, exist_ok=True)
        self.writer = pq.ParquetWriter(self.tmp, schema, **_parquet_options(schema, compression))
        self.buffered: list[pa.RecordBatch] = []
        self.rows = 0

    def flush(self) -> None:
        if self.buffered:
            self.writer.write_table(pa.Table.from_batches(self.buffered), row_group_size=ROW_GROUP_ROWS)
            self.buffered = []


class HourWriter:
    """Writes one source's batches of one data type into hourly Parquet files.

    ``write()`` checks a batch and hands it to a writer thread, which encodes Parquet while
    the caller reads the next batch (Parquet encoding releases the GIL), so reading and
    writing use both cores. ``commit()`` waits for the thread, renames every file into place
    and returns the rows stored; ``abort()`` removes them. Memory stays bounded: at most
    :data:`QUEUED_BATCHES` batches wait and at most :data:`ROW_GROUP_ROWS` rows are buffered over
    at most :data:`MAX_OPEN_FILES` open hours.
    """

    def __init__(self, root: Path, kind: DataKind, number: int, time_column: str = "ts",
                 compression: str = "lz4") -> None:
        self.root = root
        self.kind = kind
        self.number = number
        self.schema = kind.schema
        self.time_column = time_column
        self.compression = compression
        self._open: OrderedDict[int, _OpenFile] = OrderedDict()
        self._closed: list[_OpenFile] = []
        self._seq: dict[int, int] = {}
        self.rows = 0
        self._buffered_rows = 0
        self._queue: queue.Queue[pa.RecordBatch | None] = queue.Queue(QUEUED_BATCHES)
        self._failure: BaseException | None = None
        self._thread: threading.Thread | None = None

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        if batch.schema != self.schema:
            if not batch.schema.equals(self.schema, check_metadata=False):
                raise SchemaError(f"{self.kind.value}: batch schema differs from the store's:\n{batch.schema}")
            batch = pa.RecordBatch.from_arrays(batch.columns, schema=self.schema)
        ts = batch.column(self.time_column)
        if ts.null_count:
            raise SchemaError(f"{self.kind.value}: {ts.null_count} rows without {self.time_column} reached the store")
        if self._failure is not None:
            raise StoreError(f"cannot write {self.kind.value} files under {self.root}: {self._failure}")
        if self._thread is None:
            self._thread = threading.Thread(target=self._drain, name=f"netspot-write-{self.kind.value}", daemon=True)
            self._thread.start()
        self._queue.put(batch)
        self.rows += batch.num_rows

    def _drain(self) -> None:
        while (batch := self._queue.get()) is not None:
            if self._failure is None:
                try:
                    self._place(batch)
                except (OSError, pa.ArrowException) as exc:
                    self._failure = exc

    def _finish_thread(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def _place(self, batch: pa.RecordBatch) -> None:
        """Split a batch by hour and buffer each part in its hour's file (runs in the writer thread)."""
        ts = batch.column(self.time_column)
        hours = np.floor_divide(ts.cast(pa.int64()).to_numpy(zero_copy_only=False), _MS_PER_HOUR)
        runs = np.flatnonzero(np.diff(hours)) + 1
        if len(runs) <= _MAX_RUNS:  # in time order, as most sources are: slice runs of one hour, copy nothing
            bounds = [0, *runs.tolist(), len(hours)]
            for s, e in itertools.pairwise(bounds):
                self._append(int(hours[s]), batch.slice(s, e - s))
        else:
            order = np.argsort(hours, kind="stable")
            sorted_hours = hours[order]
            cuts = np.flatnonzero(np.diff(sorted_hours)) + 1
            starts = np.concatenate(([0], cuts))
            ends = np.concatenate((cuts, [len(order)]))
            taken = batch.take(pa.array(order))
            for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
                self._append(int(sorted_hours[s]), taken.slice(s, e - s))

    def _append(self, hour: int, batch: pa.RecordBatch) -> None:
        f = self._open.get(hour)
        if f is None:
            if len(self._open) >= MAX_OPEN_FILES:
                _, oldest = self._open.popitem(last=False)
                self._buffered_rows -= sum(b.num_rows for b in oldest.buffered)
                oldest.flush()
                oldest.writer.close()
                self._closed.append(oldest)
            seq = self._seq.get(hour, 0)
            self._seq[hour] = seq + 1
            name = f"part-{self.number:08d}-{seq:04d}.parquet"
            f = _OpenFile(partition_dir(self.root, self.kind, hour) / name, self.schema, self.compression)
            self._open[hour] = f
        else:
            self._open.move_to_end(hour)
        f.buffered.append(batch)
        f.rows += batch.num_rows
        self._buffered_rows += batch.num_rows
        if self._buffered_rows >= ROW_GROUP_ROWS:
            # One budget for all open hours: time-ordered input keeps one or two hours open, so row groups stay
            # full; input that jumps between many hours gets smaller row groups instead of unbounded memory.
            for g in self._open.values():
                g.flush()
            self._buffered_rows = 0

    def _all(self) -> list[_OpenFile]:
        return [*self._closed, *self._open.values()]

    def commit(self) -> int:
        """Close every file and rename it into place; the rows stored."""
        self._finish_thread()
        if self._failure is not None:
            self.abort()
            raise StoreError(f"cannot write {self.kind.value} files under {self.root}: {self._failure}")
        try:
            for f in self._open.values():
                f.flush()
                f.writer.close()
            for f in self._all():
                os.replace(f.tmp, f.final)
        except OSError as exc:
            raise StoreError(f"cannot write {self.kind.value} files under {self.root}: {exc}") from exc
        self._open.clear()
        self._closed.clear()
        return self.rows

    def abort(self) -> None:
        """Remove every file this writer started."""
        self._failure = self._failure or StoreError("aborted")  # the thread stops placing batches
        self._finish_thread()
        for f in self._open.values():
            f.writer.close()
        for f in self._all():
            f.tmp.unlink(missing_ok=True)
        self._open.clear()
        self._closed.clear()


class Store:
    """A netspot store rooted at a folder.

    Parameters
    ----------
    root
        The folder.
    compression
        Parquet compression of new files, one of :data:`COMPRESSIONS`: ``lz4`` (default, the fastest
        to write and read) or ``zstd`` (half the size, ~1.7x the write CPU).
    """

    def __init__(self, root: Path, compression: str = "lz4") -> None:
        self.root = Path(root)
        self.compression = compression

    def dataset_dir(self, kind: DataKind) -> Path:
        return self.root / kind.value

    def files(self, kind: DataKind) -> list[Path]:
        """The committed Parquet files of a data type."""
        d = self.dataset_dir(kind)
        return sorted(d.glob("y=*/m=*/d=*/h=*/*.parquet")) if d.is_dir() else []

    def writer(self, kind: DataKind, number: int) -> HourWriter:
        time_column = "ingested" if kind is DataKind.QUARANTINE else "ts"
        return HourWriter(self.root, kind, number, time_column, self.compression)

    def remove_source(self, number: int) -> int:
        """Delete every file (committed or temporary) of a source number; how many were removed."""
        pattern = f"part-{number:08d}-*"
        removed = 0
        for kind in DataKind:
            d = self.dataset_dir(kind)
            if not d.is_dir():
                continue
            for path in [*d.glob(f"y=*/m=*/d=*/h=*/{pattern}"), *d.glob(f"y=*/m=*/d=*/h=*/.{pattern}")]:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def count(self, kind: DataKind) -> int:
        """Rows of a data type, from Parquet footers (no data read)."""
        return sum(pq.ParquetFile(p).metadata.num_rows for p in self.files(kind))
