"""Is `artime.py` a faithful port? Score it on NAB as ARTime runs there, not causally.

    OMP_NUM_THREADS=1 PYTHONPATH=shared python bench/artime_nab.py

NAB hands every detector the whole file's min and max before the first row, and ARTime
sizes its probationary period from the file's length (15 % of the rows, at most 750).
The streaming member can know neither (it takes both from its first 750 rows); here each
is given back in turn, and each variant is scored like a `bench/nab.py --cv` setting
(in-sample / leave-one-category-out CV, NAB's threshold chosen on the other categories).
A diagnostic of the port, not a setting of the scorer: nothing here is chosen from it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import nab as nab_bench
from tripwire.detection.artime import ARTimeScore


def artime_period(n: int) -> int:
    """ARTime's probationary period for a file of n rows."""
    return int(0.15 * n) if n < 5_000 else 750


def variant_scores(values: np.ndarray, file_range: bool, file_period: bool) -> np.ndarray:
    detector = ARTimeScore(
        probation=artime_period(len(values)) if file_period else 750,
        value_range=(float(values.min()), float(values.max())) if file_range else None,
    )
    return detector.score_learn(values)


def main() -> int:
    nab_dir = nab_bench.NAB_DIR.resolve()
    nab = nab_bench.load_nab_scorer(nab_dir)
    windows = nab.load_windows(str(nab_dir / "combined_windows.json"))
    files = sorted(windows)
    data = [nab.read_data(str(nab_dir / "data"), rel) for rel in files]
    geoms = [
        nab.FileGeometry(rel, d["timestamp"], windows[rel])
        for rel, d in zip(files, data, strict=True)
    ]
    variants = {
        "streaming (first 750 rows)": (False, False),
        "file's period only": (False, True),
        "file's range only": (True, False),
        "file's range and period (ARTime)": (True, True),
    }
    print(f"{'variant':<34} {'standard':>15} {'low FP':>15} {'low FN':>15}  (in-sample / CV)")
    for name, (file_range, file_period) in variants.items():
        scores = [
            variant_scores(np.asarray(d["value"], dtype=np.float64), file_range, file_period)
            for d in data
        ]
        result = nab_bench.cross_validate(nab, files, geoms, {name: scores})
        cells = " ".join(
            f"{r['in_sample']:7.2f}/{r['cv']:<7.2f}" for r in result["profiles"].values()
        )
        print(f"{name:<34} {cells}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
