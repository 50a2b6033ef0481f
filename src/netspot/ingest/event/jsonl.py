"""ECS-like JSON lines (one event object per line) to ``event`` rows.

Keys may be nested (``{"source": {"ip": "1.2.3.4"}}``) or dotted (``"source.ip"``),
even mixed in one file. Mapped keys (:data:`FIELDS`): ``@timestamp`` (ISO 8601 with
a zone, taken as UTC without one; or epoch seconds, or epoch milliseconds when its
magnitude is at least 1e11), ``event.category`` / ``action`` / ``outcome`` /
``severity``, ``source.ip`` / ``port``, ``destination.ip`` / ``port``,
``network.transport``, ``user.name``, ``host.name``, ``process.name``,
``rule.name`` and ``message``. Every other key goes to ``extra`` under its dotted
name, its value JSON-encoded; a list value (``event.category: ["authentication"]``)
of a mapped text key is joined with commas.

Blocks of lines are parsed by pyarrow's JSON reader. When a block fails (a bad line,
or a key whose type changes between lines) it is split in halves until the failing
lines stand alone: a single line that fails is quarantined MALFORMED with the
parser's message. A missing or bad ``@timestamp`` is BAD_TIMESTAMP; a port or
severity that is not an integer is BAD_VALUE.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from netspot.ingest._extra import extra_map
from netspot.ingest._text import (
    LineBlock,
    blank_and_comment,
    constant,
    iter_line_blocks,
    parse_iso8601,
    quarantine_lines,
)
from netspot.ingest.base import Reader, Source
from netspot.ingest.event._json_columns import details, flatten, map_columns, to_json_text, to_text
from netspot.ingest.quarantine import Quarantine, QuarantineReason
from netspot.schema import DataKind, conform

__all__ = ["FIELDS", "EcsJsonReader"]

#: ECS dotted key -> ``event`` column.
FIELDS = {
    "event.category": "category", "event.action": "action", "event.outcome": "outcome",
    "event.severity": "severity", "source.ip": "src_ip", "source.port": "src_port",
    "destination.ip": "dst_ip", "destination.port": "dst_port", "network.transport": "proto",
    "user.name": "user", "host.name": "host", "process.name": "process", "rule.name": "rule", "message": "message",
}
#: Keys that mark a Zeek JSON log (another reader's) rather than ECS.
ZEEK_KEYS = ("id.orig_h", "_path")


def _keys(obj: dict[str, object], prefix: str = "") -> Iterator[str]:
    for key, value in obj.items():
        name = f"{prefix}{key}"
        yield name
        if isinstance(value, dict):
            yield from _keys(value, f"{name}.")


class EcsJsonReader(Reader):
    """ECS-like JSON lines to ``event`` rows.

    Examples
    --------
    >>> EcsJsonReader().sniff(b'{"@timestamp": "2024-01-02T03:04:05Z", "event": {"action": "login"}}\\n')
    True
    >>> EcsJsonReader().sniff(b'{"ts": 1.0, "id.orig_h": "10.0.0.1", "_path": "conn"}\\n')
    False
    """

    format = "ecs-json"
    kind = DataKind.EVENT

    def sniff(self, head: bytes) -> bool:
        for raw in head.splitlines()[:5]:
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except ValueError:
                return False
            if not isinstance(obj, dict):
                return False
            keys = set(_keys(obj))
            if any(k in keys for k in ZEEK_KEYS) or ("id" in keys and "id.orig_h" in keys):
                return False
            return "@timestamp" in keys or any(k.startswith("event.") for k in keys)
        return False

    def read(self, src: Source, quarantine: Quarantine) -> Iterator[pa.RecordBatch]:
        for block in iter_line_blocks(src, quarantine):
            blank, _ = blank_and_comment(block, comment=None)
            quarantine.skip("blank line", int(blank.sum()))
            quarantine_lines(quarantine, block, block.bad_utf8, QuarantineReason.MALFORMED, "expected UTF-8 text")
            rows = np.flatnonzero(~(blank | block.bad_utf8))
            yield from self._parse(src, block, rows, quarantine)

    def _parse(
        self, src: Source, block: LineBlock, rows: np.ndarray, quarantine: Quarantine
    ) -> Iterator[pa.RecordBatch]:
        """Parse the lines ``rows`` of ``block``; on failure, bisect down to the bad lines."""
        if not len(rows):
            return
        selected = block.raw.take(pa.array(rows))
        joined = pc.binary_join_element_wise(selected, pa.scalar(b"\n"), pa.scalar(b""))
        offsets = np.frombuffer(joined.buffers()[1], dtype=np.int32)[joined.offset : joined.offset + len(joined) + 1]
        data = joined.buffers()[2].to_pybytes()[int(offsets[0]) : int(offsets[-1])]
        error = ""
        try:
            options = pj.ReadOptions(block_size=max(len(data) + 1, 1 << 16), use_threads=False)
            table = pj.read_json(io.BytesIO(data), read_options=options)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            error = str(exc)
        else:
            if table.num_rows == len(rows):
                batch = self._table(src, block, rows, table, quarantine)
                if batch is not None:
                    yield batch
                return
            error = f"expected one JSON object per line, got {table.num_rows} objects in {len(rows)} lines"
        if len(rows) == 1:
            mask = np.zeros(len(block), dtype=bool)
            mask[rows] = True
            quarantine_lines(quarantine, block, mask, QuarantineReason.MALFORMED, f"expected a JSON object: {error}")
            return
        half = len(rows) // 2
        yield from self._parse(src, block, rows[:half], quarantine)
        yield from self._parse(src, block, rows[half:], quarantine)

    def _table(
        self, src: Source, block: LineBlock, rows: np.ndarray, table: pa.Table, quarantine: Quarantine
    ) -> pa.RecordBatch | None:
        columns = flatten(table)
        stamp = columns.pop("@timestamp", None)
        ms = _timestamp(stamp, len(rows))
        cols, extras, problems = map_columns(columns, FIELDS)
        bad_ts = ms.is_null().to_numpy(zero_copy_only=False)
        if bad_ts.any():
            got = to_text(stamp) if stamp is not None else None
            problems.insert(0, (QuarantineReason.BAD_TIMESTAMP, bad_ts,
                                details(bad_ts, got, "expected @timestamp as ISO 8601 or epoch s/ms")))
        good = np.ones(len(rows), dtype=bool)
        for reason, mask, detail in problems:  # a row is quarantined once, for its first problem
            mask = mask & good
            if mask.any():
                lines = np.zeros(len(block), dtype=bool)
                lines[rows[mask]] = True
                quarantine_lines(quarantine, block, lines, reason, [detail[int(i)] for i in np.flatnonzero(mask)])
                good &= ~mask
        n = int(good.sum())
        if n == 0:
            return None
        flt = pa.array(good)
        out = {k: v.filter(flt) for k, v in cols.items()}
        out["ts"] = ms.filter(flt).cast(pa.timestamp("ms", tz="UTC"))
        out["extra"] = extra_map({k: to_json_text(v).filter(flt) for k, v in extras.items()}, n)
        base = (src.number << 32) + block.first - 1
        out["rid"] = pa.array(base + rows[good].astype(np.int64))
        out["source"] = constant(self.format, n)
        return conform(out, self.schema, n)


def _timestamp(stamp: pa.Array | None, n: int) -> pa.Array:
    """UTC milliseconds of ``@timestamp`` values of any JSON type; null where unusable."""
    if stamp is None or pa.types.is_null(stamp.type):
        return pa.nulls(n, pa.int64())
    if pa.types.is_timestamp(stamp.type):
        return stamp.cast(pa.timestamp("ms")).cast(pa.int64())
    if pa.types.is_integer(stamp.type) or pa.types.is_floating(stamp.type):
        num = stamp.cast(pa.float64())
        big = pc.greater_equal(pc.abs(num), 1e11)
        ms = pc.if_else(big, num, pc.multiply(num, 1000.0))
        ok = pc.less(pc.abs(ms), 2.5e14)  # about year 9900: beyond, the value is not a time
        return pc.if_else(ok, pc.floor(ms), pa.scalar(None, pa.float64())).cast(pa.int64())
    text = to_text(stamp)
    numeric = pc.fill_null(pc.match_substring_regex(text, r"^-?\d{1,16}(\.\d+)?$"), False)
    parsed = parse_iso8601(text)
    as_number = _timestamp(pc.if_else(numeric, text, pa.scalar(None, pa.string())).cast(pa.float64()), n)
    return pc.if_else(numeric, as_number, parsed)
