"""Recurring behaviours that are not incidents: deals every few days, a payday bid rule.

Planted only with ``GeneratorConfig(recurring_patterns=True)``, in the history and the
incident period alike; the incidents of a seed stay exactly where they were."""

from __future__ import annotations

import dataclasses
import datetime

import numpy as np
import pytest

from tripwire.demo.generator import GeneratedAccount, GeneratorConfig, generate
from tripwire.demo.recurring import PAYDAYS, PROMOTION_PERIODS, RecurringPattern

CONFIG = GeneratorConfig(seed=5, keywords=400, campaigns=12, portfolios=2, days=70)


@pytest.fixture(scope="module")
def pair() -> tuple[GeneratedAccount, GeneratedAccount]:
    return generate(CONFIG), generate(dataclasses.replace(CONFIG, recurring_patterns=True))


def _series(account: GeneratedAccount, keyword: str) -> np.ndarray:
    m = account.metrics
    return m[m["entity_id"] == keyword]  # one row per day, in date order


def _on(account: GeneratedAccount, pattern: RecurringPattern) -> np.ndarray:
    dates = _series(account, pattern.keyword)["date"].astype(datetime.date)
    return np.isin(dates, pattern.days)


def test_off_by_default_and_incidents_unchanged(
    pair: tuple[GeneratedAccount, GeneratedAccount],
) -> None:
    plain, recurring = pair
    assert plain.recurring == ()
    assert recurring.incidents == plain.incidents
    assert {p.kind for p in recurring.recurring} == {"keyword_promotion", "payday_bid_rule"}


def test_patterns_recur_in_the_history_and_the_incident_period(
    pair: tuple[GeneratedAccount, GeneratedAccount],
) -> None:
    _, account = pair
    first = CONFIG.start + datetime.timedelta(CONFIG.days - CONFIG.incident_days)
    for pattern in account.recurring:
        assert sum(d < first for d in pattern.days) >= 2, pattern
        assert sum(d >= first for d in pattern.days) >= 1, pattern


def test_a_promotion_recurs_every_period_days_and_never_weekly(
    pair: tuple[GeneratedAccount, GeneratedAccount],
) -> None:
    _, account = pair
    for pattern in (p for p in account.recurring if p.kind == "keyword_promotion"):
        gaps = {(b - a).days for a, b in zip(pattern.days, pattern.days[1:], strict=False)}
        period = min(gaps)
        assert period in PROMOTION_PERIODS and period % 7 != 0
        assert all(g % period == 0 for g in gaps)  # a gap of 2 periods: an incident held it


def test_a_payday_rule_fires_on_the_1st_and_15th_only(
    pair: tuple[GeneratedAccount, GeneratedAccount],
) -> None:
    _, account = pair
    for pattern in (p for p in account.recurring if p.kind == "payday_bid_rule"):
        assert {d.day for d in pattern.days} <= set(PAYDAYS)


def test_on_pattern_days_the_documented_measures_jump_together(
    pair: tuple[GeneratedAccount, GeneratedAccount],
) -> None:
    _, account = pair
    promos = [p for p in account.recurring if p.kind == "keyword_promotion"]
    rules = [p for p in account.recurring if p.kind == "payday_bid_rule"]

    def ratio(pattern: RecurringPattern, field: str) -> float:
        rows, on = _series(account, pattern.keyword), _on(account, pattern)
        values = rows[field].astype(float)
        return float(values[on].sum() / on.sum() / (values[~on].sum() / (~on).sum()))

    # Deals lift clicks, orders and sales together; the bid rule raises what a click costs
    # (CPC ×2–3) and wins a few more impressions (×1.3–1.6), so spend jumps.
    for field in ("clicks", "orders", "sales"):
        assert np.median([ratio(p, field) for p in promos]) > 3.0, field
    for rule in rules:
        rows, on = _series(account, rule.keyword), _on(account, rule)
        cpc_on = rows["spend"][on].sum() / rows["clicks"][on].sum()
        cpc_off = rows["spend"][~on].sum() / rows["clicks"][~on].sum()
        assert cpc_on / cpc_off > 1.8, rule
        assert ratio(rule, "impressions") > 1.1, rule


def test_patterns_keep_off_incident_keywords_and_days(
    pair: tuple[GeneratedAccount, GeneratedAccount],
) -> None:
    _, account = pair
    narrow = {
        k for i in account.incidents if i.level in ("keyword", "campaign") for k in i.affected
    }
    for pattern in account.recurring:
        assert pattern.keyword not in narrow
        for inc in account.incidents:
            if pattern.keyword in inc.affected:
                assert not any(inc.start <= d <= inc.end for d in pattern.days)
