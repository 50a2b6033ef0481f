"""IPFIX (RFC 7011) message framing, and the mapping of decoded records onto ``schema.FLOW``.

The mapping serves NetFlow v9 as well: v9 field types are the first 127 IPFIX
information elements. :func:`flow_columns` takes the per-field values of many records
of one template (numpy columns from the fixed-length path, lists of bytes from the
variable-length one) and builds the FLOW columns with numpy and pyarrow.compute:

* ``ts``/``te``: flowStart/End Milliseconds, Seconds, Microseconds and Nanoseconds (NTP
  format, RFC 7011 section 6.1.9), DeltaMicroseconds (before the export time), or
  sysUpTime-relative (v9: the header's sysUptime and unix seconds; IPFIX:
  systemInitTimeMilliseconds from the record or from an options record). A template
  with no time at all gets the export time, and so do IPFIX sysUpTime-relative records
  whose exporter never sent its systemInitTimeMilliseconds (Cisco IOS-XR, Mikrotik): the
  flow is placed to end at the export time with its exact duration, and ``extra`` says
  ``time_basis=export``. A record whose time is still not positive is flagged for
  BAD_TIMESTAMP quarantine.
* addresses (IEs 8/12/27/28), ports, protocol (nfdump names), TCP flags (nfdump text),
  ToS, counters (delta or total; out = postOctet/PacketDelta 23/24, responder 232/299 or
  RFC 5103 reverse), SNMP interfaces, AS numbers, direction, forwarding status.
* every other IANA element as ``name=value`` text in ``extra``.
"""

from __future__ import annotations

import binascii
import ipaddress
import struct
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from netspot.ingest.flow._ie import (
    KIND_IP4,
    KIND_IP6,
    KIND_MAC,
    KIND_STR,
    KIND_UINT,
    MAPPED,
    REVERSE_PEN,
    ie_kind,
    ie_name,
)
from netspot.ingest.flow._tcpflags import flags_text, proto_text
from netspot.ingest.flow._templates import VARLEN, Template
from netspot.schema import FLOW

__all__ = ["IPFIX_HEADER", "NTP_EPOCH_S", "Values", "flow_columns", "frame_message", "values_fixed",
           "values_variable"]

#: version, length, export time, sequence, observation domain (RFC 7011 section 3.1).
IPFIX_HEADER = struct.Struct(">HHIII")
#: Seconds from the NTP epoch (1900) to the Unix epoch.
NTP_EPOCH_S = 2_208_988_800
_SET = struct.Struct(">HH")

#: Per-field values of n records: uint64 column, (n, length) uint8 matrix, list of bytes, or None (length 0).
Values = list[np.ndarray | list[bytes] | None]


def frame_message(payload: bytes) -> tuple[tuple[int, int, int] | None, list[tuple[int, int, int]], str | None]:
    """Split an IPFIX message: ((export secs, sequence, domain), [(set id, body start, body end)], error).

    Sets before a framing error are returned with the error text (expected vs actual).
    """
    if len(payload) < IPFIX_HEADER.size:
        return None, [], f"IPFIX header needs {IPFIX_HEADER.size} bytes, got {len(payload)}"
    _, length, export_s, seq, domain = IPFIX_HEADER.unpack_from(payload)
    if length < IPFIX_HEADER.size or length > len(payload):
        return None, [], f"message length field {length}: expected 16..{len(payload)} (datagram size)"
    sets: list[tuple[int, int, int]] = []
    pos = IPFIX_HEADER.size
    while pos < length:
        if length - pos < 4:
            return (export_s, seq, domain), sets, \
                f"{length - pos} bytes after the last set: expected a 4-byte set header"
        sid, slen = _SET.unpack_from(payload, pos)
        if slen < 4:
            return (export_s, seq, domain), sets, f"set {sid} at offset {pos} has length {slen}: expected >= 4"
        if pos + slen > length:
            return (export_s, seq, domain), sets, \
                f"set {sid} at offset {pos} has length {slen}: overruns the message ({length - pos} bytes left)"
        sets.append((sid, pos + 4, pos + slen))
        pos += slen
    return (export_s, seq, domain), sets, None


def _be_uint(mat: np.ndarray) -> np.ndarray:
    """Big-endian unsigned integers of any width up to 8 from an (n, width) byte matrix."""
    out = np.zeros(mat.shape[0], np.uint64)
    for j in range(mat.shape[1]):
        out = (out << np.uint64(8)) | mat[:, j].astype(np.uint64)
    return out


