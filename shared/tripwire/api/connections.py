"""``PUT`` · ``GET`` · ``DELETE /profiles/{id}/connection``: a profile's Amazon Ads API
connection (a Powertools ``Router`` the runs function includes).

The credentials go to Secrets Manager (``service.ads_sync.connect``) and never come back:
answers show the connection's status, region, Ads profile and last sync only. The tenant
comes from the token.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import Field

from tripwire.api.context import caller_of
from tripwire.api.errors import invalid_field, not_found
from tripwire.api.resolver import PathId
from tripwire.api.responses import Closed, documented
from tripwire.domain.connections import AdsRegion, Connection, ConnectionStatus
from tripwire.service.ads_sync import (
    ConnectRejected,
    ConnectRequest,
    connect,
    get_connection,
    remove_connection,
)

router = Router()


class ConnectionBody(Closed):
    """A profile's connection, without its credentials."""

    profile_id: str
    provider: str
    region: AdsRegion
    ads_profile_id: str | None = Field(description="null until the first sync chooses it")
    lookback_days: int = Field(description="days each sync re-pulls (restatements)")
    history_days: int = Field(description="days the first sync pulls")
    status: ConnectionStatus
    reason: str | None = Field(description="why it is disconnected")
    connected_at: str = Field(description="ISO time")
    connected_by: str
    last_sync_at: str | None = Field(description="ISO time; null before the first sync")
    last_sync_first: str | None = Field(description="first day the last sync pulled")
    last_sync_last: str | None = Field(description="last day the last sync pulled")
    last_sync_rows: int
    last_error: str | None = Field(description="why the last sync was refused, if it was")


def connection_json(connection: Connection) -> dict[str, Any]:
    iso = lambda value: value.isoformat() if value is not None else None  # noqa: E731
    return {
        "profile_id": connection.profile_id,
        "provider": connection.provider,
        "region": connection.region.value,
        "ads_profile_id": connection.ads_profile_id,
        "lookback_days": connection.lookback_days,
        "history_days": connection.history_days,
        "status": connection.status.value,
        "reason": connection.reason,
        "connected_at": connection.connected_at.isoformat(),
        "connected_by": connection.connected_by,
        "last_sync_at": iso(connection.last_sync_at),
        "last_sync_first": iso(connection.last_sync_first),
        "last_sync_last": iso(connection.last_sync_last),
        "last_sync_rows": connection.last_sync_rows,
        "last_error": connection.last_error,
    }


def _json(body: dict[str, Any]) -> Response[str]:
    return Response(HTTPStatus.OK.value, content_types.APPLICATION_JSON, json.dumps(body))


@router.put(
    "/profiles/<profile_id>/connection",
    summary="Connect a profile to the Amazon Ads API (credentials kept in Secrets Manager)",
    responses=documented(ConnectionBody),  # 404: an id the gateway cannot route
)
def put_connection(profile_id: PathId, body: ConnectRequest) -> Response[str]:
    me = caller_of(router.current_event.raw_event)
    try:
        connection = connect(me.tenant, profile_id, body, by=me.user)
    except ConnectRejected as rejected:
        source = "path" if rejected.field == "profile_id" else "body"
        return invalid_field(source, rejected.field, str(rejected))
    return _json(connection_json(connection))


@router.get(
    "/profiles/<profile_id>/connection",
    summary="A profile's Amazon Ads connection: status and last sync, never the credentials",
    responses=documented(ConnectionBody),
)
def read_connection(profile_id: PathId) -> Response[str]:
    found = get_connection(caller_of(router.current_event.raw_event).tenant, profile_id)
    if found is None:
        return not_found("connection")
    return _json(connection_json(found))


@router.delete(
    "/profiles/<profile_id>/connection",
    summary="Disconnect a profile: its credentials deleted, its data kept; connect it again "
    "with PUT",
    responses=documented(ConnectionBody),
)
def delete_connection(profile_id: PathId) -> Response[str]:
    me = caller_of(router.current_event.raw_event)
    gone = remove_connection(me.tenant, profile_id, by=me.user)
    if gone is None:
        return not_found("connection")
    return _json(connection_json(gone))
