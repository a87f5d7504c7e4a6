"""Anomaly detection: detectors behind one interface, calibration, and one vote (``combine``).

Nothing here imports river at import time (it costs ~3 s); the half-space trees detector
imports it when it first starts learning.
"""

from tripwire.detection.base import Detector, OnlineDetector, as_rows
from tripwire.detection.calibration import TailCalibrator
from tripwire.detection.half_space_trees import HalfSpaceTreesDetector
from tripwire.detection.novelty_gate import NoveltyGate
from tripwire.detection.robust_zscore import RobustZScore
from tripwire.detection.sequence_surprise import SequenceSurprise
from tripwire.detection.streaming import StreamingConfig, StreamingScorer
from tripwire.detection.vote import combine

__all__ = [
    "Detector",
    "HalfSpaceTreesDetector",
    "NoveltyGate",
    "OnlineDetector",
    "RobustZScore",
    "SequenceSurprise",
    "StreamingConfig",
    "StreamingScorer",
    "TailCalibrator",
    "as_rows",
    "combine",
]
