"""The registry of readers: format name -> reader class, built-ins plus entry points.

Built-ins are listed explicitly (no namespace scanning) and imported on first use, so
that ``netspot --help`` does not pay for numba. Third-party readers register under the
``netspot.readers`` entry-point group.
"""

from __future__ import annotations

import importlib
from functools import cache
from importlib.metadata import entry_points

from netspot.errors import ConfigError, FormatError, Location
from netspot.ingest.base import Reader, Source

__all__ = ["BUILTIN_READERS", "detect", "get_reader", "reader_names"]

#: format name -> "module:Class". The order is the order of format detection.
BUILTIN_READERS: dict[str, str] = {
    # binary formats first: their magic numbers are unambiguous
    "nfcapd": "netspot.ingest.flow.nfdump:NfcapdReader",
    "netflow-pcap": "netspot.ingest.flow.netflow_pcap:NetflowPcapReader",
    "dns-pcap": "netspot.ingest.dns.pcap:DnsPcapReader",
    "pcap-flow": "netspot.ingest.flow.pcap_flow:PcapFlowReader",
    # text formats
    "nfdump-csv": "netspot.ingest.flow.nfdump:NfdumpCsvReader",
    "zeek-conn": "netspot.ingest.flow.zeek_conn:ZeekConnReader",
    "zeek-dns": "netspot.ingest.dns.zeek_dns:ZeekDnsReader",
    "zeek-http": "netspot.ingest.proxy.zeek_http:ZeekHttpReader",
    "bluecoat": "netspot.ingest.proxy.bluecoat:BluecoatReader",
    "squid": "netspot.ingest.proxy.squid:SquidReader",
    "sshd": "netspot.ingest.event.sshd:SshdReader",
    "ecs-json": "netspot.ingest.event.jsonl:EcsJsonReader",
}


@cache
def _classes() -> dict[str, str]:
    found = dict(BUILTIN_READERS)
    for ep in entry_points(group="netspot.readers"):
        found.setdefault(ep.name, ep.value)
    return found


def reader_names() -> list[str]:
    """Every registered format name, in detection order."""
    return list(_classes())


def get_reader(name: str) -> Reader:
    """An instance of the reader registered as ``name``."""
    target = _classes().get(name)
    if target is None:
        raise ConfigError(f"unknown format {name!r}; known formats: {', '.join(reader_names())}")
    module, _, cls = target.partition(":")
    reader_cls: type[Reader] = getattr(importlib.import_module(module), cls)
    return reader_cls()


def detect(src: Source) -> list[Reader]:
    """The readers for ``src``, decided from its content.

    Usually one; a raw packet capture gets two (its DNS messages and its flows).
    Raises :class:`FormatError` naming the file when no reader recognises it.
    """
    try:
        head = src.head()
    except (OSError, EOFError) as exc:
        raise FormatError(f"cannot read: {exc}", Location(src.name)) from exc
    if not head:
        raise FormatError("file is empty", Location(src.name))
    readers = [r for r in map(get_reader, reader_names()) if r.sniff(head)]
    if not readers:
        raise FormatError(
            "format not recognised (use --format; known: " + ", ".join(reader_names()) + ")", Location(src.name)
        )
    return readers
