"""Environment variables a local component sets while it runs, and gives back when it stops
(in-process handlers read their configuration from os.environ, as in Lambda)."""

from __future__ import annotations

import os
from collections.abc import Mapping


def export(values: Mapping[str, str], saved: dict[str, str | None]) -> None:
    """Set ``values``, remembering in ``saved`` what each name held before the first set."""
    for name in values:
        saved.setdefault(name, os.environ.get(name))
    os.environ.update(values)


def restore(saved: dict[str, str | None]) -> None:
    """Put back what ``export`` replaced (unset names it created), and forget it."""
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    saved.clear()
