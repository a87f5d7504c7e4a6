"""`tripwire backtest` in-process: alert lines carry what they must, and no day sees the future."""

from __future__ import annotations

import datetime
import itertools
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from tripwire.demo.generator import GeneratorConfig, generate, write
from tripwire.detection.pipeline import PipelineConfig
from tripwire.rootcause import group_id
from tripwire.service.backtest import (
    ProfileSeries,
    backtest_profile,
    load_profile,
    run_backtest,
)

_CONFIG = GeneratorConfig(
    seed=3, keywords=150, campaigns=8, portfolios=2, days=80, incident_days=15
)
# Small learnt models: the full ensemble runs, the file stays fast.
_PIPELINE = PipelineConfig(
    detector_options={
        "lstm": {"epochs": 1, "hidden": 8, "max_sequences": 1500},
        "isolation_forest": {"n_estimators": 20},
        "streaming": {"window_size": 150},
    }
)
_REQUIRED = {
    "entity_id",
    "entity_type",
    "date",
    "score",
    "severity",
    "explanation",
    "root_cause",
    "group_id",
    "detector_scores",
}


@pytest.fixture(scope="module")
def account_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write(generate(_CONFIG), tmp_path_factory.mktemp("account"))


def _range() -> tuple[datetime.date, datetime.date]:
    start = _CONFIG.start + datetime.timedelta(days=_CONFIG.days - _CONFIG.incident_days)
    return start, _CONFIG.start + datetime.timedelta(days=_CONFIG.days - 1)


def test_alerts_are_json_lines_with_every_field(
    account_files: dict[str, Path], tmp_path: Path
) -> None:
    start, end = _range()
    out = tmp_path / "alerts.jsonl"
    report = run_backtest(
        account_files["entities"],
        account_files["metrics"],
        start,
        end,
        out,
        progress=False,
        config=_PIPELINE,
    )
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    entity_ids = {
        e.entity_id
        for e in load_profile(account_files["entities"], account_files["metrics"]).entities
    }
    assert lines == report.alerts and lines
    for alert in lines:
        assert set(alert) >= _REQUIRED
        assert start.isoformat() <= alert["date"] <= end.isoformat()
        assert alert["root_cause"] in entity_ids
        scanned = datetime.date.fromisoformat(alert["scan_date"])
        opened = {  # the group opened on a day of the root's run, by the day it was scanned
            group_id(alert["root_cause"], (start + datetime.timedelta(k)).isoformat())
            for k in range((scanned - start).days + 1)
        }
        assert alert["group_id"] in opened
        assert alert["severity"] in {"low", "medium", "high", "critical"}
        assert alert["explanation"] and 0.0 <= alert["score"] <= 1.0
        voters = {"count", "isolation_forest", "streaming", "lstm"}
        assert set(alert["detector_scores"]) == voters | {"cusum"}  # and the CUSUM's alarms
        for entry in alert["explanation"]:
            assert {"feature", "contribution", "direction", "expected", "actual"} <= set(entry)
        assert alert["entity_name"]  # the demo account names every entity
        assert alert["impact"]["revenue_impact"] >= 0 and alert["impact"]["currency"] == "USD"
    incidents = generate(_CONFIG).incidents
    alerted = {(a["entity_id"], a["date"]) for a in lines}
    found = sum(
        any(
            (i.root_entity, (i.start + datetime.timedelta(d)).isoformat()) in alerted
            for d in range((i.end - i.start).days + 1)
        )
        for i in incidents
    )
    assert found >= len(incidents) // 2  # the quality bench holds the real bar


@pytest.fixture(scope="module")
def replayed(account_files: dict[str, Path]) -> list[dict[str, Any]]:
    profile = load_profile(account_files["entities"], account_files["metrics"])
    return backtest_profile(profile, *_range(), config=_PIPELINE).alerts


def test_an_incident_over_consecutive_days_is_one_group(replayed: list[dict[str, Any]]) -> None:
    alerts = replayed
    days: dict[str, set[datetime.date]] = defaultdict(set)
    for alert in alerts:
        days[alert["group_id"]].add(datetime.date.fromisoformat(alert["date"]))
    roots = {g: {a["root_cause"] for a in alerts if a["group_id"] == g} for g in days}
    assert all(len(r) == 1 for r in roots.values())  # a group has one root cause
    multi_day = [g for g, d in days.items() if len(d) > 1]
    assert multi_day, "some incident spans several days"
    for group, dates in days.items():  # …and its days follow each other (one quiet day allowed)
        ordered = sorted(dates)
        assert all((b - a).days <= 2 for a, b in itertools.pairwise(ordered)), group
    # the same root alerting on consecutive days is never split into two groups
    by_root_day = {(a["root_cause"], a["date"]): a["group_id"] for a in alerts}
    for (root, date), group in by_root_day.items():
        after = (datetime.date.fromisoformat(date) + datetime.timedelta(1)).isoformat()
        assert by_root_day.get((root, after), group) == group, (root, date)


def test_a_day_never_sees_the_future(
    account_files: dict[str, Path], replayed: list[dict[str, Any]]
) -> None:
    profile = load_profile(account_files["entities"], account_files["metrics"])
    start, end = _range()
    cut = end - datetime.timedelta(days=5)
    shorter = ProfileSeries(
        profile.entities, profile.first_day, profile.raw[:, : profile.index_of(cut) + 1]
    )
    full = replayed
    truncated = backtest_profile(shorter, start, cut, config=_PIPELINE).alerts
    # The settled re-scan of the last days before `cut` happens after it: compare what both
    # runs had the chance to see.
    seen_by_both = [a for a in full if a["scan_date"] <= cut.isoformat()]
    assert seen_by_both == truncated


def test_a_range_without_history_is_refused(account_files: dict[str, Path]) -> None:
    profile = load_profile(account_files["entities"], account_files["metrics"])
    with pytest.raises(ValueError, match="inside the data"):
        backtest_profile(profile, profile.first_day, profile.first_day)
