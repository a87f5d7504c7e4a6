"""Amazon Marketing Stream records: the hourly ``sp-traffic`` and ``sp-conversion`` datasets.

Field names as Amazon documents the two datasets (snake_case JSON, one record per SQS
message, optionally inside an SNS ``Notification`` envelope):

- both: ``idempotency_id``, ``dataset_id``, ``marketplace_id``, ``currency``,
  ``advertiser_id``, ``campaign_id``, ``ad_group_id``, ``ad_id``, ``keyword_id``,
  ``placement``, ``time_window_start`` (the hour, ISO 8601 with an offset);
- ``sp-traffic``: ``keyword_text``, ``match_type``, ``impressions``, ``clicks``, ``cost``;
- ``sp-conversion``: ``attributed_sales_{1,7,14,30}d``, ``attributed_conversions_…``,
  ``attributed_units_ordered_…`` (and their ``_same_sku`` variants, not read here).

A record is one (keyword, ad, placement, hour) cell of one dataset. Amazon restates an
hour's conversions with later records for the same cell; the cell is what a later record
replaces, and ``idempotency_id`` is what a redelivered record repeats.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tripwire.domain.metrics import Count, Money

TRAFFIC = "sp-traffic"
CONVERSION = "sp-conversion"
DATASETS = (TRAFFIC, CONVERSION)
ATTRIBUTION_WINDOWS = (1, 7, 14, 30)
DEFAULT_ATTRIBUTION = 7  # the window the daily reports read (sales7d, purchases7d)

StreamId = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^#\s]+$")]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", coerce_numbers_to_str=True)

    idempotency_id: StreamId
    dataset_id: str
    marketplace_id: StreamId
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    advertiser_id: StreamId
    campaign_id: StreamId
    ad_group_id: StreamId
    ad_id: StreamId | None = None
    keyword_id: StreamId
    placement: str | None = None
    time_window_start: dt.datetime

    @field_validator("time_window_start")
    @classmethod
    def _whole_hour_utc(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError("must carry a UTC offset")
        utc = value.astimezone(dt.UTC).replace(tzinfo=None)
        if utc.minute or utc.second or utc.microsecond:
            raise ValueError("must be the start of an hour")
        return utc

    @property
    def hour(self) -> str:
        """The hour as the metrics store writes hourly periods (naive UTC ISO)."""
        return self.time_window_start.isoformat()

    @property
    def cell(self) -> str:
        """What a later record of the same dataset replaces: its ad and placement."""
        return f"{self.dataset_id}|{self.ad_id or '-'}|{self.placement or '-'}"


class TrafficRecord(_Record):
    dataset_id: Literal["sp-traffic"]
    keyword_text: str | None = None
    match_type: str | None = None
    impressions: Count
    clicks: Count
    cost: Money


class ConversionRecord(_Record):
    dataset_id: Literal["sp-conversion"]
    attributed_sales_1d: Money = 0.0
    attributed_sales_7d: Money = 0.0
    attributed_sales_14d: Money = 0.0
    attributed_sales_30d: Money = 0.0
    attributed_conversions_1d: Count = 0
    attributed_conversions_7d: Count = 0
    attributed_conversions_14d: Count = 0
    attributed_conversions_30d: Count = 0
    attributed_units_ordered_1d: Count = 0
    attributed_units_ordered_7d: Count = 0
    attributed_units_ordered_14d: Count = 0
    attributed_units_ordered_30d: Count = 0

    def sales(self, window: int = DEFAULT_ATTRIBUTION) -> float:
        return float(getattr(self, f"attributed_sales_{window}d"))

    def orders(self, window: int = DEFAULT_ATTRIBUTION) -> int:
        return int(getattr(self, f"attributed_conversions_{window}d"))


StreamRecord = TrafficRecord | ConversionRecord


class NotAStreamRecord(ValueError):
    """A message that is not a record of a dataset Tripwire reads (the reason says which)."""


def parse_message(body: str) -> StreamRecord:
    """The record in an SQS message body (raw, or inside an SNS envelope). Raises
    ``NotAStreamRecord`` for another dataset or an SNS control message, and pydantic's
    ``ValidationError`` (naming the field) for a malformed record."""
    try:
        found: Any = json.loads(body)
    except ValueError:
        raise NotAStreamRecord("the message body is not JSON") from None
    if isinstance(found, dict) and found.get("Type") == "SubscriptionConfirmation":
        raise NotAStreamRecord("an SNS subscription confirmation, not a record")
    if isinstance(found, dict) and found.get("Type") == "Notification":
        try:
            found = json.loads(str(found.get("Message") or ""))
        except ValueError:
            raise NotAStreamRecord("the SNS notification's Message is not JSON") from None
    if not isinstance(found, dict):
        raise NotAStreamRecord("the record is not a JSON object")
    dataset = found.get("dataset_id")
    if dataset == TRAFFIC:
        return TrafficRecord.model_validate(found)
    if dataset == CONVERSION:
        return ConversionRecord.model_validate(found)
    raise NotAStreamRecord(f"dataset_id {dataset!r} is not one of {', '.join(DATASETS)}")
