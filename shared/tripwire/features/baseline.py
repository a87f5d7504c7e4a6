"""Per-entity baselines from each entity's own recent history, judged by what counts can do.

Input: a window of raw measures ``(n_entities, T, 5)`` whose last period is the one being
scanned; the ``T - 1`` periods before it are the history. For every entity at once:

1. **Units.** Money becomes count-equivalents: spend in clicks (÷ the window's CPC), sales
   in orders (÷ its order value), so every measure is judged with count noise.
2. **Weekday profile** per entity and measure from the whole history, shrunk towards the
   batch's pooled profile by evidence (an account with 10⁵ impressions a day gets its own
   rhythm; a keyword with 3 clicks a day borrows the account's).
3. **Level**: trimmed mean of the last ``level_periods`` deseasonalised periods (an incident
   inside the window barely moves it). Expected = level × today's weekday factor.
4. **Deviation** on the variance-stabilised (Anscombe, 2·√(x + 3/8)) scale: under Poisson noise
   it is ~N(0, 1) even for small counts, so 0 clicks where 0.5 were expected is −1.1 while 0
   where 40 were expected is −11.4. It is divided by the entity's own robust spread of the
   same quantity over the window (MAD), never less than the Poisson 1: an overdispersed head
   keyword is judged by its real day-to-day wobble, a long-tail one by Poisson noise.
5. **Rates** are judged given today's denominator (binomial ≈ Poisson for small rates): CTR
   as clicks vs impressions × window CTR, CVR as orders vs clicks × window CVR, CPC as spend
   (in clicks) vs clicks, ROAS as sales (in orders) vs spend × window ROAS; ACOS = −ROAS.
   A rate with no denominator today has deviation 0: no evidence, no opinion.
6. **No normal yet**: an entity with impressions on fewer than ``min_active_periods`` of the
   window's periods (just launched, or back from a long pause) gets deviation 0.

No NaN or inf leaves this module.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tripwire.features.ppc import clean, derive, ratio

FloatArray = npt.NDArray[np.float64]

_IMP, _CLK, _SPEND, _SALES, _ORD = range(5)
_MAD_TO_SD = 1.4826
_ANSCOMBE = 3.0 / 8.0
# Spend per click wobbles ~±20 % per click on its own: CPC needs a floor that is not Poisson.
_CPC_RELATIVE_FLOOR = 0.25


@dataclass(frozen=True)
class BaselineConfig:
    level_periods: int = 28  # trailing periods the level and spread come from
    trim: int = 3  # dropped at each end before averaging the level
    profile_evidence: float = 5_000.0  # events at which an entity's own weekday rhythm counts half
    period_length: int = 7  # weekly rhythm (daily data)
    min_active_periods: int = 7  # periods with impressions before an entity has a normal


@dataclass(frozen=True)
class Baseline:
    deviation: FloatArray  # (n, 10) standardised, + above / − below expected
    expected: FloatArray  # (n, 10) natural units
    actual: FloatArray  # (n, 10) natural units


def compute(
    window: npt.ArrayLike,
    last_weekday: int,
    config: BaselineConfig | None = None,
    periods: int = 1,
) -> Baseline:
    """Baseline of the window's last ``periods`` periods (summed: a run) against the
    periods before them. ``last_weekday`` is the weekday of the window's last period."""
    cfg = config or BaselineConfig()
    x = clean(window)
    if x.ndim != 3 or x.shape[2] != 5 or x.shape[1] < periods + 1 or periods < 1:
        raise ValueError(f"expected (n_entities, T > {periods}, 5) raw measures, got {x.shape}")
    hist, today = x[:, :-periods, :], x[:, -periods:, :].sum(axis=1)
    recent = hist[:, -cfg.level_periods :, :]  # (n, W, 5)
    units = _units(recent)
    hist_c, today_c = hist / units[:, None, :], today / units
    recent_c = hist_c[:, -recent.shape[1] :, :]

    first_current = last_weekday - periods + 1
    weekdays = (first_current - np.arange(hist.shape[1], 0, -1)) % cfg.period_length
    profile = _weekday_profile(hist_c, weekdays, cfg)  # (n, 7, 5)
    recent_factor = profile[:, weekdays[-recent.shape[1] :], :]  # (n, W, 5)
    level = _trimmed_mean(recent_c / recent_factor, cfg.trim)
    current_days = (first_current + np.arange(periods)) % cfg.period_length
    expected_c = level * profile[:, current_days, :].sum(axis=1)

    spread = _spread(recent_c, level[:, None, :] * recent_factor, floor=1.0)
    count_dev = _stabilised(today_c, expected_c) / spread

    rate_dev, rates = _rate_deviations(recent, recent_c, today, today_c)
    deviation = np.concatenate([count_dev, rate_dev], axis=1)
    # A new (or long-dormant) entity has no normal yet: no opinion rather than an alarm.
    known = (recent[..., _IMP] > 0).sum(axis=1) >= min(cfg.min_active_periods, recent.shape[1])
    deviation[~known] = 0.0
    expected = np.concatenate([expected_c * units, rates], axis=1)
    return Baseline(_finite(deviation), _finite(expected), _finite(derive(today)))


