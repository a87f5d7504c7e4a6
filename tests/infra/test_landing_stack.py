"""The landing bucket in the synthesised stack: private, encrypted, TLS only, expiring; its
object-created notifications go to a queue (+DLQ, alarmed) that the landing function
drains; and only the landing function writes to it, only GET /imports' function reads."""

from __future__ import annotations

import json

from infra.components.landing import BATCH_SIZE
from infra.components.permissions import FUNCTIONS

from tests.infra.conftest import Synth
from tests.infra.test_app_stack import _as_list, _env, _function, _id, _of_type, _statements
from tripwire.store.queues import LANDING
from tripwire.store.tables import LANDING as LANDING_BUCKET


def _bucket(synth: Synth) -> dict[str, object]:
    return synth.resources[_id(synth, synth.stack.storage.buckets[LANDING_BUCKET.logical])]


def test_the_bucket_is_private_encrypted_unversioned_and_expires_files(synth: Synth) -> None:
    props = _bucket(synth)["Properties"]
    assert isinstance(props, dict)
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"
    ] == {"SSEAlgorithm": "AES256"}
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert "VersioningConfiguration" not in props
    (rule,) = props["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == LANDING_BUCKET.expire_days
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert rule["Status"] == "Enabled"


def test_created_objects_notify_the_landing_queue(synth: Synth) -> None:
    queue = _id(synth, synth.stack.landing.queue)
    (notification,) = _of_type(synth, "Custom::S3BucketNotifications").values()
    config = notification["Properties"]["NotificationConfiguration"]
    (target,) = config["QueueConfigurations"]
    assert target["Events"] == ["s3:ObjectCreated:*"]
    assert target["QueueArn"] == {"Fn::GetAtt": [queue, "Arn"]}
    # S3 may send to the queue, and only for this bucket.
    bucket = _id(synth, synth.stack.storage.buckets[LANDING_BUCKET.logical])
    (policy,) = [
        p["Properties"]
        for p in _of_type(synth, "AWS::SQS::QueuePolicy").values()
        if {"Ref": queue} in p["Properties"]["Queues"]
    ]
    statements = policy["PolicyDocument"]["Statement"]
    s3_send = [s for s in statements if s.get("Principal") == {"Service": "s3.amazonaws.com"}]
    assert s3_send and bucket in json.dumps(s3_send[0]["Condition"])


def test_the_queue_dead_letters_and_outlasts_the_function(synth: Synth) -> None:
    queue = synth.resources[_id(synth, synth.stack.landing.queue)]["Properties"]
    dlq = _id(synth, synth.stack.landing.dlq)
    timeout = _function(synth, "landing")["Properties"]["Timeout"]
    assert queue["VisibilityTimeout"] >= 6 * timeout
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dlq, "Arn"]},
        "maxReceiveCount": LANDING.max_receives,
    }
    assert queue["SqsManagedSseEnabled"] is True
    (mapping,) = [
        m["Properties"]
        for m in _of_type(synth, "AWS::Lambda::EventSourceMapping").values()
        if "LandingQueue" in json.dumps(m["Properties"]["EventSourceArn"])
    ]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == BATCH_SIZE
    assert "landing-dlq-depth" in synth.stack.monitoring.alarms


def test_only_the_landing_function_writes_and_only_it_and_ingest_read(synth: Synth) -> None:
    # (the profiles function deletes a deleted profile's files, and reads none)
    bucket = _id(synth, synth.stack.storage.buckets[LANDING_BUCKET.logical])
    for name, access in FUNCTIONS.items():
        actions = {
            a
            for s in _statements(synth, name)
            for a in _as_list(s["Action"])
            if a.startswith("s3:") and bucket in json.dumps(s["Resource"])
        }
        expected = set()
        if access.read_landing:
            expected = {"s3:ListBucket", "s3:GetObject"}
        if access.write_reports:
            expected.add("s3:PutObject")
        if access.purge_profiles:  # DELETE /profiles/{id}: the profile's files, no reading
            expected = {"s3:ListBucket", "s3:ListBucketVersions"}
            expected |= {"s3:DeleteObject", "s3:DeleteObjectVersion"}
        assert actions == expected, name
        named = access.read_landing or access.purge_profiles
        assert (LANDING_BUCKET.env_var in _env(synth, name)) is named, name
    assert [n for n, a in FUNCTIONS.items() if a.write_reports] == ["landing"]
    assert {n for n, a in FUNCTIONS.items() if a.read_landing} == {"landing", "ingest"}
