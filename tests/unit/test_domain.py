"""The domain model rejects what cannot be true, naming the field."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from tripwire.domain import Entity, EntityType, Interval, OHLCVBar, PPCPoint, check_parent

GOOD_POINT: dict[str, Any] = {
    "entity_id": "K1",
    "period": "2026-03-01",
    "impressions": 100,
    "clicks": 4,
    "spend": 3.2,
    "sales": 40.0,
    "orders": 1,
}


def _field_of(error: ValidationError) -> str:
    return str(error.errors()[0]["loc"][0])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"impressions": -1}, "impressions"),
        ({"clicks": 101}, "clicks"),
        ({"spend": math.nan}, "spend"),
        ({"sales": "inf"}, "sales"),
        ({"orders": 1.5}, "orders"),
        ({"period": "2026-02-30"}, "period"),
        ({"period": "2026-03-01T10:00:00"}, "period"),  # a time of day on a daily point
        ({"entity_id": "has#hash"}, "entity_id"),
    ],
)
def test_impossible_ppc_points_are_rejected(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as error:
        PPCPoint.model_validate({**GOOD_POINT, **change})
    assert _field_of(error.value) == field


def test_timestamps_are_kept_for_intraday_points_and_normalised_to_utc() -> None:
    point = PPCPoint.model_validate(
        {**GOOD_POINT, "interval": "1h", "period": "2026-03-01T10:00:00+02:00"}
    )
    assert point.period == datetime(2026, 3, 1, 8, 0)
    assert point.interval is Interval.H1


@pytest.mark.parametrize(
    ("bar", "field"),
    [
        ({"open": 10, "high": 9, "low": 8, "close": 9, "volume": 5}, "high"),
        ({"open": 10, "high": 12, "low": 11, "close": 11, "volume": 5}, "low"),
        ({"open": 10, "high": 12, "low": 9, "close": 13, "volume": 5}, "close"),
        ({"open": 0, "high": 12, "low": 9, "close": 11, "volume": 5}, "open"),
        ({"open": 10, "high": 12, "low": 9, "close": 11, "volume": -5}, "volume"),
    ],
)
def test_inconsistent_bars_are_rejected(bar: dict[str, float], field: str) -> None:
    with pytest.raises(ValidationError) as error:
        OHLCVBar.model_validate({"entity_id": "AAPL", "period": "2026-03-02", **bar})
    assert _field_of(error.value) == field


def test_entity_types_and_parents() -> None:
    with pytest.raises(ValidationError):
        Entity(entity_id="X", entity_type="adgroup", parent_id="C1")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="needs a parent"):
        Entity(entity_id="K1", entity_type=EntityType.KEYWORD)
    with pytest.raises(ValidationError, match="has no parent"):
        Entity(entity_id="A1", entity_type=EntityType.ACCOUNT, parent_id="A0")
    keyword = Entity(entity_id="K1", entity_type=EntityType.KEYWORD, parent_id="P1")
    portfolio = Entity(entity_id="P1", entity_type=EntityType.PORTFOLIO, parent_id="A1")
    campaign = Entity(entity_id="C1", entity_type=EntityType.CAMPAIGN, parent_id="A1")
    account = Entity(entity_id="A1", entity_type=EntityType.ACCOUNT)
    assert (
        check_parent(keyword, portfolio) == "a keyword's parent must be a campaign, not a portfolio"
    )
    assert check_parent(campaign, account) is None  # campaigns may sit outside portfolios


@given(
    impressions=st.integers(0, 10**9),
    clicks=st.integers(0, 10**9),
    spend=st.floats(allow_nan=True, allow_infinity=True),
)
def test_a_point_is_accepted_exactly_when_it_is_plausible(
    impressions: int, clicks: int, spend: float
) -> None:
    plausible = clicks <= impressions and math.isfinite(spend) and spend >= 0
    data = {**GOOD_POINT, "impressions": impressions, "clicks": clicks, "spend": spend}
    try:
        PPCPoint.model_validate(data)
        accepted = True
    except ValidationError:
        accepted = False
    assert accepted == plausible
