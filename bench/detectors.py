"""Trained detectors: onnxruntime at run time vs the training frameworks, same process.

Isolation forest (10,000 rows x 10 features): ONNX session load, scoring 10k rows and one
row, vs scikit-learn's `score_samples`. LSTM autoencoder (20k sequences, L=14, F=10):
training time per epoch, ONNX scoring of 10k sequences vs torch forward. Best of 3.

    python bench/detectors.py [--threads 1]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import torch

from tripwire.detection.isolation_forest import IsolationForestDetector, make_session
from tripwire.detection.lstm_autoencoder import LSTMAutoencoderDetector, sliding_windows
from tripwire.training.isolation_forest import fit_forest, train_isolation_forest
from tripwire.training.lstm_autoencoder import export_onnx, fit_model

ROWS, FEATURES, LENGTH, SEQUENCES = 10_000, 10, 14, 20_000


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        timings.append(time.perf_counter() - started)
    return min(timings)


def seasonal(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None]
    phase = np.linspace(0, np.pi, FEATURES)[None, :]
    return 10 + 3 * np.sin(2 * np.pi * t / 24 + phase) + rng.normal(0, 0.3, (n, FEATURES))


def bench_isolation_forest(threads: int) -> None:
    x = seasonal(ROWS)
    onnx_bytes, _ = train_isolation_forest(x)
    forest = fit_forest(x, n_estimators=100, max_samples=256, seed=0)
    detector = IsolationForestDetector(onnx_bytes, intra_op_num_threads=threads)
    load = best_of(lambda: make_session(onnx_bytes, threads))
    onnx_all = best_of(lambda: detector.score(x))
    onnx_one = best_of(lambda: detector.score(x[:1]), repeat=50)
    sk_all = best_of(lambda: forest.score_samples(x))
    sk_one = best_of(lambda: forest.score_samples(x[:1]), repeat=50)
    gap = np.abs(detector.score(x) + forest.score_samples(x)).max()
    print(f"isolation forest, 100 trees, {ROWS:,} rows x {FEATURES} features")
    print(f"  ONNX model size       {len(onnx_bytes) / 1024:8.0f} KiB")
    print(f"  ONNX session load     {load * 1e3:8.1f} ms")
    print(f"  ONNX score 10k rows   {onnx_all * 1e3:8.1f} ms")
    print(f"  sklearn score 10k     {sk_all * 1e3:8.1f} ms   (x{sk_all / onnx_all:.1f} ONNX)")
    print(f"  ONNX score 1 row      {onnx_one * 1e6:8.0f} µs")
    print(f"  sklearn score 1 row   {sk_one * 1e6:8.0f} µs   (x{sk_one / onnx_one:.0f} ONNX)")
    print(f"  max |ONNX - sklearn|  {gap:.1e}")


def bench_lstm(threads: int) -> None:
    seqs = sliding_windows(seasonal(SEQUENCES + LENGTH - 1), LENGTH).astype(np.float32)
    epochs = 2
    started = time.perf_counter()
    model, meta = fit_model(seqs, epochs=epochs, max_seconds=600)
    per_epoch = (time.perf_counter() - started) / meta["epochs"]
    started = time.perf_counter()
    onnx_bytes = export_onnx(model, LENGTH, FEATURES)
    export = time.perf_counter() - started
    detector = LSTMAutoencoderDetector(onnx_bytes, intra_op_num_threads=threads)
    batch = seqs[:10_000]
    onnx_all = best_of(lambda: detector.score(batch))
    onnx_one = best_of(lambda: detector.score(batch[:1]), repeat=50)
    torch.set_num_threads(threads)
    with torch.no_grad():
        tensor = torch.from_numpy(batch)
        torch_all = best_of(lambda: model(tensor))
        gap = np.abs(detector.score(batch) - model(tensor)[0].numpy()).max()
    print(f"LSTM autoencoder, hidden 32, L={LENGTH}, F={FEATURES}")
    print(f"  train / epoch (20k)   {per_epoch:8.2f} s    (1 thread, batch 256)")
    print(f"  ONNX export           {export:8.2f} s")
    print(f"  ONNX score 10k seqs   {onnx_all * 1e3:8.1f} ms")
    print(f"  torch forward 10k     {torch_all * 1e3:8.1f} ms   (x{torch_all / onnx_all:.1f} ONNX)")
    print(f"  ONNX score 1 seq      {onnx_one * 1e6:8.0f} µs")
    print(f"  max |ONNX - torch|    {gap:.1e}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime/torch threads")
    args = parser.parse_args()
    bench_isolation_forest(args.threads)
    bench_lstm(args.threads)


if __name__ == "__main__":
    main()
