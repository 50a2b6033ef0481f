"""``netspot watch DIR``: ingest files as they arrive in a folder."""

from __future__ import annotations

import threading
from pathlib import Path

import click

from netspot.cli._context import errors_as_click, store_for
from netspot.cli.ingest import render_reports
from netspot.config import Settings
from netspot.ingest.collect import IngestReport
from netspot.ingest.registry import reader_names
from netspot.ingest.watch import watch
from netspot.store.sink import StoreSink

__all__ = ["command"]


@click.command("watch")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(reader_names()), default=None, help="Force a format.")
@click.option("--duration", type=float, default=None, help="Stop after this many seconds (default: until Ctrl-C).")
@click.pass_obj
def command(settings: Settings, folder: Path, fmt: str | None, duration: float | None) -> None:
    """Ingest FOLDER's files, then every file that arrives in it, until Ctrl-C."""
    stop = threading.Event()
    if duration is not None:
        threading.Timer(duration, stop.set).start()

    def show(report: IngestReport) -> None:
        click.echo(render_reports([report]).splitlines()[1])

    click.echo(f"watching {folder} (settle {settings.watch_settle_s:g} s); Ctrl-C to stop", err=True)
    with errors_as_click():
        sink = StoreSink(store_for(settings))
        try:
            reports = watch(folder, sink, fmt, settings.watch_settle_s, stop, on_report=show)
        except KeyboardInterrupt:
            reports = []
        finally:
            stop.set()
            sink.close()
    click.echo(render_reports(reports).splitlines()[-1] if reports else "nothing ingested", err=True)
