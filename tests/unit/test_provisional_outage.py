"""A tracking outage on provisional days, through the backtest's scoring core with Amazon's
attribution lag modelled: alerted the morning after it began, one incident group over its
two days rooted at the account, confirmed once the restated figures arrive."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest

from tripwire.demo.generator import GeneratorConfig, generate, write
from tripwire.demo.restatements import first_seen_series
from tripwire.detection.pipeline import PipelineConfig
from tripwire.rootcause import group_id
from tripwire.service.backtest import backtest_profile, load_profile

# A clean account (no planted incidents); the outage below is the only one.
_CONFIG = GeneratorConfig(
    seed=5, keywords=150, campaigns=8, portfolios=2, days=80, incident_days=0,
    attribution_lag=True,
)  # fmt: skip
_PIPELINE = PipelineConfig(
    detector_options={
        "lstm": {"epochs": 1, "hidden": 8, "max_sequences": 1500},
        "isolation_forest": {"n_estimators": 20},
        "streaming": {"window_size": 150},
    }
)
OUTAGE = (70, 71)  # day indices: sales and orders 0 on every keyword, clicks untouched
START, END = 66, 75


def _day(index: int) -> datetime.date:
    return _CONFIG.start + datetime.timedelta(days=index)


@pytest.fixture(scope="module")
def alerts(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    account = generate(_CONFIG)
    assert account.first_seen is not None
    by_day = account.metrics.reshape(_CONFIG.days, -1)
    for day in OUTAGE:
        for measure in ("orders", "sales"):
            by_day[measure][day] = 0
        account.first_seen.orders[:, day] = 0
        account.first_seen.sales[:, day] = 0
    paths = write(account, Path(tmp_path_factory.mktemp("outage")))
    profile = load_profile(paths["entities"], paths["metrics"])
    seen = first_seen_series(account, profile)
    report = backtest_profile(profile, _day(START), _day(END), config=_PIPELINE, first_seen=seen)
    return report.alerts


def _during(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    days = {_day(d).isoformat() for d in OUTAGE}
    return [a for a in alerts if a["date"] in days]


def test_the_outage_is_alerted_the_morning_after_its_first_day(
    alerts: list[dict[str, Any]],
) -> None:
    first = [a for a in _during(alerts) if a["entity_id"] == "A1"]
    assert first and first[0]["date"] == _day(OUTAGE[0]).isoformat()
    assert first[0]["scan_date"] == _day(OUTAGE[0]).isoformat()  # its own day's scan
    assert first[0]["provisional"] and first[0]["confirmation"] == "confirmed"


def test_an_account_wide_outage_over_two_days_is_one_group_rooted_at_the_account(
    alerts: list[dict[str, Any]],
) -> None:
    during = _during(alerts)
    assert {a["date"] for a in during} == {_day(d).isoformat() for d in OUTAGE}
    assert {a["group_id"] for a in during} == {group_id("A1", _day(OUTAGE[0]).isoformat())}
    assert {a["root_cause"] for a in during} == {"A1"}