def _units(recent: FloatArray) -> FloatArray:
    """(n, 5) divisors turning measures into count-equivalents (CPC for spend, AOV for sales)."""
    sums = recent.sum(axis=1)
    total = sums.sum(axis=0)
    units: FloatArray = np.ones_like(sums)
    # An entity without clicks (orders) in the window borrows the batch's CPC (order value).
    for money, count in ((_SPEND, _CLK), (_SALES, _ORD)):
        pooled = float(ratio(total[money], total[count])) or 1.0
        own = ratio(sums[:, money], sums[:, count])
        units[:, money] = np.where(own > 0, own, pooled)
    return units


def _weekday_profile(
    hist: FloatArray, weekdays: npt.NDArray[np.int64], cfg: BaselineConfig
) -> FloatArray:
    """(n, 7, 5) multiplicative weekday factors averaging 1 over the weekdays seen."""
    onehot = (weekdays[:, None] == np.arange(cfg.period_length)[None, :]).astype(np.float64)
    days = onehot.sum(axis=0)  # periods per weekday in the history
    seen = days > 0
    sums = np.einsum("nhm,hw->nwm", hist, onehot)  # (n, 7, 5)
    means = sums / np.where(seen, days, 1.0)[None, :, None]
    own = _normalise(means, seen)
    pooled = _normalise(means.sum(axis=0, keepdims=True), seen)
    evidence = hist.sum(axis=1)[:, None, :]  # events per entity and measure
    weight = evidence / (evidence + cfg.profile_evidence)
    return np.asarray(weight * own + (1.0 - weight) * pooled)


def _normalise(means: FloatArray, seen: npt.NDArray[np.bool_]) -> FloatArray:
    average = means[:, seen, :].mean(axis=1, keepdims=True) if seen.any() else means[:, :1, :]
    factor = ratio(means, np.broadcast_to(average, means.shape))
    # A weekday never seen (short history) or an all-zero series: no rhythm, factor 1.
    flat = ~seen[None, :, None] | (average <= 0)
    return np.where(flat, 1.0, np.maximum(factor, 0.05))


def _trimmed_mean(values: FloatArray, trim: int) -> FloatArray:
    """Mean over axis 1 after dropping the ``trim`` lowest and highest values."""
    n = values.shape[1]
    k = min(trim, (n - 1) // 2)
    ordered = np.sort(values, axis=1)
    return np.asarray(ordered[:, k : n - k, :].mean(axis=1))


def _stabilised(actual: FloatArray, expected: FloatArray) -> FloatArray:
    """Anscombe residual: ~N(0, 1) for Poisson counts of any size."""
    return 2.0 * (np.sqrt(actual + _ANSCOMBE) - np.sqrt(np.maximum(expected, 0.0) + _ANSCOMBE))


def _spread(actual: FloatArray, expected: FloatArray, floor: float | FloatArray) -> FloatArray:
    """Robust standard deviation of the stabilised residuals over axis 1, at least ``floor``."""
    mad = np.median(np.abs(_stabilised(actual, expected)), axis=1)
    return np.maximum(_MAD_TO_SD * mad, floor)


def _rate_deviations(
    recent: FloatArray, recent_c: FloatArray, today: FloatArray, today_c: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """(n, 5) deviations and window rates of CTR, CPC, ACOS, CVR, ROAS (in that order)."""
    ctr, cpc, cvr, roas = (
        _rate_deviation(
            recent_c[..., num], recent[..., den], today_c[:, num], today[:, den], num == _SPEND
        )
        for num, den in ((_CLK, _IMP), (_SPEND, _CLK), (_ORD, _CLK), (_SALES, _SPEND))
    )
    return np.stack([ctr, cpc, -roas, cvr, roas], axis=1), _window_rates(recent.sum(axis=1))


def _rate_deviation(
    num_w: FloatArray,
    den_w: FloatArray,
    num_t: FloatArray,
    den_t: FloatArray,
    per_click_cost: bool,
) -> FloatArray:
    """Today's numerator (count units) against today's denominator × the window's rate.
    Spend per click is not a count: CPC gets a relative floor instead of Poisson's."""
    den_sum = den_w.sum(axis=1)
    rate = _rate_with_prior(num_w.sum(axis=1), den_sum)
    expected_t = den_t * rate
    floor: float | FloatArray = 1.0
    if per_click_cost:
        # today's cost noise plus the window CPC's own (large when the window had few clicks)
        grow = 1.0 + expected_t / (den_sum + 0.25)
        floor = _CPC_RELATIVE_FLOOR * np.sqrt(np.maximum(expected_t, 1.0) * grow)
    spread = _spread(num_w, den_w * rate[:, None], floor)
    return _stabilised(num_t, expected_t) / spread


def _window_rates(sums: FloatArray) -> FloatArray:
    """(n, 5) CTR, CPC, ACOS, CVR, ROAS of the window's sums, as ``ppc.derive`` defines them."""
    return derive(sums)[:, 5:]


def _rate_with_prior(num: FloatArray, den: FloatArray) -> FloatArray:
    """Window rate with one pseudo-event at the batch's pooled rate: an entity that never
    clicked in the window is expected to convert like the rest, not at rate 0."""
    pooled = float(ratio(num.sum(), den.sum()))
    if pooled <= 0:
        return ratio(num, den)
    return (num + 1.0) / (den + 1.0 / pooled)


def _finite(values: FloatArray) -> FloatArray:
    return np.nan_to_num(values, nan=0.0, posinf=1e12, neginf=-1e12)
