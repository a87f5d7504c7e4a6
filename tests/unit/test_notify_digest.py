"""Which day the digest covers, from the EventBridge event."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

from tripwire.domain.alerts import Alert, AlertStatus, Impact, Relation, RootCause, Severity
from tripwire.domain.entities import EntityType
from tripwire.notify.digest import (
    day_to_digest,
    digest,
    is_weekly,
    week_to_digest,
    weekly_digest,
)
from tripwire.notify.slack import payload, render_text
from tripwire.rootcause import GroupMember
from tripwire.service.incidents import assign_and_record
from tripwire.store.alerts import AlertStore

EVENT = Path(__file__).resolve().parents[2] / "events" / "digest_schedule.json"


def test_the_schedule_digests_the_day_before_it_fired() -> None:
    assert day_to_digest(json.loads(EVENT.read_text())) == date(2026, 3, 14)


def test_a_hand_sent_event_names_its_day() -> None:
    event = {**json.loads(EVENT.read_text()), "detail": {"day": "2026-01-31"}}
    assert day_to_digest(event) == date(2026, 1, 31)


def _incident(
    root: str, name: str, severity: Severity, revenue: float, period: str = "2026-03-14"
) -> GroupMember:
    cause = RootCause(
        entity_id=root,
        entity_type=EntityType.CAMPAIGN,
        entity_name=name,
        relation=Relation.SELF,
        hops=0,
        confidence=0.9,
        sentence=f"Campaign '{name}' ({root}) itself: impressions fell 100%",
    )
    impact = Impact(revenue_impact=revenue, wasted_spend=revenue)
    return GroupMember(root, period, severity, (cause,), impact, name)


def test_the_digest_lists_the_days_incidents_costliest_first_by_name(moto_aws: None) -> None:
    members = [
        _incident("C1", "Kitchen | SP | Exact | Knives", Severity.CRITICAL, 12.0),
        _incident("C2", "Garden | SP | Broad | Tools", Severity.HIGH, 1234.0),
    ]
    assign_and_record("acme", "A1", members)
    found = digest("acme", "A1", date(2026, 3, 14))
    assert found.top_incidents == [
        "high · campaign 'Garden | SP | Broad | Tools' (C2) · wasted spend $1,234 · 1 alert",
        "critical · campaign 'Kitchen | SP | Exact | Knives' (C1) · wasted spend $12 · 1 alert",
    ]
    assert digest("acme", "A1", date(2026, 3, 16)).top_incidents == []  # over by then
    text = render_text(payload(found))
    assert "Top incidents by impact" in text and "Garden | SP | Broad | Tools" in text


# -- the weekly digest -----------------------------------------------------------------
WEEKLY_EVENT = EVENT.with_name("digest_weekly.json")
MONDAY = date(2026, 3, 9)


def test_the_weekly_rule_digests_the_last_full_week() -> None:
    event = json.loads(WEEKLY_EVENT.read_text())  # fired Monday 2026-03-16
    assert is_weekly(event) and not is_weekly(json.loads(EVENT.read_text()))
    assert week_to_digest(event) == MONDAY
    assert week_to_digest({**event, "time": "2026-03-15T23:59:59Z"}) == date(2026, 3, 2)
    assert week_to_digest({**event, "detail": {"digest": "weekly", "week": "2026-03-12"}}) == MONDAY


def _raised(n: int, period: str, resolved: str | None = None, minutes: float = 0.0) -> Alert:
    created = datetime.fromisoformat(period) + timedelta(hours=30)
    extra: dict[str, object] = {}
    if resolved:
        extra = {
            "status": AlertStatus.RESOLVED,
            "resolved_at": datetime.fromisoformat(resolved),
            "resolved_by": "ana",
            "resolution_minutes": minutes,
        }
    return Alert(
        alert_id=f"al-{n}",
        tenant_id="acme",
        profile_id="A1",
        entity_id=f"K{n}",
        entity_type=EntityType.KEYWORD,
        period=datetime.fromisoformat(period),
        score=0.9999,
        threshold=0.999,
        severity=Severity.HIGH,
        run_id="r1",
        created_at=created,
        **extra,  # type: ignore[arg-type]
    )


def test_weekly_digest_trends_top_incidents_and_mttr_of_each_week(moto_aws: None) -> None:
    AlertStore().put_many(
        [
            _raised(1, "2026-03-03", "2026-03-05T08:00:00", 120.0),  # the week before
            _raised(2, "2026-03-04"),
            _raised(3, "2026-03-10", "2026-03-12T09:00:00", 30.0),  # this week
            _raised(4, "2026-03-11", "2026-03-15T23:59:00", 90.0),  # resolved on its Sunday
            _raised(5, "2026-03-12", "2026-03-16T00:00:00", 999.0),  # … next Monday: not
            _raised(6, "2026-03-16"),  # next week's
        ]
    )
    for member in (
        _incident("C9", "Old | SP", Severity.HIGH, 50.0, "2026-03-04"),
        _incident("C1", "Kitchen | SP", Severity.CRITICAL, 12.0, "2026-03-10"),
        _incident("C2", "Garden | SP", Severity.HIGH, 1234.0, "2026-03-15"),
    ):
        assign_and_record("acme", "A1", [member])
    week = weekly_digest("acme", "A1", MONDAY)
    assert (week.raised, week.raised_before) == (3, 2)
    assert (week.incidents, week.incidents_before) == (2, 1)
    assert week.resolved == 2  # al-3 and al-4 (Sunday 23:59); al-5 was resolved on Monday
    assert (week.mttr_minutes, week.mttr_before) == (60.0, 120.0)
    assert week.top_incidents == [
        "high · campaign 'Garden | SP' (C2) · wasted spend $1,234 · 1 alert",
        "critical · campaign 'Kitchen | SP' (C1) · wasted spend $12 · 1 alert",
    ]
    text = render_text(payload(week))
    assert "Weekly digest · profile A1 · week of 2026-03-09" in text
    assert "3 (▲ 50% on 2)" in text  # alerts raised
    assert "60 (▼ 50% on 120) min · 2 resolved this week" in text


def test_a_quiet_week_after_a_busy_one_says_so(moto_aws: None) -> None:
    AlertStore().put_many([_raised(1, "2026-03-03")])
    week = weekly_digest("acme", "A1", MONDAY)
    assert (week.raised, week.raised_before, week.mttr_minutes) == (0, 1, None)
    assert "0 (▼ 100% on 1)" in render_text(payload(week))
