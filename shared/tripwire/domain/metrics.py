"""Metric points: what a leaf entity did in one period."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from tripwire.domain.entities import Identifier

# The largest measure stored: float64 holds every integer to 2**53 (~9e15) exactly, and
# the features clip at 1e15; a larger value is refused, naming its field, never clipped.
MAX_MEASURE = 10**15
Count = Annotated[int, Field(ge=0, le=MAX_MEASURE, strict=False)]
Money = Annotated[float, Field(ge=0, le=MAX_MEASURE, allow_inf_nan=False)]
Price = Annotated[float, Field(gt=0, le=MAX_MEASURE, allow_inf_nan=False)]

# Periods lie in the years 1900-2199: wide enough for any market history and any account,
# narrow enough that a window's date arithmetic never leaves Python's date range.
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2199, 12, 31)
DATE_RANGE = f"{MIN_DATE.isoformat()} to {MAX_DATE.isoformat()}"
# The same range as a pattern, so the OpenAPI document states it (JSON Schema has no
# bounds for dates).
DATE_PATTERN = r"^(19\d\d|2[01]\d\d)-\d\d-\d\d$"
Day = Annotated[
    date,
    Field(ge=MIN_DATE, le=MAX_DATE, json_schema_extra={"pattern": DATE_PATTERN}),
]
"""An ISO date within ``DATE_RANGE``."""


class Interval(StrEnum):
    """Bar width. Ads data is daily (or hourly for intraday reports)."""

    M5 = "5m"
    M15 = "15m"
    H1 = "1h"
    D1 = "1d"

    @property
    def intraday(self) -> bool:
        return self is not Interval.D1


PPC_MEASURES: tuple[str, ...] = ("impressions", "clicks", "spend", "sales", "orders")
OHLCV_MEASURES: tuple[str, ...] = ("open", "high", "low", "close", "volume")
ADDITIVE_PPC = frozenset(PPC_MEASURES)  # every raw PPC measure sums up the hierarchy
INTEGER_MEASURES = frozenset({"impressions", "clicks", "orders"})


def parse_period(value: Any, interval: Interval = Interval.D1) -> datetime:
    """An ISO date or timestamp as a naive UTC datetime (days start at midnight)."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO date or timestamp") from None
    else:
        raise ValueError(f"{value!r} is not an ISO date or timestamp")
    # Checked before the shift to UTC too: year 1 or 9999 with an offset would overflow it.
    _within_range(parsed, value)
    if parsed.tzinfo is not None:
        parsed = _within_range(parsed.astimezone(UTC).replace(tzinfo=None), value)
    if interval is Interval.D1 and (parsed.hour or parsed.minute or parsed.second):
        raise ValueError(f"{value!r} has a time of day but the interval is daily")
    return parsed


def _within_range(moment: datetime, value: Any) -> datetime:
    if not MIN_DATE <= moment.date() <= MAX_DATE:
        raise ValueError(f"{value!r} is outside {DATE_RANGE}")
    return moment


def format_period(period: datetime, interval: Interval) -> str:
    return period.date().isoformat() if interval is Interval.D1 else period.isoformat()


class _Point(BaseModel):
    model_config = ConfigDict(frozen=True)
    entity_id: Identifier
    interval: Interval = Interval.D1  # before period: the period's check depends on it
    period: datetime

    @field_validator("period", mode="before")
    @classmethod
    def _parse_period(cls, value: Any, info: ValidationInfo) -> datetime:
        return parse_period(value, info.data.get("interval", Interval.D1))

    @field_validator("*", mode="before")
    @classmethod
    def _reject_nan(cls, value: Any) -> Any:
        # "NaN" and "inf" parse as floats; name them before the type checks do.
        if isinstance(value, str) and value.strip().lower() in {"nan", "inf", "-inf", "infinity"}:
            raise ValueError("must be a finite number")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value


class PPCPoint(_Point):
    """One period of an Amazon Ads entity: raw measures only (ratios are derived later)."""

    impressions: Count
    clicks: Count
    spend: Money
    sales: Money
    orders: Count

    @field_validator("clicks")
    @classmethod
    def _clicks_within_impressions(cls, clicks: int, info: ValidationInfo) -> int:
        impressions = info.data.get("impressions")
        if impressions is not None and clicks > impressions:
            raise ValueError(f"clicks ({clicks}) cannot exceed impressions ({impressions})")
        return clicks

    def values(self) -> tuple[float, ...]:
        return (self.impressions, self.clicks, self.spend, self.sales, self.orders)


class OHLCVBar(_Point):
    """One bar of a ticker."""

    open: Price
    high: Price
    low: Price
    close: Price
    volume: Money

    @field_validator("high")
    @classmethod
    def _high_above_open(cls, high: float, info: ValidationInfo) -> float:
        if "open" in info.data and high < info.data["open"]:
            raise ValueError("high is below open")
        return high

    @field_validator("low")
    @classmethod
    def _low_below_open(cls, low: float, info: ValidationInfo) -> float:
        if "open" in info.data and low > info.data["open"]:
            raise ValueError("low is above open")
        return low

    @field_validator("close")
    @classmethod
    def _close_within_range(cls, close: float, info: ValidationInfo) -> float:
        high, low = info.data.get("high"), info.data.get("low")
        if high is not None and close > high:
            raise ValueError("close is above high")
        if low is not None and close < low:
            raise ValueError("close is below low")
        return close

    def values(self) -> tuple[float, ...]:
        return (self.open, self.high, self.low, self.close, self.volume)
