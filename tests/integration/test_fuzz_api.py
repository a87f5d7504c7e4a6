"""Property-based fuzzing of the stats, ingest and alerts routes over real HTTP.

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
from datetime import date, datetime
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from tripwire.domain import Alert, Entity, Profile, Severity
from tripwire.local.auth import issue_token
from tripwire.local.stack import LocalStack
from tripwire.store.alerts import AlertStore
from tripwire.store.catalog import CatalogStore

pytestmark = pytest.mark.integration
EXAMPLES = 50
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # reproducible in CI: no example database carried between runs
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

text = st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=24)
ids = st.one_of(st.sampled_from(["A1", "K1", "C1", "ACC", "al-1", "al-2", "nope"]), text)
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
    alerts = [
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
    AlertStore().put_many(alerts)
    return tenant


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


@pytest.mark.parametrize("route", list(ROUTES))
def test_every_generated_request_gets_a_documented_answer(
    local_stack: LocalStack, account: str, documented: dict[str, ResponseSchemas], route: str
) -> None:
    token = issue_token(account, "fuzzer", directory=local_stack.directory)
    schemas = documented[route]

    @FUZZ
    @given(request=ROUTES[route])
    def check(request: tuple[str, str, Any]) -> None:
        method, path, body = request
        status, answer = _send(local_stack, token, method, path, body)
        assert status < 500, (method, path, body, answer)
        assert status in schemas, f"{status} is not documented for {route}: {answer}"
        assert not _mismatches(schemas[status], answer), (method, path, body, answer)
        if status == 422:
            for problem in answer["detail"]:
                # "body" or "query" (or "header"), then the field — and for rows, its index.
                assert len(problem["loc"]) >= 2, answer
                assert problem["loc"][0] != "response", answer  # our answer, not the request

    check()
