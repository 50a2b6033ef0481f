"""The ``event`` schema: generic security events (logins, firewall denies, IDS alerts)."""

from __future__ import annotations

import pyarrow as pa

from netspot.schema._field import CATEGORY, common, field, provenance

EVENT = pa.schema(
    [
        *common("time"),
        field("category", CATEGORY, "ECS event category: authentication, network, intrusion_detection, ...",
              ecs="event.category", ocsf="category_name"),
        field("action", CATEGORY, "What happened, e.g. 'ssh_login', 'invalid_user', 'firewall_deny'.",
              ecs="event.action", ocsf="activity_name"),
        field("outcome", CATEGORY, "success, failure or unknown.", ecs="event.outcome", ocsf="status"),
        field("severity", pa.int16(), "Severity as the source gives it (0 when none).", ecs="event.severity",
              ocsf="severity_id"),
        field("src_ip", pa.string(), "Source IP.", ecs="source.ip", ocsf="src_endpoint.ip"),
        field("src_port", pa.int32(), "Source port.", ecs="source.port", ocsf="src_endpoint.port"),
        field("dst_ip", pa.string(), "Destination IP.", ecs="destination.ip", ocsf="dst_endpoint.ip"),
        field("dst_port", pa.int32(), "Destination port.", ecs="destination.port", ocsf="dst_endpoint.port"),
        field("proto", CATEGORY, "Transport protocol, lower case.", ecs="network.transport",
              ocsf="connection_info.protocol_name"),
        field("user", pa.string(), "Account name involved.", ecs="user.name", ocsf="user.name"),
        field("host", pa.string(), "Host that logged the event.", ecs="host.name", ocsf="device.hostname"),
        field("process", CATEGORY, "Program that logged the event (sshd, suricata, ...).", ecs="process.name",
              ocsf="actor.process.name"),
        field("rule", pa.string(), "Rule or signature name, for detections.", ecs="rule.name",
              ocsf="finding_info.title"),
        field("message", pa.string(), "The original message.", ecs="message", ocsf="message"),
        *provenance(),
    ]
)
