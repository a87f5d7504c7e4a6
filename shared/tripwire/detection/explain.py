"""Exact Shapley explanations of an anomaly score, batched into few model calls.

The game for one explained row: the value of a coalition S of features is the score of a
row holding the *actual* values for features in S and the entity's *expected* (baseline)
values elsewhere. The Shapley value of feature j is then

    phi_j = sum over S not containing j of  |S|! (F-|S|-1)! / F!  * (v(S + j) - v(S))

and the values sum to score(actual) - score(baseline) (efficiency).

Every coalition of every explained row is scored in one (n * 2^F, F) batch — a single
onnxruntime call instead of n * 2^F tiny ones — and the combination is one matrix product
with a weight matrix cached per F. Exact only: 2^F rows per explained row grow quickly, so
more than ``MAX_EXACT_FEATURES`` features is refused rather than silently approximated.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
ScoreFn = Callable[[FloatArray], npt.ArrayLike]

MAX_EXACT_FEATURES = 12  # 4,096 coalitions per explained row
# Rows per score_fn call: bounds memory (2^18 rows x 12 features x 8 B = 25 MB).
DEFAULT_MAX_BATCH = 1 << 18


class TooManyFeatures(ValueError):
    """Exact Shapley values would need more than 2^MAX_EXACT_FEATURES evaluations per row."""


@lru_cache(maxsize=MAX_EXACT_FEATURES + 1)
def coalitions(n_features: int) -> tuple[npt.NDArray[np.bool_], FloatArray]:
    """Coalition masks (2^F, F) — row k holds feature j iff bit j of k is set — and the
    weight matrix W (2^F, F) with phi = v @ W for a row's coalition values v (2^F,).

    Coalition k containing j contributes +w(|S_k|-1) (as S + j, S = S_k - j); coalition k
    without j contributes -w(|S_k|). Cached: F is fixed per model, so this is built once.
    """
    _check_features(n_features)
    ids = np.arange(1 << n_features)
    masks = ((ids[:, None] >> np.arange(n_features)) & 1).astype(bool)
    sizes = masks.sum(axis=1)
    f = math.factorial
    # w(s) for s = 0..F-1; index -1 / F never used because of the where() below.
    w = np.array([f(s) * f(n_features - s - 1) / f(n_features) for s in range(n_features)])
    with_j = w[np.clip(sizes - 1, 0, None)][:, None]
    without_j = w[np.clip(sizes, None, n_features - 1)][:, None]
    weights = np.where(masks, with_j, -without_j)
    masks.setflags(write=False)
    weights.setflags(write=False)
    return masks, weights


def shapley(
    score_fn: ScoreFn,
    actual: npt.ArrayLike,
    baseline: npt.ArrayLike,
    feature_names: Sequence[str],
    *,
    max_batch: int = DEFAULT_MAX_BATCH,
) -> FloatArray:
    """Exact Shapley values (n, F) of ``score_fn`` for each row of ``actual`` against the
    same row of ``baseline``.

    ``score_fn`` maps an (m, F) float64 array to m scores (an ONNX model wanting float32
    casts inside it); it is called once per chunk of at most ``max_batch`` rows (whole
    explained rows per chunk, so at least one explained row per call).
    """
    x, base = _rows(actual, baseline, feature_names)
    n, n_features = x.shape
    if n == 0:
        return np.zeros((0, n_features))
    masks, weights = coalitions(n_features)
    n_coalitions = masks.shape[0]
    rows_per_call = max(1, max_batch // n_coalitions)
    values = np.empty((n, n_features))
    for start in range(0, n, rows_per_call):
        stop = min(n, start + rows_per_call)
        # (rows, 2^F, F): actual where the coalition holds the feature, baseline elsewhere.
        batch = np.where(masks[None], x[start:stop, None, :], base[start:stop, None, :])
        scores = _scores(score_fn, batch.reshape(-1, n_features))
        values[start:stop] = scores.reshape(stop - start, n_coalitions) @ weights
    return values


def shapley_reference(
    score_fn: ScoreFn,
    actual: npt.ArrayLike,
    baseline: npt.ArrayLike,
    feature_names: Sequence[str],
) -> FloatArray:
    """The textbook formula, one row and one coalition at a time: slow, for tests and bench."""
    x, base = _rows(actual, baseline, feature_names)
    n, n_features = x.shape
    f = math.factorial
    out = np.zeros((n, n_features))
    for i in range(n):
        cache: dict[frozenset[int], float] = {}

        def value(
            s: frozenset[int], i: int = i, cache: dict[frozenset[int], float] = cache
        ) -> float:
            if s not in cache:
                row = np.where(np.isin(np.arange(n_features), list(s)), x[i], base[i])
                cache[s] = float(_scores(score_fn, row[None, :])[0])
            return cache[s]

        for j in range(n_features):
            others = [k for k in range(n_features) if k != j]
            for size in range(n_features):
                weight = f(size) * f(n_features - size - 1) / f(n_features)
                for subset in itertools.combinations(others, size):
                    s = frozenset(subset)
                    out[i, j] += weight * (value(s | {j}) - value(s))
    return out


def attributions(
    values: npt.ArrayLike,
    actual: npt.ArrayLike,
    baseline: npt.ArrayLike,
    feature_names: Sequence[str],
    *,
    top: int | None = 5,
) -> list[dict[str, Any]]:
    """An alert's explanation entries for ONE explained row, largest |contribution| first.

    Features whose actual value equals the expected one are left out: they contribute
    exactly nothing (the dummy property) and have no direction.
    """
    phi, x, base = (np.asarray(a, dtype=np.float64).ravel() for a in (values, actual, baseline))
    if not (phi.size == x.size == base.size == len(feature_names)):
        raise ValueError(
            f"values, actual, baseline and feature_names must have one entry per feature; "
            f"got {phi.size}, {x.size}, {base.size}, {len(feature_names)}"
        )
    order = np.argsort(-np.abs(phi), kind="stable")  # ties keep the feature order
    entries = [
        {
            "feature": feature_names[j],
            "contribution": float(phi[j]),
            "direction": "above" if x[j] > base[j] else "below",
            "expected": float(base[j]),
            "actual": float(x[j]),
        }
        for j in order
        if x[j] != base[j]
    ]
    return entries if top is None else entries[:top]


def _check_features(n_features: int) -> None:
    if n_features < 1:
        raise ValueError("need at least one feature to explain")
    if n_features > MAX_EXACT_FEATURES:
        raise TooManyFeatures(
            f"exact Shapley values need 2^F score evaluations per row; F={n_features} exceeds "
            f"the limit of {MAX_EXACT_FEATURES} ({1 << MAX_EXACT_FEATURES} coalitions). "
            "Explain a subset of features or group related features."
        )


def _rows(
    actual: npt.ArrayLike, baseline: npt.ArrayLike, feature_names: Sequence[str]
) -> tuple[FloatArray, FloatArray]:
    x = np.atleast_2d(np.asarray(actual, dtype=np.float64))
    base = np.atleast_2d(np.asarray(baseline, dtype=np.float64))
    if x.ndim != 2 or x.shape != base.shape:
        raise ValueError(f"actual {x.shape} and baseline {base.shape} must be equal (n, F)")
    if x.shape[1] != len(feature_names):
        raise ValueError(f"{x.shape[1]} features but {len(feature_names)} feature names")
    _check_features(x.shape[1])
    return x, base


def _scores(score_fn: ScoreFn, rows: FloatArray) -> FloatArray:
    scores = np.asarray(score_fn(rows), dtype=np.float64).ravel()
    if scores.size != rows.shape[0]:
        raise ValueError(f"score_fn returned {scores.size} scores for {rows.shape[0]} rows")
    return scores
