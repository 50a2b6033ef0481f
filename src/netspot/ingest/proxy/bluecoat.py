"""Blue Coat ProxySG access log (ELFF / W3C extended) reader, with Apache Spot's rules.

Fields are separated by spaces or tabs; a field with spaces is in double quotes;
``-`` means empty. ``#`` lines are headers: a ``#Fields:`` header names the columns
(and may change mid-file), otherwise Spot's 27 positions apply (:data:`SPOT_FIELDS`).
Spot's rules: ``ts`` = ``date`` + ``time`` (UTC), ``fulluri`` = ``cs-host`` + path
(if longer than 1) + query (if longer than 1), ``respcode`` an integer (0 for
``-``), ports, bytes and ``time-taken`` (ms) integers. Columns without a place in
the ``proxy`` schema go to ``extra``.

Quarantine: a line with another number of fields than the header says
(FIELD_COUNT), an integer field that is not one (BAD_VALUE), a bad date or time
(BAD_TIMESTAMP), text that is not UTF-8 (MALFORMED).

References
----------
Apache Spot, ``spot-ingest/pipelines/proxy/bluecoat.py``; Blue Coat "ProxySG Access Log Formats" (bcreportermain_v1).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from netspot.errors import FormatError, Location
from netspot.ingest._extra import extra_map
from netspot.ingest._text import (
    LineBlock,
    blank_and_comment,
    constant,
    extract,
    iter_line_blocks,
    line_rids,
    null_if_dash,
    quarantine_lines,
    to_int,
)
from netspot.ingest.base import Reader, Source
from netspot.ingest.proxy._url import fulluri
from netspot.ingest.quarantine import Quarantine, QuarantineReason
from netspot.schema import DataKind, conform

__all__ = ["SPOT_FIELDS", "BluecoatReader"]

_SPOT_LAYOUT = (
    "date time time-taken c-ip cs-username cs-auth-group x-exception-id sc-filter-result cs-categories "
    "cs(Referer) sc-status s-action cs-method rs(Content-Type) cs-uri-scheme cs-host cs-uri-port cs-uri-path "
    "cs-uri-query cs-uri-extension cs(User-Agent) s-ip sc-bytes cs-bytes x-virus-id "
    "x-bluecoat-application-name x-bluecoat-application-operation"
)
#: Spot's field positions, used when a file has no ``#Fields:`` header.
SPOT_FIELDS: tuple[str, ...] = tuple(_SPOT_LAYOUT.split())

#: ELFF field name (lower case) -> proxy column. ``cs-uri-stem`` is the W3C name of the path.
COLUMNS = {
    "time-taken": "duration", "c-ip": "clientip", "cs-username": "username", "cs-auth-group": "authgroup",
    "x-exception-id": "exceptionid", "sc-filter-result": "filterresult", "cs-categories": "webcat",
    "cs(referer)": "referer", "sc-status": "respcode", "s-action": "action", "cs-method": "reqmethod",
    "rs(content-type)": "resconttype", "cs-uri-scheme": "urischeme", "cs-host": "host", "cs-uri-port": "uriport",
    "cs-uri-path": "uripath", "cs-uri-stem": "uripath", "cs-uri-query": "uriquery",
    "cs-uri-extension": "uriextension", "cs(user-agent)": "useragent", "s-ip": "serverip", "sc-bytes": "scbytes",
    "cs-bytes": "csbytes", "x-virus-id": "virusid", "x-bluecoat-application-name": "bcappname",
    "x-bluecoat-application-operation": "bcappoper",
}
_INTS = ("duration", "uriport", "scbytes", "csbytes", "respcode")
_TOKEN = r'"[^"]*"|[^\s"]\S*|"\S*'
_TOKENS = re.compile(_TOKEN)
_SNIFF_LINE = re.compile(r"^\d{4}-\d{2}-\d{2}[ \t]+\d{2}:\d{2}:\d{2}[ \t]")


def _pattern(n: int) -> str:
    """RE2 pattern splitting a line into exactly ``n`` fields (quoted ones keep their quotes)."""
    return r"^\s*" + r"[ \t]+".join(f"(?P<f{i}>{_TOKEN})" for i in range(n)) + r"\s*$"


def _fields_header(line: str) -> list[str] | None:
    if line.lower().startswith("#fields:"):
        return line.split(":", 1)[1].split()
    return None


class BluecoatReader(Reader):
    """Blue Coat ELFF access logs to ``proxy`` rows (Spot's parser, vectorised with RE2).

    Examples
    --------
    >>> BluecoatReader().sniff(b"#Software: SGOS 6.7\\n#Fields: date time time-taken c-ip cs-host\\n")
    True
    """

    format = "bluecoat"
    kind = DataKind.PROXY

    def sniff(self, head: bytes) -> bool:
        for raw in head.splitlines()[:50]:
            line = raw.decode("utf-8", "replace").strip()
            fields = _fields_header(line)
            if fields is not None:
                names = {f.lower() for f in fields}
                return {"date", "time"} <= names and bool(names & {"cs-host", "c-ip", "s-action"})
            if line and not line.startswith("#"):
                return bool(_SNIFF_LINE.match(line)) and len(_TOKENS.findall(line)) == len(SPOT_FIELDS)
        return False

    def read(self, src: Source, quarantine: Quarantine) -> Iterator[pa.RecordBatch]:
        fields = list(SPOT_FIELDS)
        for block in iter_line_blocks(src, quarantine):
            blank, comment = blank_and_comment(block)
            quarantine.skip("blank line", int(blank.sum()))
            quarantine.skip("header line", int(comment.sum()))
            quarantine_lines(quarantine, block, block.bad_utf8, QuarantineReason.MALFORMED, "expected UTF-8 text")
            data = ~(blank | comment | block.bad_utf8)
            # A #Fields: header starts a new segment with its own columns.
            start = 0
            for i in np.flatnonzero(comment):
                header = _fields_header(block.lines[int(i)].as_py().strip())
                if header is None:
                    continue
                yield from self._segment(src, block, data, start, int(i), fields, quarantine)
                fields, start = self._check(header, src, block.first + int(i)), int(i) + 1
            yield from self._segment(src, block, data, start, len(block), fields, quarantine)

    @staticmethod
    def _check(fields: list[str], src: Source, line: int) -> list[str]:
        names = {f.lower() for f in fields}
        if not {"date", "time"} <= names:
            raise FormatError(f"expected #Fields: with 'date' and 'time', got {' '.join(fields)!r}",
                              Location(src.name, line=line))
        return fields

    def _segment(
        self, src: Source, block: LineBlock, data: np.ndarray, start: int, stop: int, fields: list[str],
        quarantine: Quarantine,
    ) -> Iterator[pa.RecordBatch]:
        if stop <= start or not data[start:stop].any():
            return
        seg = block.slice(start, stop - start)
        keep = data[start:stop].copy()
        groups, matched = extract(seg.lines, _pattern(len(fields)))
        bad = keep & ~matched
        if bad.any():
            counts = [len(_TOKENS.findall(seg.lines[int(i)].as_py())) for i in np.flatnonzero(bad)]
            quarantine_lines(quarantine, seg, bad, QuarantineReason.FIELD_COUNT,
                             [f"expected {len(fields)} fields, got {c}" for c in counts])
        keep &= matched
        if not keep.any():
            return
        g = groups.filter(pa.array(keep))
        rows = np.flatnonzero(keep)
        values = {name.lower(): pc.replace_substring_regex(g.field(i), r'^"(.*)"$', r"\1")
                  for i, name in enumerate(fields)}
        cols, problems = _columns(values)
        good = np.ones(len(g), dtype=bool)
        for reason, mask, details in problems:
            mask = mask & good
            if mask.any():
                lines = np.zeros(len(seg), dtype=bool)
                lines[rows[mask]] = True
                quarantine_lines(quarantine, seg, lines, reason, [details[int(i)] for i in np.flatnonzero(mask)])
                good &= ~mask
        keep[rows[~good]] = False
        n = int(good.sum())
        if n == 0:
            return
        flt = pa.array(good)
        cols = {k: v.filter(flt) for k, v in cols.items()}
        cols["rid"] = line_rids(src, seg, keep)
        cols["source"] = constant(self.format, n)
        yield conform(cols, self.schema, n)


def _details(mask: np.ndarray, values: pa.Array, template: str) -> dict[int, str]:
    """Row -> detail text for the rows ``mask`` selects (a slow path, for bad rows only)."""
    rows = np.flatnonzero(mask)
    got = values.filter(pa.array(mask)).to_pylist()
    return {int(i): template.format(v) for i, v in zip(rows, got, strict=True)}


def _columns(
    values: dict[str, pa.Array],
) -> tuple[dict[str, pa.Array], list[tuple[QuarantineReason, np.ndarray, dict[int, str]]]]:
    """Proxy columns from ELFF fields by name, and the rows to quarantine (reason, mask, details)."""
    n = len(values["date"])
    problems: list[tuple[QuarantineReason, np.ndarray, dict[int, str]]] = []
    text = pc.binary_join_element_wise(values["date"], values["time"], " ")
    ts = pc.strptime(text, format="%Y-%m-%d %H:%M:%S", unit="ms", error_is_null=True)
    bad_ts = ts.is_null().to_numpy(zero_copy_only=False)
    if bad_ts.any():
        problems.append((QuarantineReason.BAD_TIMESTAMP, bad_ts,
                         _details(bad_ts, text, "expected date and time as YYYY-MM-DD HH:MM:SS, got {!r}")))
    cols: dict[str, pa.Array] = {"ts": pc.fill_null(ts.cast(pa.int64()), 0).cast(pa.timestamp("ms", tz="UTC"))}
    extras: dict[str, pa.Array] = {}
    for name, value in values.items():
        column = COLUMNS.get(name)
        if name in ("date", "time"):
            continue
        if column is None or column in cols:
            extras[name] = null_if_dash(value)
            continue
        if column in _INTS:
            number, bad = to_int(null_if_dash(value))
            if bad.any():
                problems.append((QuarantineReason.BAD_VALUE, bad,
                                 _details(bad, value, f"field {name}: expected an integer, got {{!r}}")))
            cols[column] = pc.fill_null(number, 0) if column == "respcode" else number
        else:
            cols[column] = null_if_dash(value)
    for column in ("host", "uripath", "uriquery"):
        cols.setdefault(column, pa.nulls(n, pa.string()))
    cols["fulluri"] = fulluri(cols["host"], cols["uripath"], cols["uriquery"])
    cols["extra"] = extra_map(extras, n)
    return cols, problems
