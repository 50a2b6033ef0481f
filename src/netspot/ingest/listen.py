"""A UDP collector: receive NetFlow v5/v9 and IPFIX export datagrams and hand out flow batches.

API (the CLI's ``netspot collect --listen 0.0.0.0:2055`` is built on it)::

    listener = Listener("0.0.0.0", 2055, on_batch=store_batch, on_quarantine=store_quarantine,
                        flush_s=5.0, batch_rows=BATCH_ROWS)
    listener.start()            # binds (IPv4 or IPv6, from ``host``) and receives on a thread
    listener.address            # (host, port) actually bound; port 0 asks for a free port
    ...
    listener.stop()             # stops receiving, quarantines data whose template never came,
                                # delivers the last batches, closes the socket

``on_batch`` gets ``schema.FLOW`` batches of at most ``batch_rows`` rows, whenever that
many records are pending or ``flush_s`` seconds have passed since the last delivery;
``on_quarantine`` gets ``schema.QUARANTINE`` batches at the same moments. Both are called
on the listener's thread (and from ``stop()``); an exception in a callback stops the
listener and is re-raised by ``stop()``. Templates are kept per exporter address, as for
:class:`~netspot.ingest.flow.netflow.NetflowDecoder`. ``Listener`` is also a context manager.

``parse_listen("[::]:2055")`` turns the CLI's ``HOST:PORT`` into ``("::", 2055)``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import pyarrow as pa

from netspot.errors import ConfigError
from netspot.ingest.base import BATCH_ROWS, Source
from netspot.ingest.flow.netflow import NetflowDecoder
from netspot.ingest.quarantine import Quarantine

__all__ = ["Listener", "parse_listen"]

#: Largest UDP payload.
MAX_DATAGRAM = 65535
#: How often the receive loop wakes up to check the flush timer and the stop flag, seconds.
POLL_S = 0.1


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (IPv6 hosts in brackets) as ``(host, port)``.

    Examples
    --------
    >>> parse_listen("0.0.0.0:2055"), parse_listen("[::1]:4739")
    (('0.0.0.0', 2055), ('::1', 4739))
    """
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"--listen {text!r}: expected HOST:PORT, e.g. 0.0.0.0:2055 or [::]:2055")
    return host.strip("[]") or "0.0.0.0", int(port)


class Listener:
    """Receive export datagrams on ``host:port`` and decode them into flow batches.

    Parameters
    ----------
    host, port
        Address to bind; IPv6 when ``host`` contains ``:``. Port 0 picks a free port.
    on_batch, on_quarantine
        Called with each batch of flows / quarantine rows.
    flush_s
        Longest time, in seconds, a decoded record waits before delivery.
    batch_rows
        Deliver as soon as this many records are pending (and never more per batch).
    source_number
        Source number for record ids (``rid``), as the store's registry gives it.
    hold_per_exporter
        Data sets held per exporter while their template is missing.
    """

    def __init__(self, host: str, port: int, on_batch: Callable[[pa.RecordBatch], None],
                 on_quarantine: Callable[[pa.RecordBatch], None], *, flush_s: float = 5.0,
                 batch_rows: int = BATCH_ROWS, source_number: int = 0, hold_per_exporter: int = 1024) -> None:
        self.host = host
        self.port = port
        self.on_batch = on_batch
        self.on_quarantine = on_quarantine
        self.flush_s = flush_s
        self.batch_rows = batch_rows
        self.source_number = source_number
        self.hold_per_exporter = hold_per_exporter
        self.datagrams = 0
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        self.quarantine: Quarantine | None = None
        self._decoder: NetflowDecoder | None = None

    @property
    def address(self) -> tuple[str, int]:
        """The bound (host, port)."""
        if self._sock is None:
            raise ConfigError("listener not started")
        name = self._sock.getsockname()
        return str(name[0]), int(name[1])

    def start(self) -> Listener:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 * 1024 * 1024)
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise ConfigError(f"cannot listen on {self.host}:{self.port}: {exc}") from exc
        sock.settimeout(POLL_S)
        self._sock = sock
        name = f"udp://{self.host}:{self.address[1]}"
        self.quarantine = Quarantine(name, "netflow-listen")
        self._decoder = NetflowDecoder(self.quarantine, Source(Path(name), self.source_number),
                                       hold_per_exporter=self.hold_per_exporter, batch_rows=self.batch_rows)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"netspot-listen-{self.address[1]}", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        assert self._sock is not None
        assert self._decoder is not None
        last = time.monotonic()
        try:
            while not self._stop.is_set():
                try:
                    payload, peer = self._sock.recvfrom(MAX_DATAGRAM)
                except TimeoutError:
                    payload = b""
                else:
                    self.datagrams += 1
                    with self._lock:
                        self._decoder.feed(payload, str(peer[0]), time.time_ns(),
                                           f"datagram {self.datagrams} from {peer[0]}:{peer[1]}")
                now = time.monotonic()
                if self._decoder.pending_rows >= self.batch_rows or now - last >= self.flush_s:
                    self._deliver()
                    last = now
        except Exception as exc:  # noqa: BLE001 (a callback failed: keep it for stop() to re-raise)
            self._error = exc

    def _deliver(self) -> None:
        assert self._decoder is not None
        assert self.quarantine is not None
        with self._lock:
            batches = []
            while (batch := self._decoder.flush()) is not None:
                batches.append(batch)
            rows = self.quarantine.drain()
        for batch in batches:
            self.on_batch(batch)
        if rows is not None:
            self.on_quarantine(rows)

    def stop(self) -> None:
        """Stop receiving, quarantine held data (NO_TEMPLATE), deliver what is left, close the socket."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._decoder is not None and self._error is None:
            self._decoder.close()
            self._deliver()
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def __enter__(self) -> Listener:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
