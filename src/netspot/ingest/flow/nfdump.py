"""nfdump flows: the CSV that ``nfdump -o csv`` prints, and nfcapd binary files decoded by nfdump.

Apache Spot collected NetFlow with nfcapd and decoded each file with (its fork of)
``nfdump -o csv``; netspot reads both ends of that chain:

* :class:`NfdumpCsvReader` (``nfdump-csv``) reads nfdump CSV text. The header decides the
  columns, so stock nfdump 1.6/1.7 (``ts,te,td,sa,da,sp,dp,pr,flg,...,ra,eng,exid,tr``) and
  Apache Spot's 27 columns (``tr,try,trm,trd,trh,trm,trs,td,sa,da,...,dtos,dir,ra``) both
  work. nfdump prints times in the local time of the machine that ran it, without a zone:
  **they are read as UTC** (run nfdump with ``TZ=UTC``).
* :class:`NfcapdReader` (``nfcapd``) recognises an nfcapd file by its magic and streams it
  through ``nfdump -r FILE`` with ``TZ=UTC``. It asks for ``-o fmt:`` text with the CSV's
  column names rather than ``-o csv``, because nfdump 1.7.1's CSV prints times to the
  second only, while ``%ts``/``%te`` carry milliseconds; ``-N`` keeps counts unscaled and
  ``-6`` prints IPv6 addresses in full. The text goes through the same parser, without a
  temporary file.

Mapping to ``schema.FLOW``: ``ts``/``te`` (Spot: ``tr``, and ``te = tr + td``), ``td``,
``sa``/``da`` to ``sip``/``dip``, ``sp``/``dp`` to ``sport``/``dport``, ``pr`` to ``proto``
(upper case, as nfdump names it) and ``proto_num`` (nfdump's protocol table), ``flg`` to
``flags``, ``fwd``, ``stos``, ``dtos``, ``ipkt``, ``ibyt``, ``opkt``, ``obyt``, ``in``/``out``
to ``input``/``output``, ``sas``, ``das``, ``dir`` and ``ra`` to ``rip``. Other columns
(``smk``, ``nh``, ``svln``, ``ismc``, ``mpls1``, ``eng``, ``exid``, ``tr``, ...) go into
``extra`` as text when they are set: nfdump prints zeros for every field a flow does not
have, and those are left out.

Examples
--------
>>> NfdumpCsvReader().sniff(b"ts,te,td,sa,da,sp,dp,pr,flg\\n2018-01-12 15:37:30,...")
True
>>> NfcapdReader().sniff(bytes.fromhex("0ca50100") + bytes(136))
True
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Generator, Iterator
from pathlib import Path

import pyarrow as pa

from netspot.errors import FormatError, InputError, Location, TruncatedInputError
from netspot.ingest.base import DECOMPRESSION_ERRORS, Reader, Source
from netspot.ingest.flow._nfcsv import parse_header, read_flows
from netspot.ingest.quarantine import Quarantine, QuarantineReason
from netspot.schema import DataKind

__all__ = ["NFDUMP_FIELDS", "NfcapdReader", "NfdumpCsvReader", "nfdump_binary"]

#: The columns the NfcapdReader asks nfdump for: ``-o csv``'s, with ``%ts``/``%te`` to the millisecond
#: (``td`` is derived from them, as nfdump's own CSV does). ``%dp`` prints ICMP as "type.code", read
#: as type*256+code like the CSV; ``%mpls`` is split back into ``mpls1``..``mpls10``.
NFDUMP_FIELDS: tuple[tuple[str, str], ...] = (
    ("ts", "%ts"), ("te", "%te"), ("sa", "%sa"), ("da", "%da"), ("sp", "%sp"), ("dp", "%dp"),
    ("pr", "%pr"), ("flg", "%flg"), ("fwd", "%fwd"), ("stos", "%stos"), ("ipkt", "%ipkt"),
    ("ibyt", "%ibyt"), ("opkt", "%opkt"), ("obyt", "%obyt"), ("in", "%in"), ("out", "%out"),
    ("sas", "%sas"), ("das", "%das"), ("smk", "%smk"), ("dmk", "%dmk"), ("dtos", "%dtos"),
    ("dir", "%dir"), ("nh", "%nh"), ("nhb", "%nhb"), ("svln", "%svln"), ("dvln", "%dvln"),
    ("ismc", "%ismc"), ("odmc", "%odmc"), ("idmc", "%idmc"), ("osmc", "%osmc"),
    ("mpls", "%mpls"),  # all ten labels: nfdump 1.7.1's fmt parser reads "%mpls10" as "%mpls1" and "0"
    ("cl", "%cl"), ("sl", "%sl"), ("al", "%al"), ("ra", "%ra"), ("eng", "%eng"), ("exid", "%exp"),
    ("tr", "%tr"),
)  # fmt: skip

#: nfcapd file magic 0xA50C (little-endian on disk), then the layout version: 1 (nfdump 1.6), 2 (1.7).
NFCAPD_MAGIC = b"\x0c\xa5"
#: Size of the file header: 1.6's ``file_header_t`` (140 bytes), 1.7's ``fileHeaderV2_t`` (40 bytes).
HEADER_BYTES = {1: 140, 2: 40}
#: What reading a cut or corrupt compressed file raises (gzip, bzip2, xz through ``Source.open``).
_DECOMPRESS_ERRORS = DECOMPRESSION_ERRORS
#: What nfdump prints on stderr (exit status 0) when a data block is cut short.
_TRUNCATED = ("Short read", "read() error")
_INSTALL = "nfdump is not installed: apt-get install nfdump (it provides nfdump, nfcapd and nfpcapd)"


class NfdumpCsvReader(Reader):
    """Reads the CSV that ``nfdump -o csv`` prints (stock 1.6/1.7 or Apache Spot's 27 columns).

    Times are read as UTC (nfdump prints local time without a zone; run it with ``TZ=UTC``).
    The summary nfdump prints at the end (``Summary``, then totals) is counted as skipped.
    """

    format = "nfdump-csv"
    kind = DataKind.FLOW

    def sniff(self, head: bytes) -> bool:
        line = head.split(b"\n", 1)[0]
        try:
            parse_header(line, "")
        except FormatError:
            return False
        return True

    def read(self, src: Source, quarantine: Quarantine) -> Iterator[pa.RecordBatch]:
        try:
            with src.open() as fh:
                first = fh.readline()
                if not first:
                    raise FormatError("file is empty: expected an nfdump CSV header", Location(src.name))
                names = parse_header(first, src.name)
                yield from read_flows(fh, names, src, quarantine, self.format, line0=1, record0=2)
        except _DECOMPRESS_ERRORS as exc:  # a cut or corrupt .gz/.bz2/.xz
            raise TruncatedInputError(f"cannot decompress: {exc}", Location(src.name)) from exc


def nfdump_binary(path_for_error: str | None = None) -> str:
    """Path of the nfdump program; raises :class:`InputError` with the apt-get command when it is missing."""
    path = shutil.which("nfdump")
    if path is None:
        raise InputError(_INSTALL, Location(path_for_error) if path_for_error else None)
    return path


class NfcapdReader(Reader):
    """Reads nfcapd binary files (nfdump 1.6 and 1.7 layouts) by streaming them through nfdump.

    Parameters
    ----------
    source_name : str, default "nfcapd"
        Value of the ``source`` column (PcapFlowReader passes ``"pcap-flow"``).
    received : bool, default True
        Keep nfdump's ``tr`` (when the collector received the flow) in ``extra``. PcapFlowReader
        turns it off: for flows metered from a capture it is only the wall-clock time of the run,
        and would make two reads of the same capture differ.
    """

    format = "nfcapd"
    kind = DataKind.FLOW

    def __init__(self, source_name: str = "nfcapd", received: bool = True) -> None:
        self.source_name = source_name
        self.fields = NFDUMP_FIELDS if received else tuple(f for f in NFDUMP_FIELDS if f[0] != "tr")

    def sniff(self, head: bytes) -> bool:
        return len(head) >= 4 and head[:2] == NFCAPD_MAGIC and head[2] in HEADER_BYTES and head[3] == 0

    def read(self, src: Source, quarantine: Quarantine) -> Iterator[pa.RecordBatch]:
        try:
            head = src.head(256)
        except _DECOMPRESS_ERRORS as exc:
            raise TruncatedInputError(f"cannot decompress: {exc}", Location(src.name)) from exc
        if len(head) < 4 or head[:2] != NFCAPD_MAGIC:
            if len(head) < 4 and NFCAPD_MAGIC.startswith(head[:2]):
                raise TruncatedInputError(f"file ends inside the nfcapd header ({len(head)} bytes)", Location(src.name))
            raise FormatError(
                f"not an nfcapd file: magic {head[:4].hex()}, expected 0ca5 then 0100 or 0200", Location(src.name)
            )
        need = HEADER_BYTES.get(head[2])
        if need is None or head[3] != 0:
            raise FormatError(f"unsupported nfcapd layout version {head[2:4].hex()}", Location(src.name))
        if len(head) < need:
            raise TruncatedInputError(
                f"file ends inside the nfcapd header: {len(head)} of {need} bytes", Location(src.name)
            )
        with tempfile.TemporaryDirectory(prefix="netspot-nfcapd-") as tmp:
            try:
                path = _plain_file(src, Path(tmp))
            except _DECOMPRESS_ERRORS as exc:
                raise TruncatedInputError(f"cannot decompress: {exc}", Location(src.name)) from exc
            yield from self.decode(path, src, quarantine)

    def decode(
        self, path: Path, src: Source, quarantine: Quarantine, first_record: int = 0
    ) -> Generator[pa.RecordBatch, None, int]:
        """Stream the nfcapd file ``path`` through nfdump as batches of ``src``; return its record count.

        Record numbers start at ``first_record`` (a source made of several nfcapd files continues them).
        """
        fmt = "fmt:" + ",".join(tag for _, tag in self.fields)
        cmd = [nfdump_binary(src.name), "-r", str(path), "-q", "-N", "-6", "-o", fmt]
        env = {**os.environ, "TZ": "UTC"}
        with (
            tempfile.TemporaryFile() as err,
            subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, env=env) as proc,
        ):
            assert proc.stdout is not None
            try:
                count = yield from read_flows(
                    proc.stdout,
                    [n for n, _ in self.fields],
                    src,
                    quarantine,
                    self.source_name,
                    line0=0,
                    word="record",
                    record0=1 - first_record,
                )
            finally:
                proc.stdout.close()
                code = proc.wait()
            err.seek(0)
            msg = " ".join(err.read(4096).decode("utf-8", "replace").split())
            if code != 0:
                raise FormatError(f"nfdump cannot read this nfcapd file (exit {code}): {msg}", Location(src.name))
            if any(sign in msg for sign in _TRUNCATED):
                # nfdump 1.7.1 exits 0 on a cut file; the lost records cannot be listed: one row stands for them
                quarantine.add(
                    f"record {first_record + count + 1}",
                    QuarantineReason.TRUNCATED,
                    f"expected complete data blocks, nfdump says: {msg}",
                )
        return count


def _plain_file(src: Source, tmp: Path) -> Path:
    """The source as an uncompressed file nfdump can open: itself, or a decompressed copy in ``tmp``."""
    with open(src.path, "rb") as fh:
        if fh.read(2) == NFCAPD_MAGIC:
            return src.path
    plain = tmp / "nfcapd.plain"
    with src.open() as fin, open(plain, "wb") as fout:
        shutil.copyfileobj(fin, fout, 1 << 20)
    return plain
