"""Archival through the local stack: the TTL sweep deletes expired alerts, moto's stream
records of those deletes go to the real archiver handler, history keeps the alert."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import datetime, timedelta
from typing import Any

from tripwire.domain.alerts import Alert, AlertStatus, Severity
from tripwire.domain.entities import EntityType
from tripwire.local.auth import issue_token
from tripwire.local.poller import ScheduleTicker
from tripwire.local.stack import LocalStack
from tripwire.local.ttl_sweep import sweep
from tripwire.store.alerts import AlertStore
from tripwire.store.history import HistoryStore


def alert(tenant: str, alert_id: str, age_days: int) -> Alert:
    created = datetime.now() - timedelta(days=age_days)
    return Alert(
        alert_id=alert_id,
        tenant_id=tenant,
        profile_id="A1",
        entity_id=f"K-{alert_id}",
        entity_type=EntityType.KEYWORD,
        period=created.replace(hour=0, minute=0, second=0, microsecond=0),
        score=0.99999,
        threshold=0.9999,
        severity=Severity.HIGH,
        run_id="run-1",
        created_at=created,
    )


def resolve(stack: LocalStack, tenant: str, alert_id: str, notes: str) -> None:
    """Through the real API, so the resolution and its history record are the real ones."""
    token = issue_token(tenant, "ana", directory=stack.directory)
    request = urllib.request.Request(
        f"{stack.api_url}/alerts/{alert_id}/resolve",
        json.dumps({"notes": notes}).encode(),
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="PATCH",
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        assert response.status == 200


def test_expired_alert_appears_in_history_with_its_resolution(
    local_stack: LocalStack, tenant: str
) -> None:
    alerts = AlertStore()
    alerts.put_many(
        [alert(tenant, "al-old", 91), alert(tenant, "al-open", 95), alert(tenant, "al-new", 3)]
    )
    resolve(local_stack, tenant, "al-old", "budget raised")

    report = sweep()

    assert {f"{tenant}#al-old", f"{tenant}#al-open"} <= set(report.expired)
    assert f"{tenant}#al-new" not in report.expired and not report.failed
    assert alerts.get(tenant, "al-old") is None and alerts.get(tenant, "al-open") is None
    assert alerts.get(tenant, "al-new") is not None  # not expired: untouched
    history = HistoryStore()
    archived = history.archived(tenant, "al-old")
    assert archived is not None and archived.status is AlertStatus.RESOLVED
    assert (archived.resolved_by, archived.resolution_notes) == ("ana", "budget raised")
    assert archived.resolution_minutes is not None and archived.resolution_minutes >= 91 * 24 * 60
    assert [c.status for c in history.of_alert(tenant, "al-old")] == [AlertStatus.RESOLVED]
    still_open = history.archived(tenant, "al-open")
    assert still_open is not None and still_open.status is AlertStatus.OPEN
    assert history.archived(tenant, "al-new") is None


def test_a_second_sweep_finds_nothing_of_ours_and_archives_nothing_twice(
    local_stack: LocalStack, tenant: str
) -> None:
    AlertStore().put_many([alert(tenant, "al-1", 100)])
    first = sweep()
    second = sweep()
    assert f"{tenant}#al-1" in first.expired and f"{tenant}#al-1" not in second.expired
    assert HistoryStore().archived(tenant, "al-1") is not None


def test_the_local_schedule_ticker_sweeps_expired_alerts_too(
    local_stack: LocalStack, tenant: str
) -> None:
    AlertStore().put_many([alert(tenant, "al-ticked", 120)])
    ticks: list[tuple[str, str]] = []

    def scheduler_only(function: str, event: dict[str, Any]) -> dict[str, Any]:
        ticks.append((function, event["detail"]["interval"]))  # nothing scanned from here
        return {"runs": []}

    ticker = ScheduleTicker(0.05, invoke_function=scheduler_only).start()
    try:
        deadline = time.monotonic() + 30
        while HistoryStore().archived(tenant, "al-ticked") is None:
            assert time.monotonic() < deadline, "the ticker never swept the expired alert"
            time.sleep(0.1)
    finally:
        ticker.stop()
    assert AlertStore().get(tenant, "al-ticked") is None
    # each tick fires every interval's rule, as EventBridge's rules do in AWS
    assert {("scan_scheduler", "1d"), ("scan_scheduler", "1h")} <= set(ticks)
