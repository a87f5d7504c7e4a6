"""A synthetic stock market: daily OHLCV bars of a few tickers with labelled anomalies.

The market model
----------------
* **Hierarchy.** One ``market`` entity (id = the market code, e.g. ``US``) > ``tickers``
  ``ticker`` entities with ids ``<market>-<symbol>`` (``US-AAPX``; the symbols are made up).
* **Calendar.** Bars exist on trading days only: ``days`` weekdays from ``start``. Weekends
  are simply absent (a gap in the calendar is not an anomaly); holidays are not modelled.
* **Prices.** Geometric Brownian motion per ticker (annual drift ~N(6 %, 8 %), annual
  volatility 15–45 %) whose daily variance follows a GARCH(1, 1) recursion
  (``h = ω + α·ε² + β·h``, α = 0.08, β = 0.90, long-run variance = the ticker's σ²), so calm
  and turbulent stretches cluster. Each day's move is an overnight part (the open against
  the previous close, ~0.3 σ) and an intraday part (close against open). High and low extend
  beyond ``max(open, close)`` / ``min(open, close)`` by a half-normal fraction of σ, so
  ``low <= open, close <= high`` always; prices are rounded to cents.
* **Volume.** Lognormal around a per-ticker level with an AR(1) log deviation (φ = 0.7) and a
  mild increase on big moves; whole shares.
* **Anomalies** are planted only in the last ``INCIDENT_FRACTION`` of the days, at most one
  per ticker at a time with quiet days between, and change the data *before* the bars are
  built so they stay consistent: ``price_gap`` (the open jumps ±8–15 % from the previous
  close, and the price stays there), ``volume_spike`` (volume ×5–10 for 1–3 days) and
  ``volatility_regime`` (σ ×3 for 5–15 days, not fed back into GARCH so it ends cleanly).
  The random draws of the clean market do not depend on the incidents, so
  ``plant=False`` gives the same market without them.

``generate_market`` returns ``(entities, bars, incidents)``: entity rows as in the PPC
generator (``ENTITY_COLUMNS``), a structured array (``BARS_DTYPE`` fields) sorted by date
then entity id — every ticker has every day, so ``bars.reshape(days, tickers)`` is a dense
day × ticker table — and ``Incident`` records like the PPC generator's (level ``ticker``).
``write_ohlcv_csv`` writes the bars as finance tools export them.
"""

from __future__ import annotations

import csv
import datetime
import math
import pathlib
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from tripwire.demo.hierarchy import ENTITY_COLUMNS
from tripwire.demo.incidents import Incident

FloatArray = npt.NDArray[np.float64]

INCIDENT_FRACTION = 0.2
MARKET_INCIDENT_KINDS = ("price_gap", "volume_spike", "volatility_regime")
OHLCV_CSV_COLUMNS = ("Date", "Open", "High", "Low", "Close", "Adj Close", "Volume")
DEFAULT_START = datetime.date(2024, 1, 2)

_YEAR = 252  # trading days
_GARCH_ALPHA, _GARCH_BETA = 0.08, 0.90
_GAP_SHARE = 0.3  # overnight σ as a fraction of the day's σ
_RANGE_SHARE = 0.5  # how far high / low reach past open and close, in σ
_VOLUME_PHI, _VOLUME_SIGMA, _VOLUME_MOVE = 0.7, 0.3, 0.15
_QUIET_DAYS = 5  # between two incidents of one ticker
_SYMBOLS = (
    ("AAPX", "Aapex Devices"),
    ("BRKQ", "Brookquay Holdings"),
    ("CNVX", "Convexa Energy"),
    ("DLTQ", "Deltaquin Logistics"),
    ("ELMZ", "Elmazon Retail"),
    ("FNXR", "Fenixar Pharma"),
    ("GLDW", "Goldwell Mining"),
    ("HLCN", "Halcyon Software"),
    ("IRWX", "Ironworks Steel"),
    ("JNPR", "Juniperline Foods"),
    ("KRYO", "Kryon Semiconductors"),
    ("LUMQ", "Lumiq Media"),
)


def bars_dtype(id_width: int = 16) -> np.dtype[np.void]:
    """The structured dtype of the generated bars (entity ids up to ``id_width``)."""
    return np.dtype(
        [
            ("date", "datetime64[D]"),
            ("entity_id", f"U{id_width}"),
            ("open", np.float64),
            ("high", np.float64),
            ("low", np.float64),
            ("close", np.float64),
            ("volume", np.int64),
        ]
    )


