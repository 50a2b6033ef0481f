"""Delimited text without quoting (nfdump CSV, Zeek TSV) split into lines and fields by numba kernels.

The text is read in chunks of whole lines (:func:`read_chunks`: about :data:`CHUNK_BYTES`
cut after the last newline, the rest carried into the next chunk; a line longer than a
chunk grows the chunk), and :func:`tokenize` splits one chunk into a :class:`Tokens`:
for each physical line its start, its end (without ``\\n`` and one ``\\r`` before it) and
its number of fields, and a matrix of field ends. No Python object is made per line or
per field, so a reader can validate and convert columns with vectorised kernels over the
spans and leave only its bad lines to a Python slow path.

Field ``k`` of line ``i`` is the bytes ``data[start:end]`` of :func:`field_span` (in numba)
or of :meth:`Tokens.span` (numpy, one column): ``end = ends[i, k]`` and ``start =
ends[i, k - 1] + 1`` (``line_start[i]`` for ``k = 0``). A line with fewer fields than
``ncols`` has empty spans at its end for the missing ones; a line with more has its
first ``ncols - 1`` spans and the rest of the line as the last. Only ``\\n`` ends a line
(a lone ``\\r`` is data), as in ``str.split``: ``nfields`` is the number of delimiters
plus one, so an empty line has one (empty) field.

Speed: separators are found eight bytes at a time (SWAR: a zero-byte test on the word
XOR the delimiter, and XOR ``\\n``); when every line of the chunk has ``ncols`` fields,
as in clean input, the separator positions *are* the field-end matrix (a reshape, no
copy). :func:`gather` turns the spans of one column into an Arrow string array.

Used by the nfdump CSV reader (``,``); Zeek TSV logs (``\\t``) can use the same tokenizer.

Examples
--------
>>> t = tokenize(np.frombuffer(b"a,bb,c\\r\\n,x\\n", np.uint8), ord(","), 3)
>>> t.nfields.tolist(), [t.line(i) for i in range(t.n)]
([3, 2], [b'a,bb,c', b',x'])
>>> gather(t.data, *t.span(1)).to_pylist()
['bb', 'x']
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

import numba as nb
import numpy as np
import pyarrow as pa

__all__ = ["CHUNK_BYTES", "MAX_LINE_BYTES", "Tokens", "field_span", "gather", "read_chunks", "tokenize"]

#: Bytes read per chunk: large enough that kernel calls are few, small enough for bounded memory.
CHUNK_BYTES = 16 << 20
#: Longest line accepted (positions are int32); a longer one ends the read with ``LineTooLongError``.
MAX_LINE_BYTES = 1 << 30
_NL = 10
_CR = 13


class LineTooLongError(ValueError):
    """A line longer than :data:`MAX_LINE_BYTES`; the reader turns it into a FormatError naming its file."""


def read_chunks(fh: IO[bytes], chunk_bytes: int = CHUNK_BYTES) -> Iterator[np.ndarray]:
    """Whole lines of ``fh`` as uint8 arrays of about ``chunk_bytes``; the last may lack its newline.

    Works on pipes and decompressing streams (reads until the chunk is full or the stream
    ends). Each chunk is a fresh array, so views of an earlier chunk stay valid.
    """
    carry = np.empty(0, np.uint8)
    size = chunk_bytes
    while True:
        buf = np.empty(len(carry) + size, np.uint8)
        buf[: len(carry)] = carry
        filled = len(carry) + _fill(fh, memoryview(buf.data)[len(carry) :])
        if filled == len(carry):  # end of stream
            if len(carry):
                yield carry
            return
        full = filled == len(buf)
        cut = int(_last_newline(buf[:filled])) + 1
        if full and cut == 0:  # no newline in the whole chunk: a line longer than a chunk
            if len(buf) > MAX_LINE_BYTES:
                raise LineTooLongError(f"a line longer than {MAX_LINE_BYTES} bytes")
            carry, size = buf, len(buf)
            continue
        if not full:  # the stream ended inside this chunk: everything goes out
            cut = filled
        carry = buf[cut:filled].copy()
        size = chunk_bytes
        yield buf[:cut]


def _fill(fh: IO[bytes], view: memoryview) -> int:
    got = 0
    while got < len(view):
        n = fh.readinto(view[got:])  # type: ignore[attr-defined]
        if not n:
            break
        got += n
    return got


@nb.njit(cache=True, nogil=True)
def _last_newline(data: np.ndarray) -> int:  # pragma: no cover - numba
    for i in range(len(data) - 1, -1, -1):
        if data[i] == _NL:
            return i
    return -1


@dataclass(slots=True)
class Tokens:
    """The lines and fields of one chunk of delimited text (see the module docstring for the layout)."""

    data: np.ndarray  #: the chunk's bytes (uint8)
    line_start: np.ndarray  #: int32 per line: first byte
    line_end: np.ndarray  #: int32 per line: end, without the newline and a ``\r`` before it
    nfields: np.ndarray  #: int32 per line: delimiters + 1
    ends: np.ndarray  #: int32 (lines, ncols): end of field k (see :func:`field_span`)
    clean: bool  #: every line has exactly ``ncols`` fields
    ascii: bool  #: no byte of the chunk is >= 0x80 (so it is valid UTF-8)

    @property
    def n(self) -> int:
        return len(self.line_start)

    def line(self, i: int) -> bytes:
        """The bytes of line ``i`` without its terminator (slow path: for quarantine rows)."""
        return self.data[self.line_start[i] : self.line_end[i]].tobytes()

    def span(self, k: int, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(starts, ends) of column ``k`` for ``rows`` (all lines by default), as int32 arrays."""
        sel = slice(None) if rows is None else rows
        end = self.ends[sel, k]
        start = self.line_start[sel] if k == 0 else np.minimum(self.ends[sel, k - 1] + 1, end)
        return np.ascontiguousarray(start, np.int32), np.ascontiguousarray(end, np.int32)


