"""The learner: what it learns (a scan's deviations, settled days only), when it is asked
(the last slice of a scheduled run) and its handler on the sample event (AWS in-process)."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.unit.test_pipeline import _TRAIN, _profile
from tripwire.detection.pipeline import (
    PipelineConfig,
    ScanPipeline,
    config_from_export,
    period_baseline,
)
from tripwire.domain import DetectionMetadata, Interval, Trigger
from tripwire.local.functions import invoke
from tripwire.registry.store import RegistryStore
from tripwire.service import fanout
from tripwire.service.incremental import MAX_CATCHUP
from tripwire.service.learn import learnable
from tripwire.service.messages import ScanMessage
from tripwire.service.models import ONLINE_DETECTOR
from tripwire.service.runs import new_run
from tripwire.service.scan import SliceOutcome
from tripwire.store.catalog import CatalogStore
from tripwire.store.metadata import MetadataStore, SeriesState, unit_of
from tripwire.store.provision import aws_client
from tripwire.store.queues import LEARN
from tripwire.store.runs import RunSlices, SliceRecord

EVENTS = Path(__file__).resolve().parents[2] / "events"
CONFIG = PipelineConfig(
    weights={"count": 2.0, "streaming": 0.3}, detector_options={"streaming": {"window_size": 200}}
)
DAY = datetime.date(2026, 3, 31)


def _event() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / "learner_sqs.json").read_text())
    return loaded


# -- what it ships -----------------------------------------------------------------------

HANDLER = EVENTS.parent / "functions" / "learner" / "handler.py"
_IMPORT_WITHOUT_ONNXRUNTIME = f"""
import importlib.util, sys
sys.modules["onnxruntime"] = None  # not in the learner's layers (base + river)
sys.modules["networkx"] = None
spec = importlib.util.spec_from_file_location("handler", {str(HANDLER)!r})
spec.loader.exec_module(importlib.util.module_from_spec(spec))
"""


def test_the_learner_imports_without_onnxruntime() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_WITHOUT_ONNXRUNTIME], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr.splitlines()[-1:]


# -- what is learnt -----------------------------------------------------------------------


@pytest.mark.parametrize("provisional", [False, True])
def test_the_learner_computes_the_deviations_a_scan_scores_without_any_detector(
    provisional: bool,
) -> None:
    pipeline = ScanPipeline(CONFIG).fit(_profile()[:, :_TRAIN], 0)
    window = _profile()[:, :91]
    scanned = pipeline.score(window, 90 % 7, provisional=provisional).baseline

    config = config_from_export(pipeline.export()["pipeline"][0])
    alone = period_baseline(config, window, 90 % 7, provisional=provisional)

    assert config == pipeline.config
    for name in ("deviation", "expected", "actual"):
        assert np.array_equal(getattr(alone, name), getattr(scanned, name)), name


def _days(*back: int) -> list[datetime.date]:
    return sorted(DAY - datetime.timedelta(days=d) for d in back)


def test_only_settled_days_every_series_has_scored_are_learnt_each_once() -> None:
    # A daily run re-scores the day that settled and scores the new one.
    assert learnable(_days(3, 0), DAY, covered=DAY - datetime.timedelta(days=4)) == _days(3)
    assert learnable(_days(3, 0), DAY, covered=DAY - datetime.timedelta(days=3)) == []
    # A catch-up after training: every settled day since; the last three stay provisional.
    trained = DAY - datetime.timedelta(days=6)
    assert learnable(_days(5, 4, 3, 2, 1, 0), DAY, covered=trained) == _days(5, 4, 3)
    # A series detected one day less (its slice's last message redelivered before it
    # scored the new day, say): the day that only settled for the others waits.
    assert learnable(_days(3, 0), DAY - datetime.timedelta(days=1), covered=trained) == _days(5, 4)
    # A day a lost learn message skipped is learnt with the next run's; never more than a
    # scan catches up.
    assert learnable(_days(3, 0), DAY, covered=trained) == _days(5, 4, 3)
    assert len(learnable(_days(0), DAY, covered=None)) == MAX_CATCHUP
    assert learnable(_days(0), None, covered=None) == []  # nothing detected yet


# -- when it is asked: the slice completing a scheduled run ---------------------------------


@pytest.fixture
def learn_queue(moto_aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    queue: str = aws_client("sqs").create_queue(
        QueueName="learn.fifo", Attributes={"FifoQueue": "true"}
    )["QueueUrl"]
    monkeypatch.setenv(LEARN.url_env, queue)
    return queue


def _received(queue: str) -> list[dict[str, Any]]:
    messages = aws_client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


WITH_TREES = {"pipeline": "0" * 64, ONLINE_DETECTOR: "1" * 64}


def _run_in_slices(
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    slices: int,
    periods: list[datetime.date],
    versions: dict[str, str] = WITH_TREES,
) -> list[ScanMessage]:
    """A run of ``slices`` messages whose detection (mocked) scores ``periods``."""
    run = new_run("acme", "A1", Trigger.SCHEDULE, 10)
    RunSlices().start(run, slices)

    def detect(message: ScanMessage, **_: Any) -> SliceOutcome:
        record = SliceRecord(index=message.slice_index, status="complete", model_versions=versions)
        return SliceOutcome(record, [], [], periods)

    monkeypatch.setattr("tripwire.service.scan.detect_slice", detect)
    return [
        ScanMessage(
            kind=kind,
            tenant_id="acme",
            profile_id="A1",
            run_id=run.run_id,
            slice_index=i,
            slice_count=slices,
        )
        for i in range(slices)
    ]


def test_only_the_slice_completing_a_scheduled_run_asks_for_learning_once(
    learn_queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    periods = [DAY - datetime.timedelta(days=3), DAY]
    first, last = _run_in_slices(monkeypatch, "scan", 2, periods)

    fanout.process(first)
    assert _received(learn_queue) == []  # the other slice has not scored its periods yet
    fanout.process(last)
    fanout.process(last)  # redelivered: the same deduplication id, dropped by the queue

    asked = _received(learn_queue)
    assert len(asked) == 1
    assert asked[0]["run_id"] == last.run_id
    assert asked[0]["periods"] == [p.isoformat() for p in periods]


@pytest.mark.parametrize("kind", ["backfill", "detect"])
def test_backfills_and_api_detections_never_learn(
    learn_queue: str, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    (only,) = _run_in_slices(monkeypatch, kind, 1, [DAY - datetime.timedelta(days=3), DAY])
    fanout.process(only)
    assert _received(learn_queue) == []


def test_a_run_scored_without_trees_asks_nothing(
    learn_queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    market = {"market-1d-nyse": "2" * 64}  # a market profile's model set
    (only,) = _run_in_slices(
        monkeypatch, "scan", 1, [DAY - datetime.timedelta(days=3), DAY], market
    )
    fanout.process(only)
    assert _received(learn_queue) == []


# -- the handler on its sample event --------------------------------------------------------


def test_the_handler_learns_the_settled_days_once(moto_aws: None, tmp_path: Path) -> None:
    from tripwire.demo.generator import GeneratorConfig, generate, write
    from tripwire.ingest.importer import import_account
    from tripwire.service.train import train_profile

    generated = generate(GeneratorConfig(seed=3, keywords=20, campaigns=2, portfolios=1, days=90))
    paths = write(generated, tmp_path)
    import_account("acme", "A1", paths["entities"], paths["metrics"])
    trained = train_profile("acme", "A1", datetime.date(2026, 3, 1), config=CONFIG).versions
    _detected_through("acme", "A1", DAY)  # what the event's run did

    assert invoke("learner", _event()) == {"batchItemFailures": []}
    learnt = RegistryStore().current_set("acme", "A1")
    assert learnt is not None and learnt[ONLINE_DETECTOR] != trained[ONLINE_DETECTOR]
    _, meta = RegistryStore().load("acme", "A1", ONLINE_DETECTOR, learnt[ONLINE_DETECTOR])
    # The event's run scored 03-28 (settled) and 03-31 (its newest, provisional): the trees
    # learn every settled day since training, 03-02..03-28.
    assert meta["learnt_through"] == "2026-03-28" and meta["learnt_periods"] == 27

    assert invoke("learner", _event()) == {"batchItemFailures": []}  # redelivered
    assert RegistryStore().current_set("acme", "A1") == learnt


def _detected_through(tenant: str, profile: str, day: datetime.date) -> None:
    """Detection states as a scan leaves them: every series detected through ``day``."""
    _, hierarchy = CatalogStore().get_hierarchy(tenant, profile)
    last = datetime.datetime.combine(day, datetime.time())
    by_unit: dict[str, list[SeriesState]] = {}
    for entity in hierarchy:
        meta = DetectionMetadata(
            tenant_id=tenant,
            profile_id=profile,
            entity_id=entity.entity_id,
            interval=Interval.D1,
            last_detected=last,
        )
        by_unit.setdefault(unit_of(entity), []).append(SeriesState(meta, last))
    MetadataStore().write(tenant, profile, Interval.D1, by_unit)


def test_a_profile_without_trees_is_consumed_and_a_bad_message_holds_back_its_group(
    moto_aws: None,
) -> None:
    sample = _event()["Records"][0]
    bad = {**sample, "messageId": "bad", "body": '{"tenant_id": "acme"}'}
    after_bad = {**sample, "messageId": "after-bad"}  # same group: must wait for its turn
    other = {
        **sample,
        "messageId": "other",
        "attributes": {**sample["attributes"], "MessageGroupId": "acme#A2"},
        "body": sample["body"].replace('"A1"', '"A2"'),
    }
    result = invoke("learner", {"Records": [bad, after_bad, other]})

    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    assert failed == {"bad", "after-bad"}  # A2 has no models: nothing to learn, consumed
    assert RegistryStore().current_set("acme", "A2") is None
