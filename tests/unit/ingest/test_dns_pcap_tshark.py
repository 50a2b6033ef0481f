"""The dns-pcap reader against tshark, field by field, on every shared capture that carries DNS.

tshark's ``-T fields`` output is read generically (one dict of occurrence lists per
frame) and mapped onto the schema. Where tshark renders differently, the mapping
says so:

* ``dns.id``, ``dns.flags`` and ``dns.qry.class`` are hex text in tshark (``0x0100``),
  integers in netspot;
* tshark gives the answer values per record type in separate fields, across all
  sections (answers, authority, additional); the first ``dns.count.answers`` records
  of ``dns.resp.type``/``dns.resp.ttl`` are the answers, and the k-th answer of type
  A is the k-th ``dns.a`` (answers come first);
* ``dns.txt`` is one occurrence per character-string; netspot concatenates the
  strings of one record;
* types tshark splits into sub-fields (KEY, OPT, ...) are hex rdata in netspot and are
  compared by type and TTL only;
* ``frame.time_epoch`` has nanoseconds; netspot's ``ts`` has milliseconds (floored).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pyarrow as pa
import pytest

from netspot.ingest.base import Source
from netspot.ingest.dns.pcap import DnsPcapReader
from netspot.ingest.quarantine import Quarantine
from tests.conftest import SHARED, require_tool

FIELDS = [
    "frame.number", "frame.time_epoch", "frame.len", "ip.src", "ipv6.src", "ip.dst", "ipv6.dst", "udp.srcport",
    "tcp.srcport", "udp.dstport", "tcp.dstport", "dns.id", "dns.flags", "dns.flags.response",
    "dns.flags.opcode", "dns.flags.rcode", "dns.qry.name", "dns.qry.type", "dns.qry.class",
    "dns.count.queries", "dns.count.answers", "dns.resp.type", "dns.resp.ttl", "dns.a", "dns.aaaa",
    "dns.cname", "dns.ns", "dns.ptr.domain_name", "dns.mx.mail_exchange", "dns.srv.target", "dns.txt",
    "dns.null", "dns.soa.mname",
]
#: answer type -> the tshark field holding its value
VALUE_FIELD = {1: "dns.a", 28: "dns.aaaa", 5: "dns.cname", 2: "dns.ns", 12: "dns.ptr.domain_name",
               15: "dns.mx.mail_exchange", 33: "dns.srv.target", 16: "dns.txt", 10: "dns.null", 6: "dns.soa.mname"}
AGG, SEP = "\x1e", "\x1f"


def _captures() -> list[str]:
    names = ["dns/tunnel/*.pcap", "dns/benign/*.pcap", "c2/pcap/*.pcap*", "benign/pcap/*.pcap*", "scan/pcap/*.pcap*"]
    return sorted(str(p.relative_to(SHARED)) for pat in names for p in SHARED.glob(pat)) or ["(no shared data)"]


def tshark_frames(tshark: str, path: Path) -> list[dict[str, list[str]]]:
    """Every frame with a DNS message, as {field: occurrences}."""
    cmd = [tshark, "-r", str(path), "-Y", "dns", "-T", "fields", "-E", "occurrence=a", "-E", f"aggregator={AGG}",
           "-E", f"separator={SEP}"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, check=True).stdout.decode("utf-8")
    frames = []
    for line in out.split("\n"):
        if line:
            vals = line.split(SEP)
            frames.append({f: (v.split(AGG) if v else []) for f, v in zip(FIELDS, vals, strict=True)})
    return frames


def expected_row(fr: dict[str, list[str]]) -> dict[str, object]:
    """The schema row tshark's fields describe."""
    one = {f: (v[0] if v else None) for f, v in fr.items()}
    epoch = str(one["frame.time_epoch"])
    sec, frac = epoch.split(".")
    n_ans = int(str(one["dns.count.answers"]))
    types = [int(x) for x in fr["dns.resp.type"][:n_ans]]
    seen: dict[int, int] = {}
    answers: list[str | None] = []
    for t in types:
        k = seen.get(t, 0)
        seen[t] = k + 1
        vals = fr.get(VALUE_FIELD.get(t, ""), [])
        answers.append(vals[k] if k < len(vals) else None)
    if 16 in types and len(fr["dns.txt"]) != types.count(16):
        answers = [a if t != 16 else None for a, t in zip(answers, types, strict=True)]  # multi-string TXT
    has_q = int(str(one["dns.count.queries"])) > 0
    return {
        "ts_ms": int(sec) * 1000 + int((frac + "000")[:3]),
        "frame_len": int(str(one["frame.len"])),
        "ip_src": one["ip.src"] or one["ipv6.src"],
        "ip_dst": one["ip.dst"] or one["ipv6.dst"],
        "sport": int(str(one["udp.srcport"] or one["tcp.srcport"])),
        "dport": int(str(one["udp.dstport"] or one["tcp.dstport"])),
        "transport": "udp" if one["udp.srcport"] else "tcp",
        "dns_id": int(str(one["dns.id"]), 16),
        "flags": int(str(one["dns.flags"]), 16),
        "is_response": one["dns.flags.response"] in ("1", "True"),
        "opcode": int(str(one["dns.flags.opcode"])),
        "dns_qry_rcode": int(str(one["dns.flags.rcode"] or 0)),
        "dns_qry_name": one["dns.qry.name"] if has_q else None,
        "dns_qry_type": int(str(one["dns.qry.type"])) if has_q else None,
        "dns_qry_class": int(str(one["dns.qry.class"]), 16) if has_q else None,
        "dns_answer_types": types,
        "dns_ttls": [int(x) for x in fr["dns.resp.ttl"][:n_ans]],
        "dns_answers": answers,
    }


def netspot_rows(path: Path) -> tuple[list[dict[str, object]], Quarantine]:
    q = Quarantine(str(path), "dns-pcap")
    table = pa.Table.from_batches(DnsPcapReader().read(Source(path), q), schema=DnsPcapReader().schema)
    rows = table.to_pylist()
    for r in rows:
        r["ts_ms"] = int(r.pop("ts").timestamp() * 1000 + 0.5)  # type: ignore[attr-defined]
    return rows, q


@pytest.mark.parametrize("name", _captures())
def test_every_dns_message_equals_tshark_field_by_field(shared: Path, name: str) -> None:
    tshark = require_tool("tshark")
    path = shared / name
    frames = tshark_frames(tshark, path)
    rows, q = netspot_rows(path)
    assert q.total == 0, q.drain().to_pylist()  # type: ignore[union-attr]
    assert len(rows) == len(frames)
    for k, (fr, row) in enumerate(zip(frames, rows, strict=True)):
        want = expected_row(fr)
        got = {f: row[f] for f in want}
        got["dns_answers"] = [a if w is not None else None
                              for a, w in zip(row["dns_answers"], want["dns_answers"], strict=False)]  # type: ignore[call-overload]
        assert got == want, f"{name} frame {fr['frame.number']} (message {k})"
