"""Shared fixtures: the third-party datasets, reference tools, a temporary store."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

#: Fixture generators in tests/data are scripts, not tests.
collect_ignore = ["data"]

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
#: ../shared/datasets from the project root; CI has it, a clone elsewhere does not.
SHARED = Path(os.environ.get("NETSPOT_SHARED", ROOT.parent / "shared")) / "datasets"


#: Under CI (.ci/run sets NETSPOT_STRICT=1) a missing dataset or tool is an error, never a skip.
STRICT = os.environ.get("NETSPOT_STRICT") == "1"


def _skip(reason: str) -> None:
    if STRICT:
        pytest.fail(f"{reason} (NETSPOT_STRICT=1: CI must not pass by skipping)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared() -> Path:
    """The third-party datasets; tests that need them skip with a reason elsewhere (a failure under CI)."""
    if not SHARED.is_dir():
        _skip(f"shared datasets not found at {SHARED} (only inside the netspot workplace)")
    return SHARED


def require_tool(name: str) -> str:
    """Path of a reference tool (nfdump, tshark, softflowd, nfpcapd); skip with a reason when absent."""
    path = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None)
    if path is None:
        _skip(f"reference tool {name!r} not installed (apt-get install nfdump tshark softflowd)")
    assert path is not None
    return path


@pytest.fixture
def data() -> Path:
    """Hand-made fixtures in tests/data."""
    return DATA