BARS_DTYPE = bars_dtype()


class GeneratedMarket(NamedTuple):
    entities: list[dict[str, str]]  # ENTITY_COLUMNS, the market first
    bars: np.ndarray  # BARS_DTYPE-like, sorted by date then entity id
    incidents: list[Incident]


@dataclass(frozen=True)
class _Tickers:
    ids: list[str]
    names: list[str]
    start_price: FloatArray  # (k,)
    drift: FloatArray  # (k,) daily log drift
    sigma: FloatArray  # (k,) daily volatility
    volume_level: FloatArray  # (k,) log of the typical volume


@dataclass(frozen=True)
class _Shocks:
    """Every random draw of the clean market, (k, T) each, made before any incident."""

    ret: FloatArray
    gap: FloatArray
    high: FloatArray
    low: FloatArray
    volume: FloatArray


class _What(NamedTuple):
    metrics: tuple[str, ...]
    direction: str
    description: str


@dataclass
class _Effects:
    """What the incidents do, (k, T) each: added overnight log jump, σ and volume factors."""

    gap: FloatArray
    sigma: FloatArray
    volume: FloatArray


def generate_market(
    seed: int = 0,
    tickers: int = 8,
    days: int = 500,
    market: str = "US",
    start: datetime.date = DEFAULT_START,
    *,
    plant: bool = True,
) -> GeneratedMarket:
    """Entities, daily bars and planted incidents of a synthetic market (deterministic)."""
    _validate(tickers, days, market)
    rng_tickers, rng_shocks, rng_incidents = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3)
    )
    info = _draw_tickers(market, tickers, rng_tickers)
    shocks = _draw_shocks(rng_shocks, tickers, days)
    dates = trading_days(start, days)
    effects = _Effects(
        np.zeros((tickers, days)), np.ones((tickers, days)), np.ones((tickers, days))
    )
    incidents = _plant(info, dates, effects, rng_incidents, market) if plant else []
    o, h, lo, c, v = _simulate(info, shocks, effects)
    entities = [_entity(market, "market", "", f"{market} market")]
    entities += [_entity(i, "ticker", market, n) for i, n in zip(info.ids, info.names, strict=True)]
    return GeneratedMarket(entities, _table(dates, info.ids, o, h, lo, c, v), incidents)


def trading_days(start: datetime.date, days: int) -> npt.NDArray[np.datetime64]:
    """The first ``days`` weekdays on or after ``start``."""
    first = np.datetime64(start, "D")
    return np.busday_offset(first, np.arange(days), roll="forward")


def write_ohlcv_csv(
    bars: np.ndarray, path: str | pathlib.Path, long: bool = True
) -> list[pathlib.Path]:
    """Bars as finance tools export them: ``Date,Open,High,Low,Close,Adj Close,Volume``.

    ``long=True``: one file at ``path`` with a ``Ticker`` column after ``Date``.
    ``long=False``: ``path`` is a directory that gets one ``<TICKER>.csv`` per ticker.
    The ticker is the symbol (``AAPX`` for ``US-AAPX``); ``Adj Close`` equals ``Close``
    (no dividends or splits are generated). Returns the paths written.
    """
    path = pathlib.Path(path)
    symbols = np.array([_symbol(str(e)) for e in bars["entity_id"]])
    if long:
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_rows(path, bars, symbols, with_ticker=True)
        return [path]
    path.mkdir(parents=True, exist_ok=True)
    written = []
    for symbol in sorted(set(symbols.tolist())):
        mask = symbols == symbol
        written.append(path / f"{symbol}.csv")
        _write_rows(written[-1], bars[mask], symbols[mask], with_ticker=False)
    return written


# --- the clean market ------------------------------------------------------------------------


def _validate(tickers: int, days: int, market: str) -> None:
    if tickers < 1 or days < 2:
        raise ValueError(f"need at least one ticker and two days, got {tickers}, {days}")
    if not (market.isascii() and market.isalnum() and market.isupper()):
        raise ValueError(f"market code must be upper-case letters/digits, got {market!r}")


