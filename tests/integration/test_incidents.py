"""Incident groups persisted across scans, against moto server and the API over real HTTP.

A campaign paused for three days is scanned day by day: its alerts form one group, whose
counts a redelivered scan leaves alone; the alert list filters by that group; and the
stored groups tell the next scan how long each entity has been anomalous.
"""

from __future__ import annotations

import hashlib
import json
import urllib.request
from datetime import datetime, timedelta
from typing import Any

import pytest

from tripwire.domain import Alert, Severity
from tripwire.domain.alerts import Relation, RootCause
from tripwire.domain.entities import EntityType
from tripwire.local.auth import issue_token
from tripwire.local.stack import LocalStack
from tripwire.rootcause import group_id, onset_runs
from tripwire.service.incidents import group_new_alerts
from tripwire.store.alerts import AlertStore
from tripwire.store.incidents import IncidentStore

pytestmark = pytest.mark.integration
DAYS = [datetime(2026, 3, 10) + timedelta(days=d) for d in range(3)]
KEYWORDS = ["C1K0", "C1K1", "C1K2"]


def _scan_alerts(tenant: str, day: datetime) -> list[Alert]:
    """What one day's scan raises: the paused campaign and its keywords, traced to it."""
    inherited = RootCause(
        entity_id="C1",
        entity_type=EntityType.CAMPAIGN,
        relation=Relation.ANCESTOR,
        hops=1,
        confidence=0.93,
        sentence="Inherited from campaign C1 (1 level up): impressions fell 97% across 3 of 3",
    )
    itself = inherited.model_copy(
        update={"relation": Relation.SELF, "hops": 0, "sentence": "Campaign C1 itself: paused"}
    )
    out = []
    for entity in ["C1", *KEYWORDS]:
        key = f"{tenant}|A1|{entity}|{day.date()}".encode()
        out.append(
            Alert(
                alert_id="al-" + hashlib.sha256(key).hexdigest()[:20],
                tenant_id=tenant,
                profile_id="A1",
                entity_id=entity,
                entity_type=EntityType.CAMPAIGN if entity == "C1" else EntityType.KEYWORD,
                period=day,
                score=0.99,
                threshold=0.9,
                severity=Severity.CRITICAL if entity == "C1K1" else Severity.HIGH,
                root_causes=[itself if entity == "C1" else inherited],
                run_id=f"run-{day.date()}",
                created_at=day + timedelta(hours=6),
            )
        )
    return out


def _scan(tenant: str, day: datetime) -> list[Alert]:
    """The scan service's order: keep only new alerts, group them, then store them."""
    found = _scan_alerts(tenant, day)
    known = AlertStore().existing(tenant, [a.alert_id for a in found])
    grouped = group_new_alerts(tenant, "A1", [a for a in found if a.alert_id not in known])
    AlertStore().put_many(grouped)
    return grouped


def _get(stack: LocalStack, tenant: str, path: str) -> dict[str, Any]:
    token = issue_token(tenant, "ana", directory=stack.directory)
    request = urllib.request.Request(
        stack.api_url + path, headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        body: dict[str, Any] = json.loads(response.read())
    return body


def test_a_three_day_incident_scanned_day_by_day_is_one_group(
    local_stack: LocalStack, tenant: str
) -> None:
    written = [alert for day in DAYS for alert in _scan(tenant, day)]
    expected = group_id("C1", "2026-03-10")
    assert len(written) == 12 and {a.group_id for a in written} == {expected}
    (group,) = IncidentStore().groups(tenant, "A1")
    assert (group.group_id, group.root_entity, group.root_type) == (
        expected,
        "C1",
        EntityType.CAMPAIGN,
    )
    assert (group.first_period, group.last_period) == ("2026-03-10", "2026-03-12")
    assert (group.members, group.affected, group.severity) == (12, 4, Severity.CRITICAL)
    assert group.summary == (
        "2026-03-10..2026-03-12: 12 alerts on 4 entities traced to campaign C1"
        " (worst critical): paused"
    )
    # the alert list filters by the group; members stay individually visible
    body = _get(local_stack, tenant, f"/alerts/active?profile_id=A1&group_id={expected}&limit=50")
    assert len(body["items"]) == 12
    # the next scan's temporal precedence: C1 and its keywords have alerted 3 days running
    before = IncidentStore().alerting(tenant, "A1", "2026-03-06", "2026-03-12")
    onsets = onset_runs(before, "2026-03-13", ["C1", *KEYWORDS, "C2"])
    assert onsets.tolist() == [3, 3, 3, 3, 0]


def test_a_redelivered_scan_lands_in_the_same_group_and_counts_nothing_twice(
    local_stack: LocalStack, tenant: str
) -> None:
    first = [alert for day in DAYS[:2] for alert in _scan(tenant, day)]
    before = IncidentStore().groups(tenant, "A1")
    assert _scan(tenant, DAYS[1]) == []  # redelivered: every alert is known, nothing new
    # a delivery that died after grouping, before storing its alerts, is grouped again
    again = group_new_alerts(tenant, "A1", _scan_alerts(tenant, DAYS[1]))
    assert (
        {a.group_id for a in again} == {a.group_id for a in first} == {group_id("C1", "2026-03-10")}
    )
    assert IncidentStore().groups(tenant, "A1") == before
    assert (before[0].members, before[0].affected) == (8, 4)
    assert IncidentStore().groups(f"{tenant}-other", "A1") == []
