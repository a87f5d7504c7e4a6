"""The export contract: {artifact: (bytes, metadata)} round-trips to identical scores."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.unit.test_pipeline import _TRAIN, _busy, _profile
from tripwire.detection.pipeline import PipelineConfig, ScanPipeline

SMALL = {
    "lstm": {"epochs": 1, "hidden": 8, "max_sequences": 2000},
    "isolation_forest": {"n_estimators": 20},
    "streaming": {"window_size": 200},
}


def _fit() -> ScanPipeline:
    raw = _profile()
    return ScanPipeline(PipelineConfig(detector_options=SMALL)).fit(raw[:, :_TRAIN], 0)


@pytest.fixture(scope="module")
def fitted() -> ScanPipeline:
    return _fit()


def _window() -> np.ndarray:
    raw = _profile()
    raw[_busy(raw), 90, 2] *= 3.0
    return raw[:, :91]


def test_artifacts_are_named_bytes_with_json_metadata(fitted: ScanPipeline) -> None:
    artifacts = fitted.export()
    assert set(artifacts) == {"pipeline", "isolation_forest", "lstm", "streaming"}
    for name, (data, meta) in artifacts.items():
        assert isinstance(data, bytes) and data
        json.dumps(meta)
        assert meta["artifact"] == name and meta["training_rows"] > 0
        assert meta["training"]["periods"] == _TRAIN
    json.loads(artifacts["pipeline"][0])


def test_from_export_scores_identically(fitted: ScanPipeline) -> None:
    window = _window()
    before = fitted.score(window, 90 % 7)
    again = ScanPipeline.from_export(fitted.export())
    after = again.score(window, 90 % 7)
    assert again.names == fitted.names
    assert np.allclose(after.score, before.score, atol=1e-9, rtol=0)
    assert np.allclose(after.tail_prob, before.tail_prob, atol=1e-9, rtol=1e-9)
    for name, values in before.detector_scores.items():
        assert np.allclose(after.detector_scores[name], values, atol=1e-9, rtol=0)
    assert after.explanations.keys() == before.explanations.keys()
    for row, entries in before.explanations.items():
        assert [e["feature"] for e in after.explanations[row]] == [e["feature"] for e in entries]


def test_exports_are_deterministic_for_the_same_seed_and_data(fitted: ScanPipeline) -> None:
    first, second = fitted.export(), _fit().export()
    assert {k: v[0] for k, v in first.items()} == {k: v[0] for k, v in second.items()}


def test_streaming_state_learns_after_a_round_trip(fitted: ScanPipeline) -> None:
    window = _window()
    restored = ScanPipeline.from_export(fitted.export())
    result = restored.score(window, 90 % 7)
    restored.learn(result)
    data, meta = restored.export()["streaming"]
    assert meta["learnt_periods"] == 1
    assert data != fitted.export()["streaming"][0]
    again = ScanPipeline.from_export(restored.export()).score(window, 90 % 7)
    assert np.allclose(
        again.detector_scores["streaming"],
        restored.score(window, 90 % 7).detector_scores["streaming"],
        atol=1e-12,
    )


def test_scanning_from_an_export_imports_no_training_framework(
    fitted: ScanPipeline, tmp_path: Path
) -> None:
    """The Lambda path: from_export + score must not import scikit-learn, torch or river."""
    (tmp_path / "artifacts.pkl").write_bytes(pickle.dumps(fitted.export()))
    np.save(tmp_path / "window.npy", _window())
    script = (
        "import pickle, sys, numpy as np\n"
        "from tripwire.detection.pipeline import ScanPipeline\n"
        f"arts = pickle.loads(open({str(tmp_path / 'artifacts.pkl')!r}, 'rb').read())\n"
        f"window = np.load({str(tmp_path / 'window.npy')!r})\n"
        "result = ScanPipeline.from_export(arts).score(window, 90 % 7)\n"
        "assert result.alert.any() and result.explanations\n"
        "heavy = {m.split('.')[0] for m in sys.modules} & {'sklearn', 'torch', 'river'}\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
