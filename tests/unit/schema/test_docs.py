from __future__ import annotations

from netspot.schema import SCHEMAS, describe
from netspot.schema.docs import render
from tests.conftest import ROOT


def test_every_field_is_documented_with_its_ecs_or_ocsf_equivalent() -> None:
    missing = [
        f"{kind.value}.{f.name}"
        for kind, schema in SCHEMAS.items()
        for f in schema
        if not describe(f).get("doc")
        or (kind.value != "quarantine" and not (describe(f).get("ecs") or describe(f).get("ocsf")))
    ]
    assert missing == []


def test_docs_data_model_is_up_to_date() -> None:
    expected = render()
    assert (ROOT / "docs" / "data-model.md").read_text() == expected, "regenerate with python -m netspot.schema.docs"
