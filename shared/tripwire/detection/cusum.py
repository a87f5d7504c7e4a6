"""Slow conversion collapses: a Poisson CUSUM of orders given clicks, aware of reporting lag.

A keyword whose conversions stop while its clicks go on moves only a little on any one day
(3 expected orders, 0 seen, is within a long-tail keyword's noise), so a per-day detector
sees it late or never. Evidence accumulated over consecutive days does not:

* each entity's baseline conversion rate ``cvr0`` is its orders / clicks over the window
  before the evidence span (``CusumConfig.span`` periods);
* a period's expected orders are ``clicks × cvr0 × c(age)``, where ``c(age)`` is the share
  of the settled orders already reported at that age (the reporting-lag curve,
  ``features.lag``; 1 once settled) — so a provisional day is judged against what a
  provisional day shows, not against settled figures;
* against "conversion fell to ``rho`` × baseline", a period's log-likelihood ratio of its
  orders x is ``mu (1 - rho) + x ln rho``; the CUSUM ``S_t = max(0, S_{t-1} + llr_t)``;
* it alarms when ``S_t ≥ threshold``; the onset is the first period of the run (the period
  after S was last 0), or of its trailing stretch of periods that each added evidence when
  that began later. A run that alarmed starts afresh the next period (the classic
  CUSUM restart): an ongoing stop of a busy entity alarms again each day, a slow one
  every few days, and the evidence of a stop that ended does not echo into the days after.

Under no change the drift is ``mu (1 - rho + ln rho) < 0``, so S stays near 0; Wald's
bound gives P(one run's likelihood ratio ≥ e^h) ≤ e^{-h}, which maps S to a tail
probability on the ensemble's scale (``tail_prob``). The threshold and rho were chosen on
development seeds (``bench/quality.py``, see bench/RESULTS.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tripwire.features.ppc import INDEX

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class CusumConfig:
    enabled: bool = True
    rho: float = 0.25  # the collapse looked for: conversion at a quarter of its baseline
    threshold: float = 5.5  # evidence (nats) that alarms: bench/cusum_threshold.py, dev seeds
    span: int = 14  # periods the evidence runs over (the rest of the window is baseline)
    min_baseline_orders: float = 10.0  # fewer orders before the span: no rate to judge


@dataclass(frozen=True)
class CusumResult:
    statistic: FloatArray  # (n,) S at the scanned (last) period
    alarm: npt.NDArray[np.bool_]  # (n,)
    onset: IntArray  # (n,) periods before the scanned one the run began (-1: no run)
    expected: FloatArray  # (n,) expected orders over the run (delay-aware)
    actual: FloatArray  # (n,) orders seen over the run
    threshold: float
    # (n, span): column k = expected orders, and expected − seen, over the last k + 1
    # periods; (n,) the periods of each entity's current run (0: no evidence). Root cause
    # compares a parent's shortfall with its children's over the parent's run.
    expected_recent: FloatArray | None = None
    shortfall: FloatArray | None = None
    run_periods: IntArray | None = None

    def tail_prob(self, alert_tail_prob: float) -> FloatArray:
        """The evidence on the ensemble's scale: ``alert_tail_prob`` at the threshold,
        ``e^{-(S - h)}`` times smaller above it (Wald), 1 where it does not alarm."""
        excess = np.maximum(self.statistic - self.threshold, 0.0)
        return np.where(self.alarm, alert_tail_prob * np.exp(-excess), 1.0)


def conversion_cusum(
    raw: npt.ArrayLike, completeness: npt.ArrayLike, config: CusumConfig | None = None
) -> CusumResult:
    """The CUSUM at the last period of (n, T, 5) raw windows; ``completeness`` (T,) is the
    share of settled orders each period has reported so far (1 for settled periods)."""
    cfg = config or CusumConfig()
    x = np.asarray(raw, dtype=np.float64)
    n, t = x.shape[:2]
    span = min(cfg.span, t - 1)
    clicks = x[:, :, INDEX["clicks"]]
    orders = x[:, :, INDEX["orders"]]
    before = slice(0, t - span)
    base_orders = orders[:, before].sum(axis=1)
    base_clicks = clicks[:, before].sum(axis=1)
    cvr0 = np.divide(base_orders, base_clicks, out=np.zeros(n), where=base_clicks > 0)
    judged = base_orders >= cfg.min_baseline_orders
    share = np.asarray(completeness, dtype=np.float64)[-span:]
    mu = clicks[:, -span:] * cvr0[:, None] * share[None, :]
    seen = orders[:, -span:]
    llr = mu * (1.0 - cfg.rho) + seen * np.log(cfg.rho)
    stat = np.zeros(n)
    start = np.full(n, -1, dtype=np.int64)
    exp_run, act_run = np.zeros(n), np.zeros(n)
    crossed = np.zeros(n, dtype=bool)
    rising = np.zeros(n, dtype=np.int64)  # first period of the trailing run of llr > 0
    for k in range(span):
        if k:  # a run that alarmed starts afresh: its evidence was spent on that alarm
            stat[crossed], start[crossed] = 0.0, -1
        stat = np.maximum(stat + llr[:, k], 0.0)
        fresh = (stat > 0) & (start < 0)
        start[fresh] = k
        start[stat <= 0] = -1
        rising[llr[:, k] <= 0] = k + 1
        exp_run = np.where(stat > 0, np.where(fresh, 0.0, exp_run) + mu[:, k], 0.0)
        act_run = np.where(stat > 0, np.where(fresh, 0.0, act_run) + seen[:, k], 0.0)
        crossed = judged & (stat >= cfg.threshold)
    # The onset: where the run's unbroken stretch of evidence began (a day or two of
    # ordinary low orders before a stop can open the run; they are not the stop).
    onset = np.where(start >= 0, span - 1 - np.maximum(start, rising), -1)
    recent = np.cumsum(mu[:, ::-1], axis=1)
    shortfall = recent - np.cumsum(seen[:, ::-1], axis=1)
    run_periods = np.where(start >= 0, span - start, 0)
    return CusumResult(
        stat, crossed, onset, exp_run, act_run, cfg.threshold, recent, shortfall, run_periods
    )
