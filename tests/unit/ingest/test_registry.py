from __future__ import annotations

from pathlib import Path

import pytest

from netspot.errors import ConfigError, FormatError
from netspot.ingest.base import Source
from netspot.ingest.docs import render
from netspot.ingest.registry import detect, get_reader, reader_names
from tests.conftest import ROOT


def test_docs_formats_is_up_to_date() -> None:
    assert (ROOT / "docs" / "formats.md").read_text() == render(), "regenerate with python -m netspot.ingest.docs"


def test_every_registered_format_loads_with_its_name_and_kind() -> None:
    for name in reader_names():
        reader = get_reader(name)
        assert reader.format == name
        assert reader.schema.names[:2] == ["ts", "rid"]


def test_an_unknown_format_name_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="known formats: nfcapd"):
        get_reader("netflow-v11")


def test_an_empty_file_is_an_error_naming_it(tmp_path: Path) -> None:
    empty = tmp_path / "empty.log"
    empty.touch()
    with pytest.raises(FormatError, match=r"empty\.log: file is empty"):
        detect(Source(empty))
