"""DNS messages from packet captures: the ``dns-pcap`` reader (Spot's tshark DNS ingest, without tshark).

Every DNS message of a pcap/pcapng file becomes one row of ``schema.DNS``: UDP on
ports 53, 5353 (mDNS) and 5355 (LLMNR) either side, and TCP on port 53 with the
2-byte length prefix, reassembled per stream (several messages per segment, one
message over several segments). Headers, names and answers are decoded in numba
(:mod:`netspot.ingest.dns._wire`); the Arrow columns are built from offsets and data
buffers, with no Python object per packet. Values are those of ``tshark -T fields``
(names as on the wire; see ``_wire`` for the text rules).

* A packet that is not DNS (another port, ARP, ICMP, an IP fragment, a TCP segment
  without payload) is counted with ``quarantine.skip``.
* A DNS message that does not decode is quarantined as MALFORMED with its packet
  number, file offset, what broke and where; a TCP stream that ends inside a message
  is quarantined as TRUNCATED.
* Record ids count DNS messages (decoded or quarantined) in file order.

Examples
--------
>>> DnsPcapReader().sniff(bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000"))
True
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import numpy as np
import pyarrow as pa

from netspot.ingest._pcap import (
    NO_TS,
    ST_FRAGMENT,
    ST_OK,
    Packets,
    Transport,
    decode_transport,
    ip_text,
    is_capture,
    read_packets,
)
from netspot.ingest.base import BATCH_ROWS, Reader, Source, record_ids
from netspot.ingest.dns._tcp import TcpStreams
from netspot.ingest.dns._wire import ERRORS, NAME_TEXT_MAX, decode_messages, printable_table
from netspot.ingest.quarantine import Quarantine, QuarantineReason
from netspot.schema import DataKind, conform

__all__ = ["DnsPcapReader"]

_SOURCE = pa.DictionaryArray.from_arrays(pa.array([0], pa.int32()), pa.array(["dns-pcap"]))
_TRANSPORTS = pa.array(["udp", "tcp"])


class DnsPcapReader(Reader):
    """Read DNS queries and responses out of pcap/pcapng files.

    Parameters
    ----------
    udp_ports : tuple of int, default (53, 5353, 5355)
        UDP ports (either side) whose datagrams are DNS messages.
    tcp_ports : tuple of int, default (53,)
        TCP ports (either side) carrying length-prefixed DNS messages.
    chunk_packets : int, default BATCH_ROWS
        Packets decoded per chunk (bounds memory).
    """

    format: ClassVar[str] = "dns-pcap"
    kind: ClassVar[DataKind] = DataKind.DNS

    def __init__(self, udp_ports: tuple[int, ...] = (53, 5353, 5355), tcp_ports: tuple[int, ...] = (53,),
                 chunk_packets: int = BATCH_ROWS) -> None:
        self.udp_ports = udp_ports
        self.tcp_ports = tcp_ports
        self.chunk_packets = chunk_packets

    def sniff(self, head: bytes) -> bool:
        """A pcap/pcapng capture that is not NetFlow/IPFIX export traffic."""
        if not is_capture(head):
            return False
        try:
            from netspot.ingest.flow.netflow_pcap import NetflowPcapReader  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            return True
        return not NetflowPcapReader().sniff(head)

    def read(self, src: Source, quarantine: Quarantine) -> Iterator[pa.RecordBatch]:
        tcp = TcpStreams()
        record = 0
        last: tuple[int, int] = (0, 0)
        for p in read_packets(src, quarantine, self.chunk_packets):
            t = decode_transport(p)
            buf, m_pkt, m_off, m_len, m_tcp = self._messages(p, t, quarantine, tcp)
            if len(p):
                last = (int(p.number[-1]), int(p.file_offset[-1]))
            if len(m_pkt) == 0:
                continue
            batch = self._decode(src, quarantine, p, t, buf, m_pkt, m_off, m_len, m_tcp, record)
            record += len(m_pkt)
            for start in range(0, batch.num_rows, BATCH_ROWS):
                yield batch.slice(start, BATCH_ROWS)
        for tag, data in tcp.leftovers():
            number, offset = tag if isinstance(tag, tuple) else last
            need = 2 + (data[0] << 8 | data[1]) if len(data) >= 2 else 2
            quarantine.add(f"packet {number} (offset {offset})", QuarantineReason.TRUNCATED,
                           f"TCP stream ends inside a DNS message: expected {need} bytes, got {len(data)}", data)

    def _messages(
        self, p: Packets, t: Transport, q: Quarantine, tcp: TcpStreams
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Where the DNS messages of a chunk are: (buffer, packet index, offset, length, is TCP), by packet."""
        ok = t.status == ST_OK
        udp = ok & (t.proto == 17) & (np.isin(t.sport, self.udp_ports) | np.isin(t.dport, self.udp_ports))
        tcpm = ok & (t.proto == 6) & (np.isin(t.sport, self.tcp_ports) | np.isin(t.dport, self.tcp_ports))
        frag = int((t.status == ST_FRAGMENT).sum())
        q.skip("IP fragment (not reassembled)", frag)
        q.skip("not DNS (no DNS port, or not UDP/TCP over IP)", len(p) - frag - int(udp.sum()) - int(tcpm.sum()))
        u_idx = np.flatnonzero(udp)
        m_pkt, m_off, m_len = u_idx, t.payload_off[u_idx], t.payload_len[u_idx].astype(np.int64)
        buf = p.buf
        t_idx = np.flatnonzero(tcpm & (t.payload_len > 0))
        q.skip("TCP segment without payload", int(tcpm.sum()) - len(t_idx))
        if len(t_idx):
            pk, chunks = [], []
            for i in t_idx.tolist():  # slow path: TCP DNS is rare
                key = t.src[i].tobytes() + t.dst[i].tobytes() + int(t.sport[i]).to_bytes(2, "big") + \
                    int(t.dport[i]).to_bytes(2, "big")
                o = int(t.payload_off[i])
                tag = (int(p.number[i]), int(p.file_offset[i]))
                for msg in tcp.feed(key, int(t.tcp_seq[i]), int(t.tcp_flags[i]),
                                    p.buf[o : o + int(t.payload_len[i])].tobytes(), tag):
                    pk.append(i)
                    chunks.append(msg)
            if chunks:
                extra = np.frombuffer(b"".join(chunks), np.uint8)
                lens = np.array([len(c) for c in chunks], np.int64)
                offs = len(p.buf) + np.concatenate([[0], np.cumsum(lens)[:-1]])
                buf = np.concatenate([p.buf, extra])
                m_pkt = np.concatenate([m_pkt, np.array(pk, np.int64)])
                m_off = np.concatenate([m_off, offs])
                m_len = np.concatenate([m_len, lens])
        m_tcp = np.zeros(len(m_pkt), np.int32)
        m_tcp[len(u_idx):] = 1
        order = np.argsort(m_pkt, kind="stable")
        return buf, m_pkt[order], m_off[order], m_len[order], m_tcp[order]

    def _decode(
        self, src: Source, q: Quarantine, p: Packets, t: Transport, buf: np.ndarray, m_pkt: np.ndarray,
        m_off: np.ndarray, m_len: np.ndarray, m_tcp: np.ndarray, record: int,
    ) -> pa.RecordBatch:
        n = len(m_pkt)
        out = _decode_all(buf, m_off, m_len)
        status, has_q = out["status"], out["has_q"]
        no_ts = p.ts_ns[m_pkt] == NO_TS
        good = (status == 0) & ~no_ts
        bad = np.flatnonzero(status != 0)
        if len(bad):
            _quarantine(q, p, buf, m_pkt, m_off, m_len, out["err_pos"], status, bad, QuarantineReason.MALFORMED)
        late = np.flatnonzero((status == 0) & no_ts)
        if len(late):
            _quarantine(q, p, buf, m_pkt, m_off, m_len, None, status, late, QuarantineReason.BAD_TIMESTAMP)
        mask = pa.array(good)
        pk = m_pkt[good]
        flags = out["flags"][good]
        fam = t.family[pk]
        port5353 = (t.sport[pk] == 5353) | (t.dport[pk] == 5353)
        gq = has_q[good]
        n_ans = int(out["a_first"][-1])
        a_first = pa.array(out["a_first"].astype(np.int32))
        answers = pa.StringArray.from_buffers(n_ans, pa.py_buffer(out["a_off"][: n_ans + 1]),
                                              pa.py_buffer(out["a_buf"]))
        qnames = pa.StringArray.from_buffers(n, pa.py_buffer(out["q_off"]), pa.py_buffer(out["q_buf"]),
                                             pa.py_buffer(np.packbits(has_q, bitorder="little")),
                                             n - int(has_q.sum()))
        no_q = ~gq
        cols: dict[str, pa.Array] = {
            "ts": pa.array(p.ts_ns[pk] // 1_000_000, pa.int64()).cast(pa.timestamp("ms", tz="UTC")),
            "rid": record_ids(src, record, n).filter(mask),
            "frame_len": pa.array(p.wirelen[pk]),
            "ip_src": ip_text(fam, t.src[pk]),
            "ip_dst": ip_text(fam, t.dst[pk]),
            "sport": pa.array(t.sport[pk]),
            "dport": pa.array(t.dport[pk]),
            "transport": pa.DictionaryArray.from_arrays(pa.array(m_tcp[good]), _TRANSPORTS),
            "dns_id": pa.array(out["dns_id"][good]),
            "is_response": pa.array(flags >= 0x8000),
            "opcode": pa.array(((flags >> 11) & 0xF).astype(np.int16)),
            "flags": pa.array(flags),
            "dns_qry_name": qnames.filter(mask),
            "dns_qry_class": pa.array(np.where(port5353, out["qclass"][good] & 0x7FFF, out["qclass"][good]),
                                      mask=no_q),
            "dns_qry_type": pa.array(out["qtype"][good], mask=no_q),
            "dns_qry_rcode": pa.array((flags & 0xF).astype(np.int16)),
            "dns_answers": pa.ListArray.from_arrays(a_first, answers).filter(mask),
            "dns_answer_types": pa.ListArray.from_arrays(a_first, pa.array(out["a_type"][:n_ans])).filter(mask),
            "dns_ttls": pa.ListArray.from_arrays(a_first, pa.array(out["a_ttl"][:n_ans])).filter(mask),
            "source": pa.DictionaryArray.from_arrays(np.zeros(len(pk), np.int32), _SOURCE.dictionary),
        }
        return conform(cols, self.schema, len(pk))


def _decode_all(buf: np.ndarray, m_off: np.ndarray, m_len: np.ndarray) -> dict[str, np.ndarray]:
    """Run the numba decoder over every message, growing the text buffers when it asks."""
    n = len(m_off)
    total = int(m_len.sum())
    o: dict[str, np.ndarray] = {
        "status": np.zeros(n, np.int8), "err_pos": np.zeros(n, np.int64), "dns_id": np.zeros(n, np.int32),
        "flags": np.zeros(n, np.int32), "has_q": np.zeros(n, np.bool_), "qtype": np.zeros(n, np.int32),
        "qclass": np.zeros(n, np.int32), "q_off": np.zeros(n + 1, np.int32), "a_first": np.zeros(n + 1, np.int64),
    }
    q_buf = np.empty(total + NAME_TEXT_MAX * 4, np.uint8)
    cap = total // 11 + n + 16
    a_type, a_ttl = np.empty(cap, np.int32), np.empty(cap, np.int64)
    a_off = np.zeros(cap + 1, np.int32)
    a_buf = np.empty(4 * total + 64 * NAME_TEXT_MAX, np.uint8)
    i, q_pos, a_idx, a_pos = 0, 0, 0, 0
    while True:
        i, q_pos, a_idx, a_pos = decode_messages(
            buf, m_off, m_len, i, o["status"], o["err_pos"], o["dns_id"], o["flags"], o["has_q"], o["qtype"],
            o["qclass"], o["q_off"], q_buf, q_pos, o["a_first"], a_type, a_ttl, a_off, a_buf, a_idx, a_pos,
            printable_table())
        if i >= n:
            break
        need = int(m_len[i]) // 11 + 1
        q_buf = _grow(q_buf, q_pos + NAME_TEXT_MAX)
        a_type = _grow(a_type, a_idx + need + 1)
        a_ttl = _grow(a_ttl, a_idx + need + 1)
        a_off = _grow(a_off, a_idx + need + 2)
        a_buf = _grow(a_buf, a_pos + need * NAME_TEXT_MAX + 4 * int(m_len[i]))
    o.update(q_buf=q_buf[:q_pos], a_type=a_type, a_ttl=a_ttl, a_off=a_off, a_buf=a_buf[:a_pos])
    return o


def _grow(a: np.ndarray, need: int) -> np.ndarray:
    if need <= len(a):
        return a
    new = np.empty(max(need, 2 * len(a)), a.dtype)
    new[: len(a)] = a
    return new


def _quarantine(q: Quarantine, p: Packets, buf: np.ndarray, m_pkt: np.ndarray, m_off: np.ndarray,
                m_len: np.ndarray, err_pos: np.ndarray | None, status: np.ndarray, which: np.ndarray,
                reason: QuarantineReason) -> None:
    """Quarantine the messages ``which`` (slow path, per bad message)."""
    locators, details, raws = [], [], []
    for j in which.tolist():
        i = int(m_pkt[j])
        locators.append(f"packet {int(p.number[i])} (offset {int(p.file_offset[i])})")
        ml = int(m_len[j])
        if err_pos is None:
            details.append("packet has no timestamp (pcapng simple packet block)")
        else:
            details.append(f"{ERRORS[int(status[j])]}: at byte {int(err_pos[j])} of a {ml}-byte message")
        raws.append(buf[int(m_off[j]) : int(m_off[j]) + ml].tobytes())
    q.add_many(locators, reason, details, raws)
