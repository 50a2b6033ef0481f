"""``netspot query "SQL"``: SQL over the views flow, dns, proxy, event, quarantine."""

from __future__ import annotations

import click
import pyarrow.csv as pacsv

from netspot.cli._context import engine_for, errors_as_click
from netspot.cli._render import json_rows, table_text
from netspot.config import Settings

__all__ = ["command"]


@click.command("query")
@click.argument("sql")
@click.option("--output", "output", type=click.Choice(["table", "json", "csv"]), default="table",
              help="table (default), json (one object per line) or csv.")
@click.option("--limit", type=int, default=1000, show_default=True, help="Rows printed in table mode at most.")
@click.pass_obj
def command(settings: Settings, sql: str, output: str, limit: int) -> None:
    """Run SQL (DuckDB dialect) over the store. Views: flow, dns, proxy, event, quarantine."""
    with errors_as_click():
        engine = engine_for(settings)
        try:
            table = engine.table(sql)
        finally:
            engine.close()
    if output == "json":
        click.echo(json_rows(table))
    elif output == "csv":
        import io

        buf = io.BytesIO()
        pacsv.write_csv(table, buf)
        click.echo(buf.getvalue().decode(), nl=False)
    else:
        shown = table.slice(0, limit)
        click.echo(table_text(table.column_names, [list(r.values()) for r in shown.to_pylist()]))
        if table.num_rows > limit:
            click.echo(f"({table.num_rows} rows, {limit} shown; use --limit or --output csv)", err=True)
