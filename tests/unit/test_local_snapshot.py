"""The local stack's snapshot file: what it holds comes back exactly; a crash while one is
written leaves the previous one whole; an unreadable one is an error, never an empty start;
a `tripwire` command writing holds snapshots off."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from tripwire.local import persistence
from tripwire.local.persistence import (
    Capture,
    SnapshotError,
    hold_snapshots,
    read_snapshot,
    snapshots_held,
    write_snapshot,
)


def _state(alerts: int = 2) -> Capture:
    return Capture(
        tables={
            "catalog": [
                {"pk": {"S": "t1"}, "sk": {"S": "PROFILE#A1"}, "body": {"S": "{}"}},
                {"pk": {"S": "t2"}, "sk": {"S": "PROFILE#B1"}, "body": {"S": "{}"}},
                {"pk": {"S": "t2"}, "sk": {"S": "PROFILE#B2"}, "body": {"S": "{}"}},
                {"pk": {"S": "t1#A1"}, "sk": {"S": "ENTITY#k1"}, "n": {"N": "1.5"}},
            ],
            "alerts": [
                {"pk": {"S": f"t1#al-{i}"}, **({"active_pk": {"S": "x"}} if i else {})}
                for i in range(alerts)
            ],
            "metrics": [{"pk": {"S": "t1#A1"}, "sk": {"S": "M#1d#k1#2026"}, "v": {"B": "AAE="}}],
        },
        objects={"models": [("t1/A1/if/abc.onnx", b"\x00\x01\xff", {"Content-Type": "x/y"})]},
        queues={
            "scan": [{"body": "{}", "attributes": {}, "group_id": None, "deduplication_id": None}]
        },
        taken_at="2026-12-06T00:00:00+00:00",
    )


def test_what_a_snapshot_holds_comes_back_exactly(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.zip"
    size = write_snapshot(path, _state())
    assert size == path.stat().st_size > 0
    assert read_snapshot(path) == _state()


def test_the_summary_counts_tenants_profiles_and_alerts() -> None:
    summary = _state(alerts=3).summary()
    assert (summary.tenants, summary.profiles, summary.alerts, summary.active_alerts) == (
        2,
        3,
        3,
        2,
    )
    assert (summary.objects, summary.messages) == (1, 1)


def test_no_snapshot_is_none(tmp_path: Path) -> None:
    assert read_snapshot(tmp_path / "snapshot.zip") is None


def test_a_crash_while_writing_leaves_the_previous_snapshot_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "snapshot.zip"
    write_snapshot(path, _state(alerts=1))

    def dies_half_way(handle: object, state: Capture) -> None:
        handle.write(b"PK\x03\x04 half an archive")  # type: ignore[attr-defined]
        raise KeyboardInterrupt  # the process is killed here

    monkeypatch.setattr(persistence, "_write_zip", dies_half_way)
    with pytest.raises(KeyboardInterrupt):
        write_snapshot(path, _state(alerts=5))
    assert read_snapshot(path) == _state(alerts=1)


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),  # torn
        lambda p: p.write_bytes(b"not a zip"),
    ],
)
def test_an_unreadable_snapshot_is_an_error(tmp_path: Path, damage: object) -> None:
    path = tmp_path / "snapshot.zip"
    write_snapshot(path, _state())
    damage(path)  # type: ignore[operator]
    with pytest.raises(SnapshotError, match="cannot be read"):
        read_snapshot(path)


def test_a_snapshot_of_another_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("manifest.json", json.dumps({"format": persistence.FORMAT + 1}))
    with pytest.raises(SnapshotError, match="format"):
        read_snapshot(path)


def test_a_command_writing_holds_snapshots_off_until_it_is_done(tmp_path: Path) -> None:
    with persistence._writers_quiet(tmp_path) as quiet:
        assert quiet
    with snapshots_held(tmp_path), persistence._writers_quiet(tmp_path) as quiet:
        assert not quiet
    with persistence._writers_quiet(tmp_path) as quiet:
        assert quiet


def test_a_held_process_keeps_the_hold_until_it_exits(tmp_path: Path) -> None:
    hold_snapshots(tmp_path)
    try:
        with persistence._writers_quiet(tmp_path) as quiet:
            assert not quiet
    finally:
        persistence._held.pop().close()
