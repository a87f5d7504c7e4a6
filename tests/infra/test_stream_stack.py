"""The Marketing Stream queue in the synthesised stack: encrypted, TLS only, dead-lettered
(alarmed), drained by the stream_ingest function with partial batch responses; its ARN is
the scan worker's subscription destination and a stack output."""

from __future__ import annotations

import json

from infra.components.stream import BATCH_SIZE

from tests.infra.conftest import Synth
from tests.infra.test_app_stack import _env, _id, _of_type
from tripwire.store.queues import STREAM, STREAM_ARN_ENV


def test_the_stream_queue_dead_letters_and_outlasts_its_function(synth: Synth) -> None:
    queue = synth.resources[_id(synth, synth.stack.stream.queue)]["Properties"]
    dlq = _id(synth, synth.stack.stream.dlq)
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dlq, "Arn"]},
        "maxReceiveCount": STREAM.max_receives,
    }
    assert queue["SqsManagedSseEnabled"] is True
    (mapping,) = [
        m["Properties"]
        for m in _of_type(synth, "AWS::Lambda::EventSourceMapping").values()
        if "StreamQueue" in json.dumps(m["Properties"]["EventSourceArn"])
    ]
    assert mapping["FunctionName"] == {
        "Ref": _id(synth, synth.stack.functions.functions["stream_ingest"])
    }
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == BATCH_SIZE
    assert "stream-dlq-depth" in synth.stack.monitoring.alarms


def test_the_scan_worker_subscribes_profiles_to_the_stream_queue(synth: Synth) -> None:
    arn = {"Fn::GetAtt": [_id(synth, synth.stack.stream.queue), "Arn"]}
    assert _env(synth, "scan_worker")[STREAM_ARN_ENV] == arn
    assert synth.template.to_json()["Outputs"]["StreamQueueArn"]["Value"] == arn