def values_fixed(tpl: Template, buf: bytes) -> tuple[int, Values]:
    """Decode the records of fixed-length template ``tpl`` in ``buf`` (whole records only), vectorised."""
    assert tpl.dtype is not None
    rec = np.frombuffer(buf, dtype=tpl.dtype, count=len(buf) // tpl.record_len)
    out: Values = []
    for i, f in enumerate(tpl.fields):
        if f.length == 0:
            out.append(None)
            continue
        col = rec[f"f{i}"]
        if col.ndim == 1:
            out.append(col.astype(np.uint64))
        elif ie_kind(f.ie, f.length, f.pen) == KIND_UINT:
            out.append(_be_uint(col))
        else:
            out.append(np.ascontiguousarray(col))
    return len(rec), out


def values_variable(tpl: Template, body: bytes) -> tuple[int, Values, str | None]:
    """Walk records with variable-length fields (RFC 7011 section 7); the slow path, record by record."""
    per_field: list[list[bytes]] = [[] for _ in tpl.fields]
    pos, end, n = 0, len(body), 0
    error = None
    while end - pos >= max(tpl.min_len, 1):
        start_pos, row = pos, []
        for f in tpl.fields:
            length = f.length
            if length == VARLEN:
                if pos >= end:
                    break
                length = body[pos]
                pos += 1
                if length == 255:
                    if pos + 2 > end:
                        break
                    length = (body[pos] << 8) | body[pos + 1]
                    pos += 2
            if pos + length > end:
                break
            row.append(body[pos:pos + length])
            pos += length
        if len(row) < len(tpl.fields):
            if any(body[start_pos:]):
                error = f"record {n} at offset {start_pos} overruns the set ({end - start_pos} bytes left)"
            break
        for lst, v in zip(per_field, row, strict=True):
            lst.append(v)
        n += 1
    out: Values = []
    for f, lst in zip(tpl.fields, per_field, strict=True):
        if f.length == 0:
            out.append(None)
        elif f.length == VARLEN:
            out.append(lst)
        else:
            mat = np.frombuffer(b"".join(lst), np.uint8).reshape(n, f.length)
            out.append(_be_uint(mat) if ie_kind(f.ie, f.length, f.pen) == KIND_UINT else mat)
    return n, out, error


def _ip6_text(mat: np.ndarray) -> pa.Array:
    keys = np.ascontiguousarray(mat).view(np.dtype((np.void, 16))).ravel()
    uniq, inv = np.unique(keys, return_inverse=True)
    texts = pa.array([str(ipaddress.IPv6Address(u.tobytes())) for u in uniq], pa.string())
    return texts.take(pa.array(inv.ravel()))


def _ip4_text(vals: np.ndarray) -> pa.Array:
    if vals.ndim == 2:
        vals = _be_uint(vals)
    v = vals.astype(np.uint32)
    parts = [pa.array((v >> np.uint32(s)) & np.uint32(255)).cast(pa.string()) for s in (24, 16, 8, 0)]
    return pc.binary_join_element_wise(*parts, ".")


def _hex(mat: np.ndarray, sep: bool) -> pa.Array:
    n, width = mat.shape
    hexed = np.frombuffer(binascii.hexlify(np.ascontiguousarray(mat).tobytes()), np.uint8).reshape(n, 2 * width)
    if sep and width:
        out = np.full((n, 3 * width - 1), ord(":"), np.uint8)
        idx = np.arange(2 * width)
        out[:, idx + idx // 2] = hexed
        hexed = out
    return pa.array(np.ascontiguousarray(hexed).view(f"S{hexed.shape[1]}").ravel()).cast(pa.string())


def _text(kind: str, vals: np.ndarray | list[bytes]) -> pa.Array:
    """Render one field's values as text (the ``extra`` column)."""
    if isinstance(vals, list):  # variable-length: rare, per value
        if kind == KIND_STR:
            return pa.array([v.rstrip(b"\0").decode("utf-8", "replace") for v in vals], pa.string())
        return pa.array([v.hex() for v in vals], pa.string())
    if vals.ndim == 1:
        return _ip4_text(vals) if kind == KIND_IP4 else pa.array(vals).cast(pa.string())
    if kind == KIND_IP4 and vals.shape[1] == 4:
        return _ip4_text(vals)
    if kind == KIND_IP6 and vals.shape[1] == 16:
        return _ip6_text(vals)
    if kind == KIND_MAC:
        return _hex(vals, sep=True)
    if kind == KIND_STR:
        raw = pa.array(np.ascontiguousarray(vals).view(f"S{vals.shape[1]}").ravel())
        try:
            return raw.cast(pa.string())
        except pa.ArrowInvalid:
            return pa.array([b.decode("utf-8", "replace") for b in raw.to_pylist()], pa.string())
    return _hex(vals, sep=False)


def _extra(names: list[str], texts: list[pa.Array], n: int) -> pa.Array:
    """A map column with the same keys for every record, interleaved without a Python loop over records."""
    k = len(names)
    if k == 0:
        return pa.MapArray.from_arrays(pa.array(np.zeros(n + 1, np.int32)), pa.array([], pa.string()),
                                       pa.array([], pa.string()))
    items = pa.concat_arrays(texts).take(pa.array((np.arange(k)[None, :] * n + np.arange(n)[:, None]).ravel()))
    keys = pa.array(np.tile(np.array(names, dtype=object), n), pa.string())
    return pa.MapArray.from_arrays(pa.array(np.arange(0, n * k + 1, k, dtype=np.int32)), keys, items)


def _ntp_ms(v: np.ndarray) -> np.ndarray:
    secs = (v >> np.uint64(32)).astype(np.int64) - NTP_EPOCH_S
    frac = ((v & np.uint64(0xFFFFFFFF)) * np.uint64(1000)) >> np.uint64(32)
    return secs * 1000 + frac.astype(np.int64)


def _times(num: dict[tuple[int, int], np.ndarray], n: int, export_ms: np.ndarray, uptime_ms: np.ndarray,
           init_ms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(ts, te, bad, estimated) in ms since the epoch.

    ``bad`` marks records whose time cannot be placed at all; ``estimated`` those placed
    at the export time (no time field, or IPFIX sysUpTime-relative times with no
    systemInitTimeMilliseconds: the flow is taken to end at the export and keeps its
    exact duration).
    """
    def get(ie: int) -> np.ndarray | None:
        return num.get((0, ie))

    none = np.zeros(n, bool)
    pairs = (
        (152, 153, lambda v: v.astype(np.int64)),
        (150, 151, lambda v: v.astype(np.int64) * 1000),
        (154, 155, _ntp_ms),
        (156, 157, _ntp_ms),
        (158, 159, lambda v: export_ms - (v // np.uint64(1000)).astype(np.int64)),
    )
    for a, b, conv in pairs:
        s, e = get(a), get(b)
        if s is None:
            s = e
        if s is not None:
            ts = conv(s)
            te = conv(e) if e is not None else ts
            return ts, te, ts <= 0, none
    first, last = get(22), get(21)
    if first is None:
        first = last
    if last is None:
        last = first
    if first is None or last is None:
        return export_ms.copy(), export_ms.copy(), export_ms <= 0, ~none
    f64, l64 = first.astype(np.int64), last.astype(np.int64)
    init = num.get((0, 160))
    if init is not None:
        ts, te = init.astype(np.int64) + f64, init.astype(np.int64) + l64
        return ts, te, ts <= 0, none
    v9 = uptime_ms >= 0
    known = v9 | (init_ms >= 0)
    # v9: boot = unix_secs - sysUptime; a signed 32-bit difference copes with uptime wrap-around
    back_s = ((uptime_ms - f64) & 0xFFFFFFFF).astype(np.uint32).view(np.int32).astype(np.int64)
    back_e = ((uptime_ms - l64) & 0xFFFFFFFF).astype(np.uint32).view(np.int32).astype(np.int64)
    duration = ((l64 - f64) & 0xFFFFFFFF).astype(np.uint32).view(np.int32).astype(np.int64)
    ts = np.where(v9, export_ms - back_s, np.where(known, init_ms + f64, export_ms - duration))
    te = np.where(v9, export_ms - back_e, np.where(known, init_ms + l64, export_ms))
    return ts, te, ts <= 0, ~known


def flow_columns(tpl: Template, values: Sequence[np.ndarray | list[bytes] | None], n: int, export_ms: np.ndarray,
                 uptime_ms: np.ndarray, init_ms: np.ndarray, exporter: str,
                 source: str) -> tuple[dict[str, pa.Array], np.ndarray]:
    """FLOW columns (all but ``rid``) for ``n`` records of ``tpl``, and the mask of records with no usable time."""
    num: dict[tuple[int, int], np.ndarray] = {}
    mats: dict[tuple[int, int], np.ndarray] = {}
    names: list[str] = []
    texts: list[pa.Array] = []
    # an element repeated in a template (Huawei: outer then inner protocol/ports) maps its last occurrence,
    # as nfacctd and nfdump do; the earlier ones go to ``extra``
    last = {(f.pen, f.ie): i for i, f in enumerate(tpl.fields) if values[i] is not None}
    for i, (f, v) in enumerate(zip(tpl.fields, values, strict=True)):
        if v is None or f.pen not in (0, REVERSE_PEN):
            continue
        key = (f.pen, f.ie)
        if f.pen == 0 and f.ie in MAPPED and last[key] == i:
            if isinstance(v, np.ndarray) and v.ndim == 1:
                num[key] = v
                continue
            if isinstance(v, np.ndarray):
                mats[key] = v
                continue
        if f.pen == REVERSE_PEN:
            if isinstance(v, np.ndarray) and v.ndim == 1:
                num.setdefault(key, v)
            continue
        if f.ie == 210:  # paddingOctets
            continue
        names.append(ie_name(f.ie))
        texts.append(_text(ie_kind(f.ie, f.length), v))

    def u(ie: int, pen: int = 0) -> np.ndarray | None:
        return num.get((pen, ie))

    def first_of(*ies: tuple[int, int]) -> np.ndarray | None:
        for pen, ie in ies:
            if (pen, ie) in num:
                return num[(pen, ie)]
        return None

    def col(name: str, v: np.ndarray | None) -> None:
        if v is not None:
            cols[name] = pa.array(v.astype(np.int64)).cast(FLOW.field(name).type, safe=False)

    ts, te, bad, estimated = _times(num, n, export_ms, uptime_ms, init_ms)
    if estimated.any():
        names.append("time_basis")
        texts.append(pa.array(np.where(estimated, "export", "flow"), pa.string()))
    cols: dict[str, pa.Array] = {
        "ts": pa.array(ts, FLOW.field("ts").type),
        "te": pa.array(te, FLOW.field("te").type),
        "td": pa.array((te - ts) / 1000.0, pa.float64()),
    }
    for name, v4, v6 in (("sip", 8, 27), ("dip", 12, 28)):
        a4, m4, m6 = u(v4), mats.get((0, v4)), mats.get((0, v6))
        if a4 is not None or m4 is not None:
            cols[name] = _ip4_text(a4 if a4 is not None else m4)  # type: ignore[arg-type]
        elif m6 is not None and m6.shape[1] == 16:
            cols[name] = _ip6_text(m6)
    proto = u(4)
    col("sport", u(7))
    dport = u(11)
    icmp = first_of((0, 32), (0, 139))
    if icmp is None and (0, 176) in num:
        icmp = (num[(0, 176)] << np.uint64(8)) | num.get((0, 177), np.zeros(n, np.uint64))
    if icmp is None and (0, 178) in num:
        icmp = (num[(0, 178)] << np.uint64(8)) | num.get((0, 179), np.zeros(n, np.uint64))
    if icmp is not None and proto is not None:
        is_icmp = (proto == 1) | (proto == 58)
        dport = np.where(is_icmp & ((dport if dport is not None else 0) == 0), icmp,
                         dport if dport is not None else 0)
    col("dport", dport)
    if proto is not None:
        cols["proto"] = proto_text(proto)
        col("proto_num", proto)
    flags = u(6)
    if flags is not None:
        cols["flags"] = flags_text(flags)
    col("fwd", u(89))
    col("stos", u(5))
    col("dtos", u(55))
    col("ipkt", first_of((0, 2), (0, 86), (0, 298)))
    col("ibyt", first_of((0, 1), (0, 85), (0, 231)))
    col("opkt", first_of((0, 24), (0, 299), (REVERSE_PEN, 2), (REVERSE_PEN, 86)))
    col("obyt", first_of((0, 23), (0, 232), (REVERSE_PEN, 1), (REVERSE_PEN, 85)))
    col("input", u(10))
    col("output", u(14))
    col("sas", u(16))
    col("das", u(17))
    col("dir", u(61))
    cols["rip"] = pa.array([exporter], pa.string()).take(pa.array(np.zeros(n, np.int32)))
    cols["source"] = pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), pa.array([source]))
    cols["extra"] = _extra(names, texts, n)
    return cols, bad
