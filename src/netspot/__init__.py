"""netspot: open network threat analytics.

netspot takes a network's raw telemetry (NetFlow/IPFIX, DNS packets, proxy logs, Zeek
logs, security events), normalises it into one Parquet store partitioned by hour, and
finds the few events out of millions that are most likely threats.
"""

from __future__ import annotations

from netspot.errors import (
    ConfigError,
    EngineError,
    EngineUnavailable,
    FormatError,
    InputError,
    Location,
    NetspotError,
    StoreError,
    TruncatedInputError,
)
from netspot.schema import DataKind

__all__ = [
    "ConfigError",
    "DataKind",
    "EngineError",
    "EngineUnavailable",
    "FormatError",
    "InputError",
    "Location",
    "NetspotError",
    "StoreError",
    "TruncatedInputError",
    "__version__",
]

__version__ = "0.1.0"
