"""``netspot ingest PATH...``: read files and folders into the store, with a report per source."""

from __future__ import annotations

import json
from pathlib import Path

import click

from netspot.cli._context import errors_as_click, progress, store_for
from netspot.cli._render import table_text
from netspot.config import Settings
from netspot.ingest.collect import IngestReport, ingest
from netspot.ingest.registry import reader_names
from netspot.store.sink import StoreSink

__all__ = ["command", "render_reports"]


def render_reports(reports: list[IngestReport]) -> str:
    """The report table: one row per source and reader, then totals."""
    rows = []
    for r in reports:
        status = "error" if r.error else ("duplicate" if r.duplicate else "ok")
        reasons = ", ".join(f"{k}={v}" for k, v in sorted(r.quarantined.items()))
        skipped = ", ".join(f"{k}={v}" for k, v in sorted(r.skipped.items()))
        rows.append([r.path, r.format, r.kind, status, r.read, r.stored, r.quarantined_total, reasons, skipped])
    rows.append(["total", "", "", "", sum(r.read for r in reports), sum(r.stored for r in reports),
                 sum(r.quarantined_total for r in reports), "", ""])
    text = table_text(["source", "format", "type", "status", "read", "stored", "quarantined", "reasons", "skipped"],
                      rows)
    errors = [f"error: {r.error}" for r in reports if r.error]
    return "\n".join([text, *errors])


@click.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(reader_names()), default=None,
              help="Force a format instead of detecting it from the content.")
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON lines.")
@click.option("--fail-on-quarantine", is_flag=True, help="Exit 1 when any record was quarantined.")
@click.pass_obj
def command(settings: Settings, paths: tuple[Path, ...], fmt: str | None, as_json: bool,
            fail_on_quarantine: bool) -> None:
    """Ingest files and folders (format detected from content); ingesting twice stores once."""
    with errors_as_click():
        sink = StoreSink(store_for(settings))
        bar = progress("ingest")
        try:
            reports = ingest(list(paths), sink, fmt, on_batch=bar.update)
        finally:
            bar.close()
            sink.close()
    if as_json:
        click.echo("\n".join(json.dumps(r.as_dict()) for r in reports))
    else:
        click.echo(render_reports(reports))
    if any(r.error for r in reports):
        raise SystemExit(1)
    if fail_on_quarantine and any(r.quarantined_total for r in reports):
        raise SystemExit(1)
