"""Which day the digest covers, from the EventBridge event."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from tripwire.domain.alerts import Impact, Relation, RootCause, Severity
from tripwire.domain.entities import EntityType
from tripwire.notify.digest import day_to_digest, digest
from tripwire.notify.slack import payload, render_text
from tripwire.rootcause import GroupMember
from tripwire.service.incidents import assign_and_record

EVENT = Path(__file__).resolve().parents[2] / "events" / "digest_schedule.json"


def test_the_schedule_digests_the_day_before_it_fired() -> None:
    assert day_to_digest(json.loads(EVENT.read_text())) == date(2026, 3, 14)


def test_a_hand_sent_event_names_its_day() -> None:
    event = {**json.loads(EVENT.read_text()), "detail": {"day": "2026-01-31"}}
    assert day_to_digest(event) == date(2026, 1, 31)


def _incident(root: str, name: str, severity: Severity, revenue: float) -> GroupMember:
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
    return GroupMember(root, "2026-03-14", severity, (cause,), impact, name)


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
