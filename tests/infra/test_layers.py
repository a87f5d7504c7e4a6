"""The layer recipes: each function's layers never carry a package twice, and the numpy
the river layer ships (for the learner) is the numeric layer's."""

from __future__ import annotations

import pytest
from infra.components import functions
from infra.components.permissions import Access
from layers.build import RECIPES


def _pins(layer: str) -> dict[str, str]:
    lines = (RECIPES / layer / "requirements.txt").read_text().splitlines()
    pairs = (line.split("==") for line in lines if line and not line.startswith("#"))
    return {name.strip().lower(): version.strip() for name, version in pairs}


def test_river_ships_the_numeric_layers_numpy() -> None:
    assert _pins("river")["numpy"] == _pins("numeric")["numpy"]


def test_functions_get_disjoint_layers() -> None:
    for name in functions.function_names():
        chosen = [layer for layer in functions.layers_of(name) if layer != "tripwire"]
        packages = [p for layer in chosen for p in _pins(layer)]
        assert len(packages) == len(set(packages)), name


def test_a_function_cannot_have_numeric_and_river(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(functions.FUNCTIONS, "both", Access(river=True, numeric=True))
    with pytest.raises(ValueError, match="cannot go together"):
        functions.layers_of("both")
