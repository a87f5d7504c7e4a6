"""Isolation forest scored with onnxruntime (numpy + onnxruntime only at run time).

Lambdas only ever construct the detector from ONNX bytes loaded by the model registry;
`fit` exists so the Detector protocol holds in notebooks, tests and the training job, and
imports the scikit-learn trainer only when called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import onnxruntime as ort

from tripwire.detection.base import FloatArray, as_rows


def make_session(onnx_bytes: bytes, intra_op_num_threads: int = 1) -> ort.InferenceSession:
    """A CPU session; one intra-op thread by default because Lambda has few cores."""
    import onnxruntime as ort  # lazily: the learner's layers have no onnxruntime

    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op_num_threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])


class IsolationForestDetector:
    """Raw score = 2^(-E[h(x)] / c(max_samples)) in (0, 1]; bigger is more anomalous."""

    def __init__(
        self,
        onnx_bytes: bytes | None = None,
        metadata: dict[str, Any] | None = None,
        *,
        intra_op_num_threads: int = 1,
        name: str = "isolation_forest",
    ) -> None:
        self.name = name
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.intra_op_num_threads = intra_op_num_threads
        self.onnx_bytes: bytes | None = None
        self._session: ort.InferenceSession | None = None
        self._n_features: int | None = None
        if onnx_bytes is not None:
            self._load(onnx_bytes)

    def fit(self, history: FloatArray, **train_options: Any) -> IsolationForestDetector:
        """Train in-process (needs the `train` extra); never called inside a Lambda."""
        from tripwire.training.isolation_forest import train_isolation_forest

        onnx_bytes, self.metadata = train_isolation_forest(as_rows(history), **train_options)
        self._load(onnx_bytes)
        return self

    def score(self, x: FloatArray) -> FloatArray:
        rows = as_rows(x)
        if self._session is None:
            return np.full(len(rows), np.nan)  # not fitted: no opinion
        if rows.shape[1] != self._n_features:
            raise ValueError(f"expected {self._n_features} features, got {rows.shape[1]}")
        if len(rows) == 0:
            return np.zeros(0)
        # float32 is what scikit-learn scores in too; the thresholds are exact for it.
        (out,) = self._session.run(None, {"x": rows.astype(np.float32)})
        return np.asarray(out, dtype=np.float64).reshape(-1)

    def _load(self, onnx_bytes: bytes) -> None:
        self._session = make_session(onnx_bytes, self.intra_op_num_threads)
        self.onnx_bytes = onnx_bytes
        self._n_features = int(self._session.get_inputs()[0].shape[1])
