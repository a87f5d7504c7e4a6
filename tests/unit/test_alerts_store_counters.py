"""AlertStore.put_new writes only alerts not stored yet, moving the counters for exactly
those (moto in-process; the HTTP path is in tests/integration/test_statistics_api.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tripwire.domain import Alert, Severity
from tripwire.domain.alerts import AlertStatus, StatusChange
from tripwire.store.alerts import AlertStore, StaleAlert
from tripwire.store.statistics import StatisticsStore

T0 = datetime(2026, 3, 1, 6, 0)
MANY = 150  # distinct entities over 40 days: many counter items


@pytest.fixture(autouse=True)
def aws(moto_aws: None) -> None:
    """Every test here runs against moto in-process (tests/unit/conftest.py)."""


def _alert(n: int, severity: Severity = Severity.MEDIUM) -> Alert:
    return Alert(
        alert_id=f"al-{n}",
        tenant_id="acme",
        profile_id="A1",
        entity_id=f"K{n}",
        entity_type="keyword",
        period=T0 - timedelta(days=n % 40),
        score=0.99,
        threshold=0.9,
        severity=severity,
        run_id="run-1",
        created_at=T0,
    )


def test_only_unstored_alerts_are_written_and_counted() -> None:
    store = AlertStore()
    stored_first = [_alert(n) for n in range(0, MANY, 2)]  # every other one
    assert len(store.put_new(stored_first)) == len(stored_first)
    everything = [_alert(n) for n in range(MANY)] + [_alert(1)]  # a duplicate too
    written = store.put_new(everything)
    assert [a.alert_id for a in written] == [f"al-{n}" for n in range(1, MANY, 2)]
    totals = StatisticsStore().totals("acme", "A1")
    assert totals == {"n#open#medium": MANY}
    days = StatisticsStore().days("acme", "A1", (T0 - timedelta(days=39)).date(), T0.date())
    assert sum(v for day in days.values() for k, v in day.items() if k.startswith("e#")) == MANY
    assert store.put_many(everything) == 0
    assert StatisticsStore().totals("acme", "A1") == totals


def test_a_stale_transition_moves_no_counter() -> None:
    store = AlertStore()
    opened = _alert(1, Severity.HIGH)
    store.put_many([opened])
    acked = opened.model_copy(
        update={
            "status": AlertStatus.ACKNOWLEDGED,
            "acknowledged_by": "ana",
            "acknowledged_at": T0 + timedelta(minutes=30),
        }
    )
    change = StatusChange(
        tenant_id="acme",
        alert_id="al-1",
        status=AlertStatus.ACKNOWLEDGED,
        previous=AlertStatus.OPEN,
        at=T0,
        by="ana",
    )
    store.transition(opened, acked, change)
    with pytest.raises(StaleAlert):  # the status read is no longer the stored one
        store.transition(opened, acked, change.model_copy(update={"at": T0 + timedelta(1)}))
    totals = StatisticsStore().totals("acme", "A1")
    assert totals == {"n#open#high": 0, "n#acknowledged#high": 1, "ack_n": 1, "ack_minutes": 30}
