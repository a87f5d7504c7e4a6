"""functions/profiles invoked with events/profile_delete.json on moto (in-process): the
profile and its data go, the tenant's other profile and another tenant's stay; a second
delete, or another tenant's, is a 404; a deletion cut short is finished by running it again."""

from __future__ import annotations

import copy
import datetime
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tripwire.api.profiles import Removed
from tripwire.domain import Alert, Entity, Feedback, Severity
from tripwire.domain.alerts import StatusChange
from tripwire.domain.entities import Profile
from tripwire.local.functions import invoke
from tripwire.service.profiles import delete_profile
from tripwire.store.alerts import AlertStore
from tripwire.store.catalog import CatalogStore
from tripwire.store.connections import SecretStore
from tripwire.store.feedback import FeedbackStore
from tripwire.store.history import HistoryStore, history_item
from tripwire.store.provision import aws_client
from tripwire.store.purge import ProfilePurge
from tripwire.store.schedule import ScheduleStore
from tripwire.store.tables import HISTORY, MODELS

EVENTS = Path(__file__).resolve().parents[2] / "events"
TENANT = "tenant-sample"


def _seed(tenant: str, profile: str) -> None:
    catalog = CatalogStore()
    catalog.put_profile(Profile(tenant_id=tenant, profile_id=profile))
    entities = [Entity(entity_id="ACC", entity_type="account")]
    catalog.put_hierarchy(tenant, profile, entities, expected=None)
    ScheduleStore().set(tenant, profile, True)
    label = {"tenant_id": tenant, "profile_id": profile, "alert_id": "al-1"}
    label |= {"entity_id": "ACC", "entity_type": "account", "interval": "1d"}
    label |= {"period": "2026-03-01T00:00:00", "score": 0.9, "is_anomaly": False}
    label |= {"by": "ana", "at": "2026-03-02T00:00:00"}
    FeedbackStore().put(Feedback.model_validate(label))
    aws_client("s3").put_object(Bucket=MODELS.name, Key=f"{tenant}/{profile}/x/v.bin", Body=b"1")


@pytest.fixture(autouse=True)
def aws(moto_aws: None) -> Iterator[None]:
    for tenant, profile in ((TENANT, "A1"), (TENANT, "A2"), ("other", "A1")):
        _seed(tenant, profile)
    SecretStore().put(TENANT, "A1", {"refresh_token": "r"}, at=datetime.datetime(2026, 3, 1))
    yield


def event(tenant: str = TENANT) -> dict[str, Any]:
    loaded: dict[str, Any] = copy.deepcopy(json.loads((EVENTS / "profile_delete.json").read_text()))
    loaded["requestContext"]["authorizer"]["jwt"]["claims"]["custom:tenant_id"] = tenant
    return loaded


def test_the_sample_event_deletes_the_profile_and_counts_what_went() -> None:
    answer = invoke("profiles", event())
    assert answer["statusCode"] == 200
    body = json.loads(answer["body"])
    assert body["profile_id"] == "A1"
    removed = body["removed"]
    assert set(removed) == set(Removed.model_fields)  # every kind documented, nothing more
    assert removed["catalog"] == 3  # profile, hierarchy head and its one chunk
    assert (removed["schedules"], removed["feedback"], removed["models"]) == (1, 1, 1)
    assert removed["secrets"] == 1
    catalog = CatalogStore()
    assert catalog.get_profile(TENANT, "A1") is None
    assert catalog.get_profile(TENANT, "A2") is not None
    assert catalog.get_profile("other", "A1") is not None
    assert ScheduleStore().get(TENANT, "A1") is None
    assert FeedbackStore().of_profile("other", "A1")


def test_deleting_twice_or_another_tenants_profile_is_a_404() -> None:
    assert invoke("profiles", event())["statusCode"] == 200
    again = invoke("profiles", event())
    assert again["statusCode"] == 404 and "profile" in again["body"]
    assert invoke("profiles", event("nobody"))["statusCode"] == 404


def test_a_deletion_cut_short_is_finished_by_running_it_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """History records name no profile: a cut before the alerts go must leave the alerts,
    so the second run still finds their history."""
    when = datetime.datetime(2026, 3, 2, 6)
    alert = Alert(
        alert_id="al-1",
        tenant_id=TENANT,
        profile_id="A1",
        entity_id="ACC",
        entity_type="account",
        period=datetime.datetime(2026, 3, 1),
        score=0.99,
        threshold=0.9,
        severity=Severity.HIGH,
        run_id="run-1",
        created_at=when,
    )
    AlertStore().put_many([alert])
    change = StatusChange(
        tenant_id=TENANT, alert_id="al-1", status="acknowledged", previous="open", at=when, by="ana"
    )
    aws_client("dynamodb").put_item(TableName=HISTORY.name, Item=history_item(change))
    real = ProfilePurge.history

    def cut(self: ProfilePurge, alert_ids: Any) -> int:
        monkeypatch.setattr(ProfilePurge, "history", real)
        raise TimeoutError("the function timed out")

    monkeypatch.setattr(ProfilePurge, "history", cut)
    with pytest.raises(TimeoutError):
        delete_profile(TENANT, "A1")
    assert AlertStore().get(TENANT, "al-1") is not None  # still there to be found
    removed = delete_profile(TENANT, "A1")
    assert (removed["alerts"], removed["history"]) == (1, 1)
    assert HistoryStore().of_alert(TENANT, "al-1") == []
    assert CatalogStore().get_profile(TENANT, "A1") is None
