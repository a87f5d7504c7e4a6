"""The local stack keeps its data: a stop and a start give back the same alerts, statuses,
models, schedules and statistics; a `kill -9` loses nothing the last snapshot held, keeps an
import whole or not at all, and leaves no run ``in_progress`` and no alert twice.

The crash tests run `tripwire local up` in a subprocess (as a user does) and kill it.
"""

from __future__ import annotations

import datetime
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tripwire.demo.generator import GeneratorConfig, generate, write
from tripwire.detection.pipeline import PipelineConfig
from tripwire.domain import DetectionRun, RunStatus, Trigger
from tripwire.ingest.importer import import_account
from tripwire.local.auth import issue_token
from tripwire.local.persistence import SNAPSHOT, read_snapshot
from tripwire.local.recovery import LOST
from tripwire.local.stack import LocalStack, read_state
from tripwire.registry.store import RegistryStore
from tripwire.service.runs import new_run
from tripwire.service.train import train_profile
from tripwire.store.provision import reset_clients
from tripwire.store.runs import RunSlices, RunStore
from tripwire.store.schedule import ScheduleStore

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local-persistence")]

PROFILE = "A1"
ACCOUNT = GeneratorConfig(seed=11, keywords=80, campaigns=5, portfolios=1, days=90)
TRAINED_UNTIL = datetime.date(2026, 3, 1)  # the day before the generator's incident period
SCAN_DAY = datetime.date(2026, 3, 6)
FAST_MODELS = PipelineConfig(
    weights={"count": 2.0, "streaming": 0.3}, detector_options={"streaming": {"window_size": 200}}
)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def account_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write(generate(ACCOUNT), tmp_path_factory.mktemp("persist-account"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _api(stack_url: str, token: str, method: str, path: str) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"{stack_url}{path}", headers={"Authorization": f"Bearer {token}"}, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def _view(stack: LocalStack, token: str) -> dict[str, Any]:
    """What a user sees: alerts with their statuses, statistics, models, runs, schedules."""

    def get(path: str) -> Any:
        status, body = _api(stack.api_url, token, "GET", path)
        assert status == 200, (path, body)
        return body

    alerts = get(f"/alerts/active?profile_id={PROFILE}&limit=200")["items"]
    return {
        "alerts": sorted((a["alert_id"], a["status"]) for a in alerts),
        "statistics": get(f"/statistics?profile_id={PROFILE}&from=2026-01-01&to=2026-12-31"),
        "models": get(f"/models?profile_id={PROFILE}"),
        "runs": get(f"/runs?profile_id={PROFILE}"),
        "schedules": sorted((e.tenant_id, e.profile_id) for e in ScheduleStore().active()),
    }


def test_stop_and_start_give_back_alerts_statuses_models_schedules_and_statistics(
    tmp_path: Path, account_files: dict[str, Path]
) -> None:
    tenant = f"keep-{uuid.uuid4().hex[:8]}"
    folders = {"directory": tmp_path / "state", "data": tmp_path / "data"}
    # One moto port for both: the API handlers loaded in this process (warm "containers")
    # keep their clients, which a restart in a new process — `tripwire local up` — would not.
    port = _free_port()
    with LocalStack(prefix="tripwire-keep", aws_port=port, notifications=False, **folders) as stack:
        assert stack.restored is None  # a new data folder: nothing to restore
        import_account(tenant, PROFILE, account_files["entities"], account_files["metrics"])
        train_profile(tenant, PROFILE, TRAINED_UNTIL, config=FAST_MODELS)
        ScheduleStore().set(tenant, PROFILE, True)
        stack.scan(SCAN_DAY)
        token = issue_token(tenant, "alice", directory=stack.directory)
        active = _api(stack.api_url, token, "GET", f"/alerts/active?profile_id={PROFILE}")[1]
        assert len(active["items"]) >= 2
        acknowledged = active["items"][0]["alert_id"]
        status, _ = _api(stack.api_url, token, "PATCH", f"/alerts/{acknowledged}/acknowledge")
        assert status == 200
        before = _view(stack, token)
    assert dict(before["alerts"])[acknowledged] == "acknowledged"

    with LocalStack(prefix="tripwire-keep", aws_port=port, notifications=False, **folders) as stack:
        assert stack.restored is not None
        assert (stack.restored.tenants, stack.restored.profiles) == (1, 1)
        assert stack.restored.alerts == len(before["alerts"])
        after = _view(stack, token)  # the token issued before the restart still works
        assert after == before
        # The restored models score and the detection state is there: nothing new to detect.
        [again] = stack.scan(SCAN_DAY)
        rerun = RunStore().get(tenant, again["run_id"])
        assert rerun is not None and rerun.status is RunStatus.COMPLETE
        assert rerun.anomalies_found == 0 and rerun.model_versions
        assert RegistryStore().current_set(tenant, PROFILE) == rerun.model_versions


def test_a_run_whose_slices_were_lost_ends_failed_with_the_reason(tmp_path: Path) -> None:
    """The state a crash leaves when the run was recorded but its messages never made it
    into a snapshot: the restarted stack fails the run instead of leaving it in progress."""
    tenant = f"lost-{uuid.uuid4().hex[:8]}"
    folders = {"directory": tmp_path / "state", "data": tmp_path / "data"}
    with LocalStack(prefix="tripwire-lost", notifications=False, **folders):
        fanned = new_run(tenant, PROFILE, Trigger.SCHEDULE, 10)
        RunSlices().start(fanned, 2)
        RunSlices().finish(tenant, fanned.run_id, 0)  # slice 0 done, slice 1 lost
        whole = new_run(tenant, PROFILE, Trigger.API, 3)  # a run in one piece, mid-way
        RunStore().put(whole)
        done = new_run(tenant, PROFILE, Trigger.API, 3).model_copy(
            update={"status": RunStatus.COMPLETE}
        )
        RunStore().put(done)
    with LocalStack(prefix="tripwire-lost", notifications=False, **folders) as stack:
        assert stack.recovered is not None
        assert sorted(stack.recovered.failed) == sorted([fanned.run_id, whole.run_id])
        for run_id in (fanned.run_id, whole.run_id):
            run = RunStore().get(tenant, run_id)
            assert run is not None and run.status is RunStatus.FAILED
            assert run.completed_at is not None and LOST in (run.error or "")
        kept = RunStore().get(tenant, done.run_id)
        assert kept is not None and kept.status is RunStatus.COMPLETE and kept.error is None


def test_a_stack_without_a_data_folder_keeps_nothing(tmp_path: Path) -> None:
    """Tests, the demo and benchmarks: each start is empty, and no file is written."""
    tenant = f"none-{uuid.uuid4().hex[:8]}"
    with LocalStack(directory=tmp_path, prefix="tripwire-none", notifications=False) as stack:
        RunStore().put(new_run(tenant, PROFILE, Trigger.API))
        assert stack.snapshot_path is None
    with LocalStack(directory=tmp_path, prefix="tripwire-none", notifications=False) as stack:
        assert stack.restored is None
        assert RunStore().of_profile(tenant, PROFILE) == []
    assert not list(tmp_path.rglob(SNAPSHOT))


# -- kill -9: the stack in a subprocess -----------------------------------------------------


class Subprocess:
    """`tripwire local up` in its own process, on a state folder and a data folder."""

    def __init__(self, root: Path) -> None:
        self.state, self.data = root / "state", root / "data"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TRIPWIRE_"))},
            "TRIPWIRE_LOCAL_DIR": str(self.state),
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "PYTHONPATH": os.pathsep.join([str(ROOT / "shared"), str(ROOT)]),
        }
        self.process: subprocess.Popen[str] | None = None
        self.output = root / "stack.log"

    def cli(self, *args: str, wait: bool = True) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-m", "tripwire.cli", *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        if wait:
            out, _ = process.communicate(timeout=300)
            assert process.returncode == 0, out
        return process

    def up(self) -> dict[str, str]:
        log = self.output.open("a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tripwire.cli", "local", "up", "--snapshot-every", "0.3"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 120
        while (state := read_state(self.state)) is None or state["pid"] != self.process.pid:
            assert self.process.poll() is None, self.output.read_text()
            assert time.monotonic() < deadline, "local up did not start"
            time.sleep(0.1)
        return dict(state["env"])

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            self.process.wait(timeout=120)

    def snapshot_tables(self) -> dict[str, list[dict[str, Any]]]:
        state = read_snapshot(self.data_file)
        return {} if state is None else state.tables

    @property
    def data_file(self) -> Path:
        return self.state / SNAPSHOT  # `local up`'s default data folder is its state folder


@pytest.fixture
def crashable(tmp_path: Path) -> Iterator[Subprocess]:
    stack = Subprocess(tmp_path)
    try:
        yield stack
    finally:
        stack.stop()
        reset_clients()


def _use(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Point this process's store code at the subprocess's stack."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    reset_clients()


def _items(env: dict[str, str], logical: str) -> list[dict[str, Any]]:
    client = boto3.client(
        "dynamodb",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_REGION"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    table = env[f"TRIPWIRE_TABLE_{logical.upper()}"]
    return [
        i for page in client.get_paginator("scan").paginate(TableName=table) for i in page["Items"]
    ]


def _count(env: dict[str, str], logical: str, pk: str) -> int:
    client = boto3.client(
        "dynamodb",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_REGION"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return int(
        client.query(
            TableName=env[f"TRIPWIRE_TABLE_{logical.upper()}"],
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}},
            Select="COUNT",
        )["Count"]
    )


def _single_root(entities: Path) -> str:
    lines = entities.read_text().splitlines()
    header = lines[0].split(",")
    rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:]]
    [root] = [r["entity_id"] for r in rows if not r.get("parent_id")]
    return root


