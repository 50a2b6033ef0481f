"""``netspot summary --from --to``: records per type per hour."""

from __future__ import annotations

import click

from netspot.cli._context import engine_for, errors_as_click
from netspot.cli._render import json_rows, table_text
from netspot.config import Settings
from netspot.schema import DataKind
from netspot.store.engine import TimeRange
from netspot.store.summary import SUMMARY_KINDS, ingest_summary

__all__ = ["command"]


@click.command("summary")
@click.option("--from", "start", required=True, help="Start date or time, UTC (e.g. 2024-08-16).")
@click.option("--to", "end", required=True, help="End date or time, UTC; a bare date includes that day.")
@click.option("--type", "kinds", multiple=True, type=click.Choice([k.value for k in SUMMARY_KINDS]),
              help="Only these types (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of a table.")
@click.pass_obj
def command(settings: Settings, start: str, end: str, kinds: tuple[str, ...], as_json: bool) -> None:
    """Ingest summary: records per type per hour over a date range, with totals per type."""
    with errors_as_click():
        span = TimeRange.parse(start, end)
        engine = engine_for(settings)
        try:
            table = ingest_summary(engine, span, [DataKind(k) for k in kinds] if kinds else SUMMARY_KINDS)
        finally:
            engine.close()
    if as_json:
        click.echo(json_rows(table))
        return
    rows = table.to_pylist()
    click.echo(table_text(["hour (UTC)", "type", "records"],
                          [[r["hour"].strftime("%Y-%m-%d %H:00"), r["type"], r["records"]] for r in rows]))
    totals: dict[str, int] = {}
    for r in rows:
        totals[r["type"]] = totals.get(r["type"], 0) + r["records"]
    click.echo("\n" + table_text(["type", "total"], sorted(totals.items())))
