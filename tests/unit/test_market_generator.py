"""The synthetic market: deterministic, consistent bars on trading days, real incidents."""

from __future__ import annotations

import csv
import datetime
import itertools
import pathlib

import numpy as np
import pytest

from tripwire.demo.market import (
    INCIDENT_FRACTION,
    MARKET_INCIDENT_KINDS,
    OHLCV_CSV_COLUMNS,
    GeneratedMarket,
    generate_market,
    trading_days,
    write_ohlcv_csv,
)

DAYS, TICKERS = 300, 6


@pytest.fixture(scope="module")
def market() -> GeneratedMarket:
    return generate_market(seed=7, tickers=TICKERS, days=DAYS)


@pytest.fixture(scope="module")
def clean() -> GeneratedMarket:
    return generate_market(seed=7, tickers=TICKERS, days=DAYS, plant=False)


def _grid(bars: np.ndarray, field: str) -> np.ndarray:
    """(days, tickers) table of one field."""
    return np.asarray(bars[field].reshape(DAYS, TICKERS), dtype=np.float64)


def _index(market: GeneratedMarket, ticker: str, day: datetime.date) -> tuple[int, int]:
    ids = [e["entity_id"] for e in market.entities[1:]]
    days = market.bars["date"].reshape(DAYS, TICKERS)[:, 0]
    return int(np.flatnonzero(days == np.datetime64(day, "D"))[0]), ids.index(ticker)


def test_the_same_seed_gives_the_same_market(market: GeneratedMarket) -> None:
    again = generate_market(seed=7, tickers=TICKERS, days=DAYS)
    assert (again.bars == market.bars).all()
    assert again.entities == market.entities and again.incidents == market.incidents
    other = generate_market(seed=8, tickers=TICKERS, days=DAYS)
    assert not np.array_equal(other.bars["close"], market.bars["close"])


def test_market_then_tickers(market: GeneratedMarket) -> None:
    root, *tickers = market.entities
    assert root == {
        "entity_id": "US",
        "entity_type": "market",
        "parent_id": "",
        "name": "US market",
    }
    assert len(tickers) == TICKERS
    assert all(t["entity_type"] == "ticker" and t["parent_id"] == "US" for t in tickers)
    assert all(t["entity_id"].startswith("US-") for t in tickers)
    assert len({t["entity_id"] for t in tickers}) == TICKERS
    many = generate_market(seed=1, tickers=15, days=30, market="JP")
    assert len({e["entity_id"] for e in many.entities}) == 16
    assert all(e["entity_id"].startswith("JP-") for e in many.entities[1:])


def test_every_ticker_has_every_trading_day_and_no_weekend(market: GeneratedMarket) -> None:
    bars = market.bars
    assert len(bars) == DAYS * TICKERS
    assert np.is_busday(bars["date"]).all()
    grid = bars.reshape(DAYS, TICKERS)
    assert (grid["date"] == grid["date"][:, :1]).all()  # sorted by date, then id
    ids = [e["entity_id"] for e in market.entities[1:]]
    assert (grid["entity_id"] == np.array(ids)).all()
    day_dates = grid["date"][:, 0]
    assert (np.diff(day_dates) > np.timedelta64(0, "D")).all()
    assert (np.busday_count(day_dates[:-1], day_dates[1:]) == 1).all()  # no trading day skipped


def test_a_weekend_start_rolls_to_monday() -> None:
    saturday = datetime.date(2024, 6, 1)
    assert str(trading_days(saturday, 2)[0]) == "2024-06-03"
    assert str(trading_days(datetime.date(2024, 6, 7), 2)[1]) == "2024-06-10"  # Fri → Mon


def test_bars_are_consistent(market: GeneratedMarket) -> None:
    b = market.bars
    assert (b["low"] > 0).all()
    assert (b["low"] <= np.minimum(b["open"], b["close"])).all()
    assert (np.maximum(b["open"], b["close"]) <= b["high"]).all()
    assert (b["volume"] > 0).all()
    assert (np.round(b["close"], 2) == b["close"]).all()


def test_daily_returns_look_like_stocks(clean: GeneratedMarket) -> None:
    returns = np.diff(np.log(_grid(clean.bars, "close")), axis=0)
    assert (returns.std(axis=0) > 0.005).all() and (returns.std(axis=0) < 0.05).all()
    # GARCH: squared returns are autocorrelated (volatility clusters).
    sq = returns**2 - (returns**2).mean(axis=0)
    lag1 = (sq[1:] * sq[:-1]).sum(axis=0) / (sq**2).sum(axis=0)
    assert lag1.mean() > 0.02
    log_volume = np.log(_grid(clean.bars, "volume"))
    dev = log_volume - log_volume.mean(axis=0)
    assert ((dev[1:] * dev[:-1]).sum(axis=0) / (dev**2).sum(axis=0)).mean() > 0.4


