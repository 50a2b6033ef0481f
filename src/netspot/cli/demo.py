"""``netspot demo``: the main job on the embedded default, end to end on a sample day.

At this stage: write the sample day (:mod:`netspot.simulate.sample`), ingest it into a
store, and print the ingest report and the ingest summary.
"""

from __future__ import annotations

from pathlib import Path

import click

from netspot.cli._context import engine_for, errors_as_click, progress, store_for
from netspot.cli._render import table_text
from netspot.cli.ingest import render_reports
from netspot.config import Settings
from netspot.ingest.collect import ingest
from netspot.simulate.sample import write_sample
from netspot.store.engine import TimeRange
from netspot.store.sink import StoreSink
from netspot.store.summary import ingest_summary

__all__ = ["command"]


@click.command("demo")
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path), default=Path("netspot-demo"),
              show_default=True, help="Where the sample input (and, unless --store is given, the store) go.")
@click.option("--day", default="2024-08-16", show_default=True, help="The sample day (UTC).")
@click.option("--flows", type=int, default=200_000, show_default=True, help="Background flows in the sample day.")
@click.option("--seed", type=int, default=7, show_default=True)
@click.pass_context
def command(ctx: click.Context, folder: Path, day: str, flows: int, seed: int) -> None:
    """Simulate a sample day, ingest it, and print the ingest summary."""
    settings: Settings = ctx.obj
    if ctx.parent is not None and ctx.parent.params.get("store") is None:
        settings = settings.model_copy(update={"store": folder / "store"})
    with errors_as_click():
        click.echo(f"writing the sample day {day} to {folder / 'input'}", err=True)
        files = write_sample(folder / "input", day=day, flows=flows, seed=seed)
        sink = StoreSink(store_for(settings))
        bar = progress("ingest")
        try:
            reports = ingest([p for k, p in files.items() if k != "labels"], sink, on_batch=bar.update)
        finally:
            bar.close()
            sink.close()
        click.echo(render_reports(reports))
        engine = engine_for(settings)
        try:
            table = ingest_summary(engine, TimeRange.day(day))
        finally:
            engine.close()
    per_type: dict[str, int] = {}
    for row in table.to_pylist():
        per_type[row["type"]] = per_type.get(row["type"], 0) + row["records"]
    hours = len({row["hour"] for row in table.to_pylist()})
    click.echo(f"\ningest summary for {day} ({hours} hours with data), store: {settings.store}")
    click.echo(table_text(["type", "records"], sorted(per_type.items())))
    click.echo(f"\nquery it:  netspot --store {settings.store} query \"SELECT sip, count(*) n FROM flow "
               "GROUP BY 1 ORDER BY n DESC LIMIT 10\"")
    if any(r.error for r in reports):
        raise SystemExit(1)
