"""OpenSSH ``sshd`` messages in syslog files (auth.log, secure) to ``event`` rows.

Three syslog layouts are read, decided per line:

* classic (RFC 3164): ``Dec 10 06:55:46 LabSZ sshd[24200]: Failed password for root from 1.2.3.4 port 22 ssh2``;
* ISO timestamp (rsyslog ``RSYSLOG_FileFormat``): ``2024-01-02T03:04:05.123+01:00 host sshd[1]: ...``;
* RFC 5424: ``<38>1 2024-01-02T03:04:05Z host sshd 1 - - ...``.

Classic syslog has no year and no zone: the reader's ``year`` (default: the year
of the file's modification time, UTC) is used and the time is taken as UTC.
Lines of other programs are skipped (counted); lines that are not syslog are
quarantined MALFORMED. Every sshd line becomes an event (category
``authentication``, process ``sshd``); :data:`ACTIONS` lists the actions, in the
order they are tried, and an sshd message of no known kind gets action ``other``.
``message repeated N times: [ ... ]`` is classified by its inner message, with
``repeated`` = N in ``extra``; the syslog pid and the auth method go to ``extra``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from netspot.ingest._extra import extra_map
from netspot.ingest._text import (
    LineBlock,
    blank_and_comment,
    constant,
    iter_line_blocks,
    line_rids,
    parse_iso8601,
    quarantine_lines,
    to_int,
)
from netspot.ingest.base import Reader, Source
from netspot.ingest.quarantine import Quarantine, QuarantineReason
from netspot.schema import DataKind, conform

__all__ = ["ACTIONS", "SshdReader"]

_PRI = r"(?:<\d{1,3}>)?"
_CLASSIC = (
    _PRI + r"(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +(?P<day>\d{1,2}) (?P<hms>\d{2}:\d{2}:\d{2})"
    r"(?:\.\d+)? (?P<host>\S+) (?P<prog>[^\s\[:]+)(?:\[(?P<pid>\d+)\])?: ?(?P<msg>.*)$"
)
_ISO = (
    r"^" + _PRI + r"(?P<iso>\d{4}-\d{2}-\d{2}T\S+) (?P<host>\S+) (?P<prog>[^\s\[:]+)(?:\[(?P<pid>\d+)\])?: ?"
    r"(?P<msg>.*)$"
)
_RFC5424 = (
    r"^<\d{1,3}>1 (?P<iso>\S+) (?P<host>\S+) (?P<prog>\S+) (?P<pid>\S+) \S+ (?:-|(?:\[(?:[^\]\\]|\\.)*\])+) ?"
    r"(?:\x{FEFF})?(?P<msg>.*)$"
)
_SSHD = r"^sshd(?:-session|-auth)?$"
_REPEATED = r"^message repeated (?P<n>\d+) times: \[ ?(?P<inner>.*?) ?\]$"
_IP = r"(?P<ip>[0-9A-Fa-f:.]+|\S+?)"
_USER = r"(?P<user>.*?)"
_FROM = rf"{_USER} from {_IP} port (?P<port>\d+)"

#: (action, outcome, RE2 pattern on the sshd message), tried in order; the first match wins.
#: Named groups ``user``, ``ip``, ``port`` and ``method`` fill the event's columns.
ACTIONS: tuple[tuple[str, str, str], ...] = (
    ("failed_password", "failure", rf"^Failed (?P<method>password) for (?:invalid user )?{_FROM}"),
    ("failed_publickey", "failure", rf"^Failed (?P<method>publickey) for (?:invalid user )?{_FROM}"),
    ("failed_other", "failure", rf"^Failed (?P<method>\S+) for (?:invalid user )?{_FROM}"),
    ("accepted_password", "success", rf"^Accepted (?P<method>password) for {_USER} from {_IP} port (?P<port>\d+)"),
    ("accepted_publickey", "success", rf"^Accepted (?P<method>publickey) for {_USER} from {_IP} port (?P<port>\d+)"),
    ("accepted_keyboard_interactive", "success",
     rf"^Accepted (?P<method>keyboard-interactive\S*) for {_USER} from {_IP} port (?P<port>\d+)"),
    ("accepted_other", "success", rf"^Accepted (?P<method>\S+) for {_USER} from {_IP} port (?P<port>\d+)"),
    ("invalid_user", "failure", rf"^Invalid user {_USER} from {_IP}(?: port (?P<port>\d+))?\s*$"),
    ("invalid_user_preauth", "failure", rf"^input_userauth_request: invalid user {_USER} \[preauth\]"),
    ("user_not_allowed", "failure", rf"^User {_USER} from {_IP} not allowed because"),
    ("pam_auth_failure", "failure",
     rf"^pam_unix\(sshd:auth\): authentication failure;.*? rhost={_IP}?(?:\s+user=(?P<user>\S+))?\s*$"),
    ("pam_user_unknown", "failure", r"^pam_unix\(sshd:auth\): check pass; user unknown"),
    ("pam_more_failures", "failure",
     rf"^PAM \d+ more authentication failures?;.*? rhost={_IP}?(?:\s+user=(?P<user>\S+))?\s*$"),
    ("pam_max_retries", "failure", r"^PAM service\(sshd\) ignoring max retries"),
    ("too_many_auth_failures", "failure",
     rf"^(?:error: maximum authentication attempts exceeded for (?:invalid user )?{_USER} from {_IP} port "
     r"(?P<port>\d+)|Disconnecting(?: (?:invalid|authenticating) user \S+ \S+ port \d+)?: "
     r"Too many authentication failures)"),
    ("session_opened", "success", r"^pam_unix\(sshd:session\): session opened for user (?P<user>[^\s(]+)"),
    ("session_closed", "unknown", r"^pam_unix\(sshd:session\): session closed for user (?P<user>\S+)"),
    ("reverse_mapping_failed", "unknown",
     r"^(?:reverse mapping checking getaddrinfo for \S+ \[(?P<ip>[^\]]+)\] failed|Address (?P<addr>\S+) maps to "
     r"\S+, but this does not map back to the address)"),
    ("disconnect", "unknown",
     rf"^(?:error: )?Received disconnect from {_IP}(?: port (?P<port>\d+))?: ?\d+:"),
    ("disconnect", "unknown",
     rf"^Disconnected from (?:(?:invalid|authenticating) user {_USER} )?{_IP} port (?P<port>\d+)"),
    ("connection_closed", "unknown",
     rf"^Connection (?:closed|reset) by (?:(?:invalid|authenticating) user {_USER} )?{_IP}(?: port (?P<port>\d+))?"),
    ("no_identification", "failure", rf"^Did not receive identification string from {_IP}(?: port (?P<port>\d+))?"),
    ("bad_protocol", "failure", rf"^Bad protocol version identification .* from {_IP}(?: port (?P<port>\d+))?"),
    ("connection_opened", "unknown", rf"^Connection from {_IP} port (?P<port>\d+)"),
)


class SshdReader(Reader):
    """OpenSSH syslog lines to ``event`` rows, one per sshd line.

    Parameters
    ----------
    year
        Year of classic syslog timestamps (which have none). Default: the year of the
        file's modification time (UTC).

    Examples
    --------
    >>> SshdReader().sniff(b"Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186\\n")
    True
    """

    format = "sshd"
    kind = DataKind.EVENT

    def __init__(self, year: int | None = None) -> None:
        self.year = year

    def sniff(self, head: bytes) -> bool:
        lines = pa.array(head.decode("utf-8", "replace").splitlines()[:50], pa.string())
        # pc.struct_field keeps a non-matching line null (StructArray.field would give "" and hide the others)
        progs = pc.coalesce(*[pc.struct_field(pc.extract_regex(lines, p), "prog") for p in (_CLASSIC, _ISO, _RFC5424)])
        return bool(pc.any(pc.match_substring_regex(progs, _SSHD)).as_py())

    def read(self, src: Source, quarantine: Quarantine) -> Iterator[pa.RecordBatch]:
        year = self.year
        if year is None:
            year = dt.datetime.fromtimestamp(src.path.stat().st_mtime, dt.UTC).year
        for block in iter_line_blocks(src, quarantine):
            batch = self._block(src, block, quarantine, year)
            if batch is not None:
                yield batch

    def _block(self, src: Source, block: LineBlock, quarantine: Quarantine, year: int) -> pa.RecordBatch | None:
        blank, _ = blank_and_comment(block, comment=None)
        quarantine.skip("blank line", int(blank.sum()))
        quarantine_lines(quarantine, block, block.bad_utf8, QuarantineReason.MALFORMED, "expected UTF-8 text")
        lines = block.lines
        classic = pc.extract_regex(lines, "^" + _CLASSIC)
        iso = pc.extract_regex(lines, _ISO)
        rfc = pc.extract_regex(lines, _RFC5424)
        is_classic, is_iso = classic.is_valid(), iso.is_valid()
        syslog = pc.or_(pc.or_(is_classic, is_iso), rfc.is_valid()).to_numpy(zero_copy_only=False)
        candidate = ~(blank | block.bad_utf8)
        quarantine_lines(quarantine, block, candidate & ~syslog, QuarantineReason.MALFORMED,
                         "expected a syslog line (classic, ISO-timestamp or RFC 5424)")

        def pick(name: str) -> pa.Array:
            return pc.if_else(is_classic, classic.field(name), pc.if_else(is_iso, iso.field(name), rfc.field(name)))

        prog = pick("prog")
        sshd = pc.fill_null(pc.match_substring_regex(prog, _SSHD), False).to_numpy(zero_copy_only=False)
        keep = candidate & syslog & sshd
        quarantine.skip("not sshd", int((candidate & syslog & ~sshd).sum()))
        if not keep.any():
            return None
        mask = pa.array(keep)
        classic, iso, rfc = classic.filter(mask), iso.filter(mask), rfc.filter(mask)
        is_classic, is_iso = classic.is_valid(), iso.is_valid()
        iso_text = pc.if_else(is_iso, iso.field("iso"), rfc.field("iso"))
        stamp = pc.binary_join_element_wise(
            str(year), classic.field("mon"), classic.field("day"), classic.field("hms"), " "
        )
        classic_ms = pc.strptime(stamp, format="%Y %b %d %H:%M:%S", unit="ms", error_is_null=True).cast(pa.int64())
        ms = pc.if_else(is_classic, classic_ms, parse_iso8601(iso_text))
        bad_ts = ms.is_null().to_numpy(zero_copy_only=False)
        if bad_ts.any():
            rows = np.flatnonzero(keep)
            bad = np.zeros(len(block), dtype=bool)
            bad[rows[bad_ts]] = True
            quarantine_lines(quarantine, block, bad, QuarantineReason.BAD_TIMESTAMP,
                             "expected a valid syslog time (Mon DD HH:MM:SS or ISO 8601)")
            keep &= ~bad
            good = pa.array(~bad_ts)
            classic, iso, rfc, ms = classic.filter(good), iso.filter(good), rfc.filter(good), ms.filter(good)
            is_classic, is_iso = classic.is_valid(), iso.is_valid()
        n = int(keep.sum())
        if n == 0:
            return None

        def field(name: str) -> pa.Array:
            return pc.if_else(is_classic, classic.field(name), pc.if_else(is_iso, iso.field(name), rfc.field(name)))

        cols, extras = _classify(field("msg"))
        cols["extra"] = extra_map({"pid": _empty_null(field("pid")), **extras}, n)
        cols["ts"] = ms.cast(pa.timestamp("ms", tz="UTC"))
        cols["host"] = field("host")
        cols["rid"] = line_rids(src, block, keep)
        cols["category"] = constant("authentication", n)
        cols["process"] = constant("sshd", n)
        cols["source"] = constant(self.format, n)
        cols["severity"] = pa.array(np.zeros(n, dtype=np.int16))
        return conform(cols, self.schema, n)


def _empty_null(values: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, values.type), values)


def _classify(message: pa.Array) -> tuple[dict[str, pa.Array], dict[str, pa.Array]]:
    """Columns (action, outcome, user, src_ip, src_port, message) and extras of sshd messages.

    Vectorised: each pattern of :data:`ACTIONS` runs once over the block; the first match wins.
    """
    n = len(message)
    rep = pc.extract_regex(message, _REPEATED)
    repeated = rep.is_valid()
    body = pc.if_else(repeated, rep.field("inner"), message)
    none = pa.nulls(n, pa.string())
    found = {"action": none, "outcome": none, "user": none, "ip": none, "port": none, "method": none}
    groups_to_columns = {"user": "user", "ip": "ip", "addr": "ip", "port": "port", "method": "method"}
    for name, result, pattern in ACTIONS:
        groups = pc.extract_regex(body, pattern)
        hit = pc.and_(groups.is_valid(), found["action"].is_null())
        if not pc.any(hit).as_py():
            continue
        found["action"] = pc.if_else(hit, name, found["action"])
        found["outcome"] = pc.if_else(hit, result, found["outcome"])
        for i in range(groups.type.num_fields):
            target = groups_to_columns.get(groups.type.field(i).name)
            if target is not None:
                value = _empty_null(groups.field(i))
                found[target] = pc.if_else(pc.and_(hit, value.is_valid()), value, found[target])
    src_port, _ = to_int(found["port"], max_digits=5)
    src_port = pc.if_else(pc.less_equal(src_port, 65535), src_port, pa.scalar(None, pa.int64()))
    cols = {
        "action": pc.fill_null(found["action"], "other"),
        "outcome": pc.fill_null(found["outcome"], "unknown"),
        "user": found["user"],
        "src_ip": found["ip"],
        "src_port": src_port,
        "message": message,
    }
    extras = {"method": found["method"], "repeated": pc.if_else(repeated, rep.field("n"), none)}
    return cols, extras
