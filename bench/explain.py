"""Exact Shapley explanations: time per explained row, batched vs. per-row loops.

The score function is an isolation-forest-like numpy model: 100 random axis-aligned trees
of depth 8, each row's score 2^(-mean path length / c) with a random leaf depth
correction — vectorised over rows like an onnxruntime call, so one call on many rows costs
far less per row than many calls on few rows.

    python bench/explain.py [--rows 100] [--features 10] [--naive-rows 2]

Prints, per explained row: the batched ``shapley`` (all rows' coalitions in one call),
a per-row loop (one call per explained row, 2^F coalitions each) and the textbook
reference (one call per coalition, on ``--naive-rows`` rows only: it is slow).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from tripwire.detection.explain import coalitions, shapley, shapley_reference


class RandomForestScore:
    """Depth-``depth`` complete random trees; a heap layout makes traversal pure indexing."""

    def __init__(self, n_features: int, trees: int = 100, depth: int = 8, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        inner = (1 << depth) - 1
        self.depth = depth
        self.feature = rng.integers(0, n_features, size=(trees, inner))
        self.threshold = rng.normal(size=(trees, inner))
        # Leaf path length: depth plus the usual c(size) correction for unsplit points.
        self.leaf = depth + rng.gamma(2.0, 1.0, size=(trees, 1 << depth))
        self.norm = float(np.mean(self.leaf))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        rows = np.arange(len(x))
        total = np.zeros(len(x))
        for t in range(self.feature.shape[0]):
            node = np.zeros(len(x), dtype=np.int64)
            for _ in range(self.depth):
                go_right = x[rows, self.feature[t, node]] > self.threshold[t, node]
                node = 2 * node + 1 + go_right
            total += self.leaf[t, node - self.feature.shape[1]]
        return np.asarray(2.0 ** (-(total / self.feature.shape[0]) / self.norm))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--features", type=int, default=10)
    parser.add_argument("--naive-rows", type=int, default=2)
    args = parser.parse_args()
    f = args.features
    names = [f"f{j}" for j in range(f)]
    rng = np.random.default_rng(1)
    baseline = rng.normal(size=(args.rows, f))
    actual = baseline + rng.normal(scale=2.0, size=(args.rows, f))
    score = RandomForestScore(f)
    print(f"F={f} ({1 << f} coalitions/row), {args.rows} rows, 100-tree depth-8 numpy forest")

    started = time.perf_counter()
    batched = shapley(score, actual, baseline, names)
    batched_s = (time.perf_counter() - started) / args.rows
    print(f"  batched (one call, {args.rows << f} rows): {batched_s * 1e3:8.3f} ms/row")

    started = time.perf_counter()
    per_row = np.vstack([shapley(score, actual[i], baseline[i], names) for i in range(args.rows)])
    per_row_s = (time.perf_counter() - started) / args.rows
    print(
        f"  per-row loop (one call per row):      {per_row_s * 1e3:8.3f} ms/row"
        f"   ratio {per_row_s / batched_s:6.1f}x"
    )
    assert np.allclose(per_row, batched, atol=1e-12)

    masks, _ = coalitions(f)  # the very rows shapley() scores, without the combining
    coalition_rows = np.where(masks[None], actual[:, None], baseline[:, None]).reshape(-1, f)
    started = time.perf_counter()
    score(coalition_rows)
    score_s = (time.perf_counter() - started) / args.rows
    print(f"  of which the score function alone:    {score_s * 1e3:8.3f} ms/row")

    k = args.naive_rows
    if k > 0:
        started = time.perf_counter()
        naive = shapley_reference(score, actual[:k], baseline[:k], names)
        naive_s = (time.perf_counter() - started) / k
        print(
            f"  reference (one call per coalition):   {naive_s * 1e3:8.3f} ms/row"
            f"   ratio {naive_s / batched_s:6.1f}x  (on {k} rows)"
        )
        assert np.allclose(naive, batched[:k], atol=1e-9)
    gap = np.abs(batched.sum(1) - (score(actual) - score(baseline))).max()
    print(f"  efficiency: max |sum(phi) - (f(x) - f(baseline))| = {gap:.1e}")


if __name__ == "__main__":
    main()
