"""Market profiles: train a market's model, scan its tickers' new bars incrementally.

``train_market`` fits one model per market and interval (``market_if_<interval>_<market>``)
on the tickers' stored bars and publishes it to the registry like any PPC model: versioned
by the SHA-256 of its ONNX bytes, live once the profile's model set names it.

``scan_market`` scores the bars each ticker has not been scanned for yet (the detection
metadata records the last bar scanned per ticker and interval), so a second scan with no
new bars scores nothing and finds nothing. With ``start`` / ``end`` it scores that range
instead (a backfill or an explicit detection), skipping bars already scanned unless
``force``. Alert ids are deterministic (ticker, interval, bar), so a re-scan or a
redelivered message never stores an alert twice. Each alert keeps the bar's fourteen
indicator values (``explanation``: actual, the ticker's usual value, leave-one-out
contribution) and, last, ``prior_volatility`` (whether the market was already volatile:
``detection.market.regime_entry``), the calibrated score, the model version (its SHA-256)
and the interval.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tripwire.detection.market import (
    FIRST_SCORED,
    BarScores,
    MarketDetector,
    detector_name,
    regime_entry,
)
from tripwire.domain import Alert, Attribution, DetectionRun, RunStatus, Severity, Trigger
from tripwire.domain.alerts import alert_id
from tripwire.domain.calendars import CALENDARS
from tripwire.domain.entities import Entity, EntityType
from tripwire.domain.metrics import Interval
from tripwire.domain.runs import DetectionMetadata, SeriesStatus
from tripwire.features.ohlcv import FEATURES
from tripwire.registry.manager import ModelManager, default_manager
from tripwire.registry.store import RegistryStore
from tripwire.service.runs import new_run_id, run_expiry, utcnow
from tripwire.service.scoring import ScanStores
from tripwire.store.metadata import SeriesState, unit_of

FloatArray = npt.NDArray[np.float64]
TRAINING_BARS = 750  # ~3 years of daily bars; the latest this many per ticker
MAX_CATCHUP_BARS = 60  # a scan scores at most this many new bars per ticker; backfill the rest
# Calendar days one bar spans at least (a 6.5-hour session has 6.5 hourly bars), so a read
# of bars × this × 1.6 (weekends, holidays) + a week holds the bars a scan needs.
_DAYS_PER_BAR = {Interval.D1: 1.0, Interval.H1: 1 / 6, Interval.M15: 1 / 26, Interval.M5: 1 / 78}


class UnknownMarket(LookupError):
    """The profile has no tickers under this market."""


@dataclass
class MarketTrainReport:
    tenant: str
    profile: str
    market: str
    interval: Interval
    tickers: int
    bars: int
    versions: dict[str, str]
    seconds: float

    def summary(self) -> str:
        name = detector_name(self.interval, self.market)
        return (
            f"trained {name} of {self.profile} on {self.tickers} tickers, {self.bars} bars "
            f"in {self.seconds:.1f}s: version {self.versions[name][:12]}"
        )


@dataclass
class MarketScanReport:
    run: DetectionRun
    alerts: list[Alert] = field(default_factory=list)  # new alerts stored by this scan
    found: list[Alert] = field(default_factory=list)  # every anomaly found, new or not
    bars_scored: int = 0
    already_known: int = 0


def train_market(
    tenant: str,
    profile: str,
    market: str | None = None,
    interval: Interval = Interval.D1,
    *,
    end: dt.datetime | None = None,
    bars: int = TRAINING_BARS,
    stores: ScanStores | None = None,
    registry: RegistryStore | None = None,
) -> MarketTrainReport:
    """Fit the market's model on each ticker's latest ``bars`` bars up to ``end``; publish it."""
    from tripwire.training.market import train_market_model  # training deps stay out of Lambda

    started = time.perf_counter()
    stores = stores or ScanStores()
    market, tickers = market_tickers(stores, tenant, profile, market)
    end = end or utcnow()
    loaded = load_bars(
        stores, tenant, profile, interval, tickers, back_from(end, bars, interval), end
    )
    series = [values[-bars:] for _, values in loaded.values()]
    sessions = [session_shares(market, interval, periods[-bars:]) for periods, _ in loaded.values()]
    onnx_bytes, metadata = train_market_model(series, interval, market, sessions=sessions)
    first = min((periods[-bars:][0] for periods, _ in loaded.values() if periods), default="")
    metadata.update(market=market, training_start=first, training_end=end.isoformat())
    name = detector_name(interval, market)
    versions = (registry or RegistryStore()).publish_models(
        tenant, profile, {name: (onnx_bytes, metadata)}
    )
    return MarketTrainReport(
        tenant,
        profile,
        market,
        interval,
        len(tickers),
        sum(len(s) for s in series),
        versions,
        time.perf_counter() - started,
    )


def scan_market(
    tenant: str,
    profile: str,
    market: str | None = None,
    interval: Interval = Interval.D1,
    *,
    entity_ids: Sequence[str] | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    force: bool = False,
    run_id: str | None = None,
    trigger: Trigger = Trigger.SCHEDULE,
    stores: ScanStores | None = None,
    manager: ModelManager | None = None,
    on_alerts: Callable[[list[Alert]], None] | None = None,
) -> MarketScanReport:
    """Score the tickers' unscanned bars (or ``start..end``); store new alerts and state.

    With ``run_id`` the caller (the scan worker) owns the run record; without one a run
    is created and stored here.
    """
    stores = stores or ScanStores()
    market, tickers = market_tickers(stores, tenant, profile, market, entity_ids)
    detector, version = current_market_model(tenant, profile, market, interval, manager)
    now, end = utcnow(), end or utcnow()
    run = DetectionRun(
        run_id=run_id or new_run_id(),
        tenant_id=tenant,
        profile_id=profile,
        trigger=trigger,
        model_versions={detector_name(interval, market): version},
        started_at=now,
        entities_checked=len(tickers),
        expires_at=run_expiry(now),
    )
    states = stores.metadata.read(tenant, profile, interval, {unit_of(t) for t in tickers})
    done = {t.entity_id: _detected(states.get(t.entity_id)) for t in tickers}
    first_wanted = start or _catchup_from(done, end, interval)
    loaded = load_bars(
        stores,
        tenant,
        profile,
        interval,
        tickers,
        back_from(first_wanted, FIRST_SCORED, interval),
        end,
    )
    wanted = {
        ticker: _wanted(periods, done[ticker], start, force)
        for ticker, (periods, _) in loaded.items()
    }
    found, scored = _score(detector, loaded, wanted, run, interval, market)
    stored = stores.alerts.existing(tenant, [a.alert_id for a in found])
    new = [a for a in found if a.alert_id not in stored]
    stores.alerts.put_many(new)
    if on_alerts is not None:
        on_alerts(found)  # after the alerts are stored: a notification never loses one
    by_unit = _states(run, interval, market, tickers, states, loaded, wanted, found, version)
    if by_unit:
        stores.metadata.write(tenant, profile, interval, by_unit)
    run = run.model_copy(
        update={
            "completed_at": utcnow(),
            "rows_loaded": sum(len(p) for p, _ in loaded.values()),
            "rows_processed": scored,
            "anomalies_found": len(new),
            "alert_ids": sorted(a.alert_id for a in new),
            "status": RunStatus.COMPLETE,
            "warnings": [] if scored else ["nothing new to detect: no unscanned bars"],
        }
    )
    if run_id is None:
        stores.runs.put(run)
    return MarketScanReport(run, new, found, scored, len(found) - len(new))


@dataclass
class MarketVerification:
    """An anomaly re-scored with the current model, next to what was stored with it."""

    alert_id: str
    entity_id: str
    period: dt.datetime
    interval: Interval
    stored_score: float
    stored_models: dict[str, str]
    stored_features: dict[str, float]
    current_score: float
    current_models: dict[str, str]
    current_features: dict[str, float]
    still_anomalous: bool
    around: dict[str, float]  # the current score of the bars around it (period -> score)
    # The current model's view of the bar: each indicator's usual value for the ticker and
    # its robust z-score, the severity (None when no longer anomalous), the alert threshold.
    current_expected: dict[str, float] = field(default_factory=dict)
    current_deviation: dict[str, float] = field(default_factory=dict)
    current_severity: Severity | None = None
    threshold: float = 1.0


def verify_market_alert(
    alert: Alert,
    *,
    around: int = 2,
    stores: ScanStores | None = None,
    manager: ModelManager | None = None,
) -> MarketVerification:
    """Re-score an alert's bar (and ``around`` bars either side) with the current model."""
    stores = stores or ScanStores()
    tenant, profile, interval = alert.tenant_id, alert.profile_id, alert.interval
    _, hierarchy = stores.catalog.get_hierarchy(tenant, profile)
    ticker = next((e for e in hierarchy if e.entity_id == alert.entity_id), None)
    if ticker is None or ticker.parent_id is None:
        raise UnknownMarket(f"{alert.entity_id} is not a ticker of profile {profile!r}")
    detector, version = current_market_model(tenant, profile, ticker.parent_id, interval, manager)
    first = back_from(alert.period, FIRST_SCORED + around, interval)
    last = alert.period + dt.timedelta(days=around * _DAYS_PER_BAR[interval] * 1.6 + 4)
    periods, bars = load_bars(stores, tenant, profile, interval, [ticker], first, last)[
        ticker.entity_id
    ]
    moments = [dt.datetime.fromisoformat(p) for p in periods]
    if alert.period not in moments:
        raise LookupError(f"{alert.entity_id} has no stored bar at {alert.period.isoformat()}")
    index = moments.index(alert.period)
    if index < FIRST_SCORED:
        raise LookupError(f"{alert.entity_id} has too few bars before {alert.period} to score")
    lo, hi = max(index - around, FIRST_SCORED), min(index + around, len(periods) - 1)
    session = session_shares(ticker.parent_id, interval, periods[: hi + 1])
    scores = detector.score_bars(
        bars[None, : hi + 1], start=lo, session=None if session is None else session[None]
    )
    at = index - lo
    p = float(scores.tail_prob[0, at])
    still = bool(detector.is_anomaly(np.array(p)))
    return MarketVerification(
        alert_id=alert.alert_id,
        entity_id=alert.entity_id,
        period=alert.period,
        interval=interval,
        stored_score=alert.score,
        stored_models=dict(alert.model_versions),
        stored_features={e.feature: e.actual for e in alert.explanation if e.feature in FEATURES},
        current_score=1.0 - p,
        current_models={detector_name(interval, ticker.parent_id): version},
        current_features=dict(zip(FEATURES, map(float, scores.features[0, at]), strict=True)),
        still_anomalous=still,
        around={periods[lo + i]: 1.0 - float(q) for i, q in enumerate(scores.tail_prob[0])},
        current_expected=dict(zip(FEATURES, map(float, scores.expected[0, at]), strict=True)),
        current_deviation=dict(zip(FEATURES, map(float, scores.z[0, at]), strict=True)),
        current_severity=detector.severity(p) if still else None,
        threshold=1.0 - detector.alert_tail_prob,
    )


