"""Amazon Marketing Stream records: read as Amazon documents the sp-traffic and sp-conversion
datasets, merged idempotently into hourly keyword points.

Fixtures are written from the documented field lists (never copied from an account's data).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from pydantic import ValidationError

from tripwire.domain.metrics import PPC_MEASURES, Interval
from tripwire.domain.stream import (
    ConversionRecord,
    NotAStreamRecord,
    TrafficRecord,
    parse_message,
)
from tripwire.service.ads_stream import ingest_messages
from tripwire.store.catalog import CatalogStore
from tripwire.store.metrics import MetricStore
from tripwire.store.stream import StreamStore

HOUR = "2026-12-01T14:00:00Z"


def _cell(dataset: str, idempotency_id: str) -> dict[str, Any]:
    """The fields both datasets document: the record's cell and hour."""
    return {
        "idempotency_id": idempotency_id,
        "dataset_id": dataset,
        "marketplace_id": "ATVPDKIKX0DER",
        "currency": "USD",
        "advertiser_id": "ADV1",
        "campaign_id": "111",
        "ad_group_id": "222",
        "ad_id": "333",
        "keyword_id": "444",
        "placement": "Top of Search on-Amazon",
        "time_window_start": HOUR,
    }


def traffic(**changes: Any) -> dict[str, Any]:
    measures = {"impressions": 120, "clicks": 6, "cost": 4.2}
    text = {"keyword_text": "garden hose", "match_type": "EXACT"}
    return _cell("sp-traffic", "t-1") | text | measures | changes


def conversion(**changes: Any) -> dict[str, Any]:
    record = _cell("sp-conversion", "c-1")
    for window in (1, 7, 14, 30):
        record[f"attributed_sales_{window}d"] = 10.0 * window
        record[f"attributed_conversions_{window}d"] = window
        record[f"attributed_units_ordered_{window}d"] = window
        record[f"attributed_sales_{window}d_same_sku"] = 5.0 * window
    return record | changes


# -- parsing -------------------------------------------------------------------------------


def test_a_traffic_record_reads_its_hour_in_utc_and_its_measures() -> None:
    found = parse_message(json.dumps(traffic(time_window_start="2026-12-01T06:00:00-08:00")))
    assert isinstance(found, TrafficRecord)
    assert found.hour == "2026-12-01T14:00:00"
    assert (found.impressions, found.clicks, found.cost) == (120, 6, 4.2)
    assert found.cell == "sp-traffic|333|Top of Search on-Amazon"


def test_a_conversion_record_reads_every_attribution_window() -> None:
    found = parse_message(json.dumps(conversion()))
    assert isinstance(found, ConversionRecord)
    assert [found.sales(w) for w in (1, 7, 14, 30)] == [10.0, 70.0, 140.0, 300.0]
    assert [found.orders(w) for w in (1, 7, 14, 30)] == [1, 7, 14, 30]


def test_a_record_inside_an_sns_envelope_is_read() -> None:
    envelope = {"Type": "Notification", "Message": json.dumps(traffic())}
    assert isinstance(parse_message(json.dumps(envelope)), TrafficRecord)


def test_numeric_ids_are_read_as_text() -> None:
    found = parse_message(json.dumps(traffic(campaign_id=111, keyword_id=444)))
    assert (found.campaign_id, found.keyword_id) == ("111", "444")


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("not json", "not JSON"),
        (json.dumps({"Type": "SubscriptionConfirmation"}), "subscription confirmation"),
        (json.dumps(traffic(dataset_id="sb-traffic")), "'sb-traffic'"),
        (json.dumps([traffic()]), "not a JSON object"),
    ],
)
def test_what_is_not_a_record_says_why(body: str, why: str) -> None:
    with pytest.raises(NotAStreamRecord, match=why):
        parse_message(body)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"impressions": -1}, "impressions"),
        ({"cost": "NaN"}, "cost"),
        ({"time_window_start": "2026-12-01T14:00:00"}, "time_window_start"),  # no offset
        ({"time_window_start": "2026-12-01T14:30:00Z"}, "time_window_start"),  # not an hour
        ({"keyword_id": None}, "keyword_id"),
        ({"idempotency_id": "a b"}, "idempotency_id"),
    ],
)
def test_a_malformed_record_names_its_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        parse_message(json.dumps(traffic(**changes)))
    assert raised.value.errors()[0]["loc"][0] == field


# -- consuming -----------------------------------------------------------------------------


@pytest.fixture
def routed(moto_aws: None) -> StreamStore:
    streams = StreamStore()
    streams.put_route("ADV1", "ATVPDKIKX0DER", "acme", "P1", {"sp-traffic": "s1"})
    return streams


def _hour(entity: str = "kw-444") -> dict[str, float]:
    start = dt.datetime(2026, 12, 1, 14)
    window = MetricStore().read_window("acme", "P1", Interval.H1, [entity], start, start)
    values = window[entity].get("2026-12-01T14:00:00")
    return dict(zip(PPC_MEASURES, values, strict=True)) if values else {}


def _send(*records: dict[str, Any]) -> Any:
    return ingest_messages([json.dumps(r) for r in records])


def test_traffic_and_conversion_make_one_hourly_point_rolled_up(routed: StreamStore) -> None:
    report = _send(traffic(), conversion())
    assert (report.new, report.duplicates, report.points) == (2, 0, 1)  # one keyword-hour
    expected = {"impressions": 120, "clicks": 6, "spend": 4.2, "sales": 70.0, "orders": 7}
    assert _hour() == expected
    assert _hour("cp-111") == expected  # the campaign's hour: its keywords summed
    assert _hour("P1") == expected  # … and the account's
    _, hierarchy = CatalogStore().get_hierarchy("acme", "P1")
    names = {e.entity_id: e.name for e in hierarchy}
    assert names["kw-444"] == "garden hose [EXACT]"
    assert routed.latest_hour("acme", "P1") == "2026-12-01T14:00:00"


def test_a_redelivered_or_duplicated_record_changes_nothing(routed: StreamStore) -> None:
    _send(traffic(), conversion())
    before = _hour()
    report = _send(traffic(), traffic(), conversion())  # redelivered, and twice in a batch
    assert (report.new, report.replaced, report.duplicates) == (0, 0, 3)
    assert _hour() == before
    assert report.items_changed == 0


def test_cells_of_other_ads_and_placements_add_up(routed: StreamStore) -> None:
    _send(traffic(), traffic(idempotency_id="t-2", placement="Rest of Search", impressions=30))
    assert _hour()["impressions"] == 150


def test_a_restated_conversion_replaces_the_hours_earlier_one(routed: StreamStore) -> None:
    _send(traffic(), conversion())
    restated = conversion(idempotency_id="c-2", attributed_sales_7d=95.5)
    restated["attributed_conversions_7d"] = 9
    report = _send(restated)
    assert (report.new, report.replaced) == (0, 1)
    assert (_hour()["sales"], _hour()["orders"]) == (95.5, 9)
    # the earlier record redelivered after its restatement does not bring it back
    assert _send(conversion()).duplicates == 1
    assert _hour()["sales"] == 95.5


def test_unreadable_and_unrouted_records_are_dropped_with_a_reason(routed: StreamStore) -> None:
    report = _send(traffic(impressions=-1), traffic(advertiser_id="OTHER"), traffic())
    assert report.new == 1
    assert report.refused == [
        "impressions: Input should be greater than or equal to 0",
        "advertiser OTHER in ATVPDKIKX0DER is not subscribed",
    ]
