"""LSTM autoencoder: trained with torch, exported to ONNX for onnxruntime scoring.

Encoder LSTM -> last hidden state -> repeated over the sequence -> decoder LSTM -> linear
back to F features. Feature standardisation (the training mean and std) is baked into the
graph, so the scorer feeds raw values and errors are in training-sigma units.

Outputs, per sequence:
- `score` (n,): mean squared error over the features of the LAST step. The last step is
  "the current period"; whole-sequence error would keep flagging a spike for L windows.
- `last_step_error` (n, F): the per-feature squared errors of that step (explanations).
- `sequence_error` (n,): mean squared error over the whole sequence (context, not voting).

Training is deterministic for a seed (one torch thread, seeded init and shuffling) as long
as it finishes within `max_seconds`; the metadata records how many epochs ran.
"""

from __future__ import annotations

import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

DETECTOR_NAME = "lstm_autoencoder"
INPUT_NAME = "x"
OUTPUT_NAMES = ("score", "last_step_error", "sequence_error")
OPSET = 17


class LSTMAutoencoder(nn.Module):
    """Standardise -> encode -> repeat last hidden -> decode -> squared errors."""

    mean: torch.Tensor
    inv_std: torch.Tensor

    def __init__(self, mean: torch.Tensor, std: torch.Tensor, hidden: int) -> None:
        super().__init__()
        n_features = mean.shape[0]
        self.register_buffer("mean", mean)
        self.register_buffer("inv_std", 1.0 / std)
        self.encoder = nn.LSTM(n_features, hidden, batch_first=True)
        self.decoder = nn.LSTM(hidden, hidden, batch_first=True)
        self.output = nn.Linear(hidden, n_features)

    def reconstruct(self, z: torch.Tensor) -> torch.Tensor:
        """Reconstruction of standardised sequences z (n, L, F)."""
        _, (h, _) = self.encoder(z)
        repeated = h[-1].unsqueeze(1).expand(-1, z.shape[1], -1)
        decoded, _ = self.decoder(repeated)
        return self.output(decoded)

    def standardise(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) * self.inv_std

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        z = self.standardise(x)
        squared = (self.reconstruct(z) - z) ** 2
        last = squared[:, -1, :]
        return last.mean(dim=1), last, squared.mean(dim=(1, 2))


def train_lstm_autoencoder(
    sequences: npt.ArrayLike, **options: Any
) -> tuple[bytes, dict[str, Any]]:
    """Train on (n, L, F) sequences; return (ONNX bytes, metadata). Options: `fit_model`."""
    model, metadata = fit_model(sequences, **options)
    return export_onnx(model, metadata["sequence_length"], metadata["n_features"]), metadata


def fit_model(
    sequences: npt.ArrayLike,
    *,
    hidden: int = 32,
    epochs: int = 12,
    batch_size: int = 256,
    learning_rate: float = 5e-3,
    seed: int = 0,
    max_seconds: float = 30.0,
) -> tuple[LSTMAutoencoder, dict[str, Any]]:
    """The trained torch model (in eval mode) and its metadata.

    Default budget: ~1.8 s/epoch on 20k sequences, so 12 epochs stay under 30 s; training
    stops early (after a whole epoch) once `max_seconds` have passed.
    """
    x = np.asarray(sequences, dtype=np.float32)
    if x.ndim != 3 or len(x) < 2:
        raise ValueError(f"expected a (n >= 2, length, n_features) array, got {x.shape}")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # determinism, and the same speed class as a small box
    try:
        model, epochs_run, final_loss = _fit(
            x, hidden, epochs, batch_size, learning_rate, seed, max_seconds
        )
    finally:
        torch.set_num_threads(threads)
    metadata = {
        "detector": DETECTOR_NAME,
        "n_features": int(x.shape[2]),
        "sequence_length": int(x.shape[1]),
        "hidden": hidden,
        "epochs": epochs_run,
        "final_loss": round(final_loss, 6),
        "training_sequences": len(x),
        "seed": seed,
        "torch_version": torch.__version__,
        "input": INPUT_NAME,
        "outputs": list(OUTPUT_NAMES),
    }
    return model, metadata


def _fit(
    x: npt.NDArray[np.float32],
    hidden: int,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    seed: int,
    max_seconds: float,
) -> tuple[LSTMAutoencoder, int, float]:
    torch.manual_seed(seed)
    flat = x.reshape(-1, x.shape[2]).astype(np.float64)
    std = flat.std(axis=0)
    std[~(std > 1e-9)] = 1.0  # constant features: no scaling rather than divide by zero
    model = LSTMAutoencoder(
        torch.tensor(flat.mean(axis=0), dtype=torch.float32),
        torch.tensor(std, dtype=torch.float32),
        hidden,
    )
    data = model.standardise(torch.from_numpy(x))
    optimiser = torch.optim.Adam(model.parameters(), lr=learning_rate)
    generator = torch.Generator().manual_seed(seed)
    started = time.perf_counter()
    epochs_run, loss_sum = 0, 0.0
    model.train()
    while epochs_run < epochs and time.perf_counter() - started < max_seconds:
        loss_sum, seen = 0.0, 0
        for batch in torch.randperm(len(data), generator=generator).split(batch_size):
            z = data[batch]
            loss = ((model.reconstruct(z) - z) ** 2).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            loss_sum += float(loss.detach()) * len(batch)
            seen += len(batch)
        loss_sum /= seen
        epochs_run += 1
    model.eval()
    return model, epochs_run, loss_sum


def export_onnx(model: LSTMAutoencoder, length: int, n_features: int) -> bytes:
    """TorchScript-based export (dynamo=False: fast, no onnxscript) with a dynamic batch."""
    example = torch.zeros(1, length, n_features)
    batch_axis = {0: "n"}
    with tempfile.TemporaryDirectory() as folder, torch.no_grad(), warnings.catch_warnings():
        path = Path(folder) / "model.onnx"
        # Zero initial states are built per batch in the graph; the dynamic batch is tested.
        warnings.filterwarnings("ignore", message="Exporting a model to ONNX with a batch_size")
        # dynamo=False is deliberate (DESIGN.md: 0.1 s vs ~9 s and no onnxscript).
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        # torch's own LSTM shape checks; the traced shapes are the model's fixed (L, F).
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        torch.onnx.export(
            model,
            (example,),
            path,
            input_names=[INPUT_NAME],
            output_names=list(OUTPUT_NAMES),
            dynamic_axes={name: batch_axis for name in (INPUT_NAME, *OUTPUT_NAMES)},
            opset_version=OPSET,
            dynamo=False,
        )
        return path.read_bytes()
