"""Vectorised URL splitting and Spot's ``fulluri`` for the proxy readers.

Both work on whole Arrow arrays (RE2 via ``pyarrow.compute``), never per URL.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["DEFAULT_PORTS", "UrlParts", "fulluri", "split_url"]

#: Port assumed when a URL names none, by scheme (RFC 7230, RFC 959).
DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21, "ws": 80, "wss": 443}

_URL = (
    r"^(?:(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://)?(?:[^/?#@]*@)?"
    r"(?P<host>\[[0-9A-Fa-f:.]*\]|[^/?#:\[\]@]*)(?::(?P<port>\d{1,5}))?"
    r"(?P<path>[/][^?#]*)?(?P<query>\?[^#]*)?(?:#.*)?$"
)
_EXT = r"\.(?P<ext>[A-Za-z0-9]{1,10})$"


@dataclass(frozen=True, slots=True)
class UrlParts:
    """The parts of a column of URLs; each is null where the URL has no such part."""

    scheme: pa.Array
    host: pa.Array
    port: pa.Array
    path: pa.Array
    query: pa.Array
    extension: pa.Array


def _none_if_empty(values: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, values.type), values)


def split_url(urls: pa.Array) -> UrlParts:
    """Split absolute URLs, ``host:port`` (CONNECT) and ``/path?query`` (origin form).

    The port is the explicit one or the scheme's default (:data:`DEFAULT_PORTS`);
    the query keeps its leading ``?`` as Bluecoat logs it; the extension is that of
    the last path segment, without the dot. Text that is not a URL gives nulls.

    Examples
    --------
    >>> p = split_url(pa.array(["http://a.com/x/y.php?q=1", "b.org:443", "/i.gif", "error:invalid-request"]))
    >>> p.scheme.to_pylist(), p.host.to_pylist(), p.port.to_pylist()
    (['http', None, None, None], ['a.com', 'b.org', None, None], [80, 443, None, None])
    >>> p.path.to_pylist(), p.query.to_pylist(), p.extension.to_pylist()
    (['/x/y.php', None, '/i.gif', None], ['?q=1', None, None, None], ['php', None, 'gif', None])
    """
    g = pc.extract_regex(urls, _URL)
    scheme = pc.utf8_lower(_none_if_empty(g.field("scheme")))
    host = pc.utf8_lower(_none_if_empty(g.field("host")))
    path = _none_if_empty(g.field("path"))
    query = _none_if_empty(g.field("query"))
    explicit = _none_if_empty(g.field("port")).cast(pa.int64())
    explicit = pc.if_else(pc.less_equal(explicit, 65535), explicit, pa.scalar(None, pa.int64()))
    keys = pa.array(list(DEFAULT_PORTS), pa.string())
    defaults = pa.array(list(DEFAULT_PORTS.values()), pa.int64()).take(pc.index_in(scheme, keys))
    port = pc.coalesce(explicit, defaults).cast(pa.int32())
    last = pc.extract_regex(path, _EXT).field("ext")
    return UrlParts(scheme, host, port, path, query, _none_if_empty(last))


def fulluri(host: pa.Array, path: pa.Array, query: pa.Array) -> pa.Array:
    """Spot's ``fulluri``: host + path (if longer than 1) + query (if longer than 1); null parts count as empty.

    Examples
    --------
    >>> fulluri(pa.array(["a.com", "b.com"]), pa.array(["/", "/x"]), pa.array(["?", None])).to_pylist()
    ['a.com', 'b.com/x']
    """

    def part(values: pa.Array) -> pa.Array:
        values = pc.fill_null(values, "")
        return pc.if_else(pc.greater(pc.utf8_length(values), 1), values, "")

    return pc.binary_join_element_wise(pc.fill_null(host, ""), part(path), part(query), "")
