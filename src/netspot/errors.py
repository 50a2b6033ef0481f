"""The one exception tree of netspot.

Every error that netspot raises on purpose derives from :class:`NetspotError`, and
mixes in the builtin it most resembles, so generic handlers keep working::

    NetspotError
     ├── InputError(ValueError)            bad input named by its Location
     │    ├── FormatError                  a file is not in the format it claims
     │    └── TruncatedInputError          a file ends inside a header or record
     ├── ConfigError(ValueError)           settings, CLI arguments, config files
     ├── SchemaError(ValueError)           a table does not match its Arrow schema
     ├── StoreError(OSError)               the Parquet store cannot be read or written
     ├── EngineError(RuntimeError)         a query engine failed
     │    └── EngineUnavailable(ImportError) an optional engine is not installed
     ├── RuleError(ValueError)             correlation rules
     └── ModelError(RuntimeError)          models
          └── NotFittedError(AttributeError)

A bad *record* is never an exception that escapes a reader: it becomes a
quarantine row (see :mod:`netspot.ingest.quarantine`). Exceptions are for whole
files, settings and programming errors.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ConfigError",
    "EngineError",
    "EngineUnavailable",
    "FormatError",
    "InputError",
    "Location",
    "ModelError",
    "NetspotError",
    "NotFittedError",
    "RuleError",
    "SchemaError",
    "StoreError",
    "TruncatedInputError",
]


@dataclass(frozen=True, slots=True)
class Location:
    """Where in an input something happened.

    Examples
    --------
    >>> str(Location("conn.log", line=1042))
    'conn.log:1042'
    >>> str(Location("dns.pcap", packet=17, offset=4096))
    'dns.pcap packet 17 (offset 4096)'
    """

    path: str
    line: int | None = None
    offset: int | None = None
    packet: int | None = None

    def __str__(self) -> str:
        text = self.path
        if self.line is not None:
            text += f":{self.line}"
        if self.packet is not None:
            text += f" packet {self.packet}"
        if self.offset is not None:
            text += f" (offset {self.offset})" if self.packet is not None else f" offset {self.offset}"
        return text


class NetspotError(Exception):
    """Root of every error netspot raises on purpose."""


class InputError(NetspotError, ValueError):
    """An input cannot be read; ``location`` names the file and, if known, the place."""

    def __init__(self, message: str, location: Location | None = None) -> None:
        self.location = location
        super().__init__(f"{location}: {message}" if location is not None else message)


class FormatError(InputError):
    """A file is not in the format it was taken for (wrong magic, header, columns)."""


class TruncatedInputError(InputError):
    """A file ends inside a header."""


class ConfigError(NetspotError, ValueError):
    """A setting, argument or configuration file is invalid."""


class SchemaError(NetspotError, ValueError):
    """A table does not match the Arrow schema it must have."""


class StoreError(NetspotError, OSError):
    """The Parquet store cannot be read or written."""


class EngineError(NetspotError, RuntimeError):
    """A query engine failed to run a query."""


class EngineUnavailable(EngineError, ImportError):
    """An optional engine's package is not installed; the message gives the install command."""


class RuleError(NetspotError, ValueError):
    """A correlation rule is invalid."""


class ModelError(NetspotError, RuntimeError):
    """A model cannot be trained, saved, loaded or applied."""


class NotFittedError(ModelError, AttributeError):
    """A model was used before ``fit``."""