def _draw_tickers(market: str, k: int, rng: np.random.Generator) -> _Tickers:
    pairs = list(_SYMBOLS[:k])
    taken = {s for s, _ in pairs}
    while len(pairs) < k:
        symbol = "".join(chr(65 + int(i)) for i in rng.integers(0, 26, 4))
        if symbol not in taken:
            taken.add(symbol)
            pairs.append((symbol, f"{symbol.title()} Corp"))
    pairs.sort()
    return _Tickers(
        ids=[f"{market}-{s}" for s, _ in pairs],
        names=[n for _, n in pairs],
        start_price=np.exp(rng.uniform(np.log(10), np.log(400), k)),
        drift=rng.normal(0.06, 0.08, k) / _YEAR,
        sigma=rng.uniform(0.15, 0.45, k) / math.sqrt(_YEAR),
        volume_level=rng.uniform(np.log(2e5), np.log(2e7), k),
    )


def _draw_shocks(rng: np.random.Generator, k: int, T: int) -> _Shocks:
    ret, gap, volume = (rng.standard_normal((k, T)) for _ in range(3))
    high, low = (np.abs(rng.standard_normal((k, T))) for _ in range(2))
    return _Shocks(ret=ret, gap=gap, high=high, low=low, volume=volume)


def _garch_sigma(sigma: FloatArray, z: FloatArray) -> FloatArray:
    """(k, T) daily σ from GARCH(1, 1) with long-run σ ``sigma`` and standard shocks ``z``."""
    omega = sigma**2 * (1 - _GARCH_ALPHA - _GARCH_BETA)
    var = np.empty_like(z)
    var[:, 0] = sigma**2
    for t in range(1, z.shape[1]):
        var[:, t] = omega + (_GARCH_ALPHA * z[:, t - 1] ** 2 + _GARCH_BETA) * var[:, t - 1]
    return np.sqrt(var)


def _ar1(z: FloatArray, phi: float) -> FloatArray:
    """Stationary AR(1) with unit innovations ``z`` (k, T), scaled to unit variance."""
    out = np.empty_like(z)
    out[:, 0] = z[:, 0]
    scale = math.sqrt(1 - phi**2)
    for t in range(1, z.shape[1]):
        out[:, t] = phi * out[:, t - 1] + scale * z[:, t]
    return out


def _simulate(
    info: _Tickers, shocks: _Shocks, effects: _Effects
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, npt.NDArray[np.int64]]:
    """(k, T) open, high, low, close, volume."""
    base = _garch_sigma(info.sigma, shocks.ret)
    s = base * effects.sigma
    gap = _GAP_SHARE * s * shocks.gap + effects.gap
    intraday = info.drift[:, None] - 0.5 * s**2 + s * shocks.ret
    log_close = np.log(info.start_price)[:, None] + np.cumsum(gap + intraday, axis=1)
    close = np.exp(log_close)
    open_ = np.exp(log_close - intraday)
    high = np.maximum(open_, close) * np.exp(_RANGE_SHARE * s * shocks.high)
    low = np.minimum(open_, close) * np.exp(-_RANGE_SHARE * s * shocks.low)
    move = np.minimum(np.abs(gap + intraday) / base, 4.0)
    log_volume = (
        info.volume_level[:, None]
        + _VOLUME_SIGMA * _ar1(shocks.volume, _VOLUME_PHI)
        + _VOLUME_MOVE * (move - 0.8)
    )
    volume = np.rint(np.exp(log_volume) * effects.volume).astype(np.int64)
    o, h, lo, c = (np.round(np.maximum(x, 0.01), 2) for x in (open_, high, low, close))
    return o, h, lo, c, volume


def _table(
    dates: npt.NDArray[np.datetime64],
    ids: list[str],
    *columns: npt.NDArray[np.float64] | npt.NDArray[np.int64],
) -> np.ndarray:
    """(k, T) columns → rows sorted by date then id (ids are sorted)."""
    k, T = len(ids), len(dates)
    table = np.empty(T * k, dtype=bars_dtype(max(len(i) for i in ids)))
    table["date"] = np.repeat(dates, k)
    table["entity_id"] = np.tile(np.array(ids), T)
    for name, column in zip(("open", "high", "low", "close", "volume"), columns, strict=True):
        table[name] = column.T.reshape(-1)
    return table


