"""Per-entity baselines from each entity's own recent history, judged by what counts can do.

Input: a window of raw measures ``(n_entities, T, 5)`` whose last period is the one being
scanned; the ``T - 1`` periods before it are the history. For every entity at once:

1. **Units.** Money becomes count-equivalents: spend in clicks (÷ the window's CPC), sales
   in orders (÷ its order value), so every measure is judged with count noise.
2. **Weekday profile** (or hour-of-week profile, ``HOUR_OF_WEEK``: ``period_length`` 168
   for hourly data) per entity and measure from the whole history, shrunk towards the
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
_FINITE_CAP = 1e15  # ppc.ratio's cap
# Spend per click wobbles ~±20 % per click on its own: CPC needs a floor that is not Poisson.
_CPC_RELATIVE_FLOOR = 0.25


@dataclass(frozen=True)
class BaselineConfig:
    level_periods: int = 28  # trailing periods the level and spread come from
    trim: int = 3  # dropped at each end before averaging the level
    profile_evidence: float = 5_000.0  # events at which an entity's own weekday rhythm counts half
    period_length: int = 7  # weekly rhythm (daily data)
    min_active_periods: int = 7  # periods with impressions before an entity has a normal


# Hourly data: the rhythm is the hour of the week (168 periods; a keyword's own rhythm
# needs the same evidence, the rest borrow the batch's), the level the last week's
# deseasonalised hours with a day's worth trimmed at each end, and a normal needs a day of
# hours with impressions.
HOUR_OF_WEEK = BaselineConfig(
    level_periods=168, trim=12, profile_evidence=5_000.0, period_length=168, min_active_periods=24
)


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
    # (n, 7, 5) as one BLAS product: einsum's loop took seconds on 168 hours of the week
    sums = np.swapaxes(np.matmul(np.swapaxes(hist, 1, 2), onehot), 1, 2)
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


# -- many scan periods at once ---------------------------------------------------------

_CHUNK_ELEMENTS = 1 << 18  # recent-window values per entity chunk in ``compute_many``
_PAIRS = ((_CLK, _IMP), (_SPEND, _CLK), (_ORD, _CLK), (_SALES, _SPEND))  # CTR CPC CVR ROAS


def compute_many(
    window: npt.ArrayLike,
    last_weekday: int,
    config: BaselineConfig | None = None,
    count: int = 1,
    *,
    history: int | None = None,
    periods: int = 1,
) -> Baseline:
    """Baselines of the window's last ``count`` periods in one pass, oldest first: arrays of
    shape ``(count, n, 10)``. Entry ``j`` (scan period ``t = T - count + j``) equals

        compute(window[:, max(0, t - periods + 1 - history) : t + 1], weekday of t,
                config, periods)

    i.e. each period against the (at most ``history``, default all) periods before its run,
    up to floating-point summation order (~1e-15). The trailing and weekday sums of every
    period come from one matrix product; the order statistics (trimmed level, MAD spreads)
    are one sort per entity chunk for all periods with the same recent-window width."""
    cfg = config or BaselineConfig()
    x = clean(window)
    if x.ndim != 3 or x.shape[2] != 5 or periods < 1 or count < 1:
        raise ValueError(f"expected (n_entities, T, 5) raw measures, got {x.shape}")
    n, days, _ = x.shape
    if days - count - periods + 1 < 1:
        raise ValueError(f"{count} runs of {periods} need more than {days} periods of window")
    cap = days if history is None else history
    if cap < 1:
        raise ValueError(f"history must be at least 1 period, got {history}")
    length = cfg.period_length
    targets = np.arange(days - count, days)
    ends = targets - periods + 1  # each target's history is days [starts, ends)
    starts = np.maximum(0, ends - cap)
    widths = np.minimum(cfg.level_periods, ends - starts)  # recent-window width per target
    day_weekday = (last_weekday - (days - 1 - np.arange(days))) % length

    # Layout (n, 5 measures, L targets[, ...]). One product: every target's recent sums,
    # today's sums and the history's sums per weekday.
    day = np.arange(days)[:, None]
    in_hist = (day >= starts) & (day < ends)  # (T, L)
    in_recent = (day >= ends - widths) & (day < ends)
    in_today = (day >= ends) & (day <= targets)
    by_weekday = in_hist[:, :, None] & (day_weekday[:, None, None] == np.arange(length))
    columns = np.concatenate([in_recent, in_today, by_weekday.reshape(days, -1)], axis=1)
    xt = np.ascontiguousarray(np.swapaxes(x, 1, 2))  # (n, 5, T)
    sums = (xt.reshape(n * 5, days) @ columns.astype(np.float64)).reshape(n, 5, -1)
    recent_sum, today = sums[..., :count], sums[..., count : 2 * count]
    weekday_sum = sums[..., 2 * count :].reshape(n, 5, count, length)
    active = (xt[:, _IMP] > 0).astype(np.float64) @ in_recent.astype(np.float64)  # (n, L)

    units = _units_many(recent_sum)
    today_c = today / units
    days_seen = by_weekday.sum(axis=0).astype(np.float64)  # (L, 7) periods per weekday
    seen = days_seen > 0
    pooled_means = (weekday_sum / units[..., None]).sum(axis=0, keepdims=True)
    pooled_profile = _normalise_many(pooled_means / np.where(seen, days_seen, 1.0), seen)
    current_days = (day_weekday[ends][:, None] + np.arange(periods)) % length  # (L, periods)
    # The batch's pooled window rates (CTR, CPC, CVR, ROAS) per target.
    num_sum = recent_sum / units
    pooled_rate = np.stack(
        [ratio(num_sum[:, a].sum(axis=0), recent_sum[:, b].sum(axis=0)) for a, b in _PAIRS]
    )  # (4, L)

    deviation = np.zeros((n, 10, count))
    expected_c = np.zeros((n, 5, count))
    for width in np.unique(widths).tolist():
        group = np.flatnonzero(widths == width)
        size = len(group)
        rows = ends[group][:, None] - width + np.arange(width)  # (G, W) recent days
        local = np.arange(size)[:, None] * length
        factor_index = (local + day_weekday[rows]).ravel()
        current_index = (local + current_days[group]).ravel()
        chunk = max(1, _CHUNK_ELEMENTS // (size * width * 5))
        for lo in range(0, n, chunk):
            part = slice(lo, min(n, lo + chunk))
            c = min(n, lo + chunk) - lo
            units_g = units[part][..., group]
            profile = _weekday_profile_many(
                weekday_sum[part][:, :, group],
                units_g,
                days_seen[group],
                pooled_profile[:, :, group],
                cfg,
            ).reshape(c, 5, size * length)
            current_factor = np.take(profile, current_index, axis=2)
            shape = (c, 5, size, width)
            dev, exp_c = _deviations_many(
                np.take(xt[part], rows.ravel(), axis=2).reshape(shape),
                np.take(profile, factor_index, axis=2).reshape(shape),
                units_g,
                current_factor.reshape(c, 5, size, periods).sum(axis=3),
                recent_sum[part][..., group],
                today[part][..., group],
                today_c[part][..., group],
                pooled_rate[:, group],
                cfg.trim,
            )
            deviation[part, :, group] = dev
            expected_c[part, :, group] = exp_c
    known = active >= np.minimum(cfg.min_active_periods, widths)[None, :]
    deviation *= known[:, None, :]
    expected = np.concatenate(
        [expected_c * units, derive(np.moveaxis(recent_sum, 1, 2))[..., 5:].transpose(0, 2, 1)],
        axis=1,
    )
    actual = derive(np.moveaxis(today, 1, 2))
    return Baseline(
        np.moveaxis(_finite(deviation), 2, 0),
        np.moveaxis(_finite(expected), 2, 0),
        np.swapaxes(_finite(actual), 0, 1),
    )


def _units_many(sums: FloatArray) -> FloatArray:
    """``_units`` for (n, 5, L) recent sums, each target pooled over the batch on its own."""
    total = sums.sum(axis=0)  # (5, L)
    units: FloatArray = np.ones_like(sums)
    for money, count in ((_SPEND, _CLK), (_SALES, _ORD)):
        pooled = ratio(total[money], total[count])
        pooled = np.where(pooled != 0, pooled, 1.0)
        own = ratio(sums[:, money], sums[:, count])
        units[:, money] = np.where(own > 0, own, pooled[None, :])
    return units


def _weekday_profile_many(
    weekday_sum: FloatArray,
    units: FloatArray,
    days: FloatArray,
    pooled: FloatArray,
    cfg: BaselineConfig,
) -> FloatArray:
    """``_weekday_profile`` of G targets: (c, 5, G, 7) from weekday sums (c, 5, G, 7), the
    history's periods per weekday (G, 7) and the batch's pooled profile (1, 5, G, 7)."""
    seen = days > 0
    sums = weekday_sum / units[..., None]
    own = _normalise_many(sums / np.where(seen, days, 1.0), seen)
    evidence = sums.sum(axis=3, keepdims=True)
    weight = evidence / (evidence + cfg.profile_evidence)
    return np.asarray(weight * own + (1.0 - weight) * pooled)


def _normalise_many(means: FloatArray, seen: npt.NDArray[np.bool_]) -> FloatArray:
    """``_normalise`` over the last (weekday) axis, with per-target ``seen`` (L, 7)."""
    if seen.all():
        average = means.sum(axis=-1, keepdims=True) / seen.shape[-1]
    else:
        average = np.where(seen, means, 0.0).sum(axis=-1, keepdims=True) / seen.sum(
            axis=-1, keepdims=True
        )
    positive = average > 0
    factor = np.minimum(means / np.where(positive, average, 1.0), _FINITE_CAP)
    np.maximum(factor, 0.05, out=factor)
    return np.where(seen & positive, factor, 1.0)


def _deviations_many(
    recent: FloatArray,
    factor: FloatArray,
    units: FloatArray,
    current_factor: FloatArray,
    recent_sum: FloatArray,
    today: FloatArray,
    today_c: FloatArray,
    pooled_rate: FloatArray,
    trim: int,
) -> tuple[FloatArray, FloatArray]:
    """(c, 10, G) deviations and (c, 5, G) expected count-equivalents of G targets sharing a
    recent-window width W: raw ``recent`` and weekday ``factor`` are (c, 5, G, W)."""
    recent_c = recent / units[..., None]
    level = _sorted_last(recent_c / factor, trim).mean(axis=-1)  # (c, 5, G)
    expected_c = level * current_factor
    root = np.sqrt(recent_c + _ANSCOMBE)
    residual = np.empty((recent.shape[0], 9, *recent.shape[2:]))
    residual[:, :5] = _root_residual(root, level[..., None] * factor)
    rates = []
    for k, (num, den) in enumerate(_PAIRS):
        num_sum, den_sum = recent_sum[:, num] / units[:, num], recent_sum[:, den]
        pooled = pooled_rate[k][None, :]
        rate = np.where(
            pooled > 0,
            (num_sum + 1.0) / (den_sum + 1.0 / np.where(pooled > 0, pooled, 1.0)),
            ratio(num_sum, den_sum),
        )
        rates.append(rate)
        residual[:, 5 + k] = _root_residual(root[:, num], recent[:, den] * rate[..., None])
    mad = _median_last(residual)  # (c, 9, G)
    count_dev = _stabilised(today_c, expected_c) / np.maximum(_MAD_TO_SD * mad[:, :5], 1.0)
    rate_dev = []
    for k, (num, den) in enumerate(_PAIRS):
        expected_t = today[:, den] * rates[k]
        floor: float | FloatArray = 1.0
        if num == _SPEND:
            grow = 1.0 + expected_t / (recent_sum[:, den] + 0.25)
            floor = _CPC_RELATIVE_FLOOR * np.sqrt(np.maximum(expected_t, 1.0) * grow)
        spread = np.maximum(_MAD_TO_SD * mad[:, 5 + k], floor)
        rate_dev.append(_stabilised(today_c[:, num], expected_t) / spread)
    ctr, cpc, cvr, roas = rate_dev
    deviation = np.concatenate([count_dev, np.stack([ctr, cpc, -roas, cvr, roas], axis=1)], 1)
    return deviation, expected_c


def _root_residual(root_actual: FloatArray, expected: FloatArray) -> FloatArray:
    """|``_stabilised``| with the actual side's square root already taken."""
    out = np.maximum(expected, 0.0)
    out += _ANSCOMBE
    np.sqrt(out, out=out)
    np.subtract(root_actual, out, out=out)
    out *= 2.0
    return np.abs(out, out=out)


def _sorted_last(values: FloatArray, trim: int) -> FloatArray:
    """Sorted over the last axis, ``trim`` (at most (W - 1) // 2) dropped at each end."""
    width = values.shape[-1]
    k = min(trim, (width - 1) // 2)
    return np.sort(values, axis=-1)[..., k : width - k]


def _median_last(values: FloatArray) -> FloatArray:
    width = values.shape[-1]
    ordered = np.sort(values, axis=-1)
    middle = ordered[..., (width - 1) // 2 : width // 2 + 1]
    return np.asarray(middle.mean(axis=-1))
