"""`tripwire local reset`: the only way to empty the local stack's kept data — it asks (or
takes --yes), and refuses while a stack runs."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from tests.unit.test_local_snapshot import _state
from tripwire.cli import main as cli
from tripwire.local.persistence import SNAPSHOT, write_snapshot
from tripwire.local.stack import STATE_FILE


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRIPWIRE_LOCAL_DIR", str(tmp_path))
    write_snapshot(tmp_path / SNAPSHOT, _state())
    return tmp_path


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_without_yes_and_without_a_terminal_nothing_is_deleted(
    data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert cli(["local", "reset"]) == 2
    assert (data / SNAPSHOT).exists()
    assert "2 tenant(s), 3 profile(s), 2 alert(s)" in capsys.readouterr().err


@pytest.mark.parametrize(("answer", "kept"), [("n\n", True), ("\n", True), ("y\n", False)])
def test_it_asks_first(
    data: Path, monkeypatch: pytest.MonkeyPatch, answer: str, kept: bool
) -> None:
    monkeypatch.setattr("sys.stdin", Terminal(answer))
    cli(["local", "reset"])
    assert (data / SNAPSHOT).exists() is kept


def test_yes_deletes_the_snapshot(data: Path) -> None:
    assert cli(["local", "reset", "--yes"]) == 0
    assert not (data / SNAPSHOT).exists()


def test_another_data_folder(data: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    other = tmp_path_factory.mktemp("other")
    write_snapshot(other / SNAPSHOT, _state())
    assert cli(["local", "reset", "--yes", "--data", str(other)]) == 0
    assert not (other / SNAPSHOT).exists() and (data / SNAPSHOT).exists()


def test_a_running_stack_is_never_reset(data: Path) -> None:
    (data / STATE_FILE).write_text(json.dumps({"pid": os.getpid(), "env": {}}))
    assert cli(["local", "reset", "--yes"]) == 2
    assert (data / SNAPSHOT).exists()