def test_incidents_are_labelled_and_sit_late(market: GeneratedMarket) -> None:
    incidents = market.incidents
    assert {i.kind for i in incidents} == set(MARKET_INCIDENT_KINDS)
    ids = {e["entity_id"] for e in market.entities[1:]}
    first_day = market.bars["date"][(DAYS - int(INCIDENT_FRACTION * DAYS)) * TICKERS]
    for i in incidents:
        assert i.level == "ticker" and i.root_entity in ids and i.affected == (i.root_entity,)
        assert np.datetime64(i.start, "D") >= first_day and i.start <= i.end
        assert np.is_busday([np.datetime64(i.start, "D"), np.datetime64(i.end, "D")]).all()
        assert i.description
    assert [i.incident_id for i in incidents] == [
        f"US-I{n:03d}" for n in range(1, 1 + len(incidents))
    ]
    by_ticker: dict[str, list[tuple[datetime.date, datetime.date]]] = {}
    for i in incidents:
        by_ticker.setdefault(i.root_entity, []).append((i.start, i.end))
    for spans in by_ticker.values():
        spans.sort()
        assert all(a[1] < b[0] for a, b in itertools.pairwise(spans))


def test_without_incidents_the_market_is_the_same_up_to_the_first(
    market: GeneratedMarket, clean: GeneratedMarket
) -> None:
    assert clean.incidents == []
    first = min(i.start for i in market.incidents)
    before = market.bars["date"] < np.datetime64(first, "D")
    assert (market.bars[before] == clean.bars[before]).all()
    untouched = {e["entity_id"] for e in market.entities[1:]} - {
        i.root_entity for i in market.incidents
    }
    for ticker in untouched:
        rows = market.bars["entity_id"] == ticker
        assert (market.bars[rows] == clean.bars[rows]).all()


def test_price_gaps_really_jump(market: GeneratedMarket, clean: GeneratedMarket) -> None:
    def log_gaps(m: GeneratedMarket) -> np.ndarray:
        opens, closes = _grid(m.bars, "open"), _grid(m.bars, "close")
        return np.log(opens[1:] / closes[:-1])  # row t - 1: the gap into day t

    planted, base = log_gaps(market), log_gaps(clean)
    gaps = [i for i in market.incidents if i.kind == "price_gap"]
    assert gaps
    for i in gaps:
        t, k = _index(market, i.root_entity, i.start)
        added = planted[t - 1, k] - base[t - 1, k]  # ln(1 ± 8..15 %), give or take a cent
        assert 0.075 < abs(added) < 0.165, i
        assert (added > 0) == (i.direction == "up")
        assert abs(planted[t - 1, k]) > 0.04  # and it shows against the day's own noise


def test_volume_spikes_really_spike(market: GeneratedMarket, clean: GeneratedMarket) -> None:
    planted, base = _grid(market.bars, "volume"), _grid(clean.bars, "volume")
    spikes = [i for i in market.incidents if i.kind == "volume_spike"]
    assert spikes
    for i in spikes:
        (t0, k), (t1, _) = (
            _index(market, i.root_entity, i.start),
            _index(market, i.root_entity, i.end),
        )
        ratio = planted[t0 : t1 + 1, k] / base[t0 : t1 + 1, k]
        assert ((ratio > 4.99) & (ratio < 10.01)).all(), i
        assert planted[t0, k] > 3 * np.median(planted[t0 - 20 : t0, k])


def test_volatility_regimes_really_triple_sigma(
    market: GeneratedMarket, clean: GeneratedMarket
) -> None:
    regimes = [i for i in market.incidents if i.kind == "volatility_regime"]
    assert regimes
    planted = np.diff(np.log(_grid(market.bars, "close")), axis=0)
    base = np.diff(np.log(_grid(clean.bars, "close")), axis=0)
    for i in regimes:
        (t0, k), (t1, _) = (
            _index(market, i.root_entity, i.start),
            _index(market, i.root_entity, i.end),
        )
        assert t1 - t0 + 1 >= 5
        span = slice(t0 - 1, t1)  # returns into days t0..t1
        assert planted[span, k].std() > 2.5 * base[span, k].std(), i


def test_long_csv_round_trips(market: GeneratedMarket, tmp_path: pathlib.Path) -> None:
    (path,) = write_ohlcv_csv(market.bars, tmp_path / "long.csv")
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["Date", "Ticker", *OHLCV_CSV_COLUMNS[1:]]
    assert len(rows) == 1 + len(market.bars)
    first = market.bars[0]
    date, ticker, o, h, lo, c, adj, v = rows[1]
    assert date == str(first["date"]) and f"US-{ticker}" == first["entity_id"]
    assert [float(x) for x in (o, h, lo, c)] == [first[n] for n in ("open", "high", "low", "close")]
    assert float(adj) == float(c) and int(v) == first["volume"]


def test_one_csv_per_ticker(market: GeneratedMarket, tmp_path: pathlib.Path) -> None:
    paths = write_ohlcv_csv(market.bars, tmp_path / "per", long=False)
    assert [p.stem for p in paths] == [e["entity_id"][3:] for e in market.entities[1:]]
    with paths[0].open(newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == list(OHLCV_CSV_COLUMNS) and len(rows) == 1 + DAYS


def test_nonsense_is_refused() -> None:
    with pytest.raises(ValueError, match="ticker"):
        generate_market(tickers=0)
    with pytest.raises(ValueError, match="market code"):
        generate_market(market="us#1")
