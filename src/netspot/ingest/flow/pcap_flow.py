"""Flows from a raw packet capture, metered by a real flow meter: nfpcapd, then nfdump.

:class:`PcapFlowReader` (``pcap-flow``) hands a pcap or pcapng file to Debian's
``nfpcapd -r FILE -w TMPDIR`` (nfdump 1.7.1), which assembles packets into flows the way
an nfcapd collector would store NetFlow, and writes nfcapd files; each is then read with
:class:`~netspot.ingest.flow.nfdump.NfcapdReader` (nfdump with ``TZ=UTC``). nfpcapd flushes
every open flow when the capture ends, so the last flows are not lost; the temporary
folder is removed afterwards, also when reading stops early.

A capture of NetFlow/IPFIX *export* traffic is not for this reader: it belongs to
``netflow-pcap``, which decodes the exported records instead of metering the UDP packets
that carry them.

Examples
--------
>>> PcapFlowReader().sniff(bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000"))
True
>>> PcapFlowReader().sniff(b"ts,te,td,sa,da")
False
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from netspot.errors import FormatError, InputError, Location, TruncatedInputError
from netspot.ingest.base import DECOMPRESSION_ERRORS, Reader, Source
from netspot.ingest.flow.nfdump import NfcapdReader
from netspot.ingest.quarantine import Quarantine
from netspot.schema import DataKind

__all__ = ["PcapFlowReader"]

_INSTALL = "nfpcapd is not installed: apt-get install nfdump (it provides nfdump, nfcapd and nfpcapd)"
_PCAP_MAGICS = {0xA1B2C3D4, 0xD4C3B2A1, 0xA1B23C4D, 0x4D3CB2A1}


def _is_capture(head: bytes) -> bool:
    """pcap (either byte order, micro or nano seconds) or pcapng magic, via the shared helper when present."""
    try:
        from netspot.ingest._pcap import is_capture
    except ImportError:  # pragma: no cover - the shared module is part of the package
        return len(head) >= 4 and (head[:4] == b"\x0a\x0d\x0d\x0a" or struct.unpack("<I", head[:4])[0] in _PCAP_MAGICS)
    return is_capture(head)


def _is_export(head: bytes) -> bool:
    """True when the netflow-pcap reader claims the capture (NetFlow/IPFIX export traffic)."""
    try:
        from netspot.ingest.flow.netflow_pcap import NetflowPcapReader  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return False
    return bool(NetflowPcapReader().sniff(head))


def nfpcapd_binary(path_for_error: str | None = None) -> str:
    """Path of nfpcapd (Debian ships it in /usr/bin or /usr/sbin); InputError with the apt-get command if absent."""
    path = shutil.which("nfpcapd") or next(
        (p for p in ("/usr/sbin/nfpcapd", "/usr/bin/nfpcapd") if Path(p).exists()), None
    )
    if path is None:
        raise InputError(_INSTALL, Location(path_for_error) if path_for_error else None)
    return path


class PcapFlowReader(Reader):
    """Reads a packet capture as flows metered by nfpcapd (nfdump 1.7.1).

    Parameters
    ----------
    active_s : int, default 300
        nfpcapd's active timeout: a flow still running after this long is exported and restarted.
    inactive_s : int, default 60
        nfpcapd's inactive timeout: a flow idle this long is exported.
    rotate_s : int, default 3600
        Time window of each nfcapd file nfpcapd writes (packet time); all files are read, in order.
    """

    format = "pcap-flow"
    kind = DataKind.FLOW

    def __init__(self, active_s: int = 300, inactive_s: int = 60, rotate_s: int = 3600) -> None:
        self.active_s = active_s
        self.inactive_s = inactive_s
        self.rotate_s = rotate_s

    def sniff(self, head: bytes) -> bool:
        return _is_capture(head) and not _is_export(head)

    def read(self, src: Source, quarantine: Quarantine) -> Iterator[pa.RecordBatch]:
        with tempfile.TemporaryDirectory(prefix="netspot-nfpcapd-") as tmp:
            capture = src.path
            with open(src.path, "rb") as fh:
                compressed = not _is_capture(fh.read(16))
            if compressed:  # nfpcapd (libpcap) reads plain captures only
                capture = Path(tmp) / "capture"
                try:
                    with src.open() as fin, open(capture, "wb") as fout:
                        shutil.copyfileobj(fin, fout, 1 << 20)
                except DECOMPRESSION_ERRORS as exc:
                    raise TruncatedInputError(f"cannot decompress: {exc}", Location(src.name)) from exc
            flows = Path(tmp) / "flows"
            flows.mkdir()
            self._meter(capture, flows, src)
            reader = NfcapdReader(source_name=self.format, received=False)
            first = 0
            for path in sorted(flows.rglob("nfcapd.*")):
                first += yield from reader.decode(path, src, quarantine, first_record=first)

    def _meter(self, capture: Path, flows: Path, src: Source) -> None:
        cmd = [
            nfpcapd_binary(src.name), "-r", str(capture), "-w", str(flows), "-t", str(self.rotate_s),
            "-e", f"{self.active_s},{self.inactive_s}",
        ]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, stdin=subprocess.DEVNULL, check=False)
        if proc.returncode != 0:
            msg = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip()[-2000:]
            raise FormatError(f"nfpcapd cannot read this capture (exit {proc.returncode}): {msg}", Location(src.name))