def _of_tenant(items: list[dict[str, Any]], tenant: str) -> list[dict[str, Any]]:
    return [i for i in items if i["pk"]["S"].startswith(f"{tenant}#") or i["pk"]["S"] == tenant]


def _wait(condition: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_kill_during_an_import_keeps_it_whole_or_not_at_all(
    crashable: Subprocess, tmp_path: Path, account_files: dict[str, Path]
) -> None:
    env = crashable.up()
    kept = f"kept-{uuid.uuid4().hex[:6]}"
    crashable.cli(
        "import",
        "--entities",
        str(account_files["entities"]),
        "--metrics",
        str(account_files["metrics"]),
        "--tenant",
        kept,
        "--quiet",
    )
    _wait(lambda: _of_tenant(crashable.snapshot_tables().get("catalog", []), kept), 30, "snapshot")

    # An import big enough that its writes take seconds (snapshots are due every 0.3 s).
    big = write(generate(GeneratorConfig(seed=3, keywords=3000, days=60)), tmp_path / "big")
    cut = f"cut-{uuid.uuid4().hex[:6]}"
    importing = crashable.cli(
        "import",
        "--entities",
        str(big["entities"]),
        "--metrics",
        str(big["metrics"]),
        "--tenant",
        cut,
        "--quiet",
        wait=False,
    )
    metrics = f"{cut}#{_single_root(big['entities'])}"
    _wait(lambda: _count(env, "metrics", metrics), 120, "the import's first metrics")
    time.sleep(0.7)  # mid-way through its metrics: two snapshots would have been due
    written = _count(env, "metrics", metrics)
    assert importing.poll() is None, "the import finished before the kill: make it bigger"
    crashable.kill()
    importing.wait(timeout=120)
    assert importing.returncode != 0  # the import saw the stack die

    env = crashable.up()
    assert written > 0  # the kill came after the import began writing …
    assert _of_tenant(_items(env, "catalog"), cut) == []  # … and none of it was kept
    assert _of_tenant(_items(env, "metrics"), cut) == []
    assert len(_of_tenant(_items(env, "metrics"), kept)) > 0  # the earlier import was
    assert "Restored:     1 tenant(s), 1 profile(s)" in crashable.output.read_text()


def test_kill_during_a_scan_finishes_or_fails_the_run_and_duplicates_no_alert(
    crashable: Subprocess, account_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    env = crashable.up()
    tenant = f"scan-{uuid.uuid4().hex[:6]}"
    crashable.cli(
        "import",
        "--entities",
        str(account_files["entities"]),
        "--metrics",
        str(account_files["metrics"]),
        "--tenant",
        tenant,
        "--quiet",
    )
    _use(env, monkeypatch)
    train_profile(tenant, PROFILE, TRAINED_UNTIL, config=FAST_MODELS)
    ScheduleStore().set(tenant, PROFILE, True)
    reset_clients()
    crashable.cli("local", "scan", "--date", SCAN_DAY.isoformat(), "--no-wait")

    def in_progress_in_snapshot() -> list[dict[str, Any]]:
        runs = _of_tenant(crashable.snapshot_tables().get("runs", []), tenant)
        return [r for r in runs if '"in_progress"' in r.get("body", {}).get("S", "")]

    [snapped] = _wait(in_progress_in_snapshot, 60, "a snapshot of the run in progress")
    crashable.kill()

    env = crashable.up()
    _use(env, monkeypatch)
    run_id = json.loads(snapped["body"]["S"])["run_id"]

    def settled() -> DetectionRun | None:
        run = RunStore().get(tenant, run_id)
        return run if run is not None and run.status is not RunStatus.IN_PROGRESS else None

    run = _wait(settled, 300, "the interrupted run to finish or fail")
    assert run.status is RunStatus.COMPLETE or LOST in (run.error or ""), run
    alerts = _of_tenant(_items(env, "alerts"), tenant)
    totals = [i for i in _of_tenant(_items(env, "statistics"), tenant) if i["sk"]["S"] == "TOTAL"]
    counted = (
        sum(float(v["N"]) for k, v in totals[0].items() if k.startswith("n#")) if totals else 0
    )
    assert counted == len(alerts)  # each alert counted once: none written twice by the replay
    if run.status is RunStatus.COMPLETE:
        assert sorted(run.alert_ids) == sorted(i["pk"]["S"].split("#", 1)[1] for i in alerts)
