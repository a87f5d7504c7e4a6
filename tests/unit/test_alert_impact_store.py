"""An alert is stored with its impact and name; a settled re-scan restates a provisional
impact (DynamoDB in-process)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from tripwire.domain.alerts import Alert, AlertStatus, Confirmation, Impact, Severity, alert_id
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


def _on(keyword: str, confirmation: Confirmation | None) -> Alert:
    """A keyword's alert on 2026-04-11, raised on provisional figures or settled ones."""
    return _alert(FEARED).model_copy(
        update={
            "alert_id": alert_id("acme", "A1", keyword, "2026-04-11"),
            "entity_id": keyword,
            "entity_type": EntityType.KEYWORD,
            "entity_name": "",
            "confirmation": confirmation,
        }
    )


def test_restated_figures_confirm_one_provisional_alert_and_withdraw_another() -> None:
    feared = [_on(k, Confirmation.PROVISIONAL) for k in ("A1-K1", "A1-K2", "A1-K3")]
    assert len(store_found(ScanStores(), "acme", "A1", feared).new) == 3
    # Three days later the settled re-scan of K1 and K2 (K3 is another slice's) finds K1 only.
    settled = {date(2026, 4, 11): ["A1-K1", "A1-K2"]}
    again = store_found(ScanStores(), "acme", "A1", [_on("A1-K1", None)], settled)
    assert again.new == []  # never alerted twice: the same alert, its status updated
    assert again.found[0].confirmation is Confirmation.CONFIRMED
    stored = AlertStore().get_many("acme", [a.alert_id for a in feared])
    assert [stored[a.alert_id].confirmation for a in feared] == [
        Confirmation.CONFIRMED,
        Confirmation.WITHDRAWN,  # the restated figures do not show it: it was the lag
        Confirmation.PROVISIONAL,  # not re-scored here: left alone
    ]
    # a repeated settled scan changes nothing further
    store_found(ScanStores(), "acme", "A1", [_on("A1-K1", None)], settled)
    withdrawn = AlertStore().get("acme", feared[1].alert_id)
    assert withdrawn is not None and withdrawn.confirmation is Confirmation.WITHDRAWN
