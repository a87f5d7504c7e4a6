"""Hourly Amazon Ads scans: accepted once Marketing Stream has brought hourly data, judged
against an hour-of-week baseline, planned hour by hour."""

from __future__ import annotations

import datetime as dt
import uuid

import numpy as np
import pytest

from tripwire.domain.entities import Entity, Profile, ProfileKind
from tripwire.domain.metrics import Interval
from tripwire.domain.runs import DetectionMetadata
from tripwire.domain.stream import TrafficRecord
from tripwire.features import baseline
from tripwire.ingest.importer import import_parsed
from tripwire.service.messages import ScanMessage
from tripwire.service.models import HOURLY_ARTIFACT, hourly_pipeline
from tripwire.service.scan import HOURLY_CATCHUP, _hour_window, _hours_to_scan
from tripwire.service.schedule import IntervalRejected, set_schedule
from tripwire.service.scoring import ScanStores, read_hours
from tripwire.service.series import ProfileSeries
from tripwire.service.train import InsufficientHistory, train_hours
from tripwire.store.catalog import CatalogStore
from tripwire.store.metadata import SeriesState
from tripwire.store.metrics import MetricStore
from tripwire.store.stream import StreamStore

HOUR = dt.datetime(2026, 12, 1, 14)


# -- the schedule ----------------------------------------------------------------------------


def _stream_one_hour(tenant: str, profile: str) -> None:
    record = TrafficRecord.model_validate(
        {
            "idempotency_id": "t-1",
            "dataset_id": "sp-traffic",
            "marketplace_id": "ATVPDKIKX0DER",
            "advertiser_id": "ADV1",
            "campaign_id": "1",
            "ad_group_id": "2",
            "keyword_id": "3",
            "time_window_start": "2026-12-01T14:00:00Z",
            "impressions": 10,
            "clicks": 1,
            "cost": 0.5,
        }
    )
    StreamStore().apply(tenant, profile, [("kw-3", record)])


def test_an_ads_profile_is_scheduled_hourly_once_it_has_hourly_data(moto_aws: None) -> None:
    CatalogStore().put_profile(Profile(tenant_id="acme", profile_id="A1", kind=ProfileKind.ADS))
    with pytest.raises(IntervalRejected, match="no hourly data yet"):
        set_schedule("acme", "A1", True, Interval.H1, by="ana")
    set_schedule("acme", "A1", False, Interval.H1, by="ana")  # switching off is always fine
    _stream_one_hour("acme", "A1")
    entry = set_schedule("acme", "A1", True, Interval.H1, by="ana")
    assert (entry.interval, entry.enabled) == (Interval.H1, True)


def test_a_daily_ads_schedule_needs_no_hourly_data(moto_aws: None) -> None:
    CatalogStore().put_profile(Profile(tenant_id="acme", profile_id="A1", kind=ProfileKind.ADS))
    assert set_schedule("acme", "A1", True, Interval.D1, by="ana").enabled


def test_another_interval_is_still_refused_for_ads(moto_aws: None) -> None:
    CatalogStore().put_profile(Profile(tenant_id="acme", profile_id="A1", kind=ProfileKind.ADS))
    _stream_one_hour("acme", "A1")
    with pytest.raises(IntervalRejected, match="not 15m"):
        set_schedule("acme", "A1", True, Interval.M15, by="ana")


# -- the hour-of-week baseline ---------------------------------------------------------------


def _diurnal(weeks: int, entities: int, seed: int = 3) -> np.ndarray:
    """Hourly traffic with a strong daily rhythm: busy afternoons, near-silent nights."""
    rng = np.random.default_rng(seed)
    hours = np.arange(weeks * 168)
    rate = 2.0 + 40.0 * np.clip(np.sin((hours % 24 - 6) / 24 * 2 * np.pi), 0, None)
    impressions = rng.poisson(np.tile(rate, (entities, 1)))
    clicks = rng.binomial(impressions, 0.05)
    spend = clicks * 0.8
    orders = rng.binomial(clicks, 0.1)
    return np.stack([impressions, clicks, spend, orders * 25.0, orders], axis=2).astype(float)


def test_an_hour_is_judged_against_the_same_hour_of_the_week() -> None:
    window = _diurnal(weeks=3, entities=20)
    afternoon = 2 * 168 + 13  # hour 13 of the third Monday (the window starts on a Monday)
    night = 2 * 168 + 26  # hour 2 of the Tuesday
    for last, busy in ((afternoon, True), (night, False)):
        quiet = window[:, : last + 1].copy()
        quiet[0, -1] = 0.0  # no impressions, clicks or spend this hour
        base = baseline.compute(quiet, (last % 168), baseline.HOUR_OF_WEEK)
        impressions = base.deviation[0, 0]
        if busy:  # ~30 expected in the afternoon: nothing is a collapse
            assert impressions < -6
        else:  # ~2 expected at night: nothing is what a quiet night does
            assert impressions > -3
        assert np.abs(base.deviation[1:, 0]).max() < 4.5  # the rest are normal hours


