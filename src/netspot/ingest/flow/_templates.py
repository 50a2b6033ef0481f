"""Templates of NetFlow v9 (RFC 3954) and IPFIX (RFC 7011): parsing, the per-exporter cache, held data.

A template says how the records of a data set are laid out. It is kept per
``(exporter address, version, observation domain / source id, template id)``; a new
definition replaces the old one, an IPFIX withdrawal (field count 0) removes it.
A data set whose template has not arrived is *held* (at most ``hold_per_exporter`` per
exporter, the oldest evicted first) and decoded when its template arrives; it is never
decoded with a guessed template.

Fixed-length templates get a big-endian numpy structured dtype so that many records
(and many data sets) decode with one ``np.frombuffer``.
"""

from __future__ import annotations

import struct
from collections import OrderedDict, deque
from dataclasses import dataclass, field

import numpy as np

from netspot.ingest.flow._ie import KIND_UINT, ie_kind

__all__ = ["VARLEN", "Context", "Held", "Template", "TemplateField", "TemplateKey", "TemplateStore",
           "parse_ipfix_templates", "parse_v9_options", "parse_v9_templates"]

#: Field length that announces a variable-length field (RFC 7011 section 7).
VARLEN = 65535

_HH = struct.Struct(">HH")
_HHH = struct.Struct(">HHH")
_I = struct.Struct(">I")

TemplateKey = tuple[str, int, int, int]  # exporter, version, domain (source id), template id


@dataclass(frozen=True, slots=True)
class TemplateField:
    """One field of a template: information element, length in bytes, enterprise number (0 = IANA)."""

    ie: int
    length: int
    pen: int = 0


@dataclass(eq=False)
class Template:
    """A (data or options) template; ``record_len`` is -1 when a field has variable length."""

    tid: int
    fields: tuple[TemplateField, ...]
    scope_count: int = 0
    options: bool = False
    record_len: int = field(init=False)
    min_len: int = field(init=False)
    dtype: np.dtype | None = field(init=False)

    def __post_init__(self) -> None:
        var = any(f.length == VARLEN for f in self.fields)
        self.min_len = sum(1 if f.length == VARLEN else f.length for f in self.fields)
        self.record_len = -1 if var else self.min_len
        self.dtype = None if var or self.record_len == 0 else _record_dtype(self.fields)

    def same_layout(self, other: Template) -> bool:
        return self.fields == other.fields and self.options == other.options and self.scope_count == other.scope_count


def _record_dtype(fields: tuple[TemplateField, ...]) -> np.dtype:
    names, formats, offsets = [], [], []
    off = 0
    for i, f in enumerate(fields):
        if f.length:
            names.append(f"f{i}")
            numeric = ie_kind(f.ie, f.length, f.pen) == KIND_UINT and f.length in (1, 2, 4, 8)
            formats.append(f">u{f.length}" if numeric else ("u1", (f.length,)))
            offsets.append(off)
        off += f.length
    return np.dtype({"names": names, "formats": formats, "offsets": offsets, "itemsize": off})


@dataclass(frozen=True, slots=True)
class Context:
    """What a data set needs from its datagram: who sent it, and the header's clocks."""

    exporter: str
    version: int
    domain: int
    export_ms: int  # header export time, ms since the epoch
    uptime_ms: int  # v5/v9 header sysUptime; -1 for IPFIX
    init_ms: int  # IPFIX systemInitTimeMilliseconds known for the domain; -1 when unknown
    locator: str


@dataclass(frozen=True, slots=True)
class Held:
    """A data set waiting for its template."""

    key: TemplateKey
    body: bytes
    ctx: Context


def parse_v9_templates(body: bytes) -> tuple[list[Template], str | None]:
    """Templates of a v9 template flowset (id 0); the error text says where it broke."""
    out: list[Template] = []
    pos, end = 0, len(body)
    while end - pos >= 4:
        tid, count = _HH.unpack_from(body, pos)
        if tid == 0 and count == 0 and not any(body[pos:]):
            break  # zero padding
        if tid < 256:
            return out, f"template id {tid} at offset {pos}: expected >= 256"
        if count == 0:
            return out, f"template {tid} has zero fields"
        need = 4 + 4 * count
        if pos + need > end:
            return out, f"template {tid}: {count} fields need {need} bytes, {end - pos} left in flowset"
        fields = tuple(TemplateField(*_HH.unpack_from(body, pos + 4 + 4 * i)) for i in range(count))
        out.append(Template(tid, fields))
        pos += need
    return out, None


