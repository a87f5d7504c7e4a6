"""POST /metrics over real HTTP: validated like the CSV import, all or nothing, idempotent
on (entity, period) and on the Idempotency-Key header; parents rolled up."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any

import pytest

from tests.integration.test_alerts_api import Client
from tripwire.api.schemas import MAX_BODY_BYTES, MAX_POINTS
from tripwire.domain import Profile, ProfileKind
from tripwire.domain.metrics import Interval
from tripwire.local.auth import issue_token
from tripwire.local.stack import LocalStack
from tripwire.store.catalog import CatalogStore
from tripwire.store.metrics import MetricStore

pytestmark = pytest.mark.integration
ENTITIES = [
    {"entity_id": "ACC", "entity_type": "account"},
    {"entity_id": "C1", "entity_type": "campaign", "parent_id": "ACC", "name": "Brand"},
    {"entity_id": "K1", "entity_type": "keyword", "parent_id": "C1", "name": "shoes"},
    {"entity_id": "K2", "entity_type": "keyword", "parent_id": "C1", "name": "boots"},
]


def _point(entity: str, day: str, clicks: int = 5, **extra: Any) -> dict[str, Any]:
    row = {"entity_id": entity, "date": day, "impressions": 100, "clicks": clicks}
    return row | {"spend": 2.5, "sales": 10.0, "orders": 1} | extra


BATCH = {
    "profile_id": "A1",
    "entities": ENTITIES,
    "points": [
        _point("K1", "2026-03-01"),
        _point("K2", "2026-03-01", clicks=7),
        _point("K1", "2026-03-02"),
    ],
}


def _stored(tenant: str, entities: list[str]) -> dict[str, dict[str, tuple[float, ...]]]:
    start, end = datetime(2026, 3, 1), datetime(2026, 3, 2)
    return MetricStore().read_window(tenant, "A1", Interval.D1, entities, start, end)


def _post(
    stack: LocalStack, tenant: str, body: bytes | dict[str, Any], key: str | None = None
) -> tuple[int, dict[str, str], Any]:
    headers = {
        "Authorization": f"Bearer {issue_token(tenant, 'ana', directory=stack.directory)}",
        "Content-Type": "application/json",
    }
    if key is not None:
        headers["Idempotency-Key"] = key
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(f"{stack.api_url}/metrics", data, headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def test_a_batch_stores_entities_points_and_roll_ups(local_stack: LocalStack, tenant: str) -> None:
    status, answer = Client(local_stack, tenant)("POST", "/metrics", BATCH)
    assert status == 200, answer
    assert (answer["entities"], answer["entities_new"], answer["points"]) == (4, 4, 3)
    stored = _stored(tenant, ["K1", "K2", "C1", "ACC"])
    assert stored["K1"]["2026-03-01"] == (100, 5, 2.5, 10.0, 1)
    assert stored["C1"]["2026-03-01"] == (200, 12, 5.0, 20.0, 2)  # rolled up by id
    assert stored["ACC"]["2026-03-02"] == (100, 5, 2.5, 10.0, 1)
    _, hierarchy = CatalogStore().get_hierarchy(tenant, "A1")
    assert {e.entity_id for e in hierarchy} == {"ACC", "C1", "K1", "K2"}


def test_sending_again_changes_nothing_and_a_restatement_updates_parents(
    local_stack: LocalStack, tenant: str
) -> None:
    api = Client(local_stack, tenant)
    assert api("POST", "/metrics", BATCH)[0] == 200
    status, again = api("POST", "/metrics", BATCH)
    assert status == 200 and again["items_changed"] == 0 and again["entities_new"] == 0
    # Points alone, for entities the profile already has; a new value replaces the old.
    restated = {"profile_id": "A1", "points": [_point("K2", "2026-03-01", clicks=9)]}
    status, answer = api("POST", "/metrics", restated)
    assert status == 200 and answer["items_changed"] > 0, answer
    stored = _stored(tenant, ["K2", "C1"])
    assert stored["K2"]["2026-03-01"][1] == 9 and stored["C1"]["2026-03-01"][1] == 14


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        (
            lambda b: b["points"].append(_point("K1", "2026-03-03", clicks=500)),
            ["points", 3, "clicks"],
        ),
        (lambda b: b["points"].append(_point("K9", "2026-03-03")), ["points", 3, "entity_id"]),
        (lambda b: b["points"].append(_point("C1", "2026-03-03")), ["points", 3, "entity_id"]),
        (lambda b: b["points"].append(_point("K1", "2026-03-01")), ["points", 3, "date"]),
        (lambda b: b["points"].append(_point("K1", "03/01/2026")), ["points", 3, "date"]),
        (
            lambda b: b["points"].append(_point("K1", "2026-03-04", spend=-1)),
            ["points", 3, "spend"],
        ),
        (
            lambda b: b["points"].append(_point("K1", "2026-03-04", spend="NaN")),
            ["points", 3, "spend"],
        ),
        (
            lambda b: b["points"].append(_point("K1", "2026-03-04", colour=1)),
            ["points", 3, "colour"],
        ),
        (lambda b: b["points"][0].pop("orders"), ["points", 0, "orders"]),
        (lambda b: b["entities"][2].update(parent_id="K2"), ["entities", 2, "parent_id"]),
        (lambda b: b["entities"][1].update(parent_id="NOPE"), ["entities", 1, "parent_id"]),
        (lambda b: b["entities"][0].update(parent_id="C1"), ["entities", 0, "parent_id"]),
        (lambda b: b["entities"][3].update(entity_type="planet"), ["entities", 3, "entity_type"]),
        (lambda b: b["entities"][3].update(entity_id="K#2"), ["entities", 3, "entity_id"]),
        (lambda b: b.update(profile_id=""), ["profile_id"]),
        (lambda b: b.update(interval="2d"), ["interval"]),
        (lambda b: b.update(points=[], entities=[]), ["points"]),
        (lambda b: (b.pop("points"), b.pop("entities")), ["points"]),
        (lambda b: b.update(extra=True), ["extra"]),
    ],
)
def test_a_bad_row_rejects_the_batch_naming_row_and_field(
    local_stack: LocalStack, tenant: str, change: Any, loc: list[Any]
) -> None:
    body = json.loads(json.dumps(BATCH))
    change(body)
    status, answer = Client(local_stack, tenant)("POST", "/metrics", body)
    assert status == 422, answer
    assert answer["detail"][0]["loc"][1:] == loc, answer
    assert CatalogStore().get_hierarchy(tenant, "A1") == (None, [])  # nothing written
    assert _stored(tenant, ["K1", "C1"]) == {"K1": {}, "C1": {}}


def test_oversized_batches_are_refused_before_anything_is_read(
    local_stack: LocalStack, tenant: str
) -> None:
    api = Client(local_stack, tenant)
    many = [_point("K1", f"2026-03-{1 + i % 28:02d}") for i in range(MAX_POINTS + 1)]
    status, answer = api("POST", "/metrics", {"profile_id": "A1", "points": many})
    assert status == 422 and answer["detail"][0]["loc"] == ["body", "points"], answer
    huge = b'{"profile_id": "A1", "points": [' + b" " * MAX_BODY_BYTES + b"]}"
    status, _, answer = _post(local_stack, tenant, huge)
    assert status == 413 and str(MAX_BODY_BYTES) in answer["message"], answer
    assert api("POST", "/metrics", b"{not json")[0] == 422


def test_idempotency_key_replays_the_first_response(local_stack: LocalStack, tenant: str) -> None:
    status, headers, first = _post(local_stack, tenant, BATCH, key="batch-0001")
    assert status == 200 and "Idempotent-Replayed" not in headers
    status, headers, again = _post(local_stack, tenant, BATCH, key="batch-0001")
    assert (status, again) == (200, first) and headers["Idempotent-Replayed"] == "true"
    other = {**BATCH, "points": BATCH["points"][:1]}
    status, _, reused = _post(local_stack, tenant, other, key="batch-0001")
    assert status == 422 and "Idempotency-Key" in reused["detail"][0]["loc"], reused
    status, _, bad = _post(local_stack, tenant, BATCH, key="has spaces")
    assert status == 422 and "Idempotency-Key" in bad["detail"][0]["loc"], bad


def test_tenants_never_share_entities(local_stack: LocalStack, tenant: str) -> None:
    assert Client(local_stack, tenant)("POST", "/metrics", BATCH)[0] == 200
    other = f"{tenant}-other"
    points_only = {"profile_id": "A1", "points": [_point("K1", "2026-03-05")]}
    status, answer = Client(local_stack, other)("POST", "/metrics", points_only)
    assert status == 422 and answer["detail"][0]["loc"] == ["body", "points", 0, "entity_id"]
    assert CatalogStore().get_hierarchy(other, "A1") == (None, [])
    assert (
        "2026-03-05"
        not in MetricStore().read_window(
            tenant, "A1", Interval.D1, ["K1"], datetime(2026, 3, 5), datetime(2026, 3, 5)
        )["K1"]
    )


def test_a_market_profile_is_refused(local_stack: LocalStack, tenant: str) -> None:
    CatalogStore().put_profile(Profile(tenant_id=tenant, profile_id="A1", kind=ProfileKind.MARKET))
    status, answer = Client(local_stack, tenant)("POST", "/metrics", BATCH)
    assert status == 422 and answer["detail"][0]["loc"] == ["body", "profile_id"], answer
