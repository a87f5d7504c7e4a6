"""ARTime (Mark Hampton's NAB entry): adaptive resonance over downsampled, wavelet-coded windows.

A port, written from the algorithm of ARTimeNAB.jl (``src/ARTime.jl`` and its compact
dual-vigilance fuzzy ART, ``src/AdaptiveResonanceCompact.jl``), with its published
constants, none fitted to NAB. Per row:

1. **Downsampling** by ``sstep`` rows: the block's mean, replaced by its max or min (the
   one farther from a running average) when that spike is ≥ 10 % off the mean.
2. **Levels**: normalised to the range, rounded to 80 levels, snapped to a running
   median level when within 0.075 of it.
3. **Features**: the last 8 downsampled values, and their min-max-scaled 3-level Haar
   transform (min-max-scaled again): 16 values, complement-coded.
4. **Dual-vigilance fuzzy ART**: activation ``fs³·es²`` (``fs`` the fuzzy overlap with
   the category over its size, ``es`` the same on the newest value only); categories at
   or above the upper vigilance learn (fast commit), the best one between the bounds
   founds a sibling category of its cluster; below the lower bound a new *cluster* is
   founded, and that is a candidate anomaly.
5. **Training period**: the probationary rows are batch-processed; the starting
   vigilance is the mean best match of ART at 0.8 over the period's windows, ordered
   from the least to the most typical.
6. **Two bounds learnt**: every half trend window and 12 downsampled rows after an
   anomaly, the upper bound becomes the running mean of best matches (≤ 0.97); the lower
   one rises 19 % towards the period's lowest match or falls by half the mean shortfall.
7. **Masking**: a new cluster right after another one, or within 12 downsampled rows of
   an anomaly, only counts when its match is well below the last anomaly's.
8. **Score** of a new cluster: how far its match is below the two bounds, plus the
   newest value's mismatch (``confidence``); every other row scores 0.

Two departures, both to stay causal (ARTime takes the whole file's min, max and length
from NAB): the probationary period is a fixed ``probation`` rows (ARTime's 750, the value
it uses for series longer than 5,000 rows), and the range is that period's min and max
(rows outside it are clipped to it; ``margin`` widens it by that share of its span on
each side, not an ARTime parameter: room for what the period did not show). The period's
rows score 0 (as in ARTime) and are replayed once the range is known. ``value_range``
restores ARTime's own, non-causal setup for the NAB bench (``bench/artime_nab.py``: the
file's range, and ARTime's period, 15 % of the file's rows up to 750). The Haar details
are ``(odd − even)/√2``, as Wavelets.jl's filter transform computes them (mirror filter
``[h₁, −h₂]`` run with a one-row shift); ``flip_details`` gives them the other sign, as
this port's first version did (``(even − odd)/√2``).

``widen``: the range is the min and max of the rows seen so far, not the period's. When a
row falls more than half a level outside it, ARTime is rebuilt as if it had known the new
range from the start (reset, the rows seen so far replayed without scores) and the row is
scored by the rebuilt detector. Replays are capped at ``replay_budget`` times the rows seen
(a trending series would otherwise cost a replay per row); a rebuild the budget defers
happens as soon as it allows, and the rows until then are clipped as before. Only the last
``replay_rows`` rows are kept for replay (the range still spans every row seen), so memory
and one rebuild's cost stay bounded on an endless stream; the default, 2¹⁵ rows (about
1 MB), keeps more than any NAB file has.
"""

from __future__ import annotations

import itertools
import math
from collections import deque

import numpy as np

from tripwire.detection.base import FloatArray, ValueStreamDetector

_SQRT2 = math.sqrt(2.0)


