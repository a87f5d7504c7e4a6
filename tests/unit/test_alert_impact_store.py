"""An alert is stored with its impact and name; a settled re-scan restates a provisional
impact (DynamoDB in-process)."""

from __future__ import annotations

from datetime import datetime

import pytest

from tripwire.domain.alerts import Alert, AlertStatus, Impact, Severity
from tripwire.domain.entities import EntityType
from tripwire.service.alerts import AlertService
from tripwire.service.scoring import ScanStores, store_found
from tripwire.store.alerts import AlertStore
from tripwire.store.incidents import IncidentStore


@pytest.fixture(autouse=True)
def aws(moto_aws: None) -> None:
    """Every test here runs against moto in-process (tests/unit/conftest.py)."""


def _alert(impact: Impact) -> Alert:
    return Alert(
        alert_id="al-c24",
        tenant_id="acme",
        profile_id="A1",
        entity_id="A1-C24",
        entity_type=EntityType.CAMPAIGN,
        entity_name="Garden | SP | Broad | Tools",
        period=datetime(2026, 4, 11),
        score=0.99999,
        threshold=0.9999,
        severity=Severity.CRITICAL,
        impact=impact,
        run_id="run-1",
        created_at=datetime(2026, 4, 12, 6),
    )


FEARED = Impact(currency="EUR", revenue_impact=900, sales_at_risk=900, provisional=True)
SETTLED = Impact(currency="EUR", revenue_impact=650, sales_at_risk=650, provisional=False)


def test_an_alert_is_stored_with_its_impact_and_name() -> None:
    (new,) = store_found(ScanStores(), "acme", "A1", [_alert(FEARED)]).new
    stored = AlertStore().get("acme", new.alert_id)
    assert stored is not None and stored.impact == FEARED
    (incident,) = IncidentStore().groups("acme", "A1")
    assert incident.impact == FEARED and incident.root_name == "Garden | SP | Broad | Tools"
    assert stored.label == "campaign 'Garden | SP | Broad | Tools' (A1-C24)"


def test_a_settled_rescan_restates_the_provisional_sales_at_risk() -> None:
    store_found(ScanStores(), "acme", "A1", [_alert(FEARED)])
    again = store_found(ScanStores(), "acme", "A1", [_alert(SETTLED)])
    assert again.new == []  # nothing raised twice
    assert again.found[0].impact == SETTLED
    stored = AlertStore().get("acme", "al-c24")
    assert stored is not None and stored.impact == SETTLED
    (incident,) = IncidentStore().groups("acme", "A1")  # the campaign is its incident's root
    assert incident.impact == SETTLED


def test_a_later_provisional_view_never_overwrites_a_settled_one() -> None:
    store_found(ScanStores(), "acme", "A1", [_alert(SETTLED)])
    store_found(ScanStores(), "acme", "A1", [_alert(FEARED)])
    stored = AlertStore().get("acme", "al-c24")
    assert stored is not None and stored.impact == SETTLED


def test_restating_keeps_a_status_someone_changed_meanwhile() -> None:
    store_found(ScanStores(), "acme", "A1", [_alert(FEARED)])
    read = AlertStore().get("acme", "al-c24")
    assert read is not None
    AlertService.default().acknowledge("acme", "al-c24", "ana")
    assert not AlertStore().restate(read, SETTLED)  # read before the change: refused
    stored = AlertStore().get("acme", "al-c24")
    assert stored is not None and stored.status is AlertStatus.ACKNOWLEDGED
    assert stored.impact == FEARED
