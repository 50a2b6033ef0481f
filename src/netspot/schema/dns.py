"""The ``dns`` schema: one row per DNS message (query or response), Spot's tshark fields and more."""

from __future__ import annotations

import pyarrow as pa

from netspot.schema._field import CATEGORY, common, field, provenance

DNS = pa.schema(
    [
        *common("time"),
        field("frame_len", pa.int32(), "Length of the frame on the wire, bytes (0 when the source has no frame).",
              ecs="network.bytes", ocsf="traffic.bytes", spot="frame_len"),
        field("ip_src", pa.string(), "Source IP of the message (the resolver for a response).", ecs="source.ip",
              ocsf="src_endpoint.ip", spot="ip_src"),
        field("ip_dst", pa.string(), "Destination IP of the message (the client for a response, as in Spot).",
              ecs="destination.ip", ocsf="dst_endpoint.ip", spot="ip_dst"),
        field("sport", pa.int32(), "Source port.", ecs="source.port", ocsf="src_endpoint.port"),
        field("dport", pa.int32(), "Destination port.", ecs="destination.port", ocsf="dst_endpoint.port"),
        field("transport", CATEGORY, "udp or tcp.", ecs="network.transport", ocsf="connection_info.protocol_name"),
        field("dns_id", pa.int32(), "DNS transaction id.", ecs="dns.id", ocsf="transaction_id"),
        field("is_response", pa.bool_(), "True for a response (QR bit set).", ecs="dns.type",
              ocsf="activity_id (1 query, 2 response)"),
        field("opcode", pa.int16(), "DNS opcode.", ecs="dns.op_code", ocsf="query.opcode_id"),
        field("flags", pa.int32(), "The 16-bit DNS header flags word.", ecs="dns.header_flags", ocsf="flag_ids"),
        field("dns_qry_name", pa.string(), "Query name (first question), lower case as sent, no trailing dot.",
              ecs="dns.question.name", ocsf="query.hostname", spot="dns_qry_name"),
        field("dns_qry_class", pa.int32(), "Query class (1 = IN).", ecs="dns.question.class", ocsf="query.class",
              spot="dns_qry_class"),
        field("dns_qry_type", pa.int32(), "Query type (1 A, 28 AAAA, 16 TXT, 10 NULL, ...).", ecs="dns.question.type",
              ocsf="query.type", spot="dns_qry_type"),
        field("dns_qry_rcode", pa.int16(), "Response code (0 NOERROR, 3 NXDOMAIN); 0 for queries.",
              ecs="dns.response_code", ocsf="rcode_id", spot="dns_qry_rcode"),
        field("dns_answers", pa.list_(pa.string()), "Answer records' data as text (addresses, names, TXT).",
              ecs="dns.answers.data", ocsf="answers.rdata", spot="dns_a"),
        field("dns_answer_types", pa.list_(pa.int32()), "Answer records' types, parallel to dns_answers.",
              ecs="dns.answers.type", ocsf="answers.type"),
        field("dns_ttls", pa.list_(pa.int64()), "Answer records' TTLs in seconds, parallel to dns_answers.",
              ecs="dns.answers.ttl", ocsf="answers.ttl"),
        field("rtt", pa.float64(), "Round-trip time of the query in seconds, when the source measures it (Zeek).",
              ocsf="response_time - query_time"),
        field("uid", pa.string(), "Source's connection id (Zeek uid).", ecs="zeek.session_id",
              ocsf="connection_info.uid"),
        *provenance(),
    ]
)
