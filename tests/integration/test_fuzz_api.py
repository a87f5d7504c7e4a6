"""Property-based fuzzing of the stats, ingest, alerts and runs routes over real HTTP.

For any generated request (ids, query values and JSON bodies, valid-looking or not):
no 5xx, every answer is JSON and matches the schema ``GET /openapi.json`` documents for
its route and status (an undocumented status fails too), and every 422 names where the
bad value was (its ``loc`` holds the source and the field). Bounded: ``EXAMPLES``
requests per route.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from tripwire.domain import Alert, Entity, Profile, Severity
from tripwire.domain.runs import DetectionRun, RunStatus, Trigger
from tripwire.local.auth import issue_token
from tripwire.local.stack import LocalStack
from tripwire.store.alerts import AlertStore
from tripwire.store.catalog import CatalogStore
from tripwire.store.runs import RunStore

pytestmark = pytest.mark.integration
EXAMPLES = 50
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # reproducible in CI: no example database carried between runs
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

text = st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=24)
ids = st.one_of(st.sampled_from(["A1", "K1", "C1", "ACC", "al-1", "al-2", "run-1", "nope"]), text)
dates = st.one_of(st.dates(date(2025, 1, 1), date(2027, 1, 1)).map(date.isoformat), text)
numbers = st.one_of(st.integers(-10, 10**6), st.floats(allow_nan=True), text, st.none())
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), text),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
point = st.fixed_dictionaries(
    {"entity_id": ids, "date": dates},
    optional={m: numbers for m in ("impressions", "clicks", "spend", "sales", "orders")}
    | {"colour": json_values},
)
entity = st.fixed_dictionaries(
    {"entity_id": ids, "entity_type": st.sampled_from(["account", "campaign", "keyword", "x"])},
    optional={"parent_id": st.one_of(ids, st.none()), "name": text},
)
metrics_body = st.one_of(
    st.fixed_dictionaries(
        {"profile_id": ids},
        optional={
            "interval": st.sampled_from(["1d", "1h", "2d"]),
            "entities": st.lists(entity, max_size=4),
            "points": st.lists(point, max_size=6),
        },
    ),
    st.dictionaries(text, json_values, max_size=4),
)
severity = st.sampled_from(["low", "high", "critical", "bad", ""])


def _query(**fields: Any) -> st.SearchStrategy[str]:
    return st.fixed_dictionaries({}, optional=fields).map(lambda q: urlencode(q))


ROUTES: dict[str, st.SearchStrategy[tuple[str, str, Any]]] = {
    "statistics": _query(profile_id=ids, **{"from": dates}, to=dates, top=numbers).map(
        lambda q: ("GET", f"/statistics?{q}", None)
    ),
    "series": st.tuples(
        ids,
        _query(
            profile_id=ids,
            **{"from": dates},
            to=dates,
            metrics=st.one_of(st.sampled_from(["clicks,ctr", "close", ""]), text),
            interval=st.sampled_from(["1d", "1h", "5m", "2d"]),
        ),
    ).map(lambda p: ("GET", f"/entities/{quote(p[0], safe='')}/series?{p[1]}", None)),
    "profile": st.tuples(ids, _query(profile_id=ids)).map(
        lambda p: ("GET", f"/entities/{quote(p[0], safe='')}/profile?{p[1]}", None)
    ),
    "metrics": metrics_body.map(lambda b: ("POST", "/metrics", b)),
    "alerts_active": _query(
        profile_id=ids, severity=severity, limit=numbers, cursor=text, entity_id=ids
    ).map(lambda q: ("GET", f"/alerts/active?{q}", None)),
    "alert_get": ids.map(lambda i: ("GET", f"/alerts/{quote(i, safe='')}", None)),
    "acknowledge": ids.map(lambda i: ("PATCH", f"/alerts/{quote(i, safe='')}/acknowledge", {})),
    "resolve": st.tuples(ids, st.dictionaries(st.sampled_from(["notes", "x"]), json_values)).map(
        lambda p: ("PATCH", f"/alerts/{quote(p[0], safe='')}/resolve", p[1])
    ),
    "feedback": st.tuples(
        ids, st.dictionaries(st.sampled_from(["is_anomaly", "note", "x"]), json_values)
    ).map(lambda p: ("POST", f"/alerts/{quote(p[0], safe='')}/feedback", p[1])),
    "runs": _query(profile_id=ids, limit=numbers, cursor=text).map(
        lambda q: ("GET", f"/runs?{q}", None)
    ),
    "run_get": ids.map(lambda i: ("GET", f"/runs/{quote(i, safe='')}", None)),
    "models": _query(profile_id=ids).map(lambda q: ("GET", f"/models?{q}", None)),
}


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


@pytest.fixture(scope="module")
def account(local_stack: LocalStack) -> str:
    tenant = "fuzz-tenant"
    catalog = CatalogStore()
    catalog.put_profile(Profile(tenant_id=tenant, profile_id="A1"))
    hierarchy = [
        Entity(entity_id="ACC", entity_type="account"),
        Entity(entity_id="C1", entity_type="campaign", parent_id="ACC"),
        Entity(entity_id="K1", entity_type="keyword", parent_id="C1"),
    ]
    if catalog.get_hierarchy(tenant, "A1")[0] is None:
        catalog.put_hierarchy(tenant, "A1", hierarchy, expected=None)
    AlertStore().put_many(_alerts(tenant))
    for run in _runs(tenant):
        RunStore().put(run)
    return tenant


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
            # "body" or "query" (or "header"), then the field — and for rows, its index.
            assert len(problem["loc"]) >= 2, answer
            assert problem["loc"][0] != "response", answer  # our answer, not the request


@pytest.mark.parametrize("route", list(ROUTES))
def test_every_generated_request_gets_a_documented_answer(
    local_stack: LocalStack, account: str, documented: dict[str, ResponseSchemas], route: str
) -> None:
    token = issue_token(account, "fuzzer", directory=local_stack.directory)

    @FUZZ
    @given(request=ROUTES[route])
    def check(request: tuple[str, str, Any]) -> None:
        status, answer = _send(local_stack, token, *request)
        _check(documented[route], request, status, answer)

    check()


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
