"""The synthetic Amazon Ads account: formats, invariants, realism and the planted incidents."""

from __future__ import annotations

import csv
import datetime
import json
import pathlib
import re
from collections import Counter, defaultdict

import numpy as np
import numpy.typing as npt
import pytest

from tripwire.demo.generator import (
    INCIDENT_KINDS,
    LATE_ATTRIBUTION_DAYS,
    GeneratedAccount,
    GeneratorConfig,
    Incident,
    generate,
    incident_to_dict,
    write,
)

SMALL = GeneratorConfig(keywords=120, campaigns=8, portfolios=2, days=60, incident_days=21)
LEVELS = {
    "account_tracking_outage": "account",
    "portfolio_bid_change": "portfolio",
    "campaign_paused": "campaign",
    "campaign_budget_exhausted": "campaign",
    "campaign_spend_spike": "campaign",
    "keyword_cpc_spike": "keyword",
    "keyword_conversion_collapse": "keyword",
    "keyword_impression_surge": "keyword",
    "keyword_zero_impressions": "keyword",
}


@pytest.fixture(scope="module")
def account() -> GeneratedAccount:
    return generate()


@pytest.fixture(scope="module")
def files(account: GeneratedAccount, tmp_path_factory: pytest.TempPathFactory):
    return write(account, tmp_path_factory.mktemp("demo"))


def dense(account: GeneratedAccount) -> npt.NDArray[np.void]:
    """Day × keyword view: valid because rows are sorted by date then id, every keyword daily."""
    return account.metrics.reshape(account.config.days, -1)


def history(account: GeneratedAccount) -> npt.NDArray[np.void]:
    cfg = account.config
    return dense(account)[: cfg.days - cfg.incident_days]


def period_start(cfg: GeneratorConfig) -> datetime.date:
    return cfg.start + datetime.timedelta(days=cfg.days - cfg.incident_days)


# ---------------------------------------------------------------- determinism and formats


def test_same_seed_gives_byte_identical_files(files: dict[str, pathlib.Path], tmp_path) -> None:
    again = write(generate(GeneratorConfig()), tmp_path)
    assert set(again) == {"entities", "metrics", "truth"}
    for name, path in files.items():
        assert again[name].read_bytes() == path.read_bytes(), name


def test_different_seeds_differ() -> None:
    a = generate(SMALL)
    b = generate(GeneratorConfig(**{**SMALL.__dict__, "seed": SMALL.seed + 1}))
    assert not np.array_equal(a.metrics["clicks"], b.metrics["clicks"])


