"""The backfill and schedule routes (``api.backfill.router``) in a resolver of their own,
against in-process AWS: what the runs function serves once it includes the router."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from tripwire.api.backfill import router
from tripwire.api.routes import resolve
from tripwire.domain import Entity, EntityType, Profile
from tripwire.domain.entities import ProfileKind
from tripwire.local.gateway import LambdaContext, Request, build_event
from tripwire.registry.store import RegistryStore
from tripwire.service.messages import ScanMessage
from tripwire.store.catalog import CatalogStore
from tripwire.store.provision import aws_client
from tripwire.store.queues import SCAN
from tripwire.store.schedule import ScheduleStore

TENANT = "acme"


@pytest.fixture(autouse=True)
def aws(moto_aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    queue = aws_client("sqs").create_queue(QueueName="scan")["QueueUrl"]
    monkeypatch.setenv(SCAN.url_env, queue)
    catalog = CatalogStore()
    catalog.put_profile(Profile(tenant_id=TENANT, profile_id="A1"))
    entities = [
        Entity(entity_id="A1", entity_type=EntityType.ACCOUNT),
        Entity(entity_id="C1", entity_type=EntityType.CAMPAIGN, parent_id="A1"),
        Entity(entity_id="K1", entity_type=EntityType.KEYWORD, parent_id="C1"),
    ]
    catalog.put_hierarchy(TENANT, "A1", entities, None)
    RegistryStore().publish_models(TENANT, "A1", {"pipeline": (b"{}", {})})
    yield queue


@pytest.fixture
def app() -> APIGatewayHttpResolver:
    resolver = APIGatewayHttpResolver(enable_validation=True)
    resolver.include_router(router)
    return resolver


def call(
    app: APIGatewayHttpResolver, method: str, path: str, body: Any = None, tenant: str = TENANT
) -> tuple[int, dict[str, Any]]:
    found = resolve(method, path)
    assert found is not None, path
    route, params = found
    raw = json.dumps(body).encode() if body is not None else b""
    request = Request(method, path, headers=[("content-type", "application/json")], body=raw)
    claims = {"custom:tenant_id": tenant, "cognito:username": "ana", "token_use": "id"}
    event = build_event(request, route, params, claims)
    response = app.resolve(event, LambdaContext("runs", "req-1"))
    return int(response["statusCode"]), json.loads(response["body"] or "{}")


def queued(queue: str) -> list[ScanMessage]:
    messages = aws_client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
    return [ScanMessage.model_validate_json(m["Body"]) for m in messages.get("Messages", [])]


def test_switching_a_profiles_scans_off_and_on(app: APIGatewayHttpResolver) -> None:
    status, body = call(app, "PUT", "/profiles/A1/schedule", {"enabled": False})
    assert status == 200 and body["enabled"] is False and body["updated_by"] == "ana"
    assert ScheduleStore().active() == []
    call(app, "PUT", "/profiles/A1/schedule", {"enabled": True})
    assert [(e.tenant_id, e.profile_id) for e in ScheduleStore().active()] == [(TENANT, "A1")]


def test_scheduling_an_unknown_or_other_tenants_profile_is_a_404(
    app: APIGatewayHttpResolver,
) -> None:
    assert call(app, "PUT", "/profiles/A9/schedule", {"enabled": True})[0] == 404
    assert call(app, "PUT", "/profiles/A1/schedule", {"enabled": True}, tenant="other")[0] == 404
    assert ScheduleStore().active() == []


def test_a_bad_schedule_body_names_the_field(app: APIGatewayHttpResolver) -> None:
    status, body = call(app, "PUT", "/profiles/A1/schedule", {"enabled": "maybe"})
    assert status == 422 and "enabled" in json.dumps(body)


def test_a_backfill_starts_at_once_and_starting_it_again_returns_the_running_one(
    app: APIGatewayHttpResolver, aws: str
) -> None:
    status, body = call(app, "POST", "/backfill", {"profile_id": "A1", "period": "45d"})
    assert status == 202 and body["status"] == "in_progress"
    (message,) = queued(aws)
    assert message.kind == "backfill" and message.run_id == body["backfill_id"]
    assert message.slice_count == 2  # 45 days: a chunk of 30, then one of 15
    again_status, again = call(app, "POST", "/backfill", {"profile_id": "A1", "period": "45d"})
    assert again_status == 200 and again["backfill_id"] == body["backfill_id"]
    status, progress = call(app, "GET", f"/backfill/{body['backfill_id']}")
    assert status == 200 and progress["status"] == "in_progress"
    assert progress["rows_processed"] == 0 and progress["error"] is None


def test_another_tenant_cannot_see_a_backfill(app: APIGatewayHttpResolver) -> None:
    _, body = call(app, "POST", "/backfill", {"profile_id": "A1", "period": "7d"})
    assert call(app, "GET", f"/backfill/{body['backfill_id']}", tenant="other")[0] == 404
    assert call(app, "GET", "/backfill/run-unknown")[0] == 404


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"profile_id": "A1", "period": "five years"}, 422, "period"),
        ({"profile_id": "A1"}, 422, "period"),
        ({"profile_id": "A1", "period": "5y", "interval": "1h"}, 422, "interval"),
        ({"profile_id": "A1", "period": "5y", "colour": "red"}, 422, "colour"),
        ({"profile_id": "A9", "period": "5y"}, 404, "profile_id"),
        ({"profile_id": "A1", "entity_id": "K9", "period": "5y"}, 404, "entity_id"),
        ({"profile_id": "A1", "period": "20y"}, 422, "period"),
    ],
)
def test_a_bad_backfill_is_refused_naming_the_field_and_queues_nothing(
    app: APIGatewayHttpResolver, aws: str, body: dict[str, str], status: int, field: str
) -> None:
    got, answer = call(app, "POST", "/backfill", body)
    assert got == status and field in json.dumps(answer)
    assert queued(aws) == []


def test_a_trained_profile_is_scanned_unless_someone_switched_it_off() -> None:
    schedule = ScheduleStore()
    assert schedule.register(TENANT, "A2") is True
    assert [e.profile_id for e in schedule.active()] == ["A2"]
    schedule.set(TENANT, "A2", False)
    assert schedule.register(TENANT, "A2") is False  # retrained: stays off
    assert schedule.active() == []


def test_a_market_profile_backfills_intraday_bars(app: APIGatewayHttpResolver, aws: str) -> None:
    catalog = CatalogStore()
    catalog.put_profile(Profile(tenant_id=TENANT, profile_id="US", kind=ProfileKind.MARKET))
    tickers = [
        Entity(entity_id="US", entity_type=EntityType.MARKET),
        Entity(entity_id="US-ACME", entity_type=EntityType.TICKER, parent_id="US"),
    ]
    catalog.put_hierarchy(TENANT, "US", tickers, None)
    RegistryStore().publish_models(TENANT, "US", {"market_if_1h_US": (b"{}", {})})

    got, body = call(
        app, "POST", "/backfill", {"profile_id": "US", "period": "12mo", "interval": "1h"}
    )

    assert got == 202, body
    assert {m.interval.value for m in queued(aws)} == {"1h"}
