"""Online learning: the half-space trees learn each scanned period and their state persists
in the registry (moto server over real HTTP), so the next scan — in this warm container or
a cold one — scores with the updated trees."""

from __future__ import annotations

import datetime

import numpy as np
import pytest

from tests.unit.test_pipeline import _TRAIN, _busy, _profile
from tripwire.detection.pipeline import PipelineConfig, ScanPipeline
from tripwire.local.stack import LocalStack
from tripwire.registry import ModelManager, RegistryStore
from tripwire.service.models import current_pipeline, learn_and_save

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("local_stack")]
PROFILE = "A1"
DAY = datetime.date(2026, 3, 31)  # the calendar date of window period 90
CONFIG = PipelineConfig(
    weights={"count": 2.0, "streaming": 0.3}, detector_options={"streaming": {"window_size": 200}}
)


def _window(last: int) -> np.ndarray:
    raw = _profile()
    raw[_busy(raw), 90, 2] *= 3.0
    return raw[:, : last + 1]


@pytest.fixture
def published(local_stack: LocalStack, tenant: str) -> dict[str, str]:
    pipeline = ScanPipeline(CONFIG).fit(_profile()[:, :_TRAIN], 0)
    return RegistryStore().publish_models(tenant, PROFILE, pipeline.export())


def _cold_pipeline(tenant: str) -> tuple[ScanPipeline, dict[str, str]]:
    """What a fresh container loads: a new manager, nothing cached."""
    return current_pipeline(tenant, PROFILE, ModelManager(check_seconds=0))


def test_a_learnt_period_is_published_and_a_cold_scan_loads_it(
    tenant: str, published: dict[str, str]
) -> None:
    manager = ModelManager(check_seconds=3600)  # a warm container that rarely re-checks
    pipeline, versions = current_pipeline(tenant, PROFILE, manager)
    result = pipeline.score(_window(90), 90 % 7)
    before = pipeline.score(_window(91), 91 % 7).detector_scores["streaming"]

    new = learn_and_save(tenant, PROFILE, pipeline, result, DAY, versions=versions)

    assert new is not None and new["streaming"] != published["streaming"]
    assert new["pipeline"] == published["pipeline"]  # only the trees changed
    assert RegistryStore().current_set(tenant, PROFILE) == new
    _, meta = RegistryStore().load(tenant, PROFILE, "streaming", new["streaming"])
    assert meta["learnt_periods"] == 1 and meta["learnt_through"] == DAY.isoformat()
    # The old state stays loadable: versions are content-addressed, never overwritten.
    RegistryStore().load(tenant, PROFILE, "streaming", published["streaming"])

    cold, cold_versions = _cold_pipeline(tenant)
    assert cold_versions == new
    after = cold.score(_window(91), 91 % 7).detector_scores["streaming"]
    warm = pipeline.score(_window(91), 91 % 7).detector_scores["streaming"]
    assert np.allclose(after, warm, atol=1e-12)  # the cold scan scores as the learnt trees
    assert not np.allclose(after, before, atol=1e-12)  # and they did change

    # The warm container keeps its learnt pipeline although its manager still serves the
    # old model set for a while.
    again, again_versions = current_pipeline(tenant, PROFILE, manager)
    assert again is pipeline and again_versions == new


def test_a_period_is_learnt_once_and_the_next_one_builds_on_it(
    tenant: str, published: dict[str, str]
) -> None:
    pipeline, versions = _cold_pipeline(tenant)
    result = pipeline.score(_window(90), 90 % 7)
    first = learn_and_save(tenant, PROFILE, pipeline, result, DAY, versions=versions)
    assert first is not None

    retry, retry_versions = _cold_pipeline(tenant)  # a retried message in another container
    assert learn_and_save(tenant, PROFILE, retry, result, DAY, versions=retry_versions) is None
    assert RegistryStore().current_set(tenant, PROFILE) == first

    nxt = retry.score(_window(91), 91 % 7)
    second = learn_and_save(
        tenant, PROFILE, retry, nxt, DAY + datetime.timedelta(days=1), versions=retry_versions
    )
    assert second is not None and second["streaming"] != first["streaming"]
    _, meta = RegistryStore().load(tenant, PROFILE, "streaming", second["streaming"])
    assert meta["learnt_periods"] == 2


def test_a_pipeline_without_online_trees_learns_nothing(
    local_stack: LocalStack, tenant: str
) -> None:
    pipeline = ScanPipeline(PipelineConfig(detector="count")).fit(_profile()[:, :_TRAIN], 0)
    RegistryStore().publish_models(tenant, PROFILE, pipeline.export())
    loaded, versions = _cold_pipeline(tenant)
    result = loaded.score(_window(90), 90 % 7)
    assert learn_and_save(tenant, PROFILE, loaded, result, DAY, versions=versions) is None


def test_trees_loaded_before_a_retrain_do_not_overwrite_it(
    tenant: str, published: dict[str, str]
) -> None:
    pipeline, versions = _cold_pipeline(tenant)
    result = pipeline.score(_window(90), 90 % 7)
    retrained = ScanPipeline(CONFIG).fit(_profile(seed=1)[:, :_TRAIN], 0)
    fresh = RegistryStore().publish_models(tenant, PROFILE, retrained.export())
    assert fresh["pipeline"] != versions["pipeline"]

    assert learn_and_save(tenant, PROFILE, pipeline, result, DAY, versions=versions) is None
    assert RegistryStore().current_set(tenant, PROFILE) == fresh
