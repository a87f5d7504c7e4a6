"""Training time and peak memory per profile size, and what weekly training costs.

    python bench/train.py [--sizes 1000 10000] [--reference 100] [--days 90]

Each size is a generated account (``demo.generator``, no incidents) of that many keywords
over ``--days`` days (``service.train.TRAINING_DAYS``). Timed: what the training job
computes between loading the series and publishing — ``fit_labelled`` on all but the
held-back days, the held-back quality of the new model on those 14 days, and the export
(ONNX and state bytes). Storage is left out: the job's reads and writes are a few large
items and objects. The reference run is a ``--reference``-keyword account in the same
process (after a warm-up run that pays the imports); every size is given as a ratio to it.

Peak memory: the process's resident set sampled every 20 ms during each run, minus the
resident set before it (the models, torch's allocator and the arrays of that run).

Why not Lambda: the sizes of the training-only packages as installed here (unpacked, what
a layer would carry) are printed against Lambda's 250 MB function-plus-layers limit.

Cost: the 10k-keyword run's seconds × 52/12 trainings a month × the on-demand price of
the job's instance (``infra.components.training.INSTANCE_TYPE``). This machine's cores
stand in for the instance's two vCPUs; the job's start-up (image pull, requirements
install), which SageMaker also bills, is not measured here and is stated apart.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from tripwire.demo.generator import GeneratorConfig, generate, write
from tripwire.domain.runs import LabelsUsed
from tripwire.service.backtest import load_profile
from tripwire.service.train import (
    HELD_BACK_DAYS,
    TRAINING_DAYS,
    Labels,
    fit_labelled,
    held_back_quality,
)

# SageMaker AI pricing page (aws.amazon.com/sagemaker/pricing), on-demand training,
# us-east-1, ml.m5.large: USD per hour.
PRICE_PER_HOUR = 0.115
LAMBDA_LIMIT_MB = 250
TRAINING_PACKAGES = ("torch", "sklearn", "scipy", "numpy", "onnx")


@dataclass
class Measured:
    keywords: int
    entities: int
    seconds: float
    peak_mb: float


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class PeakSampler:
    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakSampler:
        self.base = _rss_mb()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss_mb() - self.base)


def measure(keywords: int, days: int) -> Measured:
    config = GeneratorConfig(
        seed=5, keywords=keywords, days=days, incident_days=0, campaigns=max(4, keywords // 25)
    )
    with tempfile.TemporaryDirectory() as folder:
        paths = write(generate(config), Path(folder))
        series = load_profile(paths["entities"], paths["metrics"])
    none = Labels(set(), [], LabelsUsed())
    train_end = series.days - HELD_BACK_DAYS
    with PeakSampler() as sampler:
        started = time.perf_counter()
        pipeline = fit_labelled(series.raw[:, :train_end], series.first_day, none, None, 0)
        held_back_quality(pipeline, series, range(train_end, series.days), set())
        pipeline.export()
        seconds = time.perf_counter() - started
    return Measured(keywords, len(series.entities), seconds, sampler.peak)


def package_mb(name: str) -> float:
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return 0.0
    root = Path(next(iter(spec.submodule_search_locations)))
    total = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    libs = root.parent / f"{name}.libs"  # manylinux wheels' vendored shared objects
    if libs.is_dir():
        total += sum(p.stat().st_size for p in libs.rglob("*") if p.is_file())
    return total / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--reference", type=int, default=100)
    parser.add_argument("--days", type=int, default=TRAINING_DAYS)
    args = parser.parse_args()
    print(f"cpus: {os.cpu_count()}, days: {args.days} ({HELD_BACK_DAYS} held back)")
    measure(20, args.days)  # warm-up: the first run imports torch, scikit-learn and river
    reference = measure(args.reference, args.days)
    runs = [reference] + [measure(k, args.days) for k in args.sizes]
    print(
        f"{'keywords':>9} {'entities':>9} {'seconds':>8} {'× ref':>7} {'peak MB':>8} {'× ref':>7}"
    )
    for run in runs:
        print(
            f"{run.keywords:>9,} {run.entities:>9,} {run.seconds:>8.1f} "
            f"{run.seconds / reference.seconds:>7.1f} {run.peak_mb:>8.0f} "
            f"{run.peak_mb / max(reference.peak_mb, 1.0):>7.1f}"
        )
    sizes = {name: package_mb(name) for name in TRAINING_PACKAGES}
    listed = ", ".join(f"{name} {mb:.0f} MB" for name, mb in sizes.items())
    print(
        f"training packages unpacked: {listed}; torch + scikit-learn + scipy + numpy = "
        f"{sum(sizes[n] for n in ('torch', 'sklearn', 'scipy', 'numpy')):.0f} MB "
        f"(Lambda: {LAMBDA_LIMIT_MB} MB for function and layers)"
    )
    largest = runs[-1]
    monthly = largest.seconds * 52 / 12 / 3600 * PRICE_PER_HOUR
    print(
        f"weekly training of {largest.keywords:,} keywords: {largest.seconds:.0f} s × 52/12 "
        f"a month on ml.m5.large at ${PRICE_PER_HOUR}/h = ${monthly:.3f}/month of compute; "
        f"each minute of billed start-up adds ${PRICE_PER_HOUR / 60 * 52 / 12:.3f}/month"
    )


if __name__ == "__main__":
    main()