def test_a_weekly_rhythm_would_miss_the_afternoon_collapse() -> None:
    window = _diurnal(weeks=3, entities=20)
    last = 2 * 168 + 13
    quiet = window[:, : last + 1].copy()
    quiet[0, -1] = 0.0
    hourly = baseline.compute(quiet, last % 168, baseline.HOUR_OF_WEEK)
    weekday = baseline.compute(quiet, (last // 24) % 7)  # the daily scans' rhythm
    assert hourly.expected[0, 0] > 2 * weekday.expected[0, 0]  # an afternoon, not an average
    assert hourly.deviation[0, 0] < -6 < weekday.deviation[0, 0]


# -- planning the hours --------------------------------------------------------------------


def _state(last: dt.datetime) -> SeriesState:
    meta = DetectionMetadata(
        tenant_id="acme",
        profile_id="A1",
        entity_id="kw-1",
        interval=Interval.H1,
        last_detected=last,
    )
    return SeriesState(meta, last)


def test_the_first_hourly_scan_scores_the_latest_hour_only() -> None:
    assert _hours_to_scan({}, HOUR.isoformat()) == [HOUR]


def test_a_scan_scores_the_hours_since_the_last_one() -> None:
    states = {"kw-1": _state(HOUR - dt.timedelta(hours=3))}
    assert _hours_to_scan(states, HOUR.isoformat()) == [
        HOUR - dt.timedelta(hours=2),
        HOUR - dt.timedelta(hours=1),
        HOUR,
    ]


def test_a_scan_catches_up_on_a_day_at_most() -> None:
    states = {"kw-1": _state(HOUR - dt.timedelta(days=3))}
    hours = _hours_to_scan(states, HOUR.isoformat())
    assert len(hours) == HOURLY_CATCHUP and hours[-1] == HOUR


def test_nothing_new_or_no_hourly_data_scores_nothing() -> None:
    assert _hours_to_scan({"kw-1": _state(HOUR)}, HOUR.isoformat()) == []
    assert _hours_to_scan({}, None) == []


# -- the hourly model ----------------------------------------------------------------------


def _streamed(tenant: str, profile: str, hours: int, campaigns: int = 1) -> dt.datetime:
    """Campaigns of 4 keywords each (cp-1: kw-0…kw-3, cp-2: kw-4…) with ``hours`` hours of a
    daily rhythm, ending at HOUR."""
    entities = [Entity(entity_id=profile, entity_type="account")]
    for c in range(1, campaigns + 1):
        entities.append(Entity(entity_id=f"cp-{c}", entity_type="campaign", parent_id=profile))
        entities += [
            Entity(entity_id=f"kw-{k}", entity_type="keyword", parent_id=f"cp-{c}")
            for k in range(4 * (c - 1), 4 * c)
        ]
    rng = np.random.default_rng(1)
    leaves: dict[str, dict[str, tuple[float, ...]]] = {f"kw-{k}": {} for k in range(4 * campaigns)}
    for k in range(4 * campaigns):
        for h in range(hours):
            at = HOUR - dt.timedelta(hours=hours - 1 - h)
            imp = int(rng.poisson(20 + 15 * np.sin(at.hour / 24 * 2 * np.pi)))
            leaves[f"kw-{k}"][at.isoformat()] = (imp, imp // 10, imp / 10 * 0.8, 0.0, 0)
    import_parsed(
        Profile(tenant_id=tenant, profile_id=profile),
        entities,
        leaves,
        rows=0,
        skipped=[],
        interval=Interval.H1,
    )
    return HOUR


def test_the_hourly_model_needs_twelve_days_of_streamed_hours(moto_aws: None) -> None:
    end = _streamed("acme", "A1", 12 * 24 - 1)
    with pytest.raises(InsufficientHistory, match="287 hours of streamed data"):
        train_hours("acme", "A1", end)
    assert hourly_pipeline("acme", "A1") is None


def test_the_hourly_model_is_published_beside_the_daily_one(moto_aws: None) -> None:
    end = _streamed("acme", "A1", 12 * 24)  # the first day with 11 days before it
    pipeline, versions = train_hours("acme", "A1", end)
    assert set(versions) == {HOURLY_ARTIFACT}
    assert pipeline.config.baseline.period_length == 168
    loaded = hourly_pipeline("acme", "A1")
    assert loaded is not None and loaded[0].names == ("count",)


# -- the window a slice reads ----------------------------------------------------------------


def test_the_slices_of_a_run_read_the_non_leaf_context_once(moto_aws: None) -> None:
    """Every slice scores all non-leaf entities as context; a worker reads their months once
    per run (the next slice of the run reads only its own keywords), and the next run reads
    them again. The window is the same as reading every row."""
    _streamed("acme", "A1", 48, campaigns=2)
    _, hierarchy = CatalogStore().get_hierarchy("acme", "A1")
    first = HOUR - dt.timedelta(hours=47)  # 29 November: two months per entity
    stores = ScanStores()

    def window(run: str, campaign: str) -> tuple[ProfileSeries, int, ProfileSeries]:
        rows = [e for e in hierarchy if not e.is_leaf or e.parent_id == campaign]
        message = ScanMessage(
            kind="scan",
            tenant_id="acme",
            profile_id="A1",
            run_id=run,
            interval=Interval.H1,
            entity_ids=[e.entity_id for e in rows if e.parent_id == campaign],
        )
        before = stores.metrics.reads
        series = _hour_window(stores, message, rows, first, HOUR, "EUR")
        reads = stores.metrics.reads - before
        return series, reads, read_hours(MetricStore(), "acme", "A1", rows, first, HOUR, "EUR")

    run, later = uuid.uuid4().hex, uuid.uuid4().hex
    for slice_run, campaign, months in [
        (run, "cp-1", 2 * 7),
        (run, "cp-2", 2 * 4),
        (later, "cp-2", 2 * 7),
    ]:
        series, reads, whole = window(slice_run, campaign)
        assert reads == months
        assert [e.entity_id for e in series.entities] == [e.entity_id for e in whole.entities]
        assert np.array_equal(series.raw, whole.raw) and series.raw[:, -1].any()
        assert (series.start, series.currency) == (first, "EUR")
