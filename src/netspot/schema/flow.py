"""The ``flow`` schema: one row per unidirectional or bidirectional network flow (Spot's nfdump columns)."""

from __future__ import annotations

import pyarrow as pa

from netspot.schema._field import CATEGORY, TIMESTAMP, common, field, provenance

FLOW = pa.schema(
    [
        *common("start_time"),
        field("te", TIMESTAMP, "Flow end (last packet), UTC.", ecs="event.end", ocsf="end_time", spot="te"),
        field("td", pa.float64(), "Duration in seconds.", ecs="event.duration (ns)", ocsf="duration (ms)",
              spot="tdur"),
        field("sip", pa.string(), "Source (originator) IP address, IPv4 or IPv6, as text.", ecs="source.ip",
              ocsf="src_endpoint.ip", spot="sip"),
        field("dip", pa.string(), "Destination (responder) IP address.", ecs="destination.ip",
              ocsf="dst_endpoint.ip", spot="dip"),
        field("sport", pa.int32(), "Source port (0 for protocols without ports; ICMP keeps 0).",
              ecs="source.port", ocsf="src_endpoint.port", spot="sport"),
        field("dport", pa.int32(), "Destination port (for ICMP nfdump's type.code as type*256+code).",
              ecs="destination.port", ocsf="dst_endpoint.port", spot="dport"),
        field("proto", CATEGORY, "Transport protocol name in upper case (TCP, UDP, ICMP, ...), or the number.",
              ecs="network.transport", ocsf="connection_info.protocol_name", spot="proto"),
        field("proto_num", pa.int16(), "IANA protocol number.", ecs="network.iana_number",
              ocsf="connection_info.protocol_num"),
        field("flags", pa.string(), "TCP flags in nfdump notation (e.g. '.AP.SF'), or Zeek's history.",
              ecs="network.tcp_flags (ext)", ocsf="connection_info.tcp_flags", spot="flag"),
        field("fwd", pa.int16(), "Forwarding status.", ocsf="unmapped", spot="fwd"),
        field("stos", pa.int16(), "Source type of service.", ocsf="unmapped", spot="stos"),
        field("dtos", pa.int16(), "Destination type of service.", ocsf="unmapped", spot="dtos"),
        field("ipkt", pa.int64(), "Packets from source to destination.", ecs="source.packets",
              ocsf="traffic.packets_out", spot="ipkt"),
        field("ibyt", pa.int64(), "Bytes from source to destination (IP bytes where the source gives them).",
              ecs="source.bytes", ocsf="traffic.bytes_out", spot="ibyt"),
        field("opkt", pa.int64(), "Packets from destination to source (0 for unidirectional flows).",
              ecs="destination.packets", ocsf="traffic.packets_in", spot="opkt"),
        field("obyt", pa.int64(), "Bytes from destination to source.", ecs="destination.bytes",
              ocsf="traffic.bytes_in", spot="obyt"),
        field("input", pa.int32(), "Input SNMP interface index.", ecs="observer.ingress.interface.id",
              ocsf="unmapped", spot="input"),
        field("output", pa.int32(), "Output SNMP interface index.", ecs="observer.egress.interface.id",
              ocsf="unmapped", spot="output"),
        field("sas", pa.int64(), "Source autonomous system number.", ecs="source.as.number",
              ocsf="src_endpoint.autonomous_system.number", spot="sas"),
        field("das", pa.int64(), "Destination autonomous system number.", ecs="destination.as.number",
              ocsf="dst_endpoint.autonomous_system.number", spot="das"),
        field("dir", pa.int16(), "Flow direction (0 ingress, 1 egress).", ecs="network.direction",
              ocsf="connection_info.direction_id", spot="dir"),
        field("rip", pa.string(), "Exporter (router) IP address, or the sensor.", ecs="observer.ip",
              ocsf="device.ip", spot="rip"),
        field("conn_state", CATEGORY, "Connection state (Zeek conn_state) when known.", ecs="zeek.connection.state",
              ocsf="status_detail"),
        field("service", pa.string(), "Application protocol when known (Zeek service).", ecs="network.protocol",
              ocsf="app_name"),
        field("uid", pa.string(), "Source's connection id (Zeek uid, community id).", ecs="zeek.session_id",
              ocsf="connection_info.uid"),
        *provenance(),
    ]
)
