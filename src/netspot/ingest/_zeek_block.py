"""Blocks of raw Zeek rows and the line framing of a chunk (shared by the TSV and JSON paths)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from netspot.ingest._zeek_header import ZeekHeader

__all__ = ["Lines", "RawBlock", "Raws", "one_chunk"]


def one_chunk(col: pa.ChunkedArray) -> pa.Array:
    """A column as one array, copying only when it has several chunks."""
    return col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()


class Raws:
    """The raw bytes of rows, as offsets into a chunk (sliced only for the rows quarantined).

    Built without offsets for a clean TSV segment (one row per line): they are found only
    if a row of it is ever quarantined.
    """

    __slots__ = ("_ends", "_starts", "buf")

    def __init__(self, buf: bytes, starts: np.ndarray | None = None, ends: np.ndarray | None = None) -> None:
        self.buf, self._starts, self._ends = buf, starts, ends

    def _offsets(self) -> tuple[np.ndarray, np.ndarray]:
        if self._starts is None or self._ends is None:
            ends = np.flatnonzero(np.frombuffer(self.buf, dtype=np.uint8) == 10).astype(np.int64)
            self._starts, self._ends = np.concatenate(([0], ends[:-1] + 1)).astype(np.int64), ends
        return self._starts, self._ends

    def __len__(self) -> int:
        return len(self._offsets()[0])

    @property
    def ends(self) -> np.ndarray:
        """Where each row's bytes end (int64)."""
        return self._offsets()[1]

    def __getitem__(self, i: int) -> bytes:
        starts, ends = self._offsets()
        return self.buf[starts[i]: ends[i]]

    def take(self, rows: np.ndarray) -> Raws:
        starts, ends = self._offsets()
        return Raws(self.buf, starts[rows], ends[rows])


@dataclass(slots=True)
class RawBlock:
    """Up to BATCH_ROWS well-framed rows of one log, columns not yet typed.

    ``text`` says the columns are Zeek TSV text (unset already null; empty markers and
    ``\\xNN`` escapes still in place); otherwise they are JSON values (native Arrow types, or
    strings and lists of strings from the per-line slow path; JSON has no markers).
    """

    columns: dict[str, pa.Array]
    types: dict[str, str]
    lines: np.ndarray  # 1-based line number of each row
    records: np.ndarray  # record number of each row in the source
    raws: Raws  # each row's raw bytes, for quarantine
    path: str | None
    header: ZeekHeader
    text: bool

    @property
    def num_rows(self) -> int:
        return len(self.lines)

    def take(self, rows: np.ndarray) -> RawBlock:
        """The block restricted to ``rows`` (indices, in order)."""
        sel = pa.array(rows, pa.int64())
        return RawBlock({k: v.take(sel) for k, v in self.columns.items()}, self.types, self.lines[rows],
                        self.records[rows], self.raws.take(rows), self.path, self.header,
                        self.text)


class Lines:
    """The lines of one chunk, located with numpy (offsets into ``buf``)."""

    def __init__(self, buf: bytes, first_line: int) -> None:
        self.buf = buf
        self.arr = np.frombuffer(buf, dtype=np.uint8)
        ends = np.flatnonzero(self.arr == 10)
        if len(ends) == 0 or ends[-1] != len(buf) - 1:
            ends = np.append(ends, len(buf))  # last line without newline (end of file)
        self.ends = ends.astype(np.int64)
        self.starts = np.concatenate(([0], self.ends[:-1] + 1)).astype(np.int64)
        self.numbers = np.arange(first_line, first_line + len(self.ends), dtype=np.int64)
        self._seps: np.ndarray | None = None
        self._sep_byte = -1

    def __len__(self) -> int:
        return len(self.ends)

    def field_counts(self, byte: int, idx: np.ndarray) -> np.ndarray:
        """Fields per line (separators + 1) for the lines ``idx``; separator positions found once."""
        if self._seps is None or self._sep_byte != byte:
            self._seps = np.flatnonzero(self.arr == byte)
            self._sep_byte = byte
        seps: np.ndarray = self._seps
        counts: np.ndarray = np.searchsorted(seps, self.ends[idx]) - np.searchsorted(seps, self.starts[idx]) + 1
        return counts

    def raw(self, i: int) -> bytes:
        return self.buf[self.starts[i]: self.ends[i]]

    def raws(self, idx: np.ndarray) -> Raws:
        return Raws(self.buf, self.starts[idx], self.ends[idx])
