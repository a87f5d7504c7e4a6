"""Scheduled scans of a market profile through the local stack: scheduler → SQS → poller →
worker → ``scan_market``. A market's tickers travel in one slice (their detection state is
one item per market); a second tick with no new bars finds nothing new."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from tripwire.demo.market import GeneratedMarket, generate_market, write_ohlcv_csv
from tripwire.detection.market import detector_name
from tripwire.domain import DetectionRun, Entity, EntityType, Interval, RunStatus
from tripwire.ingest.ohlcv_csv import import_ohlcv
from tripwire.local.auth import issue_token
from tripwire.local.stack import LocalStack
from tripwire.service import fanout
from tripwire.service.market import MAX_CATCHUP_BARS, train_market
from tripwire.store.alerts import AlertStore
from tripwire.store.metadata import MetadataStore
from tripwire.store.runs import RunSlices
from tripwire.store.schedule import ScheduleStore

# The tests tell one story on a module-scoped account (each scan settles earlier days):
# they run in order, on one xdist worker (`--dist loadgroup`).
pytestmark = [
    pytest.mark.integration,
    pytest.mark.usefixtures("local_stack"),
    pytest.mark.xdist_group("market_fanout"),
]
DAYS, TICKERS = 300, 4


@dataclass
class Market:
    tenant: str
    generated: GeneratedMarket
    last_day: dt.date
    first_run: DetectionRun


def _day(market: GeneratedMarket, index: int) -> dt.datetime:
    return dt.datetime.fromisoformat(str(np.unique(market.bars["date"])[index]))


def _scan(stack: LocalStack, tenant: str, day: dt.date) -> DetectionRun:
    started = [r for r in stack.scan(day) if r["tenant_id"] == tenant]
    assert len(started) == 1, started
    run = fanout.progress(tenant, started[0]["run_id"])
    assert run is not None
    return run


@pytest.fixture(scope="module")
def market(local_stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Market]:
    generated = generate_market(seed=2, tickers=TICKERS, days=DAYS, market="US")
    paths = write_ohlcv_csv(generated.bars, tmp_path_factory.mktemp("market-fanout") / "us.csv")
    tenant = f"mfanout-{uuid.uuid4().hex[:8]}"
    import_ohlcv(tenant, "US", paths)
    train_market(tenant, "US", end=_day(generated, DAYS - 61))  # the clean history
    last_day = _day(generated, DAYS - 1).date()
    ScheduleStore().set(tenant, "US", True)
    try:
        yield Market(tenant, generated, last_day, _scan(local_stack, tenant, last_day))
    finally:
        ScheduleStore().set(tenant, "US", False)  # other modules' ticks must skip it


def test_a_markets_tickers_stay_in_one_slice() -> None:
    entities = [Entity(entity_id="US", entity_type=EntityType.MARKET)] + [
        Entity(entity_id=f"US-T{i}", entity_type=EntityType.TICKER, parent_id="US")
        for i in range(5)
    ]
    entities += [Entity(entity_id="JP", entity_type=EntityType.MARKET)] + [
        Entity(entity_id=f"JP-T{i}", entity_type=EntityType.TICKER, parent_id="JP")
        for i in range(3)
    ]
    slices = fanout.plan_slices(entities, size=2)
    assert sorted(map(sorted, slices)) == [
        ["JP", "JP-T0", "JP-T1", "JP-T2"],
        ["US", "US-T0", "US-T1", "US-T2", "US-T3", "US-T4"],
    ]


def test_a_scheduled_tick_scans_the_markets_new_bars(market: Market) -> None:
    run = market.first_run
    assert run.status is RunStatus.COMPLETE, run.error
    assert RunSlices().count(market.tenant, run.run_id) == 1
    assert run.rows_processed == TICKERS * MAX_CATCHUP_BARS  # the catch-up since training
    assert run.anomalies_found == len(run.alert_ids) > 0
    name = detector_name(Interval.D1, "US")
    assert set(run.model_versions) == {name}
    alerts = [AlertStore().get(market.tenant, a) for a in run.alert_ids]
    assert all(a is not None and a.run_id == run.run_id for a in alerts)
    assert all(a is not None and a.entity_type is EntityType.TICKER for a in alerts)
    planted = {(i.root_entity, i.start) for i in market.generated.incidents}
    hits = {(a.entity_id, a.period.date()) for a in alerts if a is not None} & planted
    assert hits, "a planted incident's first bar is among the alerts"
    states = MetadataStore().read(market.tenant, "US", Interval.D1, {"US"})
    assert len(states) == TICKERS
    assert {s.meta.last_detected.date() for s in states.values() if s.meta.last_detected} == {
        market.last_day
    }


def test_a_second_tick_with_no_new_bars_finds_nothing_new(
    local_stack: LocalStack, market: Market
) -> None:
    again = _scan(local_stack, market.tenant, market.last_day)
    assert again.status is RunStatus.COMPLETE, again.error
    assert (again.rows_processed, again.anomalies_found, again.alert_ids) == (0, 0, [])
    assert any("nothing new" in w for w in again.warnings)


def _post(stack: LocalStack, tenant: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    token = issue_token(tenant, "ana", directory=stack.directory)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    request = urllib.request.Request(
        stack.api_url + path, json.dumps(body).encode(), headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, json.loads(response.read())


def test_a_tickers_backfill_scans_the_older_bars_once(
    local_stack: LocalStack, market: Market
) -> None:
    ticker = str(market.generated.bars["entity_id"][0])
    start = market.last_day - dt.timedelta(days=89)
    request = {"profile_id": "US", "entity_id": ticker, "start": start.isoformat()}
    request["end"] = market.last_day.isoformat()
    status, started = _post(local_stack, market.tenant, "/backfill", request)
    assert status == 202, started
    local_stack.drain()
    done = fanout.progress(market.tenant, started["backfill_id"])
    assert done is not None and done.status is RunStatus.COMPLETE, done
    # 90 days in three chunks, newest first; the scheduled tick's bars are not scored again.
    days = np.unique(market.generated.bars["date"])
    in_range = (days >= np.datetime64(start)) & (days <= np.datetime64(market.last_day))
    in_range[-MAX_CATCHUP_BARS:] = False
    assert done.rows_processed == int(in_range.sum()) > 0
    assert not set(done.alert_ids) & set(market.first_run.alert_ids)
    status, again = _post(local_stack, market.tenant, "/backfill", request)
    local_stack.drain()
    rerun = fanout.progress(market.tenant, again["backfill_id"])
    assert rerun is not None and (rerun.rows_processed, rerun.alert_ids) == (0, [])