def _entity(entity_id: str, entity_type: str, parent_id: str, name: str) -> dict[str, str]:
    return dict(zip(ENTITY_COLUMNS, (entity_id, entity_type, parent_id, name), strict=True))


# --- incidents -------------------------------------------------------------------------------


def _plant(
    info: _Tickers,
    dates: npt.NDArray[np.datetime64],
    effects: _Effects,
    rng: np.random.Generator,
    market: str,
) -> list[Incident]:
    """Plant incidents in the last ``INCIDENT_FRACTION`` of the days; write them to ``effects``."""
    k, T = effects.gap.shape
    window = max(20, math.ceil(INCIDENT_FRACTION * T))
    first = max(1, T - window)  # day 0 has no previous close to gap from
    busy = np.zeros((k, T), dtype=bool)
    wanted = max(3, round(k * (T - first) / 60))
    incidents: list[Incident] = []
    for _ in range(wanted * 20):
        if len(incidents) == wanted:
            break
        kind = MARKET_INCIDENT_KINDS[len(incidents) % len(MARKET_INCIDENT_KINDS)]
        duration = _duration(kind, rng)
        ticker, day = int(rng.integers(k)), int(rng.integers(first, T - duration + 1))
        if busy[ticker, max(0, day - _QUIET_DAYS) : day + duration + _QUIET_DAYS].any():
            continue
        busy[ticker, day : day + duration] = True
        end = day + duration - 1
        what = _apply(kind, ticker, day, end, info, effects, rng)
        incidents.append(
            Incident(
                incident_id="",
                kind=kind,
                level="ticker",
                root_entity=info.ids[ticker],
                start=_date(dates[day]),
                end=_date(dates[end]),
                affected=(info.ids[ticker],),
                metrics=what.metrics,
                direction=what.direction,
                description=what.description,
            )
        )
    incidents.sort(key=lambda i: (i.start, i.root_entity))
    return [replace(i, incident_id=f"{market}-I{n:03d}") for n, i in enumerate(incidents, 1)]


def _duration(kind: str, rng: np.random.Generator) -> int:
    low, high = {"price_gap": (1, 1), "volume_spike": (1, 3), "volatility_regime": (5, 15)}[kind]
    return int(rng.integers(low, high + 1))


def _apply(
    kind: str,
    ticker: int,
    day: int,
    end: int,
    info: _Tickers,
    effects: _Effects,
    rng: np.random.Generator,
) -> _What:
    """Change ``effects`` for one incident; say what moved, which way, in words."""
    symbol, span = _symbol(info.ids[ticker]), slice(day, end + 1)
    n = end - day + 1
    if kind == "price_gap":
        up = bool(rng.random() < 0.5)
        size = float(rng.uniform(0.08, 0.15))
        effects.gap[ticker, day] = math.log1p(size if up else -size)
        where = "above" if up else "below"
        text = f"{symbol} opened {size:.0%} {where} the previous close (an overnight gap)."
        return _What(("open", "close"), "up" if up else "down", text)
    if kind == "volume_spike":
        factor = float(rng.uniform(5.0, 10.0))
        effects.volume[ticker, span] = factor
        text = f"Volume of {symbol} spiked ×{factor:.1f} for {n} day{'s' * (n > 1)}."
        return _What(("volume",), "up", text)
    effects.sigma[ticker, span] = 3.0
    text = f"Volatility of {symbol} tripled (σ ×3) for {n} trading days."
    return _What(("high", "low", "close"), "up", text)


def _date(day: np.datetime64) -> datetime.date:
    return datetime.date.fromisoformat(str(day))


# --- CSV -------------------------------------------------------------------------------------


def _symbol(entity_id: str) -> str:
    return entity_id.split("-", 1)[-1]


def _write_rows(
    path: pathlib.Path, bars: np.ndarray, symbols: npt.NDArray[np.str_], *, with_ticker: bool
) -> None:
    header = list(OHLCV_CSV_COLUMNS)
    if with_ticker:
        header.insert(1, "Ticker")
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for row, symbol in zip(bars.tolist(), symbols.tolist(), strict=True):
            day, _, o, h, lo, c, v = row
            prices = [f"{x:.2f}" for x in (o, h, lo, c, c)]
            lead = [day.isoformat(), symbol] if with_ticker else [day.isoformat()]
            writer.writerow([*lead, *prices[:4], prices[4], str(v)])
