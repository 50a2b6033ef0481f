"""What subcommands share: the store, the engine, progress on stderr."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from tqdm import tqdm

from netspot.config import Settings
from netspot.errors import NetspotError
from netspot.store.dataset import Store
from netspot.store.engines.duckdb import DuckDBEngine

__all__ = ["engine_for", "errors_as_click", "progress", "store_for"]


def store_for(settings: Settings) -> Store:
    return Store(settings.store, settings.parquet_compression)


def engine_for(settings: Settings) -> DuckDBEngine:
    return DuckDBEngine(store_for(settings), settings.database, settings.threads)


@contextmanager
def errors_as_click() -> Iterator[None]:
    """NetspotError becomes a ClickException (exit 1) only here, at the edge."""
    try:
        yield
    except NetspotError as exc:
        raise click.ClickException(str(exc)) from exc


def progress(desc: str, unit: str = "rec") -> tqdm:  # type: ignore[type-arg]
    """A progress bar on stderr, shown only on a terminal."""
    return tqdm(desc=desc, unit=unit, unit_scale=True, file=sys.stderr, disable=not sys.stderr.isatty(), leave=False)
