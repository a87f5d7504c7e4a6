"""The synthesised storage follows tripwire.store.tables, and cdk-nag has nothing to say.

Expectations are derived from ``TABLES`` / ``BUCKETS``, never restated, so a change to the
declaration that the stack does not follow fails here. The app is synthesised once per
session (tests/infra/conftest.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, CfnResource
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match, Template
from infra.app import build

from tests.infra.conftest import Synth, synth_context
from tripwire.store.tables import BUCKETS, TABLES, Bucket, Key, Table


def _logical_id(synth: Synth, construct: Any) -> str:
    cfn = construct.node.default_child
    assert isinstance(cfn, CfnResource)
    return synth.stack.get_logical_id(cfn)


def _table(synth: Synth, table: Table) -> dict[str, Any]:
    assert table.logical in synth.stack.storage.tables, f"no table built for {table.logical}"
    return synth.resources[_logical_id(synth, synth.stack.storage.tables[table.logical])]


def _key_schema(partition: Key, sort: Key | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": partition.name, "KeyType": "HASH"}]
    if sort:
        schema.append({"AttributeName": sort.name, "KeyType": "RANGE"})
    return schema


def test_one_table_per_declaration(synth: Synth) -> None:
    synth.template.resource_count_is("AWS::DynamoDB::GlobalTable", len(TABLES))
    assert set(synth.stack.storage.tables) == {table.logical for table in TABLES}


@pytest.mark.parametrize("table", TABLES, ids=lambda table: table.logical)
def test_table_matches_declaration(synth: Synth, table: Table) -> None:
    resource = _table(synth, table)
    props = resource["Properties"]

    assert props["KeySchema"] == _key_schema(table.partition, table.sort)
    assert sorted(props["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
        ({"AttributeName": k.name, "AttributeType": k.type} for k in table.key_attributes()),
        key=lambda a: a["AttributeName"],
    )
    expected_indexes = [
        {
            "IndexName": index.name,
            "KeySchema": _key_schema(index.partition, index.sort),
            "Projection": {"ProjectionType": "ALL"},
        }
        for index in table.indexes
    ]
    assert props.get("GlobalSecondaryIndexes", []) == expected_indexes

    expected_ttl = (
        {"AttributeName": table.ttl_attribute, "Enabled": True} if table.ttl_attribute else None
    )
    assert props.get("TimeToLiveSpecification") == expected_ttl
    expected_stream = {"StreamViewType": table.stream} if table.stream else None
    assert props.get("StreamSpecification") == expected_stream

    assert props["BillingMode"] == "PAY_PER_REQUEST"
    # AWS-managed key: KMS encryption without a customer key anywhere.
    assert props["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}
    (replica,) = props["Replicas"]
    assert "SSESpecification" not in replica
    assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert replica.get("DeletionProtectionEnabled", False) is table.retain
    policy = "Retain" if table.retain else "Delete"
    assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == (policy, policy)
    assert "TableName" not in props, "physical names are left to CloudFormation"


def test_environment_names_every_table_and_bucket(synth: Synth) -> None:
    storage = synth.stack.storage
    env = storage.environment()
    assert set(env) == {t.env_var for t in TABLES} | {b.env_var for b in BUCKETS}
    for table in TABLES:
        expected = {"Ref": _logical_id(synth, storage.tables[table.logical])}
        assert synth.stack.resolve(env[table.env_var]) == expected
    for bucket in BUCKETS:
        expected = {"Ref": _logical_id(synth, storage.buckets[bucket.logical])}
        assert synth.stack.resolve(env[bucket.env_var]) == expected


@pytest.mark.parametrize("bucket", BUCKETS, ids=lambda bucket: bucket.logical)
def test_bucket_matches_declaration(synth: Synth, bucket: Bucket) -> None:
    logical_id = _logical_id(synth, synth.stack.storage.buckets[bucket.logical])
    resource = synth.resources[logical_id]
    props = resource["Properties"]

    assert "BucketName" not in props, "physical names are left to CloudFormation"
    expected_versioning = {"Status": "Enabled"} if bucket.versioned else None
    assert props.get("VersioningConfiguration") == expected_versioning
    assert props["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
        ]
    }
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    access_logs = _logical_id(synth, synth.stack.storage.access_logs)
    assert props["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": access_logs}
    assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Retain", "Retain")

    synth.template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "Bucket": {"Ref": logical_id},
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Action": "s3:*",
                                "Principal": {"AWS": "*"},
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            },
        },
    )


def test_cdk_nag_reports_no_errors(synth: Synth) -> None:
    # cdk-nag v3 is a validation plugin: findings go to validation-report.json (and an
    # unacknowledged error fails the synth itself). Annotations is checked too, for v2 habits.
    report = json.loads((synth.outdir / "validation-report.json").read_text())
    errors = [
        f"{violation['ruleName']} at {construct['constructPath']}"
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        if violation["severity"] == "error"
        for construct in violation["violatingConstructs"]
    ]
    assert errors == []
    annotations = Annotations.from_stack(synth.stack)
    assert annotations.find_error("*", Match.string_like_regexp("AwsSolutions-.*")) == []


def test_every_acknowledgment_is_justified(synth: Synth) -> None:
    acknowledged = [
        (logical_id, rule)
        for logical_id, resource in synth.resources.items()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    ]
    assert acknowledged, "expected the access-log bucket's AwsSolutions-S1 acknowledgment"
    for logical_id, rule in acknowledged:
        assert len(rule["reason"].split()) >= 8, f"{logical_id}: {rule['id']} needs a real reason"


def test_cdk_nag_is_attached_and_fails_the_synth(tmp_path: Path) -> None:
    # Guards the tests above: without it, "no errors" could just mean "cdk-nag never ran".
    _, stack = build(App(context=synth_context(), outdir=str(tmp_path)))
    s3.Bucket(stack, "CarelessBucket")  # no access logs, no TLS-only policy
    with pytest.raises(RuntimeError, match="ValidationFailed") as failure:
        Template.from_stack(stack)
    assert "AwsSolutions-S1'" in str(failure.value) and "AwsSolutions-S10'" in str(failure.value)
    assert "Tripwire/Storage" not in str(failure.value), "only the careless bucket is at fault"
