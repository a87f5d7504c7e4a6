"""Random cut forest over shingles of the signal: AWS's streaming detector as one member.

The forest is AWS's own (`random-cut-forest-by-aws`, the Rust core, through the ``krcf``
bindings); this module only feeds it. Every row, the last ``shingle`` values form one
point (the forest shingles internally); the point is scored against the forest's sample
(RCF's codisplacement: how much the trees would change if it were added), then the forest
learns it. A point far from every window seen scores high, whatever the series' scale.

Parameters are published defaults, not fitted to NAB: 50 trees and a 256-point sample
per tree (the RCF library's defaults), shingles of 8 (Amazon Managed Prometheus's RCF
default), output after 64 points (the library's quarter of the sample), the library's
default time decay. The raw score is on RCF's own scale (~1 for an ordinary point); the
streaming scorer ranks it against its own past (``TailCalibrator``) like the robust
z-scores. ``krcf`` is imported lazily: only ``tripwire score --weights rcf=…`` needs it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from tripwire.detection.base import ValueStreamDetector

if TYPE_CHECKING:
    from krcf import RandomCutForest


class RandomCutForestScore(ValueStreamDetector):
    """Streaming RCF score per row from the first column; NaN until the forest is ready."""

    def __init__(
        self,
        shingle: int = 8,
        trees: int = 50,
        sample: int = 256,
        output_after: int | None = None,
        seed: int = 0,
        name: str = "rcf",
    ) -> None:
        if shingle < 1 or trees < 1 or sample < 2:
            raise ValueError("need shingle >= 1, trees >= 1 and sample >= 2")
        self.name = name
        self.shingle = shingle
        self.trees = trees
        self.sample = sample
        self.output_after = sample // 4 if output_after is None else output_after
        self.seed = seed
        self._reset()

    def _reset(self) -> None:
        from krcf import RandomCutForest

        self._forest: RandomCutForest = RandomCutForest(
            {
                "dimensions": 1,
                "shingle_size": self.shingle,
                "num_trees": self.trees,
                "sample_size": self.sample,
                "output_after": self.output_after,
                "random_seed": self.seed,
                "internal_shingling": True,
                # One core per scorer: NAB's bench runs two scorers side by side.
                "parallel_execution_enabled": False,
            }
        )

    def _score_learn_one(self, value: float) -> float:
        if not math.isfinite(value):
            return math.nan  # nothing to shingle; the forest does not learn it either
        point = [value]
        score = float(self._forest.score(point)) if self._forest.is_output_ready() else math.nan
        self._forest.update(point)
        return score