def market_tickers(
    stores: ScanStores,
    tenant: str,
    profile: str,
    market: str | None,
    entity_ids: Sequence[str] | None = None,
) -> tuple[str, list[Entity]]:
    """(market id, its tickers): the profile's only market when ``market`` is None."""
    _, hierarchy = stores.catalog.get_hierarchy(tenant, profile)
    markets = sorted(e.entity_id for e in hierarchy if e.entity_type is EntityType.MARKET)
    if market is None and len(markets) == 1:
        market = markets[0]
    if market not in markets:
        raise UnknownMarket(f"profile {profile!r} has markets {markets}, not {market!r}")
    wanted = set(entity_ids) if entity_ids is not None else None
    tickers = [
        e
        for e in hierarchy
        if e.entity_type is EntityType.TICKER
        and e.parent_id == market
        and (wanted is None or e.entity_id in wanted)
    ]
    if not tickers:
        raise UnknownMarket(f"market {market!r} of profile {profile!r} has no tickers")
    return str(market), sorted(tickers, key=lambda e: e.entity_id)


def current_market_model(
    tenant: str,
    profile: str,
    market: str,
    interval: Interval,
    manager: ModelManager | None = None,
) -> tuple[MarketDetector, str]:
    """The market's published model (cached per version) and its version; ``NoModels`` if none."""
    manager = manager or default_manager()
    name = detector_name(interval, market)
    version = manager.versions(tenant, profile).get(name)
    metadata = manager.metadata(tenant, profile, name)
    detector = manager.get(tenant, profile, name, lambda data: MarketDetector(data, metadata))
    return detector, str(version)


