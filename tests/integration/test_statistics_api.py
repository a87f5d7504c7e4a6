"""GET /statistics over real HTTP: figures come from counters that every alert write,
acknowledgement and resolution moves — once, however many writers race."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

import pytest

from tests.integration.test_alerts_api import Client
from tripwire.domain import Alert, Profile, RootCause, Severity
from tripwire.local.stack import LocalStack
from tripwire.store.alerts import AlertStore
from tripwire.store.catalog import CatalogStore
from tripwire.store.statistics import StatisticsStore

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 10, 6, 0)
RANGE = "from=2026-03-01&to=2026-03-10"


def _alert(tenant: str, n: int, severity: Severity, entity: str = "K1", day: int = 9) -> Alert:
    cause = RootCause(
        entity_id="C1",
        entity_type="campaign",
        relation="ancestor",
        hops=1,
        confidence=0.8,
        sentence="campaign C1 ran out of budget",
    )
    return Alert(
        alert_id=f"al-{n}",
        tenant_id=tenant,
        profile_id="A1",
        entity_id=entity,
        entity_type="keyword",
        period=datetime(2026, 3, day),
        score=0.99,
        threshold=0.9,
        severity=severity,
        root_causes=[cause],
        run_id="run-1",
        created_at=T0,
    )


@pytest.fixture
def profile(local_stack: LocalStack, tenant: str) -> str:
    CatalogStore().put_profile(Profile(tenant_id=tenant, profile_id="A1"))
    return tenant


def _stats(api: Client, query: str = RANGE) -> dict[str, Any]:
    status, body = api("GET", f"/statistics?profile_id=A1&{query}")
    assert status == 200, body
    return body


def test_new_alerts_are_counted_by_severity_status_day_and_entity(
    local_stack: LocalStack, profile: str
) -> None:
    store = AlertStore()
    alerts = [
        _alert(profile, 0, Severity.HIGH, "K1", day=9),
        _alert(profile, 1, Severity.HIGH, "K1", day=8),
        _alert(profile, 2, Severity.LOW, "K2", day=8),
        _alert(profile, 3, Severity.CRITICAL, "K3", day=1),
    ]
    assert [a.alert_id for a in store.put_new(alerts)] == ["al-0", "al-1", "al-2", "al-3"]
    body = _stats(Client(local_stack, profile))
    assert body["alerts"] == 4
    assert body["by_severity"] == {"low": 1, "medium": 0, "high": 2, "critical": 1}
    assert body["by_status"] == {"open": 4, "acknowledged": 0, "resolved": 0}
    assert body["mean_minutes_to_acknowledge"] is None
    assert [d["date"] for d in body["trend"]][:2] == ["2026-03-01", "2026-03-02"]
    assert len(body["trend"]) == 10
    raised = {d["date"]: d["raised"] for d in body["trend"] if d["raised"]}
    assert raised == {"2026-03-01": 1, "2026-03-08": 2, "2026-03-09": 1}
    assert body["range"]["by_severity"] == body["by_severity"]
    assert body["top_entities"][0] == {"entity_id": "K1", "entity_type": "keyword", "alerts": 2}
    # A narrower range sees only its days; the totals are the profile's, whatever the range.
    narrow = _stats(Client(local_stack, profile), "from=2026-03-08&to=2026-03-08")
    assert narrow["range"]["raised"] == 2 and narrow["alerts"] == 4
    assert {e["entity_id"] for e in narrow["top_entities"]} == {"K1", "K2"}


def test_writing_the_same_alerts_again_counts_nothing(
    local_stack: LocalStack, profile: str
) -> None:
    store = AlertStore()
    store.put_many([_alert(profile, 0, Severity.HIGH)])
    again = [_alert(profile, 0, Severity.HIGH), _alert(profile, 1, Severity.MEDIUM)]
    assert [a.alert_id for a in store.put_new(again)] == ["al-1"]  # only the new one
    assert store.put_many(again) == 0
    assert _stats(Client(local_stack, profile))["alerts"] == 2


def test_concurrent_scan_workers_store_and_count_each_alert_once(
    local_stack: LocalStack, profile: str
) -> None:
    alerts = [_alert(profile, n, Severity.MEDIUM, f"K{n % 3}") for n in range(30)]
    written: list[list[Alert]] = []
    barrier = threading.Barrier(3)

    def worker() -> None:
        barrier.wait()
        written.append(AlertStore().put_new(alerts))

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.alert_id for batch in written for a in batch) == sorted(
        a.alert_id for a in alerts
    )
    body = _stats(Client(local_stack, profile))
    assert body["alerts"] == 30 and body["by_status"]["open"] == 30
    assert sum(e["alerts"] for e in body["top_entities"]) == 30


def test_acknowledge_and_resolve_move_the_counters(local_stack: LocalStack, profile: str) -> None:
    AlertStore().put_many([_alert(profile, n, Severity.HIGH) for n in range(3)])
    api = Client(local_stack, profile)
    assert api("PATCH", "/alerts/al-0/acknowledge")[0] == 200
    assert api("PATCH", "/alerts/al-0/acknowledge")[0] == 200  # idempotent: counted once
    status, done = api("PATCH", "/alerts/al-0/resolve", {"notes": "fixed"})
    assert status == 200
    assert api("PATCH", "/alerts/al-1/resolve", {"notes": "fixed"})[0] == 200
    body = _stats(api, "from=2026-03-01&to=" + datetime.now().date().isoformat())
    assert body["by_status"] == {"open": 1, "acknowledged": 0, "resolved": 2}
    assert body["by_status_and_severity"]["resolved"]["high"] == 2
    assert (body["acknowledged"], body["resolved"]) == (1, 2)
    assert body["mean_minutes_to_resolve"] == pytest.approx(done["resolution_minutes"], abs=1.0)
    assert body["mean_minutes_to_acknowledge"] > 0
    assert body["range"]["resolved"] == 2 and body["range"]["acknowledged"] == 1


def test_two_concurrent_resolves_count_one_resolution(
    local_stack: LocalStack, profile: str
) -> None:
    AlertStore().put_many([_alert(profile, 7, Severity.CRITICAL)])
    users = [Client(local_stack, profile, f"user-{i}") for i in range(2)]
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def resolve(client: Client) -> None:
        barrier.wait()
        statuses.append(client("PATCH", "/alerts/al-7/resolve", {"notes": "mine"})[0])

    threads = [threading.Thread(target=resolve, args=(u,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 409]
    totals = StatisticsStore().totals(profile, "A1")
    assert totals["resolve_n"] == 1 and totals["n#resolved#critical"] == 1
    assert totals.get("n#open#critical", 0) == 0


def test_another_tenants_profile_is_404(local_stack: LocalStack, profile: str) -> None:
    AlertStore().put_many([_alert(profile, 0, Severity.HIGH)])
    other = Client(local_stack, f"{profile}-other")
    assert other("GET", f"/statistics?profile_id=A1&{RANGE}")[0] == 404
    assert Client(local_stack, profile)("GET", "/statistics?profile_id=nope")[0] == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "profile_id"),
        ("profile_id=A1&from=2026-03-10&to=2026-03-01", "to"),
        ("profile_id=A1&from=2025-01-01&to=2026-03-01", "to"),
        ("profile_id=A1&from=yesterday", "from"),
        ("profile_id=A1&top=0", "top"),
        ("profile_id=A%23B", "profile_id"),
    ],
)
def test_invalid_query_is_422_naming_the_field(
    local_stack: LocalStack, profile: str, query: str, field: str
) -> None:
    status, body = Client(local_stack, profile)("GET", f"/statistics?{query}")
    assert status == 422, body
    assert field in body["detail"][0]["loc"], body
