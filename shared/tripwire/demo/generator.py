"""A realistic synthetic Amazon Ads (Sponsored Products/Brands) account with labelled incidents.

The account model
-----------------
* **Hierarchy** (``hierarchy``, names from ``names``). One account → a few portfolios (one
  product category each, e.g. "Kitchen") → campaigns (one theme and match type each, e.g.
  "Kitchen | SP | Exact | Knives"; about one in ten campaigns sits in no portfolio, as Amazon
  allows) → keywords. Campaign sizes are uneven. The same keyword text appears in several
  campaigns under different ids, as on Amazon, so roll-ups must follow ids, not text.
* **Per-keyword rates** (``traffic``, drawn once): mean daily impressions are lognormal with a
  few Pareto-like head keywords, so most keywords get tens to a few hundred impressions and a
  click or two a day while a handful get thousands; CTR ~0.2–2 %, CPC ~$0.30–$3, CVR ~3–20 %,
  order value ~$12–$80. Match type and ad type shift them (exact: fewer impressions, better
  CTR/CVR; broad: the reverse).
* **Dynamics** (``traffic``) on the log scale of the impression rate: a weekday profile shared
  by the account and varied per portfolio, a small account trend, and mean-reverting AR(1)
  drifts per campaign and per keyword; CPC drifts the same way (bid tweaks); CTR and CVR get
  small day-to-day jitter.
* **Counts** (``traffic``). impressions ~ Gamma–Poisson (negative binomial) around the rate,
  clicks ~ Binomial(impressions, CTR), orders ~ Binomial(clicks, CVR); spend is the sum of
  per-click costs and sales the sum of order values (each a Gamma sum, drawn in one go). So
  clicks <= impressions, orders <= clicks, spend is 0 without clicks and sales 0 without
  orders, always.
* **Incidents** (``incidents``) are planted only in the last ``incident_days`` days; the
  history before is clean. Each is a multiplier on the impression rate, the CPC or the CVR of
  its keywords for 1–4 days, applied *before* sampling so counts stay self-consistent. No
  keyword-day carries two incidents, so every label is unambiguous. Roots are picked among
  entities busy enough for the incident to be real (a conversion collapse hits a keyword that
  normally has orders daily), both in the history and on the incident days themselves.
  Incidents that only drop orders/sales are kept out of the last three days, which Amazon
  restates (attributed sales arrive up to 48 h late), so no label sits where a detector should
  stay provisional.
* **Recurring behaviours** (``recurring``, only with ``recurring_patterns``): a deal on some
  keywords every few days (not a multiple of 7) and a payday bid rule on others, in the
  history and the incident period alike. They are not incidents — a PPC manager knows them
  as fine — so an alert on them is false, and it comes back the same way: what a "not an
  anomaly" label is for.

Returned data
-------------
``GeneratedAccount.metrics`` (``account``) is a numpy structured array (fields as in
``METRIC_COLUMNS``, dtype from ``metrics_dtype``) with one row per keyword per day, sorted by
date then id. Because every keyword has every day, ``metrics.reshape(config.days, -1)`` is a
dense day × keyword table (columns in keyword-id order). ``spend`` and ``sales`` are float
dollars already rounded to cents. ``write`` (``output_files``) turns it into CSV at about a
million rows a second.

This module is the public entry point: import from here, not from the modules above.
"""

from __future__ import annotations

import numpy as np

from tripwire.demo.account import (
    METRIC_COLUMNS,
    METRICS_DTYPE,
    GeneratedAccount,
    metrics_dtype,
    metrics_table,
)
from tripwire.demo.config import GeneratorConfig, effective_config
from tripwire.demo.hierarchy import ENTITY_COLUMNS, build_layout
from tripwire.demo.incidents import (
    INCIDENT_KINDS,
    LATE_ATTRIBUTION_DAYS,
    Incident,
    plant_incidents,
)
from tripwire.demo.output_files import config_to_dict, incident_to_dict, write
from tripwire.demo.recurring import RECURRING_KINDS, RecurringPattern, plant_recurring
from tripwire.demo.restatements import LAG_CURVE, FirstSeen, first_seen
from tripwire.demo.traffic import daily_drivers, keyword_params, sample_counts

__all__ = [
    "ENTITY_COLUMNS",
    "INCIDENT_KINDS",
    "LAG_CURVE",
    "LATE_ATTRIBUTION_DAYS",
    "METRICS_DTYPE",
    "METRIC_COLUMNS",
    "RECURRING_KINDS",
    "FirstSeen",
    "GeneratedAccount",
    "GeneratorConfig",
    "Incident",
    "RecurringPattern",
    "config_to_dict",
    "generate",
    "incident_to_dict",
    "metrics_dtype",
    "write",
]


_DEFAULT_CONFIG = GeneratorConfig()


def generate(config: GeneratorConfig = _DEFAULT_CONFIG) -> GeneratedAccount:
    """Build the account, its daily keyword metrics and the incidents planted in them.

    Sizes that cannot all hold are reduced, and ``GeneratedAccount.config`` records what was
    used: campaigns <= keywords, portfolios <= campaigns, and an incident period that would
    swallow the whole history shrinks to half the days. Nonsense (no keywords, no days, an
    account id that is not plain letters/digits/underscores) raises ``ValueError``.
    """
    config = effective_config(config)
    # Independent streams per stage: changing one stage's draws leaves the others untouched.
    # (A child stream depends only on its index, so adding one changes none of the others.)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(config.seed).spawn(7)]
    rng_layout, rng_params, rng_dynamics, rng_incidents, rng_counts, rng_lag, rng_recur = streams
    layout = build_layout(config, rng_layout)
    params = keyword_params(layout, rng_params)
    drivers = daily_drivers(config, layout, params, rng_dynamics)
    incidents = plant_incidents(config, layout, drivers, rng_incidents)
    recurring: tuple[RecurringPattern, ...] = ()
    if config.recurring_patterns:  # after the incidents: they stay where they were
        recurring = tuple(plant_recurring(config, layout, drivers, incidents, rng_recur))
    counts = sample_counts(drivers, params, rng_counts)
    metrics = metrics_table(config, layout.keyword_ids, counts)
    seen = None
    if config.attribution_lag:
        seen = first_seen(counts.orders, counts.sales_cents / 100, rng_lag)
    return GeneratedAccount(layout.entities, metrics, incidents, config, seen, recurring)
