"""Exact, batched Shapley explanations: the axioms, a planted cause, and the textbook formula."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tripwire.detection.explain import (
    TooManyFeatures,
    attributions,
    coalitions,
    shapley,
    shapley_reference,
)


def names(f: int) -> list[str]:
    return [f"f{j}" for j in range(f)]


def nonlinear(x: np.ndarray) -> np.ndarray:
    """Interactions, a max and a squashing: far from additive."""
    return np.tanh(x[:, 0] * x[:, -1]) + np.max(x, axis=1) ** 2 - np.sin(x.sum(axis=1))


finite = st.floats(-10, 10, allow_nan=False, allow_infinity=False)


@st.composite
def problems(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    f = draw(st.integers(1, 8))
    n = draw(st.integers(1, 4))
    actual = draw(arrays(np.float64, (n, f), elements=finite))
    baseline = draw(arrays(np.float64, (n, f), elements=finite))
    coef = draw(arrays(np.float64, (f,), elements=finite))
    return actual, baseline, coef


@settings(max_examples=60, deadline=None)
@given(problems())
def test_efficiency_linear(problem: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    actual, baseline, coef = problem

    def score(x: np.ndarray) -> np.ndarray:
        return x @ coef + 3.0

    values = shapley(score, actual, baseline, names(actual.shape[1]))
    np.testing.assert_allclose(values.sum(axis=1), score(actual) - score(baseline), atol=1e-9)
    # A linear function's Shapley values are known in closed form.
    np.testing.assert_allclose(values, coef * (actual - baseline), atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(problems())
def test_efficiency_nonlinear(problem: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    actual, baseline, _ = problem
    values = shapley(nonlinear, actual, baseline, names(actual.shape[1]))
    expected = nonlinear(actual) - nonlinear(baseline)
    np.testing.assert_allclose(values.sum(axis=1), expected, atol=1e-9)


def test_symmetry() -> None:
    rng = np.random.default_rng(1)
    actual = rng.normal(size=(5, 5))
    baseline = rng.normal(size=(5, 5))
    actual[:, 2] = actual[:, 1]
    baseline[:, 2] = baseline[:, 1]

    def score(x: np.ndarray) -> np.ndarray:  # symmetric in features 1 and 2
        return np.exp(x[:, 1] * x[:, 2]) + x[:, 0] * (x[:, 1] + x[:, 2]) + x[:, 3] ** 3

    values = shapley(score, actual, baseline, names(5))
    np.testing.assert_allclose(values[:, 1], values[:, 2], atol=1e-12)


def test_dummy() -> None:
    rng = np.random.default_rng(2)
    actual = rng.normal(size=(6, 6))
    baseline = rng.normal(size=(6, 6))
    values = shapley(lambda x: nonlinear(x[:, [0, 1, 2, 3, 5]]), actual, baseline, names(6))
    np.testing.assert_allclose(values[:, 4], 0.0, atol=1e-12)


def test_planted_feature_has_largest_attribution() -> None:
    rng = np.random.default_rng(3)
    f = 8
    baseline = rng.normal(size=(20, f))
    actual = baseline + rng.normal(scale=0.1, size=(20, f))
    actual[:, 3] = baseline[:, 3] + 6.0  # far above its expected value

    def score(x: np.ndarray) -> np.ndarray:  # an anomaly score keyed on feature 3's distance
        return 1.0 - np.exp(-((x[:, 3] - baseline[0, 3]) ** 2) / 4) + 0.05 * np.abs(x).sum(1)

    # Each row is judged against its own expected values, as an entity is.
    values = np.vstack(
        [shapley(score, actual[i], baseline[i], names(f)) for i in range(len(actual))]
    )
    assert (np.argmax(np.abs(values), axis=1) == 3).all()

    entries = attributions(values[0], actual[0], baseline[0], names(f), top=3)
    assert entries[0]["feature"] == "f3"
    assert entries[0]["direction"] == "above"
    assert entries[0]["actual"] == pytest.approx(actual[0, 3])
    assert entries[0]["expected"] == pytest.approx(baseline[0, 3])
    assert len(entries) == 3


@pytest.mark.parametrize("f", [1, 2, 3, 5, 7])
def test_matches_brute_force(f: int) -> None:
    rng = np.random.default_rng(f)
    actual = rng.normal(size=(4, f))
    baseline = rng.normal(size=(4, f))
    fast = shapley(nonlinear, actual, baseline, names(f))
    slow = shapley_reference(nonlinear, actual, baseline, names(f))
    np.testing.assert_allclose(fast, slow, atol=1e-12)


def test_chunks_give_the_same_values_and_bound_call_size() -> None:
    rng = np.random.default_rng(4)
    actual = rng.normal(size=(10, 6))
    baseline = rng.normal(size=(10, 6))
    sizes: list[int] = []

    def score(x: np.ndarray) -> np.ndarray:
        sizes.append(len(x))
        return nonlinear(x)

    one_call = shapley(score, actual, baseline, names(6))
    assert sizes == [10 * 64]
    sizes.clear()
    chunked = shapley(score, actual, baseline, names(6), max_batch=200)  # 3 rows per call
    assert sizes == [192, 192, 192, 64]
    np.testing.assert_allclose(chunked, one_call, atol=0)


def test_weights_are_cached_per_feature_count() -> None:
    assert coalitions(6) is coalitions(6)
    masks, weights = coalitions(3)
    assert masks.shape == (8, 3) and weights.shape == (8, 3)
    # Every coalition other than the empty and the full one nets out to zero.
    np.testing.assert_allclose(weights.sum(axis=1)[1:-1], 0.0, atol=1e-15)


def test_limits_and_shape_errors() -> None:
    with pytest.raises(TooManyFeatures, match="F=13"):
        shapley(lambda x: x.sum(1), np.zeros((1, 13)), np.zeros((1, 13)), names(13))
    with pytest.raises(ValueError, match="feature names"):
        shapley(lambda x: x.sum(1), np.zeros((1, 3)), np.zeros((1, 3)), names(2))
    with pytest.raises(ValueError, match="must be equal"):
        shapley(lambda x: x.sum(1), np.zeros((2, 3)), np.zeros((1, 3)), names(3))
    with pytest.raises(ValueError, match="returned 1 scores"):
        shapley(lambda x: np.zeros(1), np.zeros((1, 3)), np.ones((1, 3)), names(3))


def test_exact_at_twelve_features() -> None:
    rng = np.random.default_rng(5)
    actual = rng.normal(size=(3, 12))
    baseline = rng.normal(size=(3, 12))
    values = shapley(nonlinear, actual, baseline, names(12))
    np.testing.assert_allclose(
        values.sum(axis=1), nonlinear(actual) - nonlinear(baseline), atol=1e-9
    )


def test_attributions_entries() -> None:
    entries = attributions(
        [0.1, -0.5, 0.0, 0.3], [5.0, 1.0, 2.0, 9.0], [4.0, 3.0, 2.0, 1.0], ["a", "b", "c", "d"]
    )
    assert [e["feature"] for e in entries] == ["b", "d", "a"]  # c is at its expected value
    assert entries[0] == {
        "feature": "b",
        "contribution": -0.5,
        "direction": "below",
        "expected": 3.0,
        "actual": 1.0,
    }
    assert attributions([1.0, 2.0], [1.0, 1.0], [0.0, 0.0], ["a", "b"], top=1)[0]["feature"] == "b"
    with pytest.raises(ValueError, match="one entry per feature"):
        attributions([1.0], [1.0, 2.0], [0.0, 0.0], ["a", "b"])
