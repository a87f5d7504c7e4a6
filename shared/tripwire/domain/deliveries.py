"""Where an alert group's notice went: one delivery record per channel, and the channels a
profile opted into (plan, LINE recipient, SMS numbers)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from tripwire.domain.alerts import Severity


class Channel(StrEnum):
    SLACK = "slack"
    EMAIL = "email"
    SMS = "sms"
    LINE = "line"


class DeliveryStatus(StrEnum):
    SENT = "sent"  # the channel took it (e-mail and SMS: SNS took it for its subscriptions)
    FAILED = "failed"  # the last attempt failed; the message is retried, then dead-lettered
    RATE_LIMITED = "rate_limited"  # SMS only: the profile's hourly budget was spent


class Delivery(BaseModel):
    """The latest attempt on one channel for one alert group."""

    channel: Channel
    status: DeliveryStatus
    at: datetime
    attempts: int = Field(ge=1)
    error: str | None = None
    detail: str = ""  # whom it went to, without secrets: "2 numbers", "LINE U4af…"


class Plan(StrEnum):
    STANDARD = "standard"
    ENTERPRISE = "enterprise"  # SMS is for enterprise profiles only


# E.164: '+', a country code not starting with 0, at most 15 digits in all.
PhoneNumber = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$")]
# A LINE user, group or room id: U/C/R and 32 hex digits (Messaging API's "to").
LineRecipient = Annotated[str, StringConstraints(pattern=r"^[UCR][0-9a-f]{32}$")]


class ChannelSettings(BaseModel):
    """What a profile opted into. SMS goes to ``sms_numbers`` for ``sms_severities`` (critical
    only unless widened), and only while the profile's plan is enterprise."""

    model_config = ConfigDict(extra="forbid")

    plan: Plan = Plan.STANDARD
    line_to: LineRecipient | None = None
    sms_numbers: list[PhoneNumber] = Field(default_factory=list, max_length=10)
    sms_severities: list[Severity] = Field(
        default_factory=lambda: [Severity.CRITICAL], min_length=1
    )