@nb.njit(cache=True, nogil=True, inline="always")
def field_span(ends: np.ndarray, line_start: np.ndarray, i: int, k: int) -> tuple[int, int]:  # pragma: no cover
    """(start, end) of field ``k`` of line ``i`` (numba helper for kernels over :class:`Tokens`)."""
    e = ends[i, k]
    if k == 0:
        return line_start[i], e
    return min(ends[i, k - 1] + 1, e), e


@nb.njit(cache=True, nogil=True)
def _zero_bytes(x: np.uint64) -> np.uint64:  # pragma: no cover - numba
    # high bit of each byte of x that is 0x00 (exact: no borrow between bytes)
    lo7 = np.uint64(0x7F7F7F7F7F7F7F7F)
    return ~(((x & lo7) + lo7) | x | lo7)


@nb.njit(cache=True, nogil=True)
def _separators(data: np.ndarray, delim: int, out: np.ndarray) -> tuple[int, int, bool]:  # pragma: no cover
    """Positions of every delimiter and newline into ``out``; (how many, newlines, all ASCII)."""
    n = len(data)
    nw = n // 8
    words = data[: nw * 8].view(np.uint64)
    dd = np.uint64(delim) * np.uint64(0x0101010101010101)
    nl = np.uint64(0x0A0A0A0A0A0A0A0A)
    high = np.uint64(0)
    k = 0
    lines = 0
    for w in range(nw):
        x = words[w]
        high |= x
        mn = _zero_bytes(x ^ nl)
        m = (_zero_bytes(x ^ dd) | mn) >> np.uint64(7)
        if m == 0:
            continue
        if mn:
            mn >>= np.uint64(7)
            while mn:
                lines += 1
                mn &= mn - np.uint64(1)
        base = w * 8
        for j in range(8):  # branch-free append of the set bytes
            out[k] = base + j
            k += int((m >> np.uint64(8 * j)) & np.uint64(1))
    ascii = bool((high & np.uint64(0x8080808080808080)) == 0)
    for i in range(nw * 8, n):
        c = data[i]
        ascii = ascii and c < 128
        if c == delim or c == _NL:  # noqa: SIM109 (numba)
            out[k] = i
            k += 1
            lines += c == _NL
    return k, lines, ascii


@nb.njit(cache=True, nogil=True)
def _clean_lines(
    data: np.ndarray, seps: np.ndarray, nlines: int, ncols: int, line_start: np.ndarray, line_end: np.ndarray
) -> bool:  # pragma: no cover - numba
    """Fill line starts and ends when every line has ``ncols`` fields; False when one does not."""
    n = len(data)
    s = 0
    for i in range(nlines):
        e = seps[i * ncols + ncols - 1]
        if e < n and data[e] != _NL:
            return False
        line_start[i] = s
        if e > s and data[e - 1] == _CR:
            e -= 1
        line_end[i] = e
        s = seps[i * ncols + ncols - 1] + 1
    return True


