"""docs/model.md shows the rules of cuba-1962 as they are in the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from crisislab.reference import tables
from crisislab.scenario.loader import load_scenario

MODEL = Path(__file__).resolve().parents[1] / "docs" / "model.md"


@pytest.mark.parametrize("name", list(tables(load_scenario("cuba-1962"))))
def test_model_page_holds_the_generated_table(name: str) -> None:
    table = tables(load_scenario("cuba-1962"))[name]
    assert table in MODEL.read_text(encoding="utf-8"), (
        f"docs/model.md's {name} table differs from the scenario file; regenerate it with "
        "`python -m crisislab.reference cuba-1962`"
    )


def test_every_rule_id_is_explained() -> None:
    text = MODEL.read_text(encoding="utf-8")
    sc = load_scenario("cuba-1962")
    for ident in (
        [p.id for p in sc.spec.parameters] + [a.id for a in sc.actions] + [e.id for e in sc.events]
    ):
        assert f"`{ident}`" in text, ident
