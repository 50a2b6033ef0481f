"""``netspot formats``: the input formats netspot reads."""

from __future__ import annotations

import click

from netspot.cli._render import table_text
from netspot.ingest.registry import get_reader, reader_names

__all__ = ["command"]


@click.command("formats")
def command() -> None:
    """List the input formats (use a name with --format)."""
    rows = []
    for name in reader_names():
        reader = get_reader(name)
        doc = (type(reader).__doc__ or "").strip().splitlines()[0] if type(reader).__doc__ else ""
        rows.append([name, reader.kind.value, doc])
    click.echo(table_text(["format", "type", "description"], rows))
