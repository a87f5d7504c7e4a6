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
from tripwire.domain.metrics import MAX_DATE, MAX_MEASURE, MIN_DATE, parse_period

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
    plausible = clicks <= impressions and math.isfinite(spend) and 0 <= spend <= MAX_MEASURE
    data = {**GOOD_POINT, "impressions": impressions, "clicks": clicks, "spend": spend}
    try:
        PPCPoint.model_validate(data)
        accepted = True
    except ValidationError:
        accepted = False
    assert accepted == plausible


@pytest.mark.parametrize(
    ("field", "value", "accepted"),
    [
        ("spend", float(MAX_MEASURE), True),
        ("spend", 5e15, False),  # was stored as 1e15
        ("impressions", MAX_MEASURE, True),
        ("impressions", MAX_MEASURE + 1, False),
        ("impressions", 1e40, False),
    ],
)
def test_a_measure_the_store_cannot_hold_is_refused_naming_its_field(
    field: str, value: float, accepted: bool
) -> None:
    data = {**GOOD_POINT, "impressions": 10, "clicks": 1, field: value}
    if accepted:
        PPCPoint.model_validate(data)
    else:
        with pytest.raises(ValidationError) as refused:
            PPCPoint.model_validate(data)
        assert [e["loc"] for e in refused.value.errors()] == [(field,)]


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        (MIN_DATE.isoformat(), True),
        (MAX_DATE.isoformat(), True),
        ("1899-12-31", False),
        ("2200-01-01", False),
        ("0001-01-01", False),
        ("9999-12-31", False),
        ("0001-01-01T00:00:00+05:00", False),  # would overflow on the shift to UTC
        ("1900-01-01T01:00:00+05:00", False),  # 1899-12-31 in UTC
    ],
)
def test_periods_lie_within_the_documented_range(value: str, accepted: bool) -> None:
    if accepted:
        assert parse_period(value, Interval.H1).date().isoformat() == value
    else:
        with pytest.raises(ValueError, match="outside 1900-01-01 to 2199-12-31"):
            parse_period(value, Interval.H1)


@pytest.mark.parametrize(
    ("entity_id", "accepted"),
    [
        ("K1", True),
        ("^NDX", True),
        ("US-BRK.B", True),
        ("kw-123:a@b!$&'()*+,;=~_", True),
        ("x" * 128, True),
        ("x" * 129, False),
        ("PX-Küche", False),  # non-ASCII: two clients may encode it differently
        ("a/b", False),
        ("a?b", False),
        ("a%41", False),
        ("a#b", False),
        ("a b", False),
        ('a"b', False),
        ("a\\b", False),
    ],
)
def test_entity_ids_are_of_the_alphabet_that_round_trips_a_path(
    entity_id: str, accepted: bool
) -> None:
    row = {"entity_id": entity_id, "entity_type": "account"}
    if accepted:
        assert Entity.model_validate(row).entity_id == entity_id
    else:
        with pytest.raises(ValidationError):
            Entity.model_validate(row)