Bars = dict[str, tuple[list[str], FloatArray]]  # ticker -> (periods, (T, 5) OHLCV)


def load_bars(
    stores: ScanStores,
    tenant: str,
    profile: str,
    interval: Interval,
    tickers: Sequence[Entity],
    first: dt.datetime,
    end: dt.datetime,
) -> Bars:
    """Each ticker's stored bars in [first, end], oldest first (batched reads)."""
    window = stores.metrics.read_window(
        tenant, profile, interval, [t.entity_id for t in tickers], first, end
    )
    return {
        ticker: (list(points), np.array(list(points.values()), dtype=np.float64).reshape(-1, 5))
        for ticker, points in window.items()
    }


# -- internals ---------------------------------------------------------------------------


def session_shares(market: str, interval: Interval, periods: Sequence[str]) -> FloatArray | None:
    """Each daily bar's share of a regular session in its market's calendar (a half day
    before a US holiday: 3.5 of 6.5 hours), so its volume is judged as a short session's;
    None for intraday bars or a market without a calendar."""
    if interval is not Interval.D1 or market not in CALENDARS:
        return None
    days = [dt.date.fromisoformat(p[:10]) for p in periods]
    return np.asarray(CALENDARS[market].session_shares(days))


def back_from(moment: dt.datetime, bars: int, interval: Interval) -> dt.datetime:
    """A moment early enough that [it, moment] holds ``bars`` bars (weekends included)."""
    return moment - dt.timedelta(days=bars * _DAYS_PER_BAR[interval] * 1.6 + 7)


