"""``netflow-pcap``: NetFlow v5/v9 and IPFIX export datagrams captured in a pcap or pcapng file.

The capture is read in chunks with :mod:`netspot.ingest._pcap` (columnar packets, link/IP/UDP
headers decoded in numba); every UDP payload that looks like an export datagram is fed to
:class:`~netspot.ingest.flow.netflow.NetflowDecoder` with the packet's IP source as the
exporter, so templates are tracked per exporter as a collector would. IP fragments are
quarantined (UNSUPPORTED: no reassembly); other UDP traffic and non-UDP packets are
counted as skipped.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, ClassVar

import numpy as np
import pyarrow as pa

from netspot.errors import InputError
from netspot.ingest._pcap import (
    ST_FRAGMENT,
    ST_OK,
    Packets,
    decode_transport,
    ip_text,
    is_capture,
    read_packets,
)
from netspot.ingest.base import BATCH_ROWS, Reader, Source
from netspot.ingest.flow.netflow import V5_MAX_COUNT, V5_RECORD, NetflowDecoder
from netspot.ingest.quarantine import Quarantine, QuarantineReason
from netspot.schema import DataKind

__all__ = ["NetflowPcapReader", "looks_like_export"]

_UDP = 17
#: UDP packets looked at by ``sniff``.
SNIFF_PACKETS = 8
_HH = struct.Struct(">HH")


def looks_like_export(payload: bytes) -> bool:
    """True when ``payload`` starts like a NetFlow v5/v9 or IPFIX datagram with plausible lengths.

    Examples
    --------
    >>> looks_like_export(bytes.fromhex("000a0020") + bytes(28))
    True
    >>> looks_like_export(b"GET / HTTP/1.1")
    False
    """
    n = len(payload)
    if n < 4:
        return False
    version, count = (int(x) for x in _HH.unpack_from(payload))
    if version == 5:
        return 1 <= count <= V5_MAX_COUNT and n >= 24 + V5_RECORD * count
    if version == 9:
        if n < 24 or count > 4096:
            return False
        sid, slen = (int(x) for x in _HH.unpack_from(payload, 20))
        return (sid in (0, 1) or sid >= 256) and 4 <= slen <= n - 20
    if version == 10:
        return 16 <= count <= n  # the second field is the message length
    return False


@dataclass(frozen=True, slots=True)
class _HeadSource(Source):
    """The first bytes of a file, read as a source (for ``sniff``)."""

    data: bytes = b""

    def open(self) -> IO[bytes]:
        return io.BytesIO(self.data)


class NetflowPcapReader(Reader):
    """Flows from the NetFlow/IPFIX exports in a packet capture.

    Parameters
    ----------
    ports
        UDP destination ports to decode; ``None`` (default) takes any UDP payload that
        looks like an export datagram (see :func:`looks_like_export`).
    """

    format: ClassVar[str] = "netflow-pcap"
    kind: ClassVar[DataKind] = DataKind.FLOW

    def __init__(self, ports: tuple[int, ...] | None = None) -> None:
        self.ports = ports

    def sniff(self, head: bytes) -> bool:
        if not is_capture(head):
            return False
        seen = hits = 0
        try:
            for packets in read_packets(_HeadSource(Path("<head>"), data=head), Quarantine("<head>", self.format)):
                t = decode_transport(packets)
                for i in np.flatnonzero((t.status == ST_OK) & (t.proto == _UDP))[:SNIFF_PACKETS - seen]:
                    off, size = int(t.payload_off[i]), int(t.payload_len[i])
                    hits += looks_like_export(bytes(packets.buf[off:off + size]))
                    seen += 1
                if seen >= SNIFF_PACKETS:
                    break
        except InputError:
            return False
        return hits > 0 and 2 * hits >= seen

    def read(self, src: Source, quarantine: Quarantine) -> Iterator[pa.RecordBatch]:
        decoder = NetflowDecoder(quarantine, src)
        for packets in read_packets(src, quarantine):
            self._feed(packets, decoder, quarantine)
            if decoder.pending_rows >= BATCH_ROWS:
                while (batch := decoder.flush()) is not None:
                    yield batch
        decoder.close()
        while (batch := decoder.flush()) is not None:
            yield batch

    def _feed(self, packets: Packets, decoder: NetflowDecoder, quarantine: Quarantine) -> None:
        t = decode_transport(packets)
        udp = (t.status == ST_OK) & (t.proto == _UDP)
        if self.ports is not None:
            udp &= np.isin(t.dport, np.array(self.ports))
        frag = t.status == ST_FRAGMENT
        for i in np.flatnonzero(frag):  # rare: exporters send < MTU datagrams
            quarantine.add(_where(packets, int(i)), QuarantineReason.UNSUPPORTED,
                           "IP fragment: expected a whole UDP datagram (fragments are not reassembled)",
                           packets.frame(int(i)))
        quarantine.skip("not a UDP packet", int((~udp & ~frag).sum()))
        idx = np.flatnonzero(udp)
        if not len(idx):
            return
        exporters = ip_text(t.family[idx], t.src[idx]).to_pylist()
        buf = packets.buf
        for k, i in enumerate(idx):  # one datagram carries tens of records: the per-packet loop is cheap
            off, size = int(t.payload_off[i]), int(t.payload_len[i])
            payload = bytes(buf[off:off + size])
            if self.ports is None and not looks_like_export(payload):
                quarantine.skip("UDP payload that is not NetFlow/IPFIX")
                continue
            decoder.feed(payload, exporters[k], int(packets.ts_ns[i]), _where(packets, int(i)))


def _where(packets: Packets, i: int) -> str:
    return f"packet {int(packets.number[i])} (offset {int(packets.file_offset[i])})"
