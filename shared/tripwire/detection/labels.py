"""Users' labels as part of the model: a labelled false alert is not raised again on the
same pattern.

A pattern is (entity, kind), the kind being the alert's leading feature and its direction
(``"impressions_below"``). A "not an anomaly" label on an alert with combined tail
probability p lifts that entity's bar for that kind to ``p × SAME_PATTERN_FACTOR``: the same
move again (up to ten times rarer, the width of one step on the severity scale's log10
probability axis) stays quiet, a clearly stronger one still alerts. Nothing else changes:
other entities, and other kinds on this entity, alert as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from tripwire.domain.alerts import pattern_kind

__all__ = ["LabelledPatterns", "pattern_kind"]

SAME_PATTERN_FACTOR = 0.1


@dataclass(frozen=True)
class LabelledPatterns:
    """(entity, kind) → the tail probability at or above which an alert stays quiet."""

    quiet_from: dict[tuple[str, str], float] = field(default_factory=dict)

    @classmethod
    def of(cls, false_alerts: Iterable[tuple[str, str, float]]) -> LabelledPatterns:
        """From labelled false alerts (entity, kind, tail probability); the lowest wins."""
        quiet: dict[tuple[str, str], float] = {}
        for entity, kind, tail_prob in false_alerts:
            bar = max(float(tail_prob), 0.0) * SAME_PATTERN_FACTOR
            quiet[(entity, kind)] = min(bar, quiet.get((entity, kind), bar))
        return cls(quiet)

    def __len__(self) -> int:
        return len(self.quiet_from)

    def quiet(self, entity: str, kind: str, tail_prob: float) -> bool:
        bar = self.quiet_from.get((entity, kind))
        return bar is not None and tail_prob >= bar

    def silence(self, entity_ids: Sequence[str], result: Any, kinds: Mapping[int, str]) -> Any:
        """``result`` (a ``ScanResult``) with the alerting rows of labelled patterns unset;
        ``kinds``: alerting row → its kind."""
        if not self.quiet_from or not result.alert.any():
            return result
        alert = result.alert.copy()
        for row in np.flatnonzero(alert).tolist():
            kind = kinds.get(row, "")
            if self.quiet(entity_ids[row], kind, float(result.tail_prob[row])):
                alert[row] = False
        if (alert == result.alert).all():
            return result
        severity = np.where(alert, result.severity, -1)
        explanations = {r: e for r, e in result.explanations.items() if alert[r]}
        return replace(result, alert=alert, severity=severity, explanations=explanations)

    def to_list(self) -> list[list[Any]]:
        return [[e, k, p] for (e, k), p in sorted(self.quiet_from.items())]

    @classmethod
    def from_list(cls, rows: Iterable[Sequence[Any]]) -> LabelledPatterns:
        return cls({(str(e), str(k)): float(p) for e, k, p in rows})
