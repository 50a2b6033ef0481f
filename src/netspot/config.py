"""Settings: one object, built at the entry points (CLI, API) and passed down.

Values come from, in increasing priority: defaults, a TOML file (``--config``), the
environment (``NETSPOT_*``), then explicit overrides (CLI flags). No module reads the
environment on its own.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from netspot.errors import ConfigError

__all__ = ["Settings"]


class Settings(BaseSettings):
    """netspot's settings.

    Examples
    --------
    >>> Settings(store=Path("/data/netspot")).store.as_posix()
    '/data/netspot'
    """

    model_config = SettingsConfigDict(env_prefix="NETSPOT_", extra="forbid", frozen=True)

    store: Path = Field(Path("netspot-data"), description="Root folder of the Parquet store.")
    database: str = Field(":memory:", description="DuckDB database file for views, or ':memory:'.")
    threads: int | None = Field(None, ge=1, description="DuckDB threads (default: one per core).")
    watch_settle_s: float = Field(2.0, gt=0, description="A watched file is ingested once unchanged this long.")
    listen_flush_s: float = Field(10.0, gt=0, description="The UDP collector writes a file at least this often.")
    parquet_compression: Literal["lz4", "zstd", "snappy", "none"] = Field(
        "lz4", description="Compression of new Parquet files: lz4 is the fastest, zstd the smallest.")

    @classmethod
    def load(cls, config: Path | None = None, **overrides: Any) -> Settings:
        """Settings from a TOML file (optional), the environment and ``overrides`` (None values ignored)."""
        values: dict[str, Any] = {}
        if config is not None:
            try:
                values.update(tomllib.loads(config.read_text()).get("netspot", {}))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise ConfigError(f"{config}: cannot read settings: {exc}") from exc
        try:
            env = cls()
            values.update({k: getattr(env, k) for k in env.model_fields_set})
            values.update({k: v for k, v in overrides.items() if v is not None})
            return cls(**values)
        except ValidationError as exc:
            raise ConfigError(f"invalid settings: {exc}") from exc
