"""Each route's successes and refusals, answered for real, match ``/openapi.json``.

schemathesis (``test_api_contract.py``) generates requests; it rarely builds a fully valid
one that reaches a route's success (a lifecycle: ingest, read, acknowledge, resolve…).
Here each route's success (and its 404/409/422) is answered for real and its body checked
against the schema the served document declares for its status (an undocumented status
fails too); every 422 names where the bad value was.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from tripwire.domain import Alert, Profile, Severity
from tripwire.domain.runs import DetectionRun, RunStatus, Trigger
from tripwire.local.auth import issue_token
from tripwire.local.stack import LocalStack
from tripwire.store.alerts import AlertStore
from tripwire.store.catalog import CatalogStore
from tripwire.store.runs import RunStore

pytestmark = pytest.mark.integration
# Route -> the documented operation its requests hit (method, OpenAPI path).
OPERATIONS = {
    "statistics": ("get", "/statistics"),
    "series": ("get", "/entities/{entity_id}/series"),
    "profile": ("get", "/entities/{entity_id}/profile"),
    "metrics": ("post", "/metrics"),
    "alerts_active": ("get", "/alerts/active"),
    "alert_get": ("get", "/alerts/{alert_id}"),
    "acknowledge": ("patch", "/alerts/{alert_id}/acknowledge"),
    "resolve": ("patch", "/alerts/{alert_id}/resolve"),
    "feedback": ("post", "/alerts/{alert_id}/feedback"),
    "runs": ("get", "/runs"),
    "run_get": ("get", "/runs/{run_id}"),
    "models": ("get", "/models"),
    # Answered in the lifecycle test only (detection needs trained models to go further).
    "detect": ("post", "/detect"),
    "verify": ("post", "/anomalies/{alert_id}/verify"),
    "backfill": ("post", "/backfill"),
    "backfill_get": ("get", "/backfill/{backfill_id}"),
    "schedule": ("put", "/profiles/{profile_id}/schedule"),
}
ResponseSchemas = dict[int, Draft202012Validator]  # status -> validator of the JSON body
DOCUMENT_URI = "urn:tripwire:openapi"


def _pointer(*parts: str) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


@pytest.fixture(scope="module")
def documented(local_stack: LocalStack) -> dict[str, ResponseSchemas]:
    """Per route, the response schemas the served OpenAPI document declares."""
    with urllib.request.urlopen(local_stack.api_url + "/openapi.json", timeout=30) as answer:
        document = json.loads(answer.read())
    # The document is the base of every schema, so "#/components/schemas/..." refs
    # resolve in it (OpenAPI 3.1 schemas are JSON Schema 2020-12).
    resource = DRAFT202012.create_resource(document)
    registry: Registry[Any] = Registry().with_resource(DOCUMENT_URI, resource)
    schemas: dict[str, ResponseSchemas] = {}
    for route, (method, path) in OPERATIONS.items():
        responses = document["paths"][path][method]["responses"]
        schemas[route] = {
            int(status): Draft202012Validator(
                {
                    "$ref": f"{DOCUMENT_URI}#{_pointer('paths', path, method, 'responses', status)}"
                    + "/content/application~1json/schema"
                },
                registry=registry,
            )
            for status in responses
        }
    return schemas


def _mismatches(validator: Draft202012Validator, answer: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}"
        for e in validator.iter_errors(answer)
    ]


def _alerts(tenant: str) -> list[Alert]:
    return [
        Alert(
            alert_id=f"al-{n}",
            tenant_id=tenant,
            profile_id="A1",
            entity_id="K1",
            entity_type="keyword",
            period=datetime(2026, 3, n),
            score=0.99,
            threshold=0.9,
            severity=Severity.HIGH,
            run_id="run-1",
            created_at=datetime(2026, 3, n, 6),
        )
        for n in (1, 2)
    ]


def _runs(tenant: str) -> list[DetectionRun]:
    started = datetime(2026, 3, 4, 6, tzinfo=UTC)
    done = DetectionRun(
        run_id="run-1",
        tenant_id=tenant,
        profile_id="A1",
        trigger=Trigger.SCHEDULE,
        model_versions={"iforest": "v1"},
        started_at=started,
        completed_at=started + timedelta(seconds=3),
        entities_checked=3,
        anomalies_found=2,
        alert_ids=["al-1", "al-2"],
        status=RunStatus.COMPLETE,
        expires_at=2_000_000_000,
    )
    running = done.model_copy(
        update={
            "run_id": "run-2",
            "started_at": started + timedelta(hours=1),
            "completed_at": None,
            "status": RunStatus.IN_PROGRESS,
        }
    )
    return [done, running]


def _send(stack: LocalStack, token: str, method: str, path: str, body: Any) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(stack.api_url + path, data, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _check(
    schemas: ResponseSchemas, request: tuple[str, str, Any], status: int, answer: Any
) -> None:
    """No 5xx; the answer matches what the document declares for this status."""
    assert status < 500, (request, answer)
    assert status in schemas, f"{status} is not documented for {request}: {answer}"
    assert not _mismatches(schemas[status], answer), (request, answer)
    if status == 422:
        for problem in answer["detail"]:
            # "body", "query", "path" or "header", then the field — and for rows, its index.
            assert problem["loc"][0] in ("body", "query", "path", "header"), answer
            assert problem["loc"][0] != "response", answer  # our answer, not the request


K1_DAYS = {"profile_id": "A1", "from": "2026-03-01", "to": "2026-03-04"}
LIFECYCLE: list[tuple[str, tuple[str, str, Any], int]] = [
    (
        "metrics",
        (
            "POST",
            "/metrics",
            {
                "profile_id": "A1",
                "entities": [
                    {"entity_id": "ACC", "entity_type": "account"},
                    {"entity_id": "C1", "entity_type": "campaign", "parent_id": "ACC"},
                    {"entity_id": "K1", "entity_type": "keyword", "parent_id": "C1"},
                ],
                "points": [
                    {"entity_id": "K1", "date": f"2026-03-0{d}", "impressions": 90, "clicks": d}
                    | {"spend": 2.5, "sales": 10.0, "orders": 1}
                    for d in (1, 2, 3)
                ],
            },
        ),
        200,
    ),
    ("statistics", ("GET", f"/statistics?{urlencode(K1_DAYS)}", None), 200),
    ("series", ("GET", f"/entities/K1/series?{urlencode(K1_DAYS)}", None), 200),
    ("profile", ("GET", "/entities/K1/profile?profile_id=A1", None), 200),
    ("profile", ("GET", "/entities/K9/profile?profile_id=A1", None), 404),
    ("alerts_active", ("GET", "/alerts/active?profile_id=A1&limit=1", None), 200),
    ("acknowledge", ("PATCH", "/alerts/al-1/acknowledge", {}), 200),
    ("resolve", ("PATCH", "/alerts/al-1/resolve", {"notes": "budget fixed"}), 200),
    ("resolve", ("PATCH", "/alerts/al-1/resolve", {"notes": "again"}), 409),
    ("feedback", ("POST", "/alerts/al-1/feedback", {"is_anomaly": True, "note": "real"}), 201),
    ("alert_get", ("GET", "/alerts/al-1", None), 200),
    ("alert_get", ("GET", "/alerts/al-9", None), 404),
    ("runs", ("GET", "/runs?profile_id=A1&limit=1", None), 200),
    ("runs", ("GET", "/runs?profile_id=B2", None), 404),
    ("run_get", ("GET", "/runs/run-1", None), 200),
    ("run_get", ("GET", "/runs/run-2", None), 200),
    ("run_get", ("GET", "/runs/run-9", None), 404),
    ("models", ("GET", "/models", None), 200),
    ("models", ("GET", "/models?profile_id=A1", None), 200),
    ("detect", ("POST", "/detect", {"profile_id": "A1"}), 409),
    ("detect", ("POST", "/detect", {"profile_id": "B2"}), 404),
    ("detect", ("POST", "/detect", {"profile_id": "A1", "colour": "red"}), 422),
    ("verify", ("POST", "/anomalies/al-2/verify", None), 409),
    ("verify", ("POST", "/anomalies/al-9/verify", None), 404),
    ("backfill", ("POST", "/backfill", {"profile_id": "A1", "period": "90d"}), 409),
    ("backfill", ("POST", "/backfill", {"profile_id": "B2", "period": "90d"}), 404),
    ("backfill", ("POST", "/backfill", {"profile_id": "A1", "period": "forever"}), 422),
    ("backfill_get", ("GET", "/backfill/bf-9", None), 404),
    ("schedule", ("PUT", "/profiles/A1/schedule", {"enabled": False}), 200),
    ("schedule", ("PUT", "/profiles/B2/schedule", {"enabled": True}), 404),
]


def test_every_documented_answer_of_a_lifecycle_matches_its_schema(
    local_stack: LocalStack, tenant: str, documented: dict[str, ResponseSchemas]
) -> None:
    # Fuzzing rarely builds a fully valid request: here each route's success (and its
    # 404/409) is answered for real and checked against the document.
    CatalogStore().put_profile(Profile(tenant_id=tenant, profile_id="A1"))
    token = issue_token(tenant, "analyst", directory=local_stack.directory)
    for route, request, expected in LIFECYCLE:
        if route == "statistics":  # alerts on K1 once it exists, as a scan would raise them
            AlertStore().put_many(_alerts(tenant))
            for run in _runs(tenant):
                RunStore().put(run)
        status, answer = _send(local_stack, token, *request)
        assert status == expected, (request, answer)
        _check(documented[route], request, status, answer)