@nb.njit(cache=True, nogil=True)
def _ragged_lines(
    data: np.ndarray,
    seps: np.ndarray,
    k: int,
    ncols: int,
    ends: np.ndarray,
    line_start: np.ndarray,
    line_end: np.ndarray,
    nfields: np.ndarray,
) -> None:  # pragma: no cover - numba
    """Lines and field ends when some line has the wrong number of fields (one pass over the separators)."""
    n = len(data)
    line = 0
    f = 0
    s = 0
    for j in range(k):
        p = seps[j]
        if p < n and data[p] != _NL:  # a delimiter
            if f < ncols - 1:
                ends[line, f] = p
            f += 1
            continue
        e = p
        if e > s and data[e - 1] == _CR:
            e -= 1
        for c in range(min(f, ncols - 1), ncols):
            ends[line, c] = e
        line_start[line] = s
        line_end[line] = e
        nfields[line] = f + 1
        line += 1
        f = 0
        s = p + 1


def tokenize(data: np.ndarray, delim: int, ncols: int) -> Tokens:
    """Split ``data`` (uint8, whole lines) into lines and the ends of their first ``ncols`` fields.

    ``delim`` is the byte value of the delimiter (``ord(",")``, ``ord("\\t")``). The last line
    may lack its newline; an empty ``data`` has no lines.
    """
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1, got {ncols}")
    n = len(data)
    seps = np.empty(n + 1, np.int32)
    k, nl, ascii = _separators(data, delim, seps)
    if n and data[n - 1] != _NL:  # a last line without newline ends at the end of the data
        seps[k] = n
        k += 1
        nl += 1
    line_start = np.empty(nl, np.int32)
    line_end = np.empty(nl, np.int32)
    if k == nl * ncols and _clean_lines(data, seps, nl, ncols, line_start, line_end):
        ends = seps[:k].reshape(nl, ncols)
        if ncols and nl:
            np.minimum(ends[:, ncols - 1], line_end, out=ends[:, ncols - 1])  # drop the \r of CRLF
        return Tokens(data, line_start, line_end, np.full(nl, ncols, np.int32), ends, True, bool(ascii))
    ends = np.empty((nl, ncols), np.int32)
    nfields = np.empty(nl, np.int32)
    _ragged_lines(data, seps, k, ncols, ends, line_start, line_end, nfields)
    return Tokens(data, line_start, line_end, nfields, ends, False, bool(ascii))


@nb.njit(cache=True, nogil=True)
def _gather_kernel(
    data: np.ndarray, starts: np.ndarray, ends: np.ndarray, trim: bool
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - numba
    n = len(starts)
    offsets = np.empty(n + 1, np.int32)
    total = 0
    offsets[0] = 0
    for i in range(n):
        a, b = starts[i], ends[i]
        if trim:
            while a < b and (data[a] == 32 or 9 <= data[a] <= 13):
                a += 1
            while b > a and (data[b - 1] == 32 or 9 <= data[b - 1] <= 13):
                b -= 1
        total += b - a
        offsets[i + 1] = total
    out = np.empty(max(total, 1), np.uint8)
    for i in range(n):
        a, b = starts[i], ends[i]
        if trim:
            while a < b and (data[a] == 32 or 9 <= data[a] <= 13):
                a += 1
        for j in range(offsets[i], offsets[i + 1]):  # a byte loop: cheaper than a slice per row
            out[j] = data[a]
            a += 1
    return offsets, out


def gather(data: np.ndarray, starts: np.ndarray, ends: np.ndarray, *, trim: bool = False) -> pa.Array:
    """An Arrow string array of the spans ``data[starts[i]:ends[i]]``; ``trim`` drops ASCII blanks around each.

    The spans must be valid UTF-8 (a chunk that :class:`Tokens` says is ``ascii`` always is).
    """
    offsets, out = _gather_kernel(data, starts, ends, trim)
    return pa.Array.from_buffers(pa.string(), len(starts), [None, pa.py_buffer(offsets), pa.py_buffer(out)])
