"""The profiles function: ``DELETE /profiles/{id}`` removes a profile and all of its data;
``PUT``/``GET /profiles/{id}/channels`` set and read its notification channels.

The tenant comes from the token only: another tenant's profile is a 404, as is an unknown
one or one deleted already (so deleting twice is safe, and the second answer says so).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from pydantic import Field

from tripwire.api.context import caller_of
from tripwire.api.errors import not_found
from tripwire.api.resolver import JsonApi, PathId
from tripwire.api.responses import Closed, documented
from tripwire.domain.deliveries import ChannelSettings
from tripwire.notify.sms import SMS_PER_HOUR
from tripwire.service.channels import channels, set_channels
from tripwire.service.profiles import ProfileNotFound, delete_profile

app = JsonApi()


class Removed(Closed):
    """Items and objects removed, by where they were kept."""

    schedules: int
    connections: int = Field(description="the profile's Amazon Ads connection")
    stream_routes: int = Field(description="Marketing Stream advertisers routed to it")
    alerts: int
    history: int
    metrics: int
    metadata: int = Field(description="per-series detection state")
    feedback: int
    statistics: int
    incidents: int
    runs: int = Field(description="runs, their slices and backfill slots")
    notifications: int
    models: int = Field(description="model objects (every version) in the models bucket")
    landing: int = Field(description="dropped files and their import reports")
    secrets: int = Field(description="its connection's credentials (Secrets Manager)")
    catalog: int = Field(description="the profile and its entity hierarchy")


class Deleted(Closed):
    profile_id: str
    removed: Removed


@app.delete(
    "/profiles/<profile_id>",
    responses=documented(Deleted, description="The profile and all of its data are gone"),
    summary="Delete a profile and everything kept of it",
)
def delete(profile_id: PathId) -> dict[str, Any]:
    tenant = caller_of(app.current_event.raw_event).tenant
    return {"profile_id": profile_id, "removed": delete_profile(tenant, profile_id)}


@app.exception_handler(ProfileNotFound)
def _no_profile(_: ProfileNotFound) -> Response[str]:
    return not_found("profile")


class ChannelsBody(ChannelSettings):
    """The profile's channels. ``sms_numbers`` in E.164 (``+819012345678``); they are texted
    only on the enterprise plan, for ``sms_severities`` (critical unless widened), at most
    ``SMS_PER_HOUR`` notices per hour. ``line_to``: a LINE user, group or room id."""


class Channels(ChannelSettings):
    profile_id: str
    sms_per_hour: int = Field(description="the SMS rate limit: notices per profile per hour")


@app.put(
    "/profiles/<profile_id>/channels",
    responses=documented(Channels),
    summary="Set a profile's plan, LINE recipient and SMS numbers",
)
def put_channels(profile_id: PathId, body: ChannelsBody) -> dict[str, Any]:
    tenant = caller_of(app.current_event.raw_event).tenant
    stored = set_channels(tenant, profile_id, ChannelSettings.model_validate(body.model_dump()))
    return {
        **stored.model_dump(mode="json"),
        "profile_id": profile_id,
        "sms_per_hour": SMS_PER_HOUR,
    }


@app.get(
    "/profiles/<profile_id>/channels",
    responses=documented(Channels),
    summary="A profile's plan, LINE recipient and SMS numbers",
)
def get_channels(profile_id: PathId) -> dict[str, Any]:
    tenant = caller_of(app.current_event.raw_event).tenant
    stored = channels(tenant, profile_id)
    return {
        **stored.model_dump(mode="json"),
        "profile_id": profile_id,
        "sms_per_hour": SMS_PER_HOUR,
    }