def parse_v9_options(body: bytes) -> tuple[list[Template], str | None]:
    """Templates of a v9 options template flowset (id 1)."""
    out: list[Template] = []
    pos, end = 0, len(body)
    while end - pos >= 6:
        tid, scope_len, opt_len = _HHH.unpack_from(body, pos)
        if tid == 0 and not any(body[pos:]):
            break
        if tid < 256:
            return out, f"options template id {tid} at offset {pos}: expected >= 256"
        if scope_len % 4 or opt_len % 4 or scope_len + opt_len == 0:
            return out, f"options template {tid}: scope length {scope_len}, option length {opt_len} " \
                "(expected non-zero multiples of 4)"
        need = 6 + scope_len + opt_len
        if pos + need > end:
            return out, f"options template {tid} needs {need} bytes, {end - pos} left in flowset"
        n = (scope_len + opt_len) // 4
        fields = tuple(TemplateField(*_HH.unpack_from(body, pos + 6 + 4 * i)) for i in range(n))
        # v9 scope field types (1 system ... 5 template) are not IEs: keep them as private ids
        fields = tuple(TemplateField(f.ie, f.length, pen=-1) if i < scope_len // 4 else f
                       for i, f in enumerate(fields))
        out.append(Template(tid, fields, scope_count=scope_len // 4, options=True))
        pos += need
    return out, None


def parse_ipfix_templates(body: bytes, options: bool) -> tuple[list[Template], list[int], str | None]:
    """IPFIX template (set 2) or options template (set 3) records: (templates, withdrawn ids, error)."""
    out: list[Template] = []
    withdrawn: list[int] = []
    pos, end = 0, len(body)
    head = 6 if options else 4
    while end - pos >= 4:
        tid, count = _HH.unpack_from(body, pos)
        if count == 0:
            if tid < 256 and tid not in (2, 3):
                return out, withdrawn, f"template withdrawal id {tid}: expected 2, 3 or >= 256"
            withdrawn.append(tid)
            pos += 4
            continue
        if tid < 256:
            if not any(body[pos:]):
                break
            return out, withdrawn, f"template id {tid} at offset {pos}: expected >= 256"
        if end - pos < head:
            return out, withdrawn, f"options template {tid}: header cut at offset {pos}"
        scope = _HHH.unpack_from(body, pos)[2] if options else 0
        if options and (scope == 0 or scope > count):
            return out, withdrawn, f"options template {tid}: scope field count {scope} of {count} fields"
        p = pos + head
        fields = []
        for _ in range(count):
            if p + 4 > end:
                return out, withdrawn, f"template {tid}: field list overruns the set ({count} fields)"
            ie, length = _HH.unpack_from(body, p)
            p += 4
            pen = 0
            if ie & 0x8000:
                if p + 4 > end:
                    return out, withdrawn, f"template {tid}: enterprise number overruns the set"
                pen = _I.unpack_from(body, p)[0]
                ie &= 0x7FFF
                p += 4
            fields.append(TemplateField(ie, length, pen))
        out.append(Template(tid, tuple(fields), scope_count=scope, options=options))
        pos = p
    return out, withdrawn, None


class TemplateStore:
    """Templates per exporter and domain, and the data sets held for templates not yet seen."""

    def __init__(self, hold_per_exporter: int = 1024) -> None:
        self.hold_per_exporter = hold_per_exporter
        self._templates: dict[TemplateKey, Template] = {}
        self._held: dict[str, OrderedDict[int, Held]] = {}
        self._seq = 0

    def __len__(self) -> int:
        return len(self._templates)

    def get(self, key: TemplateKey) -> Template | None:
        return self._templates.get(key)

    def put(self, key: TemplateKey, template: Template) -> list[Held]:
        """Define (or redefine) a template; returns the held data sets it releases, oldest first."""
        old = self._templates.get(key)
        if old is None or not old.same_layout(template):
            self._templates[key] = template
        held = self._held.get(key[0])
        if not held:
            return []
        ready = [h for h in held.values() if h.key == key]
        if ready:
            for seq in [s for s, h in held.items() if h.key == key]:
                del held[seq]
        return ready

    def withdraw(self, exporter: str, version: int, domain: int, tid: int, options: bool) -> None:
        """Remove one template, or (``tid`` 2 or 3, RFC 7011 section 8.1) all (options) templates."""
        if tid >= 256:
            self._templates.pop((exporter, version, domain, tid), None)
            return
        for key in [k for k, t in self._templates.items()
                    if k[:3] == (exporter, version, domain) and t.options == options]:
            del self._templates[key]

    def hold(self, held: Held) -> Held | None:
        """Hold a data set; returns the oldest held set of that exporter when the cap is exceeded."""
        queue = self._held.setdefault(held.key[0], OrderedDict())
        self._seq += 1
        queue[self._seq] = held
        if len(queue) > self.hold_per_exporter:
            return queue.popitem(last=False)[1]
        return None

    @property
    def held_count(self) -> int:
        return sum(len(q) for q in self._held.values())

    def release_all(self) -> deque[Held]:
        """Every held data set, oldest first per exporter; the store keeps none."""
        out: deque[Held] = deque()
        for queue in self._held.values():
            out.extend(queue.values())
        self._held.clear()
        return out
