"""``Idempotency-Key`` for POST routes: a retry returns the first response, changes nothing.

Built on Powertools' idempotency utility with the DynamoDB persistence layer (the
IDEMPOTENCY table; its physical name comes from ``TRIPWIRE_TABLE_IDEMPOTENCY``). A route
calls::

    key = idempotency_key(app.current_event)          # None: no header, no idempotency
    outcome = run_once("detect", me.tenant, key, body.model_dump(mode="json"), compute)
    return outcome.response()

The record's key hashes (tenant, header value) under a per-route scope, so two tenants —
or two routes — sending the same key never meet. The request body is the validated
payload: the same key with a different body is refused.

Status codes (after the IETF "Idempotency-Key HTTP Header Field" draft):

- the same key and body again            → the first response (status and body), replayed,
                                            with ``Idempotent-Replayed: true``
- the same key, a different body         → 422 ``KeyReused``
- the same key while the first is running → 409 ``RequestInProgress``
- a malformed header                      → 422 naming ``Idempotency-Key``

A request that fails (an exception, e.g. a 404) stores nothing, so it may be retried.
Records expire after ``EXPIRES_AFTER_SECONDS`` (24 hours).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from tripwire.api.errors import conflict, invalid_field
from tripwire.store.provision import aws_client
from tripwire.store.tables import IDEMPOTENCY

HEADER = "Idempotency-Key"
EXPIRES_AFTER_SECONDS = 24 * 60 * 60
# Printable ASCII without spaces, like the UUIDs and ULIDs clients usually send.
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")
REPLAYED_HEADER = "Idempotent-Replayed"

Compute = Callable[[], tuple[int, Any]]  # (status, JSON-able body)
# The resolvers whose POST routes take the header (``register_errors`` adds them); the
# OpenAPI document declares it there (``api.docs``).
RESOLVERS: list[APIGatewayHttpResolver] = []


def header_parameter() -> dict[str, Any]:
    """The header, as an OpenAPI parameter."""
    return {
        "name": HEADER,
        "in": "header",
        "required": False,
        "description": "a retry with the same key returns the first response "
        f"(`{REPLAYED_HEADER}: true`); the same key with another body is a 422",
        "schema": {"type": "string", "pattern": KEY_PATTERN.pattern},
    }


class InvalidIdempotencyKey(ValueError):
    """The header is present but not a usable key."""


class KeyReused(Exception):
    """The key was used before with a different request body."""


class RequestInProgress(Exception):
    """The first request with this key has not finished yet."""


@dataclass(frozen=True)
class Outcome:
    status: int
    body: Any
    replayed: bool = False

    def response(self) -> Response[str]:
        headers = {REPLAYED_HEADER: "true"} if self.replayed else None
        payload = json.dumps(self.body)
        return Response(self.status, content_types.APPLICATION_JSON, payload, headers)


def idempotency_key(event: APIGatewayProxyEventV2) -> str | None:
    """The request's key, None without the header; InvalidIdempotencyKey when malformed."""
    value = event.headers.get(HEADER.lower())
    if value is None:
        value = next((v for k, v in event.headers.items() if k.lower() == HEADER.lower()), None)
    if value is None:
        return None
    if not KEY_PATTERN.match(value):
        raise InvalidIdempotencyKey(f"{HEADER} must be 1-255 printable characters, no spaces")
    return value


def run_once(
    scope: str,
    tenant: str,
    key: str | None,
    body: Any,
    compute: Compute,
    *,
    context: LambdaContext | None = None,
) -> Outcome:
    """``compute()`` once per (scope, tenant, key); retries get the stored outcome.

    ``body`` is the validated request (JSON-able); ``context`` lets Powertools expire an
    in-progress record when the invocation times out.
    """
    if key is None:
        status, result = compute()
        return Outcome(status, result)
    replayed: list[bool] = []

    def mark_replayed(response: Any, idempotent_data: DataRecord) -> Any:
        replayed.append(True)  # Powertools calls this only for a stored response
        return response

    config = IdempotencyConfig(
        event_key_jmespath="[tenant, key]",
        payload_validation_jmespath="body",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=EXPIRES_AFTER_SECONDS,
        hash_function="sha256",
        response_hook=mark_replayed,
    )
    if context is not None:
        config.register_lambda_context(context)

    @idempotent_function(
        data_keyword_argument="request",
        persistence_store=_persistence(scope),
        config=config,
        key_prefix=f"tripwire.{scope}",
    )
    def once(request: dict[str, Any]) -> dict[str, Any]:
        status, result = compute()
        return {"status": status, "body": result}

    try:
        stored = once(request={"tenant": tenant, "key": key, "body": body})
    except IdempotencyValidationError as error:
        raise KeyReused(f"{HEADER} was already used with a different request body") from error
    except IdempotencyAlreadyInProgressError as error:
        raise RequestInProgress(f"a request with this {HEADER} is still in progress") from error
    return Outcome(int(stored["status"]), stored["body"], bool(replayed))


def register_errors(app: APIGatewayHttpResolver) -> None:
    """Map this module's errors to the API's error responses; the app takes the header."""
    RESOLVERS.append(app)

    @app.exception_handler(InvalidIdempotencyKey)
    def _invalid(bad: InvalidIdempotencyKey) -> Response[str]:
        return invalid_field("header", HEADER, str(bad))

    @app.exception_handler(KeyReused)
    def _reused(reused: KeyReused) -> Response[str]:
        return invalid_field("header", HEADER, str(reused), "key_reused")

    @app.exception_handler(RequestInProgress)
    def _in_progress(running: RequestInProgress) -> Response[str]:
        return conflict(str(running))


_layers: dict[tuple[str, str, int], DynamoDBPersistenceLayer] = {}
_layers_lock = threading.Lock()


def _persistence(scope: str) -> DynamoDBPersistenceLayer:
    # One layer per scope, table and client: a layer keeps its configuration, and the
    # table name and endpoint follow the environment (tests switch them).
    client = aws_client("dynamodb")
    cache_key = (scope, IDEMPOTENCY.name, id(client))
    with _layers_lock:
        layer = _layers.get(cache_key)
        if layer is None:
            layer = DynamoDBPersistenceLayer(
                table_name=IDEMPOTENCY.name,
                key_attr=IDEMPOTENCY.partition.name,
                expiry_attr=IDEMPOTENCY.ttl_attribute or "expiration",
                boto3_client=client,
            )
            _layers[cache_key] = layer
        return layer
