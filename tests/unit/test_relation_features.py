"""Relation features: a broken relation between measures shows, accumulated over days, on
the scale of one measure's noise; an intact one stays near zero."""

from __future__ import annotations

import numpy as np
import pytest

from tripwire.features import relations
from tripwire.features.ppc import INDEX

_L = 14


def _sequences(n: int = 2000, seed: int = 0) -> np.ndarray:
    """Null deviations: impressions overdispersed (spread 1.6), rates ~N(0, 1)."""
    rng = np.random.default_rng(seed)
    seqs = rng.normal(size=(n, _L, 10))
    seqs[..., INDEX["impressions"]] *= 1.6
    return seqs


def test_impression_scale_puts_impressions_on_the_ctr_scale() -> None:
    assert relations.impression_scale(_sequences()) == pytest.approx(1.6, rel=0.05)
    assert relations.impression_scale(np.zeros((3, _L, 10))) == 1.0  # no evidence: no scaling


def test_a_ctr_rise_accumulates_over_the_days_it_lasts() -> None:
    seqs = np.zeros((1, _L, 10))
    seqs[0, -3:, INDEX["ctr"]] = 2.0  # three days of CTR +2σ, nothing else moved
    row = dict(zip(relations.NAMES, relations.features(seqs, 1.6)[0], strict=True))
    assert row["ctr_1"] == pytest.approx(2.0)
    assert row["ctr_3"] == pytest.approx(6.0 / np.sqrt(3))  # ~3.5σ: more than any one day
    assert row["ctr_4"] == pytest.approx(6.0 / 2.0)
    assert row["bot_3"] == pytest.approx(6.0 / np.sqrt(3) / np.sqrt(2))  # orders did not follow


def test_impressions_up_without_clicks_is_a_placement_break() -> None:
    seqs = np.zeros((2, _L, 10))
    seqs[:, -2:, INDEX["impressions"]] = 3.2  # +2σ on the CTR scale for two days
    seqs[0, -2:, INDEX["ctr"]] = -2.0  # clicks stayed: CTR fell (placement shift)
    seqs[1, -2:, INDEX["clicks"]] = 2.0  # clicks followed: CTR unchanged (more demand)
    rows = relations.features(seqs, 1.6)
    place_2 = relations.NAMES.index("place_2")
    assert rows[0, place_2] == pytest.approx(2 * 4.0 / np.sqrt(2) / np.sqrt(2))
    assert rows[1, place_2] == pytest.approx(rows[0, place_2] / 2)  # half: only impressions


def test_accumulated_channels_equal_the_last_period_features() -> None:
    seqs = _sequences(50, seed=1)
    rows = relations.features(seqs, 1.6)
    for span in relations.SPANS:
        last = relations.accumulated(seqs, 1.6, span)[:, -1, :]
        cols = [relations.NAMES.index(f"{r}_{span}") for r in relations.RELATIONS]
        assert np.allclose(last, rows[:, cols])


def test_null_relations_keep_unit_scale() -> None:
    rows = relations.features(_sequences(20_000, seed=2), 1.6)
    one_day = [relations.NAMES.index(f"{r}_1") for r in relations.RELATIONS]
    assert np.allclose(rows[:, one_day].std(axis=0), 1.0, atol=0.05)
    assert (rows.std(axis=0) < 1.1).all()  # accumulated: gated, never inflated


def test_the_days_after_an_incident_are_not_its_echo() -> None:
    seqs = np.zeros((3, _L, 10))
    seqs[:, -4:-1, INDEX["ctr"]] = 10.0  # three days far out (clipped to DAILY_LIMIT)...
    seqs[0, -1, INDEX["ctr"]] = 0.3  # ...then a normal day: no opinion
    seqs[1, -1, INDEX["ctr"]] = 0.6  # ...then a small move: each earlier day capped at 1.2
    seqs[2, -1, INDEX["ctr"]] = -1.0  # ...then a move the other way: not a run
    rows = relations.features(seqs, 1.6)
    ctr_4 = relations.NAMES.index("ctr_4")
    assert rows[0, ctr_4] == 0.0
    assert rows[1, ctr_4] == pytest.approx((3 * 1.2 + 0.6) / 2.0)
    assert rows[2, ctr_4] == 0.0
    assert relations.features(seqs, 1.6)[:, relations.NAMES.index("ctr_1")].max() <= 0.6


def test_short_sequences_are_refused() -> None:
    with pytest.raises(ValueError, match="deviations"):
        relations.features(np.zeros((2, 3, 10)), 1.0)
