"""``netspot collect --listen HOST:PORT``: receive NetFlow v5/v9 and IPFIX export packets live."""

from __future__ import annotations

import threading
import time

import click
import pyarrow as pa

from netspot.cli._context import errors_as_click, store_for
from netspot.config import Settings
from netspot.ingest.collect import IngestReport
from netspot.schema import DataKind
from netspot.store.sink import StoreSink

__all__ = ["command"]


class _Committer:
    """Commits each batch the listener hands over as its own source in the store (atomic, registered)."""

    def __init__(self, sink: StoreSink, address: str) -> None:
        self.sink = sink
        self.address = address
        self.lock = threading.Lock()
        self.stored = 0
        self.quarantined = 0

    def _commit(self, kind: DataKind, batch: pa.RecordBatch) -> int:
        with self.lock:
            number, _ = self.sink.claim(f"listen:{self.address}:{time.time_ns()}", f"listen-{kind.value}",
                                        self.address)
            writer = self.sink.writer(kind, number)
            writer.write(batch)
            rows = writer.commit()
            self.sink.finish(number, IngestReport(self.address, "netflow-listen", kind.value, read=rows, stored=rows))
            return rows

    def flows(self, batch: pa.RecordBatch) -> None:
        self.stored += self._commit(DataKind.FLOW, batch)

    def rejects(self, batch: pa.RecordBatch) -> None:
        self.quarantined += self._commit(DataKind.QUARANTINE, batch)


@click.command("collect")
@click.option("--listen", "listen", required=True, help="UDP address to receive exports on, e.g. 0.0.0.0:2055.")
@click.option("--duration", type=float, default=None, help="Stop after this many seconds (default: until Ctrl-C).")
@click.pass_obj
def command(settings: Settings, listen: str, duration: float | None) -> None:
    """Collect NetFlow v5/v9 and IPFIX exports over UDP into the store (templates per exporter and domain)."""
    from netspot.ingest.listen import Listener, parse_listen

    with errors_as_click():
        host, port = parse_listen(listen)
        sink = StoreSink(store_for(settings))
        committer = _Committer(sink, listen)
        listener = Listener(host, port, on_batch=committer.flows, on_quarantine=committer.rejects,
                            flush_s=settings.listen_flush_s)
        listener.start()
        click.echo(f"listening on udp {host}:{listener.port}; writing every {settings.listen_flush_s:g} s", err=True)
        try:
            deadline = None if duration is None else time.monotonic() + duration
            while deadline is None or time.monotonic() < deadline:
                time.sleep(0.1)
        except KeyboardInterrupt:
            pass
        finally:
            listener.stop()
            sink.close()
    click.echo(f"stored {committer.stored} flows, quarantined {committer.quarantined} records")
