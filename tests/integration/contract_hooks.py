"""schemathesis hooks: the rules ``/openapi.json`` states in words, applied to valid cases.

JSON Schema cannot say "``to`` is not before ``from``" or "a point's entity is a keyword of
the profile or of the same request". The document says so in its descriptions; these hooks
make each case schemathesis generates as *valid* keep those rules too (negative cases are
left alone), so the ``positive_data_acceptance`` check holds the server to the rest.
Loaded by schemathesis through ``SCHEMATHESIS_HOOKS`` (``test_api_contract.py``).
"""

from __future__ import annotations

import uuid
import zlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

import schemathesis

from tripwire.api.idempotency import HEADER as IDEMPOTENCY_KEY
from tripwire.api.schemas import MAX_RANGE_DAYS
from tripwire.domain.metrics import MAX_DATE, MIN_DATE
from tripwire.features.ppc import FEATURES as PPC_FEATURES
from tripwire.service.backfill import MAX_PERIODS
from tripwire.service.entities import MAX_INTRADAY_DAYS


def _not_future(value: Any) -> str:
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    return min(_day(value) or yesterday, yesterday).isoformat()


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _ordered_range(query: dict[str, Any], start: str, end: str, span: int) -> None:
    """``start`` ≤ ``end`` ≤ ``start`` + ``span`` - 1 days (the end moved, never the start)."""
    first, last = _day(query.get(start)), _day(query.get(end))
    if first is None or last is None:
        return
    first, last = min(first, last), max(first, last)
    last = min(last, first + timedelta(days=span - 1), MAX_DATE)
    query[start], query[end] = first.isoformat(), last.isoformat()


# The ids the test's tenant holds (test_api_contract._seed): half of the valid cases use
# one (chosen by the generated value), so they reach the routes' successes, not only 404s.
KNOWN: dict[str, tuple[str, ...]] = {
    "alert_id": ("al-1", "al-2"),
    "run_id": ("run-1",),
    "entity_id": ("K1", "C1", "ACC"),
    "profile_id": ("A1",),
}


def _known(values: dict[str, Any]) -> None:
    for name, known in KNOWN.items():
        value = values.get(name)
        if isinstance(value, str):
            digest = zlib.crc32(value.encode())
            if digest % 2 == 0:
                values[name] = known[digest // 2 % len(known)]


def _query(path: str, query: dict[str, Any]) -> None:
    query.pop("cursor", None)  # only a cursor the API issued (for this listing) is valid
    if path in ("/statistics", "/entities/{entity_id}/series"):
        span = MAX_RANGE_DAYS
        if path.endswith("series") and query.get("interval", "1d") != "1d":
            span = MAX_INTRADAY_DAYS
            # One end alone defaults the other to 30 days away: both given keeps the span.
            if "from" in query and "to" not in query:
                query.pop("from")
        _ordered_range(query, "from", "to", span)
        if "metrics" in query:  # the tests' profiles are Ads profiles
            names = [m for m in str(query["metrics"]).split(",") if m in PPC_FEATURES]
            query["metrics"] = ",".join(names) or "clicks"


def _backfill(body: dict[str, Any]) -> None:
    body["interval"] = "1d"  # intraday for market profiles only
    if body.get("start") is not None:
        start = _day(body["start"]) or MIN_DATE
        end = _day(body.get("end")) or datetime.now(UTC).date()
        start, end = min(start, end), max(start, end)
        start = max(start, end - timedelta(days=MAX_PERIODS - 1))
        body["start"], body["end"] = start.isoformat(), end.isoformat()


def _metrics(body: dict[str, Any]) -> None:
    """Rows that fit together: account > campaign > keyword, the points on the keyword."""
    entities, points = body.get("entities") or [], body.get("points") or []
    if not (points or entities):
        return
    stem = str((entities[0] if entities else points[0])["entity_id"])[:100]
    chain = [("a", "account", None), ("c", "campaign", "a"), ("k", "keyword", "c")]
    body["entities"] = [
        {"entity_id": f"{stem}-{i}", "entity_type": kind}
        | ({"parent_id": f"{stem}-{parent}"} if parent else {})
        for i, kind, parent in chain
    ]
    day = date(2026, 1, 1)
    for index, point in enumerate(points):
        point["entity_id"] = f"{stem}-k"
        point["date"] = (day + timedelta(days=index)).isoformat()
        point["clicks"] = min(point["clicks"], point["impressions"])
    body["interval"] = "1d"


def _spare_the_seeded_profile(case: Any) -> None:
    """Deletes get a profile of their own (D1): A1 stays for every other operation."""
    if (case.operation.method.upper(), case.operation.path) != ("DELETE", "/profiles/{profile_id}"):
        return
    if isinstance(case.path_parameters, dict) and case.path_parameters.get("profile_id") == "A1":
        case.path_parameters["profile_id"] = "D1"


@schemathesis.hook
def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        _spare_the_seeded_profile(case)
        return
    path, method = case.operation.path, case.operation.method.upper()
    if case.headers and IDEMPOTENCY_KEY in case.headers:
        # A key is one request: generated cases sharing "0" with other bodies are a 422.
        case.headers[IDEMPOTENCY_KEY] = uuid.uuid4().hex
    if isinstance(case.path_parameters, dict):
        _known(case.path_parameters)
        _spare_the_seeded_profile(case)
    if isinstance(case.query, dict):
        _known(case.query)
        _query(path, case.query)
    body = case.body if isinstance(case.body, dict) else None
    if body is None:
        return
    if (method, path) == ("POST", "/backfill"):
        _backfill(body)
    elif (method, path) == ("POST", "/metrics"):
        _metrics(body)
    elif (method, path) == ("POST", "/detect") and body.get("date") is not None:
        body["date"] = _not_future(body["date"])
    elif (method, path) == ("POST", "/profiles/{profile_id}/train") and body.get("end"):
        body["end"] = _not_future(body["end"])  # "not in the future": said in words only
    elif (method, path) == ("PUT", "/profiles/{profile_id}/schedule"):
        body["interval"] = "1d"  # 1h for market profiles only
