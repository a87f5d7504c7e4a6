"""The clean traffic model: long-tailed per-keyword rates, seasonal daily dynamics, and the
counts drawn from them.

* **Per-keyword rates** (drawn once): mean daily impressions are lognormal with a few
  Pareto-like head keywords; CTR ~0.2–2 %, CPC ~$0.30–$3, CVR ~3–20 %, order value ~$12–$80.
  Match type and ad type shift them (exact: fewer impressions, better CTR/CVR; broad: the
  reverse).
* **Dynamics** on the log scale of the impression rate: a weekday profile shared by the
  account and varied per portfolio, a small account trend, and mean-reverting AR(1) drifts
  per campaign and per keyword; CPC drifts the same way (bid tweaks); CTR and CVR get small
  day-to-day jitter.
* **Counts.** impressions ~ Gamma–Poisson around the rate, clicks ~ Binomial(impressions, CTR),
  orders ~ Binomial(clicks, CVR); spend and sales are Gamma sums of per-click costs and order
  values, in cents.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tripwire.demo.config import GeneratorConfig
from tripwire.demo.hierarchy import IntArray, Layout

FloatArray = npt.NDArray[np.float64]

# Match type and ad type shift a keyword's rates: imp, ctr, cpc, cvr multipliers.
_MATCH_EFFECT = {
    "Exact": (0.6, 1.4, 1.10, 1.30),
    "Phrase": (1.0, 1.0, 1.00, 1.00),
    "Broad": (1.6, 0.7, 0.90, 0.75),
}
_AD_EFFECT = {"SP": (1.0, 1.0, 1.0, 1.0), "SB": (0.8, 0.8, 1.25, 0.8)}


@dataclass(frozen=True)
class Params:
    impressions: FloatArray  # (K,) mean daily impressions
    ctr: FloatArray
    cpc: FloatArray  # $
    cvr: FloatArray
    aov: FloatArray  # $ per order


def keyword_params(layout: Layout, rng: np.random.Generator) -> Params:
    n_k = len(layout.keyword_ids)
    camp = layout.keyword_campaign
    effect = np.array(
        [
            np.multiply(_MATCH_EFFECT[m], _AD_EFFECT[a])
            for m, a in zip(layout.campaign_match, layout.campaign_ad, strict=True)
        ]
    )[camp]
    cat_aov = np.array([c.aov for c in layout.campaign_category])[camp]
    cat_cpc = np.array([c.cpc for c in layout.campaign_category])[camp]
    n_c = len(layout.campaign_ids)
    # Head terms draw far more searches than long-tail phrases.
    specificity = np.array([0.0, 3.0, 1.0, 0.35])[layout.keyword_words]
    imp = rng.lognormal(np.log(180.0), 1.0, n_k) * specificity * effect[:, 0]
    imp *= rng.lognormal(0.0, 0.35, n_c)[camp]
    head = rng.random(n_k) < 0.015  # a few Pareto-tail head keywords with thousands a day
    imp[head] *= 3.0 + rng.pareto(1.5, int(head.sum())) * 3.0
    return Params(
        impressions=np.clip(imp, 2.0, 80_000.0),
        ctr=np.clip(rng.lognormal(np.log(0.007), 0.45, n_k) * effect[:, 1], 0.0015, 0.025),
        cpc=np.clip(cat_cpc * rng.lognormal(0.0, 0.4, n_k) * effect[:, 2], 0.25, 4.0),
        cvr=np.clip(rng.lognormal(np.log(0.085), 0.4, n_k) * effect[:, 3], 0.025, 0.25),
        aov=np.clip(cat_aov * rng.lognormal(0.0, 0.3, n_c)[camp], 12.0, 80.0),
    )


@dataclass(frozen=True)
class Drivers:
    """Day × keyword expected rates; incidents edit these before counts are drawn."""

    impressions: FloatArray  # (D, K) expected impressions
    ctr: FloatArray
    cpc: FloatArray
    cvr: FloatArray


# Shared weekday profile (log scale, Mon..Sun): Sunday/Monday browsing peak, Friday/Saturday dip.
_WEEKDAY = np.array([0.07, 0.03, 0.0, -0.02, -0.07, -0.10, 0.09])


def daily_drivers(
    config: GeneratorConfig, layout: Layout, params: Params, rng: np.random.Generator
) -> Drivers:
    n_d, n_k, n_c = config.days, len(layout.keyword_ids), len(layout.campaign_ids)
    camp = layout.keyword_campaign
    weekdays = (np.arange(n_d) + config.start.weekday()) % 7
    # Each portfolio (and the loose campaigns, row -1) has its own take on the weekly rhythm.
    n_groups = config.portfolios + 1
    amp = rng.uniform(0.6, 1.4, n_groups)[:, None]
    week = amp * _WEEKDAY[None, :] + rng.normal(0.0, 0.02, (n_groups, 7))
    group = layout.campaign_portfolio[camp]  # -1 indexes the last row: the loose campaigns
    log_imp = week[group[None, :], weekdays[:, None]]
    log_imp += (rng.uniform(-0.0005, 0.0015) * np.arange(n_d))[:, None]  # slow account trend
    log_imp += _ar1(rng, n_d, n_c, phi=0.97, sigma=0.025)[:, camp]
    log_imp += _ar1(rng, n_d, n_k, phi=0.95, sigma=0.04)
    log_cpc = _ar1(rng, n_d, n_k, phi=0.95, sigma=0.03)  # bid tweaks, auction pressure
    return Drivers(
        impressions=params.impressions[None, :] * np.exp(log_imp),
        ctr=np.minimum(params.ctr[None, :] * rng.lognormal(0.0, 0.08, (n_d, n_k)), 0.5),
        cpc=params.cpc[None, :] * np.exp(log_cpc),
        cvr=np.minimum(params.cvr[None, :] * rng.lognormal(0.0, 0.1, (n_d, n_k)), 0.9),
    )


def _ar1(rng: np.random.Generator, n_d: int, n: int, phi: float, sigma: float) -> FloatArray:
    """Mean-reverting drift: slow wandering that never runs away over a long history."""
    shocks = rng.normal(0.0, sigma, (n_d, n))
    out = np.empty((n_d, n))
    out[0] = rng.normal(0.0, sigma / np.sqrt(1.0 - phi * phi), n)  # start in the steady state
    for d in range(1, n_d):
        out[d] = phi * out[d - 1] + shocks[d]
    return out


@dataclass(frozen=True)
class Counts:
    impressions: IntArray  # (D, K)
    clicks: IntArray
    orders: IntArray
    spend_cents: IntArray
    sales_cents: IntArray


_IMPRESSION_DISPERSION = 25.0  # Gamma–Poisson shape: a little more spread than Poisson
_CPC_SHAPE = 25.0  # per-click cost ~ Gamma(25): ±20 % around the day's CPC
_ORDER_SHAPE = 16.0  # order value ~ Gamma(16): ±25 % around the keyword's order value


def sample_counts(drivers: Drivers, params: Params, rng: np.random.Generator) -> Counts:
    """Counts that always hold together: clicks <= impressions, orders <= clicks, no spend
    without clicks, no sales without orders."""
    lam = drivers.impressions * rng.gamma(_IMPRESSION_DISPERSION, 1 / _IMPRESSION_DISPERSION)
    impressions = rng.poisson(lam).astype(np.int64)
    clicks = rng.binomial(impressions, drivers.ctr).astype(np.int64)
    orders = rng.binomial(clicks, np.clip(drivers.cvr, 0.0, 1.0)).astype(np.int64)
    # A sum of n Gamma(k, θ) draws is Gamma(n·k, θ): one draw per cell, 0 when n is 0.
    spend = rng.gamma(clicks * _CPC_SHAPE, drivers.cpc / _CPC_SHAPE)
    sales = rng.gamma(orders * _ORDER_SHAPE, params.aov[None, :] / _ORDER_SHAPE)
    # Amazon's floor is $0.02 a click; an order is never worth less than a dollar.
    spend_cents = np.maximum(_to_cents(spend), 2 * clicks)
    sales_cents = np.maximum(_to_cents(sales), 100 * orders)
    return Counts(impressions, clicks, orders, spend_cents, sales_cents)


def _to_cents(dollars: FloatArray) -> IntArray:
    return np.rint(dollars * 100).astype(np.int64)
