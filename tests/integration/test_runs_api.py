"""GET /runs, GET /runs/{id} and GET /models over real HTTP: the audit trail, paged and
tenant-isolated, and the registry's models per profile."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tripwire.domain import DetectionRun, RunStatus, Trigger
from tripwire.domain.entities import Profile
from tripwire.local.auth import issue_token
from tripwire.local.stack import LocalStack
from tripwire.registry.store import RegistryStore
from tripwire.store.catalog import CatalogStore
from tripwire.store.runs import RunStore

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 1, 6, 0)


def call(stack: LocalStack, tenant: str | None, path: str) -> tuple[int, Any]:
    headers = {}
    if tenant:
        headers["Authorization"] = f"Bearer {issue_token(tenant, 'ana', directory=stack.directory)}"
    request = urllib.request.Request(stack.api_url + path, None, headers, method="GET")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _run(tenant: str, n: int, **extra: Any) -> DetectionRun:
    started = T0 + timedelta(hours=n)
    fields: dict[str, Any] = {
        "run_id": f"run-{n}",
        "tenant_id": tenant,
        "profile_id": "A1",
        "trigger": Trigger.SCHEDULE if n % 2 else Trigger.API,
        "model_versions": {"pipeline": "a" * 64},
        "started_at": started,
        "completed_at": started + timedelta(seconds=2.5),
        "entities_checked": 100 + n,
        "anomalies_found": n,
        "alert_ids": [f"al-{n}"],
        "status": RunStatus.COMPLETE,
        "warnings": ["w"] if n == 3 else [],
        "expires_at": int((started + timedelta(days=30)).timestamp()),
    }
    return DetectionRun(**{**fields, **extra})


@pytest.fixture
def seeded(local_stack: LocalStack, tenant: str) -> str:
    catalog = CatalogStore()
    for profile in ("A1", "A2"):
        catalog.put_profile(Profile(tenant_id=tenant, profile_id=profile))
    store = RunStore()
    for n in range(5):
        store.put(_run(tenant, n))
    store.put(_run(tenant, 5, status=RunStatus.FAILED, completed_at=None, error="boom"))
    return tenant


def test_runs_of_a_profile_newest_first_in_pages(local_stack: LocalStack, seeded: str) -> None:
    seen: list[str] = []
    path = "/runs?profile_id=A1&limit=4"
    for _ in range(3):
        status, body = call(local_stack, seeded, path)
        assert status == 200 and len(body["items"]) <= 4
        seen += [r["run_id"] for r in body["items"]]
        if not body["next_cursor"]:
            break
        path = f"/runs?profile_id=A1&limit=4&cursor={body['next_cursor']}"
    assert seen == [f"run-{n}" for n in (5, 4, 3, 2, 1, 0)]
    assert call(local_stack, seeded, "/runs?profile_id=A2") == (
        200,
        {"items": [], "next_cursor": None},
    )
    # A cursor only continues the listing it came from.
    cursor = call(local_stack, seeded, "/runs?profile_id=A1&limit=2")[1]["next_cursor"]
    status, body = call(local_stack, seeded, f"/runs?profile_id=A2&cursor={cursor}")
    assert status == 422 and body["detail"][0]["loc"][-1] == "cursor"


def test_one_run_with_its_audit_fields(local_stack: LocalStack, seeded: str) -> None:
    status, run = call(local_stack, seeded, "/runs/run-3")
    assert status == 200
    assert (run["trigger"], run["status"], run["warnings"]) == ("schedule", "complete", ["w"])
    assert run["model_versions"] == {"pipeline": "a" * 64} and run["duration_ms"] == 2500
    assert (run["entities_checked"], run["anomalies_found"]) == (103, 3)
    status, failed = call(local_stack, seeded, "/runs/run-5")
    assert (failed["status"], failed["error"], failed["duration_ms"]) == ("failed", "boom", None)


def test_another_tenant_gets_404s(local_stack: LocalStack, seeded: str) -> None:
    other = f"{seeded}-other"
    assert call(local_stack, other, "/runs/run-1")[0] == 404
    assert call(local_stack, other, "/runs?profile_id=A1")[0] == 404
    assert call(local_stack, other, "/models?profile_id=A1")[0] == 404
    assert call(local_stack, other, "/models") == (200, {"items": []})
    assert call(local_stack, seeded, "/runs/run-nope")[0] == 404
    assert call(local_stack, seeded, "/runs?profile_id=nope")[0] == 404


def test_models_per_profile_with_versions(local_stack: LocalStack, seeded: str) -> None:
    versions = RegistryStore().publish_models(
        seeded, "A1", {"pipeline": (b"{}", {"artifact": "pipeline"}), "lstm": (b"onnx", {})}
    )
    status, body = call(local_stack, seeded, "/models")
    assert status == 200
    by_profile = {p["profile_id"]: p for p in body["items"]}
    assert by_profile["A2"] == {"profile_id": "A2", "trained": False, "models": []}
    models = by_profile["A1"]["models"]
    assert {m["detector"]: m["version"] for m in models} == versions
    assert all(m["cached"] is False and m["loaded_at"] is None for m in models)
    status, one = call(local_stack, seeded, "/models?profile_id=A1")
    assert status == 200 and one["items"] == [by_profile["A1"]]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/runs", "profile_id"),
        ("/runs?profile_id=A1&limit=0", "limit"),
        ("/runs?profile_id=A1&limit=101", "limit"),
        ("/runs?profile_id=A1&cursor=garbage", "cursor"),
        ("/models?profile_id=A%231", "profile_id"),
        (f"/runs/{'r' * 129}", "run_id"),
    ],
)
def test_bad_input_is_422_naming_the_field(
    local_stack: LocalStack, seeded: str, path: str, field: str
) -> None:
    status, body = call(local_stack, seeded, path)
    assert status == 422 and field in body["detail"][0]["loc"], body


def test_no_token_is_401(local_stack: LocalStack) -> None:
    for path in ("/runs?profile_id=A1", "/runs/run-1", "/models"):
        assert call(local_stack, None, path)[0] == 401, path


def test_the_local_stack_sweeps_a_stuck_run_and_the_api_shows_why(
    local_stack: LocalStack, tenant: str
) -> None:
    """The stack's sweep (the real sweeper function) fails a queued run past its deadline;
    a queued run still within its deadline stays in progress."""
    from tripwire.service.runs import queued_deadline
    from tripwire.store.runs import RunSlices

    CatalogStore().put_profile(Profile(tenant_id=tenant, profile_id="A1"))
    slices = RunSlices()
    stuck = _run(tenant, 7, status=RunStatus.IN_PROGRESS, completed_at=None)
    stuck = stuck.model_copy(update={"deadline": queued_deadline(stuck.started_at)})
    slices.start(stuck, 2)
    fresh = _run(tenant, 8, status=RunStatus.IN_PROGRESS, completed_at=None)
    now = datetime.now(UTC).replace(tzinfo=None)
    fresh = fresh.model_copy(update={"deadline": now + timedelta(hours=2)})
    slices.start(fresh, 1)
    swept = local_stack.sweep()
    assert {"tenant_id": tenant, "run_id": "run-7"} in swept
    assert {"tenant_id": tenant, "run_id": "run-8"} not in swept
    status, body = call(local_stack, tenant, "/runs/run-7")
    assert status == 200 and body["status"] == "failed"
    assert body["error"] == f"no progress by {stuck.deadline.isoformat()}Z; swept"
    assert body["swept_at"] is not None
    status, body = call(local_stack, tenant, "/runs/run-8")
    assert status == 200 and body["status"] == "in_progress"
