"""The ``proxy`` schema: one row per web request seen by a proxy (Spot's Bluecoat columns)."""

from __future__ import annotations

import pyarrow as pa

from netspot.schema._field import CATEGORY, common, field, provenance

PROXY = pa.schema(
    [
        *common("time"),
        field("clientip", pa.string(), "Client IP address.", ecs="source.ip", ocsf="src_endpoint.ip", spot="clientip"),
        field("host", pa.string(), "Requested host name (or IP literal).", ecs="url.domain",
              ocsf="http_request.url.hostname", spot="host"),
        field("reqmethod", CATEGORY, "HTTP method.", ecs="http.request.method", ocsf="http_request.http_method",
              spot="reqmethod"),
        field("useragent", pa.string(), "User agent.", ecs="user_agent.original", ocsf="http_request.user_agent",
              spot="useragent"),
        field("resconttype", CATEGORY, "Response content type.", ecs="http.response.mime_type",
              ocsf="http_response.content_type", spot="resconttype"),
        field("duration", pa.int64(), "Time taken, milliseconds.", ecs="event.duration (ns)", ocsf="duration",
              spot="duration"),
        field("username", pa.string(), "Authenticated user.", ecs="user.name", ocsf="actor.user.name",
              spot="username"),
        field("authgroup", pa.string(), "Authentication group.", ecs="user.group.name", ocsf="unmapped",
              spot="authgroup"),
        field("exceptionid", pa.string(), "Proxy exception id.", ocsf="unmapped", spot="exceptionid"),
        field("filterresult", CATEGORY, "Filter result (PROXIED, OBSERVED, DENIED).", ecs="event.outcome",
              ocsf="disposition", spot="filterresult"),
        field("webcat", pa.string(), "Web category.", ecs="url.category (ext)", ocsf="http_request.url.categories",
              spot="webcat"),
        field("referer", pa.string(), "Referer.", ecs="http.request.referrer", ocsf="http_request.referrer",
              spot="referer"),
        field("respcode", pa.int32(), "HTTP status code (0 when the proxy answered none).",
              ecs="http.response.status_code", ocsf="http_response.code", spot="respcode"),
        field("action", CATEGORY, "Proxy action (TCP_HIT, TCP_MISS, ...).", ecs="event.action", ocsf="activity_name",
              spot="action"),
        field("urischeme", CATEGORY, "URI scheme.", ecs="url.scheme", ocsf="http_request.url.scheme",
              spot="urischeme"),
        field("uriport", pa.int32(), "URI port.", ecs="url.port", ocsf="http_request.url.port", spot="uriport"),
        field("uripath", pa.string(), "URI path.", ecs="url.path", ocsf="http_request.url.path", spot="uripath"),
        field("uriquery", pa.string(), "URI query, with its leading '?' as Bluecoat logs it.", ecs="url.query",
              ocsf="http_request.url.query_string", spot="uriquery"),
        field("uriextension", pa.string(), "File extension of the path.", ecs="url.extension", ocsf="unmapped",
              spot="uriextension"),
        field("serverip", pa.string(), "Server IP address.", ecs="destination.ip", ocsf="dst_endpoint.ip",
              spot="serverip"),
        field("scbytes", pa.int64(), "Bytes server to client.", ecs="http.response.bytes", ocsf="traffic.bytes_in",
              spot="scbytes"),
        field("csbytes", pa.int64(), "Bytes client to server.", ecs="http.request.bytes", ocsf="traffic.bytes_out",
              spot="csbytes"),
        field("virusid", pa.string(), "Virus id.", ocsf="unmapped", spot="virusid"),
        field("bcappname", pa.string(), "Bluecoat application name.", ocsf="app_name", spot="bcappname"),
        field("bcappoper", pa.string(), "Bluecoat application operation.", ocsf="unmapped", spot="bcappoper"),
        field("fulluri", pa.string(), "host + path + query, as Spot built it.", ecs="url.original",
              ocsf="http_request.url.url_string", spot="fulluri"),
        field("uid", pa.string(), "Source's connection id (Zeek uid).", ecs="zeek.session_id",
              ocsf="connection_info.uid"),
        *provenance(),
    ]
)
