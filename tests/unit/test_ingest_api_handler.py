"""functions/ingest/handler.py invoked with events/metrics_ingest.json (moto in-process)."""

from __future__ import annotations

import copy
import importlib.util
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tripwire.domain.metrics import Interval
from tripwire.local.gateway import LambdaContext, functions_root
from tripwire.store.metrics import MetricStore

EVENT = Path(__file__).resolve().parents[2] / "events" / "metrics_ingest.json"


@pytest.fixture(autouse=True)
def aws(moto_aws: None) -> Iterator[None]:
    yield


def _invoke(event: dict[str, Any]) -> dict[str, Any]:
    path = functions_root() / "ingest" / "handler.py"
    spec = importlib.util.spec_from_file_location("_ingest_handler_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result: dict[str, Any] = module.handler(event, LambdaContext("ingest", "unit-test"))
    return result


def _event() -> dict[str, Any]:
    event: dict[str, Any] = copy.deepcopy(json.loads(EVENT.read_text()))
    return event


def test_the_sample_batch_is_stored_with_roll_ups_and_replayed_on_retry() -> None:
    first = _invoke(_event())
    assert first["statusCode"] == 200, first["body"]
    assert json.loads(first["body"])["entities_new"] == 3
    window = MetricStore().read_window(
        "tenant-sample",
        "A1",
        Interval.D1,
        ["K1", "ACC"],
        datetime(2026, 3, 1),
        datetime(2026, 3, 2),
    )
    assert window["ACC"]["2026-03-01"] == (1200, 31, 18.6, 96.5, 3)
    again = _invoke(_event())  # same Idempotency-Key, same body
    assert again["statusCode"] == 200
    assert json.loads(again["body"]) == json.loads(first["body"])
    assert again["headers"]["Idempotent-Replayed"] == "true"


def test_a_bad_row_is_named_and_nothing_is_written() -> None:
    event = _event()
    body = json.loads(event["body"])
    body["points"][1]["clicks"] = 5000  # more clicks than impressions
    event["body"] = json.dumps(body)
    del event["headers"]["idempotency-key"]
    result = _invoke(event)
    assert result["statusCode"] == 422
    assert json.loads(result["body"])["detail"][0]["loc"] == ["body", "points", 1, "clicks"]
    window = MetricStore().read_window(
        "tenant-sample", "A1", Interval.D1, ["K1"], datetime(2026, 3, 1), datetime(2026, 3, 2)
    )
    assert window == {"K1": {}}


def test_an_oversized_body_is_413_before_parsing() -> None:
    event = _event()
    event["body"] = "[" + " " * (2 * 1024 * 1024) + "]"
    result = _invoke(event)
    assert result["statusCode"] == 413 and "at most" in json.loads(result["body"])["message"]
