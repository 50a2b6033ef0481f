"""One chunk of nfdump text to FLOW columns and quarantine events, before its line numbers are known.

A chunk (whole lines, from :func:`netspot.ingest._delimited.read_chunks`) is tokenized,
its rows with the header's number of fields are parsed by :func:`._nfrows.convert_rows`
in groups of at most ``batch_rows``, and the rest become :class:`Event`\\ s. Nothing here
depends on what came before the chunk, so chunks convert in parallel threads (the numba
kernels release the GIL); :mod:`._nfcsv` then numbers the lines in order, decides which
wrong-length lines are nfdump's summary, and fills the quarantine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from netspot.ingest._delimited import Tokens, gather, tokenize
from netspot.ingest.flow._nfparse import PROTO_NAMES
from netspot.ingest.flow._nfrows import CHECKS, INTS, ROLES, convert_rows, extras
from netspot.ingest.quarantine import QuarantineReason
from netspot.schema import FLOW, TIMESTAMP, conform

__all__ = ["Chunk", "Event", "Part", "Plan", "convert_chunk"]

#: Apache Spot's split-out parts of ``tr`` (year .. second): redundant with ``tr``, not kept.
SPOT_TIME_PARTS = frozenset({"try", "trm", "trd", "trh", "trm_2", "trs"})
_MAPPED = frozenset({"ts", "te", "td", "sa", "da", "pr", "flg", "ra", *INTS})
_EXTRA_TYPE = FLOW.field("extra").type
_TIME = "a time YYYY-MM-DD HH:MM:SS[.fff]"
#: What each check of :data:`CHECKS` expects, and the reason when it fails.
_EXPECT: dict[str, tuple[str, QuarantineReason]] = {
    "ts": (_TIME, QuarantineReason.BAD_TIMESTAMP),
    "te": (_TIME, QuarantineReason.BAD_TIMESTAMP),
    "td": ("a duration in seconds", QuarantineReason.BAD_VALUE),
    **dict.fromkeys(("sa", "da", "ra"), ("an IP address", QuarantineReason.BAD_VALUE)),
    **{name: (f"an integer 0..{top}", QuarantineReason.BAD_VALUE) for name, (_, top) in INTS.items()},
    "pr": ("a protocol name or number 0..255", QuarantineReason.BAD_VALUE),
}
# The proto dictionary: nfdump's names once each (IDPR is listed twice), then a batch's unknown names.
_PROTO_UNIQUE = list(dict.fromkeys(PROTO_NAMES))
_PROTO_DICT = pa.array(_PROTO_UNIQUE, pa.string())
_PROTO_POS = np.array([_PROTO_UNIQUE.index(n) for n in PROTO_NAMES], np.int32)
_PROTO_NUM = {n: PROTO_NAMES.index(n) for n in _PROTO_UNIQUE}
_DIGITS = re.compile(r"[0-9]{1,18}\Z")


@dataclass(frozen=True, slots=True)
class Event:
    """A line that is not a flow: ``kind`` "count" (wrong number of fields), "blank" or "value" (bad field)."""

    rel: int  #: line index in the chunk
    kind: str
    raw: bytes = b""
    nfields: int = 0
    reason: QuarantineReason = QuarantineReason.BAD_VALUE
    detail: str = ""


@dataclass(slots=True)
class Part:
    """The flows of one batch: a FLOW batch whose ``rid`` is still null, and the chunk line index of each row."""

    rel: np.ndarray
    batch: pa.RecordBatch
    upto: int  #: events before this line index come before this batch


@dataclass(slots=True)
class Chunk:
    nlines: int
    parts: list[Part] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Plan:
    """What a header means for conversion: the column of each role and the extras."""

    names: tuple[str, ...]
    reader: str
    cols: np.ndarray  #: column index per role of ROLES, -1 when absent
    xcol: np.ndarray  #: column of each extra
    xsub: np.ndarray  #: label index in %mpls, -1 for a whole field
    keys: np.ndarray  #: extra names, concatenated bytes
    key_off: np.ndarray
    source: pa.Array

    @classmethod
    def make(cls, names: list[str], reader: str) -> Plan:
        pos = {n: i for i, n in enumerate(names)}
        roles = [pos.get(r, -1) for r in ROLES]
        if "ts" not in pos:
            roles[0] = pos["tr"]
        xcol: list[int] = []
        xsub: list[int] = []
        keys: list[str] = []
        for i, name in enumerate(names):
            if name in _MAPPED or name in SPOT_TIME_PARTS or (name == "tr" and "ts" not in pos):
                continue
            subs = [(f"mpls{k + 1}", k) for k in range(10)] if name == "mpls" else [(name, -1)]
            for key, sub in subs:
                xcol.append(i)
                xsub.append(sub)
                keys.append(key)
        encoded = [k.encode() for k in keys]
        off = np.zeros(len(keys) + 1, np.int32)
        np.cumsum([len(k) for k in encoded], out=off[1:])
        return cls(
            tuple(names), reader, np.array(roles, np.int64), np.array(xcol, np.int64), np.array(xsub, np.int64),
            np.frombuffer(b"".join(encoded) or b"\0", np.uint8), off,
            pa.array([reader], pa.string()),
        )  # fmt: skip

    def check_name(self, code: int) -> str:
        name = CHECKS[code]
        return "tr" if name == "ts" and "ts" not in self.names else name


def convert_chunk(data: np.ndarray, plan: Plan, batch_rows: int) -> Chunk:
    """Tokenize and convert one chunk (runs in a worker thread: touches nothing shared)."""
    tok = tokenize(data, ord(","), len(plan.names))
    out = Chunk(tok.n)
    if tok.clean:
        rows_all = np.arange(tok.n, dtype=np.int64)
    else:
        valid = tok.nfields == len(plan.names)
        for i in np.flatnonzero(~valid).tolist():
            line = tok.line(i)
            out.events.append(Event(i, "count", line, int(tok.nfields[i])) if line else Event(i, "blank"))
        rows_all = np.flatnonzero(valid)
    not_utf8 = set() if tok.ascii else _not_utf8(tok, rows_all)
    for start in range(0, len(rows_all), batch_rows):
        rows = rows_all[start : start + batch_rows]
        part = _convert_rows(tok, rows, plan, not_utf8, out.events)
        if part is not None:
            out.parts.append(part)
    out.events.sort(key=lambda e: e.rel)
    return out


def _not_utf8(tok: Tokens, rows: np.ndarray) -> set[int]:
    """Rows whose line is not valid UTF-8 (slow path: only lines with a byte >= 0x80 are decoded)."""
    bad: set[int] = set()
    if len(rows) == 0:
        return bad
    high = np.flatnonzero(np.maximum.reduceat(tok.data, tok.line_start[rows]) >= 128)
    for r in high.tolist():
        i = int(rows[r])
        try:
            tok.line(i).decode("utf-8")
        except UnicodeDecodeError:
            bad.add(i)
    return bad


def _convert_rows(tok: Tokens, rows: np.ndarray, plan: Plan, not_utf8: set[int], events: list[Event]) -> Part | None:
    data = tok.data
    times, ints, spans, proto, fail = convert_rows(data, tok.ends, tok.line_start, rows, plan.cols)
    unknown = np.flatnonzero((proto == -1) & (fail < 0))
    extra_names: list[str] = []
    if len(unknown):
        extra_names = _resolve_protos(tok, rows, unknown, plan, proto, fail, not_utf8)
    good = fail < 0
    if not_utf8 or not good.all():
        for r in np.flatnonzero(~good | np.isin(rows, list(not_utf8))).tolist():
            good[r] = False
            events.append(_bad_row(tok, int(rows[r]), int(fail[r]), plan, not_utf8))
    keep = np.flatnonzero(good)
    if len(keep) == 0:
        return None
    sel: slice | np.ndarray = slice(None) if len(keep) == len(rows) else keep
    n = len(keep)
    cols: dict[str, pa.Array] = {
        "ts": _timestamps(times[0][sel]),
        "te": _timestamps(times[1][sel]),
        "td": pa.array(times[2][sel] / 1000.0),
        "source": pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), plan.source),
        "extra": _extras(tok, rows[sel], plan, n),
    }
    for k, target in enumerate(("sip", "dip", "rip", "flags")):
        if plan.cols[ROLES.index(("sa", "da", "ra", "flg")[k])] >= 0:
            cols[target] = gather(data, spans[k, 0][sel], spans[k, 1][sel])
    for k, (name, (target, _)) in enumerate(INTS.items()):
        if plan.cols[ROLES.index(name)] >= 0:
            cols[target] = pa.array(ints[k][sel].astype(FLOW.field(target).type.to_pandas_dtype(), copy=False))
    p = proto[sel]
    known = p >= 0
    pos = np.where(known, _PROTO_POS[np.maximum(p, 0)], len(_PROTO_UNIQUE) - 1 - p - 1)
    dictionary = pa.concat_arrays([_PROTO_DICT, pa.array(extra_names, pa.string())]) if extra_names else _PROTO_DICT
    cols["proto"] = pa.DictionaryArray.from_arrays(pa.array(pos.astype(np.int32)), dictionary, safe=False)
    cols["proto_num"] = pa.array(p.astype(np.int16), mask=None if known.all() else ~known)
    # the whole batch is built here, in the worker; the reader's thread only sets the record ids
    batch = conform({**cols, "rid": pa.nulls(n, pa.int64())}, FLOW, n)
    return Part(rows[sel].astype(np.int64), batch, int(rows[-1]) + 1)


def _timestamps(ms: np.ndarray) -> pa.Array:
    ms = np.ascontiguousarray(ms)
    return pa.Array.from_buffers(TIMESTAMP, len(ms), [None, pa.py_buffer(ms)])


def _resolve_protos(
    tok: Tokens, rows: np.ndarray, unknown: np.ndarray, plan: Plan, proto: np.ndarray, fail: np.ndarray,
    not_utf8: set[int],
) -> list[str]:  # fmt: skip
    """Names the kernel did not find (not in nfdump's table, or not ASCII): Unicode trim and upper case, as before.

    Each new name gets code ``-2 - j`` (its position ``j`` after nfdump's names in the batch's
    dictionary); a name that trims to nothing fails the ``pr`` check.
    """
    col = int(plan.cols[ROLES.index("pr")])
    pick = np.array([r for r in unknown.tolist() if int(rows[r]) not in not_utf8], np.int64)
    if len(pick) == 0:
        return []
    starts, ends = tok.span(col, rows[pick])
    texts = pc.utf8_upper(pc.utf8_trim_whitespace(gather(tok.data, starts, ends))).to_pylist()
    names: dict[str, int] = {}
    for r, text in zip(pick.tolist(), texts, strict=True):
        if not text:
            fail[r] = len(CHECKS) - 1
        elif _DIGITS.match(text):
            num = int(text)
            if num > 255:
                fail[r] = len(CHECKS) - 1
            proto[r] = min(num, 255)
        elif text in _PROTO_NUM:
            proto[r] = _PROTO_NUM[text]
        else:
            proto[r] = -2 - names.setdefault(text, len(names))
    return list(names)


def _bad_row(tok: Tokens, i: int, code: int, plan: Plan, not_utf8: set[int]) -> Event:
    """The event of a row with the right number of fields that failed a check (slow path)."""
    raw = tok.line(i)
    if i in not_utf8:
        for k, name in enumerate(plan.names):
            value = tok.data[slice(*(int(x[0]) for x in tok.span(k, np.array([i]))))].tobytes()
            try:
                value.decode("utf-8")
            except UnicodeDecodeError:
                got = value.decode("utf-8", "replace")
                return Event(i, "value", raw, reason=QuarantineReason.BAD_VALUE,
                             detail=f"column {name!r}: expected UTF-8 text, got {got!r}")  # fmt: skip
    if not raw.strip(b", \r"):
        return Event(i, "blank")
    name = plan.check_name(code)
    k = int(plan.cols[ROLES.index(CHECKS[code])])
    value = tok.data[slice(*(int(x[0]) for x in tok.span(k, np.array([i]))))].tobytes()
    expected, reason = _EXPECT[CHECKS[code]]
    got = value.decode("utf-8", "replace")
    return Event(i, "value", raw, reason=reason, detail=f"column {name!r}: expected {expected}, got {got!r}")


def _extras(tok: Tokens, rows: np.ndarray, plan: Plan, n: int) -> pa.Array:
    """The unmapped columns whose value is not nfdump's 'absent' (zeros, epoch) as a map per row.

    nfdump prints every extension it does not have as zeros, so keeping only set values loses
    nothing (an absent key means nfdump's zero) and keeps rows small.
    """
    if len(plan.xcol) == 0:
        return pa.nulls(n, _EXTRA_TYPE)
    offsets, koff, kdata, voff, vdata = extras(
        tok.data, tok.ends, tok.line_start, np.ascontiguousarray(rows, np.int64), plan.xcol, plan.xsub, plan.keys,
        plan.key_off,
    )  # fmt: skip
    m = len(koff) - 1
    keys = pa.Array.from_buffers(pa.string(), m, [None, pa.py_buffer(koff), pa.py_buffer(kdata)])
    values = pa.Array.from_buffers(pa.string(), m, [None, pa.py_buffer(voff), pa.py_buffer(vdata)])
    return pa.MapArray.from_arrays(pa.array(offsets), keys, values)
