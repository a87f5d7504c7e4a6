"""LSTM autoencoder scored with onnxruntime (numpy + onnxruntime only at run time).

Input is sequences (n, L, F) of raw feature values: the graph standardises them with the
training mean/std. The raw score is the last step's mean squared reconstruction error in
training-sigma units (see `tripwire.training.lstm_autoencoder` for why the last step).
Lambdas only ever construct the detector from ONNX bytes; `fit` imports torch lazily.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from tripwire.detection.base import FloatArray, as_rows
from tripwire.detection.isolation_forest import make_session


def sliding_windows(rows: npt.ArrayLike, length: int) -> FloatArray:
    """Every window of `length` consecutive rows: (T, F) -> (T - length + 1, length, F).

    Window i ends at row i + length - 1, so its score speaks for that row.
    """
    arr = as_rows(rows)
    if len(arr) < length:
        return np.zeros((0, length, arr.shape[1]))
    windows = np.lib.stride_tricks.sliding_window_view(arr, length, axis=0)
    return np.ascontiguousarray(windows.transpose(0, 2, 1))


class LSTMAutoencoderDetector:
    """Raw score = last-step reconstruction MSE per sequence; bigger is more anomalous."""

    def __init__(
        self,
        onnx_bytes: bytes | None = None,
        metadata: dict[str, Any] | None = None,
        *,
        intra_op_num_threads: int = 1,
        name: str = "lstm_autoencoder",
    ) -> None:
        self.name = name
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.intra_op_num_threads = intra_op_num_threads
        self.onnx_bytes: bytes | None = None
        self._session: Any = None
        self._shape: tuple[int, int] = (0, 0)  # (length, n_features)
        if onnx_bytes is not None:
            self._load(onnx_bytes)

    def fit(self, history: npt.ArrayLike, **train_options: Any) -> LSTMAutoencoderDetector:
        """Train on (n, L, F) sequences in-process (needs torch); never inside a Lambda."""
        from tripwire.training.lstm_autoencoder import train_lstm_autoencoder

        onnx_bytes, self.metadata = train_lstm_autoencoder(history, **train_options)
        self._load(onnx_bytes)
        return self

    def score(self, x: npt.ArrayLike) -> FloatArray:
        """Last-step reconstruction error per sequence of `x` (n, L, F)."""
        return self.errors(x)["score"]

    def errors(self, x: npt.ArrayLike) -> dict[str, FloatArray]:
        """All outputs: `score` (n,), `last_step_error` (n, F), `sequence_error` (n,)."""
        seqs = self._as_sequences(x)
        if self._session is None:
            n, f = len(seqs), seqs.shape[2]
            nan = np.full(n, np.nan)  # not fitted: no opinion
            return {
                "score": nan,
                "last_step_error": np.full((n, f), np.nan),
                "sequence_error": nan.copy(),
            }
        if len(seqs) == 0:
            return {
                "score": np.zeros(0),
                "last_step_error": np.zeros((0, self._shape[1])),
                "sequence_error": np.zeros(0),
            }
        outputs = self._session.run(None, {"x": seqs.astype(np.float32)})
        names = [o.name for o in self._session.get_outputs()]
        return {k: np.asarray(v, dtype=np.float64) for k, v in zip(names, outputs, strict=True)}

    def _as_sequences(self, x: npt.ArrayLike) -> FloatArray:
        seqs = np.asarray(x, dtype=np.float64)
        if seqs.ndim != 3:
            raise ValueError(f"expected (n, length, n_features) sequences, got {seqs.shape}")
        if self._session is not None and seqs.shape[1:] != self._shape:
            raise ValueError(f"expected sequences shaped (n, *{self._shape}), got {seqs.shape}")
        return seqs

    def _load(self, onnx_bytes: bytes) -> None:
        self._session = make_session(onnx_bytes, self.intra_op_num_threads)
        self.onnx_bytes = onnx_bytes
        _, length, n_features = self._session.get_inputs()[0].shape
        self._shape = (int(length), int(n_features))
