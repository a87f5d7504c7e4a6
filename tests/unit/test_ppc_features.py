"""PPC features: one declaration, zero-safe ratios, nothing non-finite reaches a model."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tripwire.domain.metrics import PPC_MEASURES
from tripwire.features.ppc import ACOS_CAP, DERIVED, FEATURES, RAW, derive


def test_the_feature_set_is_raw_then_derived() -> None:
    assert RAW == PPC_MEASURES
    assert DERIVED == ("ctr", "cpc", "acos", "cvr", "roas")
    assert FEATURES == RAW + DERIVED


def test_ratios_follow_their_definitions() -> None:
    features = dict(zip(FEATURES, derive([1000, 20, 10.0, 50.0, 2]), strict=True))
    assert features["ctr"] == 0.02
    assert features["cpc"] == 0.5
    assert features["acos"] == 0.2
    assert features["cvr"] == 0.1
    assert features["roas"] == 5.0


def test_a_zero_denominator_gives_zero_not_nan() -> None:
    assert derive([0, 0, 0.0, 0.0, 0]).tolist() == [0.0] * 10
    features = dict(zip(FEATURES, derive([100, 0, 0.0, 30.0, 1]), strict=True))
    assert features["ctr"] == 0.0 and features["cpc"] == 0.0 and features["cvr"] == 0.0
    assert features["roas"] == 0.0  # sales without spend: no ratio to speak of


def test_spend_without_sales_caps_acos() -> None:
    assert derive([100, 5, 4.0, 0.0, 0])[FEATURES.index("acos")] == ACOS_CAP


_values = st.one_of(
    st.just(0.0),
    st.floats(min_value=0.0, max_value=1e12),
    st.floats(min_value=0.0, max_value=1e-300),
    st.sampled_from([float("nan"), float("inf"), -1.0]),
)


@given(arrays(np.float64, st.tuples(st.integers(1, 6), st.just(5)), elements=_values))
def test_no_nan_or_inf_on_any_input(raw: np.ndarray) -> None:
    features = derive(raw)
    assert features.shape == (raw.shape[0], 10)
    assert np.isfinite(features).all()
    assert (features >= 0).all()
