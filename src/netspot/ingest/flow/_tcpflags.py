"""TCP flags and protocol numbers as nfdump prints them, vectorised through 256-entry tables.

nfdump 1.7 writes TCP flags as eight characters ``CEUAPRSF`` (CWR, ECE, URG, ACK, PSH,
RST, SYN, FIN), each replaced by ``.`` when the bit is clear: ``......S.`` is a bare SYN,
``...A.R..`` an ACK+RST (checked against ``nfdump -o csv`` of an nfcapd file). Protocol
names are nfdump's short names (``TCP``, ``UDP``, ``ICMP``, ``ICMP6``, ``GRE``...); a
number nfdump has no name for is printed as the number.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["PROTO_NAMES", "flags_text", "proto_text"]

_LETTERS = "CEUAPRSF"


def _flag_string(value: int) -> str:
    return "".join(ch if value & (0x80 >> i) else "." for i, ch in enumerate(_LETTERS))


#: flags byte -> nfdump text, e.g. ``_FLAGS[0x12] == "...A..S."``.
_FLAGS = pa.array([_flag_string(v) for v in range(256)], pa.string())

# nfdump's protocol names (nf_common.c ``protoList``), index = IANA number. Names nfdump
# shares a suffix with (UDP in CRUDP, ESP in MFESP) are where IANA puts them.
_NFDUMP_PROTOS = (  # noqa: SIM905 (a table reads better as one string)
    "0 ICMP IGMP GGP IPIP ST TCP CBT EGP IGP BBN NVPII PUP ARGUS ENCOM XNET CHAOS UDP MUX DCN HMP PRM XNS "
    "Trnk1 Trnk2 Leaf1 Leaf2 RDP IRTP ISO-4 NETBK MFESP MEINP DCCP 3PC IDPR XTP DDP IDPR TP++ IL IPv6 SDRP "
    "Rte6 Frag6 IDRP RSVP GRE MHRP BNA ESP AH INLSP SWIPE NARP MOBIL TLSP SKIP ICMP6 NOHE6 OPTS6 HOST CFTP "
    "NET SATNT KLAN RVD IPPC FS SATM VISA IPCV CPNX CPHB WSN PVP BSATM SUNND WBMON WBEXP ISOIP VMTP SVMTP "
    "VINES TTP NSIGP DGP TCF EIGRP OSPF S-RPC LARP MTP AX.25 IPIP MICP SCCSP ETHIP ENCAP 99 GMTP IFMP PNNI "
    "PIM ARIS SCPS QNX A/N IPcmp SNP CpqPP IPXIP VRRP PGM 0hop L2TP DDX IATP STP SRP UTI SMP SM PTP ISIS4 "
    "FIRE CRTP CRUDP 128 IPLT SPS PIPE SCTP FC 134 MHEAD UDP-L MPLS"
).split()

#: IANA protocol number -> nfdump's name (the number as text past nfdump's table).
PROTO_NAMES: tuple[str, ...] = tuple(_NFDUMP_PROTOS + [str(i) for i in range(len(_NFDUMP_PROTOS), 256)])
_PROTOS = pa.array(PROTO_NAMES, pa.string())


def flags_text(flags: np.ndarray) -> pa.Array:
    """nfdump's flag text for each value (only the low 8 bits of IPFIX's 16-bit field count).

    Examples
    --------
    >>> flags_text(np.array([0x02, 0x14, 0x1B], dtype=np.uint16)).to_pylist()
    ['......S.', '...A.R..', '...AP.SF']
    """
    return _FLAGS.take(pa.array(np.asarray(flags, dtype=np.uint64) & 0xFF, pa.uint8()))


def proto_text(proto: np.ndarray) -> pa.Array:
    """Protocol names, dictionary-encoded.

    Examples
    --------
    >>> proto_text(np.array([6, 17, 1, 58, 200], dtype=np.uint8)).to_pylist()
    ['TCP', 'UDP', 'ICMP', 'ICMP6', '200']
    """
    return pc.dictionary_encode(_PROTOS.take(pa.array(np.asarray(proto, dtype=np.uint8))))