def test_csv_headers_and_row_format(files: dict[str, pathlib.Path]) -> None:
    with files["entities"].open() as fh:
        assert next(csv.reader(fh)) == ["entity_id", "entity_type", "parent_id", "name"]
    money = re.compile(r"^\d+\.\d{2}$")
    with files["metrics"].open() as fh:
        reader = csv.reader(fh)
        assert next(reader) == [
            "date", "entity_id", "impressions", "clicks", "spend", "sales", "orders"
        ]  # fmt: skip
        rows = list(reader)
    keys = [(r[0], r[1]) for r in rows]
    assert keys == sorted(keys)
    for date, _, imp, clk, spend, sales, orders in rows[:: max(1, len(rows) // 5000)]:
        datetime.date.fromisoformat(date)
        assert money.match(spend) and money.match(sales)
        i, c, o = int(imp), int(clk), int(orders)
        assert 0 <= o <= c <= i
        assert (float(spend) == 0) == (c == 0)
        assert (float(sales) == 0) == (o == 0)


def test_count_invariants_hold_everywhere(account: GeneratedAccount) -> None:
    m = account.metrics
    assert (m["impressions"] >= 0).all()
    assert (m["clicks"] <= m["impressions"]).all()
    assert (m["orders"] >= 0).all() and (m["orders"] <= m["clicks"]).all()
    assert (m["spend"] >= 0).all() and (m["sales"] >= 0).all()
    assert ((m["spend"] == 0) == (m["clicks"] == 0)).all()
    assert ((m["sales"] == 0) == (m["orders"] == 0)).all()
    for field in ("spend", "sales"):  # whole cents
        cents = m[field] * 100
        assert np.allclose(cents, np.rint(cents), atol=1e-6)


def test_truth_json_round_trips(account: GeneratedAccount, files: dict[str, pathlib.Path]) -> None:
    doc = json.loads(files["truth"].read_text())
    assert set(doc) == {"config", "incidents"}
    assert doc["config"]["start"] == account.config.start.isoformat()
    assert doc["config"]["keywords"] == account.config.keywords
    assert doc["incidents"] == [incident_to_dict(i) for i in account.incidents]
    assert isinstance(doc["incidents"][0]["affected"], list)


# ---------------------------------------------------------------- size and hierarchy


def test_default_size_and_every_keyword_every_day(account: GeneratedAccount) -> None:
    cfg = account.config
    keywords = [e["entity_id"] for e in account.entities if e["entity_type"] == "keyword"]
    assert len(keywords) == cfg.keywords >= 1000
    assert cfg.days >= 120
    assert len(account.metrics) == cfg.keywords * cfg.days
    days = dense(account)
    for d in (0, cfg.days // 2, cfg.days - 1):
        assert days["entity_id"][d].tolist() == keywords
        assert (days["date"][d] == np.datetime64(cfg.start + datetime.timedelta(days=d))).all()


def test_hierarchy_is_valid(files: dict[str, pathlib.Path]) -> None:
    with files["entities"].open() as fh:
        rows = list(csv.DictReader(fh))
    by_id = {r["entity_id"]: r for r in rows}
    assert len(by_id) == len(rows)
    allowed = {"portfolio": {"account"}, "campaign": {"portfolio", "account"}}
    allowed["keyword"] = {"campaign"}
    roots = [r for r in rows if r["entity_type"] == "account"]
    assert len(roots) == 1 and roots[0]["parent_id"] == "" and roots[0]["entity_id"] == "A1"
    for r in rows:
        if r["entity_type"] != "account":
            assert by_id[r["parent_id"]]["entity_type"] in allowed[r["entity_type"]], r
        assert r["name"]
    types = Counter(r["entity_type"] for r in rows)
    assert types["portfolio"] == 4 and types["campaign"] == 40
    loose = [r for r in rows if r["entity_type"] == "campaign" and r["parent_id"] == "A1"]
    assert loose, "some campaigns sit in no portfolio"
    assert re.fullmatch(r"A1-K\d{5}", rows[-1]["entity_id"])
    sizes = Counter(r["parent_id"] for r in rows if r["entity_type"] == "keyword")
    assert len(sizes) == 40 and min(sizes.values()) >= 3 and max(sizes.values()) <= 80
    # The same keyword text under several ids, as on Amazon.
    texts = Counter(r["name"] for r in rows if r["entity_type"] == "keyword")
    assert texts.most_common(1)[0][1] > 1


# ---------------------------------------------------------------- realism


def test_traffic_is_long_tailed(account: GeneratedAccount) -> None:
    h = history(account)
    clicks = h["clicks"].mean(axis=0)
    impressions = h["impressions"].mean(axis=0)
    top = np.sort(clicks)[-len(clicks) // 100 :]
    assert np.median(clicks) < 5
    assert top.min() > 10 * np.median(clicks)
    assert 10 <= np.median(impressions) <= 500 and impressions.max() > 2000
    assert (h["orders"] == 0).mean() > 0.7  # orders are mostly zero


def test_rates_are_plausible(account: GeneratedAccount) -> None:
    h = history(account)
    imp, clk = h["impressions"].sum(), h["clicks"].sum()
    assert 0.002 < clk / imp < 0.02
    assert 0.3 < h["spend"].sum() / clk < 3.0
    assert 0.03 < h["orders"].sum() / clk < 0.2
    assert 12 < h["sales"].sum() / h["orders"].sum() < 80


def test_weekly_seasonality_in_account_total(account: GeneratedAccount) -> None:
    h = history(account)
    total = h["impressions"].sum(axis=1).astype(float)
    weekday = (np.arange(len(total)) + account.config.start.weekday()) % 7
    half = len(total) // 2
    profiles = [
        np.array([total[part][weekday[part] == w].mean() for w in range(7)])
        for part in (slice(0, half), slice(half, None))
    ]
    for profile in profiles:
        assert profile.max() / profile.min() > 1.08
    assert np.corrcoef(profiles[0], profiles[1])[0, 1] > 0.8  # the same rhythm, not noise


# ---------------------------------------------------------------- incidents


def test_every_kind_planted_at_least_twice(account: GeneratedAccount) -> None:
    kinds = Counter(i.kind for i in account.incidents)
    assert set(kinds) == set(INCIDENT_KINDS) == set(LEVELS)
    assert min(kinds.values()) >= 2
    for inc in account.incidents:
        assert inc.level == LEVELS[inc.kind]
        assert inc.direction in ("up", "down") and inc.metrics and inc.description
    assert len({i.incident_id for i in account.incidents}) == len(account.incidents)


def test_incidents_only_inside_incident_period(account: GeneratedAccount) -> None:
    cfg = account.config
    first, last = period_start(cfg), cfg.start + datetime.timedelta(days=cfg.days - 1)
    for inc in account.incidents:
        assert first <= inc.start <= inc.end <= last, inc.incident_id
        assert 1 <= (inc.end - inc.start).days + 1 <= 4
        if inc.kind == "account_tracking_outage":
            assert (inc.end - inc.start).days + 1 <= 2


def test_history_before_the_period_is_clean(account: GeneratedAccount) -> None:
    h = history(account)
    camp = {e["entity_id"]: e["parent_id"] for e in account.entities}
    keyword_campaign = np.array([camp[k] for k in h["entity_id"][0]])
    for c in np.unique(keyword_campaign):
        assert (h["impressions"][:, keyword_campaign == c].sum(axis=1) > 0).all(), c
    assert (h["orders"].sum(axis=1) > 0).all()  # no tracking outage


def test_order_and_sales_drops_avoid_restated_days(account: GeneratedAccount) -> None:
    cfg = account.config
    last = cfg.start + datetime.timedelta(days=cfg.days - 1)
    for inc in account.incidents:
        if set(inc.metrics) == {"orders", "sales"}:
            assert (last - inc.end).days >= LATE_ATTRIBUTION_DAYS, inc.incident_id


def test_incidents_never_share_a_keyword_day(account: GeneratedAccount) -> None:
    seen: set[tuple[str, datetime.date]] = set()
    for inc in account.incidents:
        for d in range((inc.end - inc.start).days + 1):
            cells = {(k, inc.start + datetime.timedelta(days=d)) for k in inc.affected}
            assert not cells & seen, inc.incident_id
            seen |= cells


def test_affected_keywords_are_the_roots_subtree(account: GeneratedAccount) -> None:
    children: dict[str, list[str]] = defaultdict(list)
    for e in account.entities:
        children[e["parent_id"]].append(e["entity_id"])
    types = {e["entity_id"]: e["entity_type"] for e in account.entities}

    def leaves(entity: str) -> set[str]:
        if types[entity] == "keyword":
            return {entity}
        return set().union(*(leaves(c) for c in children[entity]))

    for inc in account.incidents:
        assert types[inc.root_entity] == inc.level
        assert set(inc.affected) == leaves(inc.root_entity), inc.incident_id


def _measure(
    rows: npt.NDArray[np.void], metric: str
) -> float:  # per-day value of a measure summed over keywords
    if metric == "cpc":
        return float(rows["spend"].sum() / max(rows["clicks"].sum(), 1))
    return float(rows[metric].sum() / rows.shape[0])


def _windows(account: GeneratedAccount, inc: Incident):
    cfg = account.config
    days = dense(account)
    cols = np.isin(days["entity_id"][0], inc.affected)
    lo = (inc.start - cfg.start).days
    hi = (inc.end - cfg.start).days + 1
    return history(account)[:, cols], days[lo:hi, cols]


def test_incidents_move_their_metrics_versus_own_baseline(account: GeneratedAccount) -> None:
    for inc in account.incidents:
        before, during = _windows(account, inc)
        for metric in inc.metrics:
            base, now = _measure(before, metric), _measure(during, metric)
            assert base > 0, (inc.incident_id, metric)
            ratio = now / base
            if inc.direction == "up":
                assert ratio > 1.15, (inc.incident_id, inc.kind, metric, ratio)
            else:
                assert ratio < 0.5, (inc.incident_id, inc.kind, metric, ratio)


def test_incident_signatures(account: GeneratedAccount) -> None:
    for inc in account.incidents:
        before, during = _windows(account, inc)
        clicks_ratio = _measure(during, "clicks") / max(_measure(before, "clicks"), 1e-9)
        if inc.kind == "campaign_paused":
            for f in ("impressions", "clicks", "orders", "spend", "sales"):
                assert (during[f] == 0).all()
        elif inc.kind == "keyword_zero_impressions":
            assert (during["impressions"] == 0).all()
        elif inc.kind == "account_tracking_outage":
            assert (during["orders"] == 0).all() and (during["sales"] == 0).all()
            assert 0.7 < clicks_ratio < 1.4  # traffic normal
        elif inc.kind == "keyword_conversion_collapse":
            assert clicks_ratio > 0.35  # the clicks stay (within day-to-day swings)
        elif inc.kind == "keyword_impression_surge":
            assert clicks_ratio > 1.5  # clicks follow impressions


# ---------------------------------------------------------------- other sizes and bad input


def test_small_account_keeps_every_promise() -> None:
    acct = generate(SMALL)
    m = acct.metrics
    assert len(m) == SMALL.keywords * SMALL.days
    assert (m["clicks"] <= m["impressions"]).all() and (m["orders"] <= m["clicks"]).all()
    assert {i.kind for i in acct.incidents} == set(INCIDENT_KINDS)
    assert all(i.start >= period_start(SMALL) for i in acct.incidents)


def test_no_incident_period_means_no_incidents() -> None:
    acct = generate(GeneratorConfig(**{**SMALL.__dict__, "incident_days": 0}))
    assert acct.incidents == []


def test_impossible_sizes_are_reduced_and_recorded() -> None:
    cfg = GeneratorConfig(keywords=6, campaigns=40, portfolios=4, days=20, incident_days=30)
    acct = generate(cfg)
    assert acct.config.campaigns == 6 and acct.config.portfolios == 4
    assert acct.config.incident_days == 10
    assert len(acct.metrics) == 6 * 20
    assert all(i.start >= period_start(acct.config) for i in acct.incidents)


@pytest.mark.parametrize(
    "change",
    [{"keywords": 0}, {"days": 1}, {"portfolios": -1}, {"account_id": "A,1"}],
)
def test_bad_config_is_rejected(change: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        generate(GeneratorConfig(**{**SMALL.__dict__, **change}))
