"""Relation features: joint, multi-day evidence the per-feature count model cannot see.

Input: the last L periods of ``features.baseline`` deviations ``(n, L, 10)``, oldest first —
each already a count-aware, Anscombe-stabilised residual against the entity's own baseline,
so a 6-click keyword and a 600-click one are on the same ~N(0, 1) scale. Two relations
break in the incidents users ask about, each measure staying inside its own noise:

* **CTR** (clicks given today's impressions): bot clicks raise it on normal impressions.
* **place** = (impressions / ``imp_scale`` − CTR) / √2: impressions up while the clicks do
  not follow (poorer placements). Normally more impressions bring proportionally more
  clicks (CTR ≈ 0), so the two move apart only when the relation breaks. ``imp_scale`` puts
  the impression residual (overdispersed: its spread is its own day-to-day wobble) on
  CTR's scale; it is learnt at fit time (``impression_scale``).
* **bot** = (CTR − CVR) / √2: more clicks per impression whose orders do not follow.

One day of a 1.6× break on a 10-click keyword is ~1.6σ; three days of it are ~2.8σ. So each
relation is also accumulated over the last ``k`` periods (sum / √k: same scale for any k),
``k`` in ``SPANS``. Two guards keep other incidents out (they are the count model's):

* each day's relation is clipped to ±``DAILY_LIMIT`` σ: a day beyond it is count-visible,
  and a paused campaign's −20σ must not dominate four days of sums;
* an accumulated relation counts only while the last period itself moves its way (same
  sign, at least ``AGREE`` σ), and no earlier day counts for more than ``ECHO_CAP`` times
  the last one: a sustained break moves every day alike, while the days after an incident
  (a tracking outage, a paused campaign) carry its size in the past and little today.

Scores stay zero where the baseline has no opinion (deviation 0).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tripwire.features.ppc import INDEX

FloatArray = npt.NDArray[np.float64]

SPANS: tuple[int, ...] = (1, 2, 3, 4)
RELATIONS: tuple[str, ...] = ("ctr", "place", "bot")
NAMES: tuple[str, ...] = tuple(f"{r}_{k}" for k in SPANS for r in RELATIONS)
_IMP, _CTR, _CVR = INDEX["impressions"], INDEX["ctr"], INDEX["cvr"]
_ROOT2 = float(np.sqrt(2.0))
DAILY_LIMIT = 3.0
AGREE = 0.5
ECHO_CAP = 2.0


def impression_scale(sequences: npt.ArrayLike) -> float:
    """Impression residuals' spread over CTR residuals' (90th percentiles of |deviation|
    over every period of every sequence): how much wider impressions wobble."""
    seqs = np.asarray(sequences, dtype=np.float64)
    imp = np.abs(seqs[..., _IMP]).ravel()
    ctr = np.abs(seqs[..., _CTR]).ravel()
    ctr_q = float(np.quantile(ctr, 0.9)) if ctr.size else 0.0
    imp_q = float(np.quantile(imp, 0.9)) if imp.size else 0.0
    return imp_q / ctr_q if ctr_q > 0 and imp_q > 0 else 1.0


def daily(sequences: npt.ArrayLike, imp_scale: float) -> FloatArray:
    """(n, L, 3) per-period relations (CTR, place, bot) of (n, L, 10) deviations."""
    seqs = np.asarray(sequences, dtype=np.float64)
    ctr = seqs[..., _CTR]
    place = (seqs[..., _IMP] / imp_scale - ctr) / _ROOT2
    bot = (ctr - seqs[..., _CVR]) / _ROOT2
    return np.clip(np.stack([ctr, place, bot], axis=-1), -DAILY_LIMIT, DAILY_LIMIT)


def accumulated(sequences: npt.ArrayLike, imp_scale: float, span: int) -> FloatArray:
    """(n, L, 3): at each period the relations of it and the ``span - 1`` before it (each
    capped at ``ECHO_CAP`` × the period's own), summed and divided by √span — kept only
    where the period itself moves that way by ``AGREE`` (periods before the sequence: 0)."""
    per_day = daily(sequences, imp_scale)
    if span == 1:
        return per_day
    n, _, k = per_day.shape
    padded = np.concatenate([np.zeros((n, span - 1, k)), per_day], axis=1)
    windows = np.lib.stride_tricks.sliding_window_view(padded, span, axis=1)  # (n, L, 3, s)
    cap = ECHO_CAP * np.abs(per_day)[..., None]
    summed = np.clip(windows, -cap, cap).sum(axis=-1) / np.sqrt(span)
    agrees = (np.sign(per_day) == np.sign(summed)) & (np.abs(per_day) >= AGREE)
    return np.asarray(np.where(agrees, summed, 0.0), dtype=np.float64)


def features(sequences: npt.ArrayLike, imp_scale: float) -> FloatArray:
    """(n, 3 · len(SPANS)) relations of the last period, accumulated over each span (``NAMES``
    order): what the isolation forest isolates."""
    seqs = np.asarray(sequences, dtype=np.float64)
    if seqs.ndim != 3 or seqs.shape[1] < max(SPANS):
        raise ValueError(f"expected (n, L >= {max(SPANS)}, 10) deviations, got {seqs.shape}")
    recent = seqs[:, -max(SPANS) :]
    out = [accumulated(recent, imp_scale, k)[:, -1] for k in SPANS]
    return np.asarray(np.concatenate(out, axis=1), dtype=np.float64)