Detected = tuple[dt.datetime | None, dt.datetime | None]  # first and last bar scanned


def _detected(state: SeriesState | None) -> Detected:
    if state is None or state.meta.last_detected is None:
        return None, None
    return state.first_detected or state.meta.last_detected, state.meta.last_detected


def _wanted(
    periods: list[str], done: Detected, start: dt.datetime | None, force: bool
) -> npt.NDArray[np.bool_]:
    """Which loaded bars to score: the unscanned ones (at most the latest MAX_CATCHUP_BARS),
    or the range from ``start`` minus what is scanned already (unless ``force``)."""
    moments = np.array([dt.datetime.fromisoformat(p) for p in periods], dtype="datetime64[s]")
    first, last = (np.datetime64(d, "s") if d else None for d in done)
    if start is not None:
        mask = moments >= np.datetime64(start, "s")
        if not force and first is not None and last is not None:
            mask &= (moments < first) | (moments > last)
        return np.asarray(mask)
    mask = moments > last if last is not None else np.ones(len(periods), dtype=bool)
    mask[: max(0, len(periods) - MAX_CATCHUP_BARS)] = False
    return np.asarray(mask)


def _score(
    detector: MarketDetector,
    loaded: Bars,
    wanted: dict[str, npt.NDArray[np.bool_]],
    run: DetectionRun,
    interval: Interval,
    market: str,
) -> tuple[list[Alert], int]:
    """Score the wanted bars, tickers of equal length together; (anomalies, bars scored)."""
    groups: dict[int, list[str]] = {}
    for ticker, (periods, _) in loaded.items():
        scoreable = wanted[ticker][FIRST_SCORED:]
        if scoreable.any():
            groups.setdefault(len(periods), []).append(ticker)
    found: list[Alert] = []
    scored = 0
    for tickers in groups.values():
        first = min(int(np.argmax(wanted[t][FIRST_SCORED:])) for t in tickers) + FIRST_SCORED
        shares = [session_shares(market, interval, loaded[t][0]) for t in tickers]
        known = [s for s in shares if s is not None]
        session = np.stack(known) if len(known) == len(shares) else None
        scores = detector.score_bars(
            np.stack([loaded[t][1] for t in tickers]), start=first, session=session
        )
        for row, ticker in enumerate(tickers):
            mask = wanted[ticker][first:]
            scored += int(mask.sum())
            for offset in np.flatnonzero(mask & detector.is_anomaly(scores.tail_prob[row])):
                period = loaded[ticker][0][first + int(offset)]
                found.append(
                    _alert(detector, scores, row, int(offset), ticker, period, run, interval)
                )
    return found, scored


