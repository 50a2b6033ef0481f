"""``netspot``: the click group. Each subcommand lives in its own module and only parses, calls, renders."""

from __future__ import annotations

from pathlib import Path

import click

from netspot import __version__
from netspot.cli import collect, demo, formats, ingest, query, summary, watch
from netspot.config import Settings
from netspot.errors import NetspotError

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="netspot")
@click.option("--store", type=click.Path(path_type=Path), default=None,
              help="Store folder (default: $NETSPOT_STORE or ./netspot-data).")
@click.option("--config", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="TOML settings file ([netspot] table).")
@click.pass_context
def cli(ctx: click.Context, store: Path | None, config: Path | None) -> None:
    """netspot: open network threat analytics.

    Ingest flow, DNS, proxy and security-event data into an hourly Parquet store and query it.
    """
    try:
        ctx.obj = Settings.load(config, store=store)
    except NetspotError as exc:
        raise click.ClickException(str(exc)) from exc


for module in (ingest, watch, collect, query, summary, formats, demo):
    cli.add_command(module.command)


def main() -> None:
    cli(prog_name="netspot")


if __name__ == "__main__":
    main()
