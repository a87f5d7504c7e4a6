"""The daily digest through the local stack: the real digest handler on the sample
EventBridge event reads the statistics counters and publishes on the topic; the notifier
posts it to Slack; the critical-only e-mail subscription does not get it."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tripwire.domain.alerts import Alert, AlertStatus, Severity
from tripwire.domain.deliveries import ChannelSettings
from tripwire.domain.entities import EntityType, Profile
from tripwire.local.functions import invoke
from tripwire.local.notifications import LocalNotifications
from tripwire.local.stack import LocalStack
from tripwire.notify.digest import digest
from tripwire.store.alerts import AlertStore
from tripwire.store.catalog import CatalogStore
from tripwire.store.deliveries import DeliveryStore

EVENT = Path(__file__).resolve().parents[2] / "events" / "digest_schedule.json"
WEEKLY_EVENT = EVENT.with_name("digest_weekly.json")
D = datetime(2026, 3, 14)  # the sample event fires on 2026-03-15: it digests the 14th


def alert(tenant: str, n: int, severity: Severity, period: datetime, **state: Any) -> Alert:
    return Alert(
        alert_id=f"al-{n}",
        tenant_id=tenant,
        profile_id="A1",
        entity_id=f"K{n}",
        entity_type=EntityType.KEYWORD,
        period=period,
        score=0.99999,
        threshold=0.9999,
        severity=severity,
        run_id="run-1",
        created_at=period.replace(hour=9, minute=30),
        **state,
    )


def resolved(minutes: float) -> dict[str, Any]:
    at = D.replace(hour=10)
    return {
        "status": AlertStatus.RESOLVED,
        "resolved_by": "ana",
        "resolved_at": at,
        "resolution_minutes": minutes,
    }


@pytest.fixture
def profile_day(local_stack: LocalStack, tenant: str) -> str:
    day_before = datetime(2026, 3, 13)
    AlertStore().put_many(
        [
            alert(tenant, 1, Severity.CRITICAL, D),
            alert(tenant, 2, Severity.CRITICAL, D, **resolved(30)),
            alert(tenant, 3, Severity.HIGH, D),
            *(alert(tenant, n, Severity.LOW, D) for n in (4, 5, 6)),
            alert(
                tenant,
                7,
                Severity.CRITICAL,
                day_before,
                status=AlertStatus.ACKNOWLEDGED,
                acknowledged_by="bo",
                acknowledged_at=day_before.replace(hour=11),
            ),
            alert(tenant, 8, Severity.MEDIUM, day_before, **resolved(90)),
        ]
    )
    CatalogStore().put_profile(Profile(tenant_id=tenant, profile_id="A1"))
    return tenant


def test_digest_counts_the_day(profile_day: str) -> None:
    counts = digest(profile_day, "A1", D.date())
    assert counts.raised == {"critical": 2, "high": 1, "medium": 0, "low": 3}
    assert counts.raised_total == 6  # the 13th's alerts are not the 14th's
    assert counts.unresolved_critical == 2  # open or acknowledged, whenever raised
    assert counts.resolved == 2  # both resolutions happened on the 14th
    assert counts.mean_minutes_to_resolve == 60.0  # (30 + 90) / 2


def test_scheduled_digest_reaches_slack_and_not_the_critical_mail(
    notifications: LocalNotifications, profile_day: str
) -> None:
    result = invoke("digest", json.loads(EVENT.read_text()))
    assert result["day"] == "2026-03-14" and result["profiles"] >= 1
    (message,) = [
        m for m in notifications.slack_messages if f"tenant {profile_day}" in json.dumps(m)
    ]
    texts = [b["text"]["text"] for b in message["blocks"] if b["type"] in ("header", "section")]
    assert texts == [
        "Daily digest · profile A1 · 2026-03-14",
        "*Alerts raised*\n6 (critical: 2 · high: 1 · medium: 0 · low: 3)",
        "*Unresolved critical*\n2",
        "*Resolved that day*\n2",
        "*Mean time to resolve*\n60 min (every resolution so far)",
    ]
    assert not [d for d in notifications.email_messages if d.body["tenant_id"] == profile_day]


def test_a_quiet_profile_gets_no_digest(
    notifications: LocalNotifications, local_stack: LocalStack, tenant: str
) -> None:
    CatalogStore().put_profile(Profile(tenant_id=tenant, profile_id="QUIET"))
    invoke("digest", {**json.loads(EVENT.read_text()), "detail": {"day": "2026-03-14"}})
    assert not [m for m in notifications.slack_messages if f"tenant {tenant}" in json.dumps(m)]


def test_weekly_digest_reaches_slack_and_line_with_the_weeks_trend(
    notifications: LocalNotifications, profile_day: str
) -> None:
    line_user = "U" + "fedcba9876543210" * 2
    DeliveryStore().put_settings(profile_day, "A1", ChannelSettings(line_to=line_user))
    weekly = json.loads(WEEKLY_EVENT.read_text())  # Monday 2026-03-16: the week of the 9th
    result = invoke("digest", weekly)
    assert result["week"] == "2026-03-09" and result["profiles"] >= 1
    (message,) = [
        m for m in notifications.slack_messages if f"tenant {profile_day}" in json.dumps(m)
    ]
    texts = [b["text"]["text"] for b in message["blocks"] if b["type"] in ("header", "section")]
    assert texts == [
        "Weekly digest · profile A1 · week of 2026-03-09",
        "*Alerts raised*\n8 (new)",  # nothing the week before
        "*Incidents started*\n0",
        "*Mean time to resolve*\n60 min · 2 resolved this week",  # none resolved before
    ]
    (push,) = notifications.line.pushes_to(line_user)
    assert push.texts[0].startswith("[Tripwire] week of 2026-03-09, profile A1: 8 (new) alerts")
    invoke("digest", weekly)  # the rule fired twice: LINE's retry key keeps one push
    assert len(notifications.line.pushes_to(line_user)) == 1