def _alert(
    detector: MarketDetector,
    scores: BarScores,
    row: int,
    offset: int,
    ticker: str,
    period: str,
    run: DetectionRun,
    interval: Interval,
) -> Alert:
    p = float(scores.tail_prob[row, offset])
    z = scores.z[row, offset]
    contribution = detector.contributions(
        z, scores.previous[row, offset], scores.move[:, row, offset]
    )
    actual, expected = scores.features[row, offset], scores.expected[row, offset]
    order = np.argsort(-np.abs(contribution), kind="stable")
    explanation = [
        Attribution(
            feature=FEATURES[j],
            contribution=float(contribution[j]),
            direction="above" if actual[j] >= expected[j] else "below",
            expected=float(expected[j]),
            actual=float(actual[j]),
        )
        for j in order
    ]
    explanation.append(regime_entry(scores, row, offset))
    return Alert(
        alert_id=alert_id(run.tenant_id, run.profile_id, ticker, period, interval.value),
        tenant_id=run.tenant_id,
        profile_id=run.profile_id,
        entity_id=ticker,
        entity_type=EntityType.TICKER,
        interval=interval,
        period=dt.datetime.fromisoformat(period),
        score=1.0 - p,
        threshold=1.0 - detector.alert_tail_prob,
        severity=detector.severity(p),
        detector_scores={
            name: 1.0 - float(probs[row, offset]) for name, probs in scores.detector_probs.items()
        },
        explanation=explanation,
        run_id=run.run_id,
        model_versions=run.model_versions,
        created_at=run.started_at,
    )


def _states(
    run: DetectionRun,
    interval: Interval,
    market: str,
    tickers: Sequence[Entity],
    states: dict[str, SeriesState],
    loaded: Bars,
    wanted: dict[str, npt.NDArray[np.bool_]],
    found: list[Alert],
    version: str,
) -> dict[str, list[SeriesState]]:
    """The market's unit item with each ticker's scanned range extended to the bars just
    looked at (other tickers' states kept: the item is rewritten whole)."""
    anomalies: dict[str, int] = {}
    for alert in found:
        anomalies[alert.entity_id] = anomalies.get(alert.entity_id, 0) + 1
    unit = dict(states)  # every state read lives in the market's unit
    changed = False
    for ticker in tickers:
        periods, _ = loaded.get(ticker.entity_id, ([], np.zeros((0, 5))))
        mask = wanted.get(ticker.entity_id)
        if mask is None or not mask.any():
            continue
        looked = [dt.datetime.fromisoformat(p) for p, m in zip(periods, mask, strict=True) if m]
        old = states.get(ticker.entity_id)
        first, last = _detected(old)
        enough = len(periods) > FIRST_SCORED or (old is not None and old.meta.status == "ok")
        meta = DetectionMetadata(
            tenant_id=run.tenant_id,
            profile_id=run.profile_id,
            entity_id=ticker.entity_id,
            interval=interval,
            last_detected=max([*looked, *([last] if last else [])]),
            model_version=version,
            rows_processed=(old.meta.rows_processed if old else 0) + len(looked),
            anomalies_found=(old.meta.anomalies_found if old else 0)
            + anomalies.get(ticker.entity_id, 0),
            status=SeriesStatus.OK if enough else SeriesStatus.INSUFFICIENT_HISTORY,
        )
        unit[ticker.entity_id] = SeriesState(meta, min([*looked, *([first] if first else [])]))
        changed = True
    return {market: list(unit.values())} if changed else {}


def _catchup_from(done: dict[str, Detected], end: dt.datetime, interval: Interval) -> dt.datetime:
    """The oldest unscanned bar a scan looks at: a never-scanned ticker's or the oldest
    last-scanned one, but no older than MAX_CATCHUP_BARS before ``end``."""
    floor = back_from(end, MAX_CATCHUP_BARS, interval)
    lasts = [last for _, last in done.values()]
    if any(last is None for last in lasts):
        return floor
    return max(min(last for last in lasts if last is not None), floor)
