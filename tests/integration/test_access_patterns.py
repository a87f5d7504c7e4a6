"""The key design serves each access pattern with one query or get, tenant first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tripwire.domain import Alert, AlertStatus, DetectionRun, Profile, Severity, Trigger
from tripwire.domain.alerts import StatusChange, with_resolution
from tripwire.store.alerts import AlertStore, StaleAlert
from tripwire.store.catalog import CatalogStore, ConcurrentChange
from tripwire.store.runs import RunStore

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("local_stack")]
T0 = datetime(2026, 3, 1, 6, 0)


def _alert(
    tenant: str, n: int, severity: Severity, entity: str = "K1", profile: str = "A1"
) -> Alert:
    return Alert(
        alert_id=f"al-{profile}-{entity}-{n}",
        tenant_id=tenant,
        profile_id=profile,
        entity_id=entity,
        entity_type="keyword",
        period=T0 - timedelta(days=n),
        score=0.9,
        threshold=0.5,
        severity=severity,
        run_id="run-1",
        created_at=T0 + timedelta(minutes=n),
    )


def test_active_alerts_by_severity_newest_first(tenant: str) -> None:
    store = AlertStore()
    severities = [Severity.LOW, Severity.CRITICAL, Severity.HIGH, Severity.LOW, Severity.CRITICAL]
    store.put_many(_alert(tenant, n, s, entity=f"K{n}") for n, s in enumerate(severities))
    newest_first = [a.alert_id for a in store.active(tenant, "A1")]
    assert newest_first == [f"al-A1-K{n}-{n}" for n in (4, 3, 2, 1, 0)]
    critical = store.active(tenant, "A1", [Severity.CRITICAL])
    assert [a.alert_id for a in critical] == ["al-A1-K4-4", "al-A1-K1-1"]
    assert len(store.active(tenant, "A1", limit=2)) == 2


def test_a_resolved_alert_leaves_the_active_list_and_resolves_once(tenant: str) -> None:
    store = AlertStore()
    opened = _alert(tenant, 1, Severity.HIGH)
    store.put_many([opened])

    def resolve(by: str, at: datetime) -> Alert:
        resolved = with_resolution(opened, by, "bid fixed", at)
        change = StatusChange(
            tenant_id=tenant,
            alert_id=opened.alert_id,
            status=AlertStatus.RESOLVED,
            previous=opened.status,
            at=at,
            by=by,
        )
        store.transition(opened, resolved, change)  # conditional on the status read
        return resolved

    resolved = resolve("ana", T0 + timedelta(hours=2))
    assert resolved.status is AlertStatus.RESOLVED and resolved.resolution_minutes == 119.0
    assert store.active(tenant, "A1") == []
    with pytest.raises(StaleAlert):
        resolve("bob", T0 + timedelta(hours=3))
    assert store.get(tenant, "al-A1-K1-1").resolved_by == "ana"  # type: ignore[union-attr]


def test_recent_alerts_of_an_entity_and_an_alert_by_id(tenant: str) -> None:
    store = AlertStore()
    store.put_many([_alert(tenant, n, Severity.MEDIUM) for n in range(3)])
    store.put_many([_alert(tenant, 0, Severity.MEDIUM, entity="K2")])
    recent = store.of_entity(tenant, "A1", "K1")
    assert [a.period for a in recent] == [T0, T0 - timedelta(days=1), T0 - timedelta(days=2)]
    assert store.get(tenant, "al-A1-K2-0") is not None
    store.put_many([_alert(tenant, 0, Severity.MEDIUM)])  # written again: still one alert
    assert len(store.of_entity(tenant, "A1", "K1")) == 3


def test_another_tenant_sees_nothing(tenant: str) -> None:
    store = AlertStore()
    store.put_many([_alert(tenant, 1, Severity.HIGH)])
    other = f"{tenant}-other"
    assert store.get(other, "al-A1-K1-1") is None
    assert store.active(other, "A1") == []
    assert CatalogStore().get_hierarchy(other, "A1") == (None, [])


def test_runs_of_a_profile_newest_first_with_expiry(tenant: str) -> None:
    store = RunStore()
    for n in range(3):
        started = T0 + timedelta(hours=n)
        store.put(
            DetectionRun(
                run_id=f"run-{n}",
                tenant_id=tenant,
                profile_id="A1",
                trigger=Trigger.SCHEDULE,
                started_at=started,
                expires_at=int((started.replace(tzinfo=UTC) + timedelta(days=30)).timestamp()),
            )
        )
    assert [r.run_id for r in store.of_profile(tenant, "A1")] == ["run-2", "run-1", "run-0"]
    assert store.get(tenant, "run-1") is not None and store.get(tenant, "run-9") is None


def test_profiles_of_a_tenant_and_hierarchy_versions(tenant: str) -> None:
    catalog = CatalogStore()
    catalog.put_profile(Profile(tenant_id=tenant, profile_id="A1"))
    catalog.put_profile(Profile(tenant_id=tenant, profile_id="US", kind="market"))
    assert sorted(p.profile_id for p in catalog.list_profiles(tenant)) == ["A1", "US"]
    with pytest.raises(ConcurrentChange):
        catalog.put_hierarchy(tenant, "A1", [], expected="not-the-current-version")