def haar_dwt(x: FloatArray, flip_details: bool = False) -> FloatArray:
    """Full orthonormal Haar transform of a power-of-two vector: [approximation, coarsest
    detail, …, finest details] (Wavelets.jl's layout); ``flip_details``: the other sign."""
    out = np.empty_like(x)
    a = x
    n = len(x)
    while n > 1:
        even, odd = a[0::2], a[1::2]
        out[n // 2 : n] = (even - odd if flip_details else odd - even) / _SQRT2
        a = (even + odd) / _SQRT2
        n //= 2
    out[0] = a[0]
    return out


def _scaled(x: FloatArray) -> FloatArray:
    x = x - x.min()
    top = x.max()
    return x / top if top != 0 else x


def similarity(a: FloatArray, b: FloatArray) -> float:
    """ARTime's cosine similarity, with 1 − |other| against a zero vector."""
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na == 0.0:
        return 1.0 - nb
    if nb == 0.0:
        return 1.0 - na
    return float(a @ b) / (na * nb)


class DualVigilanceArt:
    """ARTime's compact dual-vigilance fuzzy ART (fast commit, complement coding)."""

    def __init__(self, dim: int, rho_lb: float = 0.0, rho_ub: float = 0.0) -> None:
        self.dim = dim
        self.rho_lb = rho_lb
        self.rho_ub = rho_ub
        self._w = np.empty((64, 2 * dim))
        self.n_categories = 0
        self._labels: list[int] = []
        self.n_clusters = 0

    def _add(self, sample: FloatArray, label: int) -> None:
        if self.n_categories == len(self._w):
            self._w = np.concatenate([self._w, np.empty_like(self._w)])
        self._w[self.n_categories] = sample
        self.n_categories += 1
        self._labels.append(label)

    def train(self, f: FloatArray, learning: bool = True) -> tuple[int, float, float]:
        """(cluster label, −1 for a new cluster or no learning; best activation; its
        newest-value similarity) of one feature vector."""
        x = np.concatenate([f, 1.0 - f])
        if self.n_categories == 0:
            # As ARTime: the first sample only creates an all-ones category.
            self._add(np.ones(2 * self.dim), 1)
            self.n_clusters = 1
            return 1, 0.0, 0.0
        w = self._w[: self.n_categories]
        em = np.minimum(w, x)
        size = w.sum(axis=1)
        size[size == 0] = 0.001
        fs = em.sum(axis=1) / size
        e = self.dim - 1  # the newest value and its complement
        energy_size = w[:, e] + w[:, -1]
        es = np.divide(
            em[:, e] + em[:, -1], energy_size, out=np.zeros_like(fs), where=energy_size > 0
        )
        m = fs**3 * es**2
        best, best_e, label, mismatch = 0.0, 0.0, -1, True
        for j in np.argsort(-m, kind="stable"):
            if m[j] > best:
                best, best_e = float(m[j]), float(es[j])
            if not learning:
                continue
            if m[j] >= self.rho_ub:
                w[j] = em[j]
                label, mismatch = self._labels[j], False
            elif m[j] >= self.rho_lb and mismatch:
                label, mismatch = self._labels[j], False
                self._add(x, label)
                break
            else:
                break
        if mismatch and learning:
            label = -1
            self.n_clusters += 1
            self._add(x, self.n_clusters)
        return label, best, best_e


class ARTimeScore(ValueStreamDetector):
    """Streaming ARTime score in [0, 1] per row from the first column."""

    def __init__(
        self,
        probation: int = 750,
        window: int = 8,
        windows_per_probation: int = 13,
        levels: int = 80,
        chomp: float = 0.075,
        initial_rho: float = 0.80,
        value_range: tuple[float, float] | None = None,
        margin: float = 0.0,
        flip_details: bool = False,
        widen: bool = False,
        replay_budget: float = 8.0,
        replay_rows: int = 2**15,
        name: str = "artime",
    ) -> None:
        if probation < 4 * window or window & (window - 1):
            raise ValueError("need a power-of-two window and probation >= 4 windows")
        if widen and value_range is not None:
            raise ValueError("widen takes its range from the stream, not value_range")
        if replay_rows < probation:
            raise ValueError("replay_rows must keep at least the probationary period")
        self.value_range = value_range
        self.margin = margin
        self.flip_details = flip_details
        self.widen = widen
        self.replay_budget = replay_budget
        self.replay_rows = replay_rows
        self.name = name
        self.probation = probation - probation % 2
        self.window = window
        self.levels = levels
        self.chomp = chomp
        self.initial_rho = initial_rho
        self.sstep = max(1, self.probation // (window * windows_per_probation))
        self.trend_window = self.probation // self.sstep
        self.mask = int(window * 1.5)
        self._reset()

    def _reset(self) -> None:
        # The period's rows; with widen, the last replay_rows rows seen.
        self._buffer: deque[float] = deque(maxlen=self.replay_rows)
        self._rows = 0
        self._seen_lo, self._seen_hi = math.inf, -math.inf
        self.rebuilds = 0  # widening rebuilds
        self.replayed = 0  # rows replayed by them
        self._reset_art()
        self._lo, self._hi = self.value_range or (math.nan, math.nan)

    def _reset_art(self) -> None:
        """Forget everything ARTime learnt (not the rows kept for replay)."""
        self._i = 0
        self._dsi = 1
        self._ds_window: deque[float] = deque([0.0] * self.sstep, maxlen=self.sstep)
        self._ds_average = 0.0
        self._medbin = np.zeros(self.levels + 1, dtype=np.int64)
        self._medlevel = self._below = self._above = 0
        self._f_window: deque[float] = deque([0.0] * self.window, maxlen=self.window)
        self._trend_features: list[FloatArray] = []
        self.art = DualVigilanceArt(2 * self.window)
        self._last_anomaly_i = 0
        self._last_anomaly_sim = 0.0
        self._last_rho_update_i = 0
        self._mask_after_cat = False
        self._no_new_cat_count = 0
        self._anomaly_sims: list[float] = []
        self._sims: deque[float] = deque(
            [1.0] * (self.trend_window // 2 + 1), maxlen=self.trend_window // 2 + 1
        )
        self._sim_diffs: deque[float] = deque(
            [0.0] * (self.trend_window + 1), maxlen=self.trend_window + 1
        )
        self._sim_sum = 0.0
        self._sim_count = 0

    @property
    def kept_rows(self) -> int:
        """Rows kept for replay (at most ``replay_rows``)."""
        return len(self._buffer)

    @property
    def range(self) -> tuple[float, float]:
        """The values mapped to levels 0 and ``levels`` (NaN until the period is over)."""
        return self._lo, self._hi

    def _score_learn_one(self, value: float) -> float:
        if not math.isfinite(value):
            return math.nan
        if self.value_range is not None:
            return self._sample(value)
        in_period = len(self._buffer) < self.probation
        if in_period or self.widen:
            self._buffer.append(value)
            self._rows += 1
            self._seen_lo, self._seen_hi = min(value, self._seen_lo), max(value, self._seen_hi)
        if in_period:
            if len(self._buffer) < self.probation:
                return 0.0
            # The range is known: replay the period (its rows score 0 in ARTime too).
            return self._rebuild()
        if self.widen and self._outgrown():
            replay = len(self._buffer) - 1
            if self.replayed + replay <= self.replay_budget * self._rows:
                self.rebuilds += 1
                self.replayed += replay
                return self._rebuild()
        return self._sample(value)

    def _outgrown(self) -> bool:
        """Has a row fallen outside the range by more than half a level?"""
        half_level = (self._hi - self._lo) / (2 * self.levels)
        return self._seen_lo < self._lo - half_level or self._seen_hi > self._hi + half_level

    def _rebuild(self) -> float:
        """ARTime started afresh with the range of the rows seen, fed the kept ones; the
        last row's score (the rows before it were scored already)."""
        lo, hi = self._seen_lo, self._seen_hi
        self._reset_art()
        self._lo, self._hi = lo - self.margin * (hi - lo), hi + self.margin * (hi - lo)
        last = len(self._buffer) - 1
        for v in itertools.islice(self._buffer, last):
            self._sample(v)
        return self._sample(self._buffer[last])

    # -- ARTime's process_sample!: downsample, levelise, encode ----------------------

    def _sample(self, value: float) -> float:
        self._i += 1
        self._ds_window.append(value)
        if self._i % self.sstep:
            return 0.0
        block = np.fromiter(self._ds_window, dtype=np.float64, count=self.sstep)
        mean, top, bottom = float(block.mean()), float(block.max()), float(block.min())
        if self._dsi == 1:
            self._ds_average = mean
        self._ds_average = (self._ds_average + mean) / 2
        ds = top
        if abs(top - self._ds_average) < abs(bottom - self._ds_average):
            ds = bottom  # a spike below
        if abs(ds - mean) < 0.1 * mean:  # a spike must be ≥ 10 % off the mean
            ds = mean
        span = self._hi - self._lo
        ds = min(1.0, max(0.0, (ds - self._lo) / span if span != 0 else ds - self._lo))
        level = round(ds * self.levels)
        ds = level / self.levels
        med = self._running_median(level) / self.levels
        if abs(ds - med) < self.chomp:
            ds = med
        self._f_window.append(ds)
        features = np.zeros(2 * self.window)
        if self._dsi >= self.window:
            raw = np.fromiter(self._f_window, dtype=np.float64, count=self.window)
            details = haar_dwt(_scaled(raw), self.flip_details)
            features = np.concatenate([_scaled(details), raw])
        anomaly = self._features(features, self._dsi)
        self._dsi += 1
        return anomaly

    def _running_median(self, level: int) -> int:
        """ARTime's approximate running median of the levels, one bin step per row."""
        self._medbin[level] += 1
        half = self._dsi // 2
        if self._dsi == 1:
            self._medlevel = level
        if self._medlevel > level:
            self._below += 1
        elif self._medlevel < level:
            self._above += 1
        if half < self._above:
            self._below += int(self._medbin[self._medlevel])
            self._medlevel += 1
            while self._medbin[self._medlevel] == 0:
                self._medlevel += 1
            self._above -= int(self._medbin[self._medlevel])
        elif half < self._below:
            self._above += int(self._medbin[self._medlevel])
            self._medlevel -= 1
            while self._medbin[self._medlevel] == 0:
                self._medlevel -= 1
            self._below -= int(self._medbin[self._medlevel])
        return self._medlevel

    # -- ARTime's process_features!, detect!, confidence, init_rho --------------------

    def _features(self, f: FloatArray, i: int) -> float:
        if i > self.trend_window:
            return self._detect(f, i)
        self._trend_features.append(f)
        if i == self.trend_window:
            rho = self._initial_rho(self._trend_features[self.window - 1 :])
            self.art.rho_lb = self.art.rho_ub = rho
            for fi, ff in enumerate(self._trend_features, start=1):
                self._detect(ff, fi)
            self._trend_features = []
        return 0.0

    def _initial_rho(self, features: list[FloatArray]) -> float:
        """Mean best match of ART at ``initial_rho`` over the period's windows presented
        from the least to the most typical (by summed similarity), second half."""
        n = len(features)
        sim = np.ones((n, n))
        for a in range(n):
            for b in range(a):
                sim[a, b] = sim[b, a] = similarity(features[a], features[b])
        order = np.argsort(sim.sum(axis=0), kind="stable")
        art = DualVigilanceArt(2 * self.window, self.initial_rho, self.initial_rho)
        matches = [art.train(features[j])[1] for j in order]
        return float(np.mean(matches[self.trend_window // 2 - 1 :]))

    def _detect(self, f: FloatArray, i: int) -> float:
        art = self.art
        since = i - self._last_anomaly_i
        update_after_anomaly = since == self.mask
        update_for_trend = i - self._last_rho_update_i >= self.trend_window // 2
        mask_after_anomaly = since <= self.mask
        if i > self.trend_window + self.mask and self._no_new_cat_count >= self.mask:
            self._mask_after_cat = False
        # Windows not yet full are matched but not learnt (keeps ARTime's indices aligned).
        if i < self.window:
            _, match, energy = art.train(f, learning=False)
            cat = -1
        else:
            cat, match, energy = art.train(f)
        self._no_new_cat_count = 0 if cat == -1 else self._no_new_cat_count + 1
        self._sim_sum += match
        self._sim_count += 1
        self._sims.append(match)
        self._sim_diffs.append(art.rho_ub - match)
        if since < self.mask and self._anomaly_sims:
            self._anomaly_sims[-1] = min(self._anomaly_sims[-1], match)
        masking = self._mask_after_cat or mask_after_anomaly
        below_last = match < self._last_anomaly_sim * (0.90 if mask_after_anomaly else 0.70)
        anomaly = 0.0
        if i > self.trend_window and cat == -1 and (not masking or below_last):
            anomaly = self._confidence(match, energy)
            self._anomaly_sims.append(match)
            self._last_anomaly_sim = match
            self._last_anomaly_i = i
        self._mask_after_cat = cat == -1 or self._mask_after_cat
        if i > self.trend_window and (update_after_anomaly or update_for_trend):
            self._update_rho(i)
        return anomaly

    def _update_rho(self, i: int) -> None:
        art = self.art
        lowest = min(self._sims)
        ub = min(0.97, self._sim_sum / self._sim_count)
        lb = art.rho_lb
        if lb <= lowest:
            lb += (lowest - lb) * 0.19
        else:
            shortfall = 0.0
            if i > 2 * self.trend_window:
                below = [min(0.37, d) for d in self._sim_diffs if d > 0.05]
                if below:
                    shortfall = float(np.mean(below))
            lb -= max(0.01, shortfall) / 2
            if self._anomaly_sims:
                lb = max(float(np.mean(self._anomaly_sims)), lb)
        art.rho_lb, art.rho_ub = min(ub, lb), ub
        self._last_rho_update_i = i
        self._mask_after_cat = True

    def _confidence(self, match: float, energy: float) -> float:
        match = min(0.999, match)
        ub = ((1 - match) - (1 - self.art.rho_ub)) / (1 - match)
        lb = ((1 - match) - (1 - self.art.rho_lb)) / (1 - match)
        return round(min(1.0, ub * 0.35 + lb * 0.65 + (1.0 - energy) * 1.5), 6)
