"""The bench/ scripts as modules, for the tests of their protocols and loaders."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[1] / "bench"


def load_module(name: str, path: Path) -> ModuleType:
    """The Python file ``path`` imported as module ``name``."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def load_bench(script: str) -> ModuleType:
    """``bench/<script>.py`` imported as ``bench_<script>``."""
    return load_module(f"bench_{script}", BENCH / f"{script}.py")
