"""The learnt detectors' tail (``CompactTail(tail="gpd")``): the empirical survival where the
data are, a generalised-Pareto extrapolation beyond the largest score, never an endpoint
that makes a score "impossible"."""

from __future__ import annotations

import numpy as np
import pytest

from tripwire.detection.vote import CompactTail


def test_an_exponential_tail_is_extrapolated_past_the_sample() -> None:
    raw = np.random.default_rng(0).exponential(1.0, 80_000)
    gpd = CompactTail(tail="gpd").fit(raw)
    assert gpd.shape == pytest.approx(0.0, abs=0.05)
    # P(X ≥ x) = e^-x: 1e-6 at 13.8, beyond the 80,000-row sample (max ~11.3, p ~1/80,000).
    assert 1e-7 < gpd.tail_prob(np.array([13.8]))[0] < 1e-5
    # The log-exponential (Pareto-like) tail cannot get there: it is built for heavy tails.
    assert CompactTail().fit(raw).tail_prob(np.array([11.5]))[0] > 1e-4


def test_a_heavy_tail_keeps_a_positive_shape() -> None:
    raw = np.random.default_rng(1).pareto(3.0, 80_000)  # ξ = 1/3
    gpd = CompactTail(tail="gpd").fit(raw)
    assert gpd.shape == pytest.approx(1 / 3, abs=0.08)
    x = 10**2 - 1  # P(X ≥ x) = (1 + x)^-3 = 1e-6, past the sample's maximum (~1/80,000)
    assert 2e-7 < gpd.tail_prob(np.array([x]))[0] < 5e-6


def test_a_bounded_score_gets_an_exponential_tail_not_an_endpoint() -> None:
    raw = np.random.default_rng(2).uniform(0.3, 0.7, 50_000)  # isolation-forest-like
    gpd = CompactTail(tail="gpd").fit(raw)
    assert gpd.shape == 0.0  # ξ < 0: the exponential carries on beyond the maximum
    top = raw.max()
    p = gpd.tail_prob(np.array([np.quantile(raw, 0.9999), top, top + 0.001, top + 0.01]))
    assert p[0] == pytest.approx(6 / 50_001)  # inside the sample: its own rank (5 above)
    assert p[1] == pytest.approx(2 / 50_001)
    assert 1e-300 < p[3] < p[2] < 1 / 50_001  # past the maximum: ever rarer, never "0"


def test_the_bulk_is_the_empirical_survival_and_the_state_round_trips() -> None:
    raw = np.random.default_rng(3).gamma(2.0, 1.0, 20_000)
    gpd = CompactTail(tail="gpd").fit(raw)
    median = np.quantile(raw, 0.5)
    assert gpd.tail_prob(np.array([median]))[0] == pytest.approx(0.5, abs=0.01)
    again = CompactTail.from_dict(gpd.to_dict())
    probe = np.array([0.1, median, 8.0, 20.0, np.nan])
    assert np.array_equal(again.tail_prob(probe), gpd.tail_prob(probe))
    assert again.tail_prob(probe)[-1] == 1.0


def test_states_saved_before_the_gpd_tail_load_as_log_exponential() -> None:
    raw = np.random.default_rng(4).gamma(2.0, 1.0, 5_000)
    old = CompactTail().fit(raw).to_dict()
    for key in ("tail", "max_shape", "shape", "exact", "top", "n"):
        old.pop(key)
    loaded = CompactTail.from_dict(old)
    assert loaded.tail == "log-exponential"
    assert np.array_equal(loaded.tail_prob(raw[:50]), CompactTail().fit(raw).tail_prob(raw[:50]))


def test_unknown_tail_models_are_refused() -> None:
    with pytest.raises(ValueError, match="tail model"):
        CompactTail(tail="weibull")  # type: ignore[arg-type]
