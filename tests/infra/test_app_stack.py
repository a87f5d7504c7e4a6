"""The synthesised stack: API routes and authorizer, least-privilege roles, the scan
pipeline, notifications, archival, alarms, and a template cfn-lint accepts.

Expectations come from the declarations (``ROUTES``, ``WORKERS``, ``FUNCTIONS``, ``TABLES``),
so a route, a function or a grant added on one side only fails here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import CfnResource
from infra.components.functions import function_names, layers_of, sizing
from infra.components.permissions import FUNCTIONS, READ_ACTIONS, WRITE_ACTIONS
from infra.components.pipeline import (
    DIGEST_SCHEDULE,
    LEARN_BATCH_SIZE,
    SWEEP_SCHEDULE,
    WEEKLY_DIGEST_SCHEDULE,
)

from tests.infra.conftest import ALERT_EMAIL, SMS_NUMBER, Synth, synth_context
from tripwire import telemetry
from tripwire.api.routes import ROUTES, WORKERS, Route
from tripwire.notify.digest import is_weekly, week_to_digest
from tripwire.service.schedule import SCHEDULED
from tripwire.store.queues import LEARN, SCAN
from tripwire.store.tables import METRICS, TABLES

ALL_FUNCTIONS = function_names()


def _id(synth: Synth, construct: Any) -> str:
    cfn = construct if isinstance(construct, CfnResource) else construct.node.default_child
    assert isinstance(cfn, CfnResource)
    return synth.stack.get_logical_id(cfn)


def _of_type(synth: Synth, kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in synth.resources.items() if v["Type"] == kind}


def _function(synth: Synth, name: str) -> dict[str, Any]:
    return synth.resources[_id(synth, synth.stack.functions.functions[name])]


def _statements(synth: Synth, name: str) -> list[dict[str, Any]]:
    role = _id(synth, synth.stack.functions.roles[name])
    return [
        statement
        for policy in _of_type(synth, "AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _table_grants(synth: Synth, name: str) -> dict[str, set[str]]:
    """Table logical name → DynamoDB actions the function's role allows on it."""
    by_id = {_id(synth, synth.stack.storage.tables[t.logical]): t.logical for t in TABLES}
    grants: dict[str, set[str]] = {}
    for statement in _statements(synth, name):
        actions = [a for a in _as_list(statement["Action"]) if a.startswith("dynamodb:")]
        if not actions:
            continue
        for resource in _as_list(statement["Resource"]):
            text = json.dumps(resource)
            for logical_id, table in by_id.items():
                if f'"{logical_id}"' in text and "StreamArn" not in text:
                    grants.setdefault(table, set()).update(actions)
    return grants


def _env(synth: Synth, name: str) -> dict[str, Any]:
    env: dict[str, Any] = _function(synth, name)["Properties"]["Environment"]["Variables"]
    return env


# -- API -------------------------------------------------------------------------------


def test_one_lambda_per_function_folder(synth: Synth) -> None:
    assert set(ALL_FUNCTIONS) == {r.function for r in ROUTES} | set(WORKERS)
    assert set(synth.stack.functions.functions) == set(ALL_FUNCTIONS)
    for name in ALL_FUNCTIONS:
        props = _function(synth, name)["Properties"]
        assert (props["Runtime"], props["Architectures"]) == ("python3.12", ["x86_64"])
        assert props["Handler"] == "handler.handler"
        assert props["Timeout"] == sizing(name).timeout.to_seconds()
        role = _id(synth, synth.stack.functions.roles[name])
        assert props["Role"] == {"Fn::GetAtt": [role, "Arn"]}, f"{name} shares a role"


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.route_key)
def test_route_targets_its_function_behind_the_authorizer(synth: Synth, route: Route) -> None:
    routes = [
        r["Properties"]
        for r in _of_type(synth, "AWS::ApiGatewayV2::Route").values()
        if r["Properties"]["RouteKey"] == route.route_key
    ]
    assert len(routes) == 1, f"{route.route_key} should be declared once"
    (props,) = routes
    if route.auth:
        assert props["AuthorizationType"] == "JWT"
        (jwt_authorizer,) = _of_type(synth, "AWS::ApiGatewayV2::Authorizer")
        assert props["AuthorizerId"] == {"Ref": jwt_authorizer}
    else:
        assert props["AuthorizationType"] == "NONE"
        assert "AuthorizerId" not in props
    integration_id = props["Target"]["Fn::Join"][1][1]["Ref"]
    integration = synth.resources[integration_id]["Properties"]
    function = _id(synth, synth.stack.functions.functions[route.function])
    assert integration["IntegrationUri"] == {"Fn::GetAtt": [function, "Arn"]}


def test_authorizer_trusts_the_user_pool_with_a_tenant_attribute(synth: Synth) -> None:
    (authorizer,) = _of_type(synth, "AWS::ApiGatewayV2::Authorizer").values()
    props = authorizer["Properties"]
    assert props["AuthorizerType"] == "JWT"
    assert props["IdentitySource"] == ["$request.header.Authorization"]
    pool = _id(synth, synth.stack.api.user_pool)
    assert pool in json.dumps(props["JwtConfiguration"]["Issuer"])
    (user_pool,) = _of_type(synth, "AWS::Cognito::UserPool").values()
    schema = {a["Name"]: a for a in user_pool["Properties"]["Schema"]}
    assert schema["tenant_id"]["Mutable"] is False
    assert user_pool["Properties"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    for client in _of_type(synth, "AWS::Cognito::UserPoolClient").values():
        assert "custom:tenant_id" not in client["Properties"]["WriteAttributes"]


def test_stage_is_throttled_and_logged(synth: Synth) -> None:
    (stage,) = _of_type(synth, "AWS::ApiGatewayV2::Stage").values()
    props = stage["Properties"]
    throttle = props["DefaultRouteSettings"]
    assert throttle["ThrottlingRateLimit"] > 0 and throttle["ThrottlingBurstLimit"] > 0
    log_format = json.loads(props["AccessLogSettings"]["Format"])
    assert {"requestId", "routeKey", "status", "user"} <= set(log_format)
    assert "Arn" in json.dumps(props["AccessLogSettings"]["DestinationArn"])


# -- least privilege ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_FUNCTIONS)
def test_role_reaches_exactly_the_declared_tables(synth: Synth, name: str) -> None:
    grants = _table_grants(synth, name)
    declared = FUNCTIONS[name]
    assert set(grants) == declared.table_names()
    for grant in declared.tables:
        assert grants[grant.table.logical] == set(grant.actions()), grant.table.logical


@pytest.mark.parametrize("name", ALL_FUNCTIONS)
def test_indexes_only_where_declared(synth: Synth, name: str) -> None:
    indexes = {
        str(part).split("/index/")[1]
        for statement in _statements(synth, name)
        for resource in _as_list(statement["Resource"])
        for part in json.dumps(resource).split('"')
        if "/index/" in str(part)
    }
    declared = {index for grant in FUNCTIONS[name].tables for index in grant.indexes}
    assert indexes == declared


def test_alerts_function_cannot_write_metrics_or_scan(synth: Synth) -> None:
    grants = _table_grants(synth, "alerts")
    assert METRICS.logical not in grants
    everything = {a for s in _statements(synth, "alerts") for a in _as_list(s["Action"])}
    assert not any(a in everything for a in ("dynamodb:Scan", "dynamodb:DeleteItem"))
    assert not any(a.startswith(("sqs:", "sns:", "s3:", "secretsmanager:")) for a in everything)


def test_only_writers_write(synth: Synth) -> None:
    # Read-only functions hold no write action anywhere (digest, stats, verify on metrics…).
    for name in ("stats", "digest"):
        for actions in _table_grants(synth, name).values():
            assert not actions & set(WRITE_ACTIONS), name
    assert _table_grants(synth, "verify")["metrics"] == set(READ_ACTIONS)
    assert "dynamodb:Scan" in _table_grants(synth, "digest")["catalog"]


def test_environment_names_only_the_granted_tables(synth: Synth) -> None:
    for name in ALL_FUNCTIONS:
        env = _env(synth, name)
        tables = {k for k in env if k.startswith("TRIPWIRE_TABLE_")}
        assert tables == {g.table.env_var for g in FUNCTIONS[name].tables}, name
        assert env["POWERTOOLS_SERVICE_NAME"] == "tripwire"
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == "Tripwire"


def test_each_function_gets_only_its_layers(synth: Synth) -> None:
    layers = synth.stack.functions.layers
    for name in ALL_FUNCTIONS:
        attached = _function(synth, name)["Properties"]["Layers"]
        assert attached == [{"Ref": _id(synth, layers[layer])} for layer in layers_of(name)]
    assert layers_of("health") == ["base", "tripwire"]
    assert not any(
        "river" in layers_of(name) for name in ALL_FUNCTIONS if not FUNCTIONS[name].river
    )
    # The learner ships river (with numpy) and no onnxruntime; no other function has river.
    assert layers_of("learner") == ["base", "tripwire", "river"]
    assert [name for name in ALL_FUNCTIONS if "river" in layers_of(name)] == ["learner"]


# -- scan pipeline -----------------------------------------------------------------------


def test_scan_queue_dead_letters_and_outlasts_the_worker(synth: Synth) -> None:
    queue = synth.resources[_id(synth, synth.stack.scan.queue)]["Properties"]
    dlq = _id(synth, synth.stack.scan.dlq)
    worker_timeout = _function(synth, "scan_worker")["Properties"]["Timeout"]
    assert queue["VisibilityTimeout"] >= 6 * worker_timeout
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dlq, "Arn"]},
        "maxReceiveCount": SCAN.max_receives,
    }
    assert queue["SqsManagedSseEnabled"] is True
    assert _env(synth, "scan_worker")["TRIPWIRE_SCAN_MAX_RECEIVES"] == str(SCAN.max_receives)


def test_worker_reports_batch_item_failures(synth: Synth) -> None:
    (mapping,) = [
        m["Properties"]
        for m in _of_type(synth, "AWS::Lambda::EventSourceMapping").values()
        if "ScanQueue" in json.dumps(m["Properties"]["EventSourceArn"])
    ]
    assert mapping["FunctionName"] == {
        "Ref": _id(synth, synth.stack.functions.functions["scan_worker"])
    }
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_queue_senders_have_the_url_and_the_grant(synth: Synth) -> None:
    queue = _id(synth, synth.stack.scan.queue)
    for name in ALL_FUNCTIONS:
        sends = any(
            "sqs:SendMessage" in _as_list(s["Action"]) and queue in json.dumps(s["Resource"])
            for s in _statements(synth, name)
        )
        expected = name in {"scan_scheduler", "scan_worker", "detect", "runs"}
        assert sends is expected, name
        assert ("TRIPWIRE_SCAN_QUEUE_URL" in _env(synth, name)) is expected, name


def test_learn_queue_is_fifo_dead_letters_and_outlasts_the_learner(synth: Synth) -> None:
    queue = synth.resources[_id(synth, synth.stack.scan.learn_queue)]["Properties"]
    dlq_id = _id(synth, synth.stack.scan.learn_dlq)
    learner_timeout = _function(synth, "learner")["Properties"]["Timeout"]
    # FIFO: one message group per profile, so two learners never learn one profile at once.
    assert queue["FifoQueue"] is True
    assert synth.resources[dlq_id]["Properties"]["FifoQueue"] is True
    assert queue["VisibilityTimeout"] >= 6 * learner_timeout
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
        "maxReceiveCount": LEARN.max_receives,
    }
    assert queue["SqsManagedSseEnabled"] is True
    (mapping,) = [
        m["Properties"]
        for m in _of_type(synth, "AWS::Lambda::EventSourceMapping").values()
        if "LearnQueue" in json.dumps(m["Properties"]["EventSourceArn"])
    ]
    assert mapping["FunctionName"] == {
        "Ref": _id(synth, synth.stack.functions.functions["learner"])
    }
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == LEARN_BATCH_SIZE


def test_only_the_worker_asks_for_learning(synth: Synth) -> None:
    queue = _id(synth, synth.stack.scan.learn_queue)
    for name in ALL_FUNCTIONS:
        sends = any(
            "sqs:SendMessage" in _as_list(s["Action"]) and queue in json.dumps(s["Resource"])
            for s in _statements(synth, name)
        )
        assert sends is (name == "scan_worker"), name
        assert ("TRIPWIRE_LEARN_QUEUE_URL" in _env(synth, name)) is sends, name


def test_only_the_learner_and_the_worker_write_models(synth: Synth) -> None:
    # the worker: an Ads profile's hourly model, trained by its first hourly scan
    bucket = _id(synth, synth.stack.storage.buckets["models"])
    for name in ALL_FUNCTIONS:
        s3 = {
            a
            for s in _statements(synth, name)
            for a in _as_list(s["Action"])
            if a.startswith("s3:") and bucket in json.dumps(s["Resource"])
        }
        expected = {"s3:GetObject"} if FUNCTIONS[name].read_models else set()
        if name in ("learner", "scan_worker"):
            expected.add("s3:PutObject")
        if name == "profiles":  # deleting a profile deletes its models, every version
            expected |= {"s3:DeleteObject", "s3:DeleteObjectVersion"}
            expected |= {"s3:ListBucket", "s3:ListBucketVersions"}
        assert s3 == expected, name
    assert "TRIPWIRE_BUCKET_MODELS" in _env(synth, "learner")


def test_schedules(synth: Synth) -> None:
    rules = [r["Properties"] for r in _of_type(synth, "AWS::Events::Rule").values()]
    scheduler = {
        "Fn::GetAtt": [_id(synth, synth.stack.functions.functions["scan_scheduler"]), "Arn"]
    }
    digest = {"Fn::GetAtt": [_id(synth, synth.stack.functions.functions["digest"]), "Arn"]}

    def interval(rule: dict[str, Any]) -> str:
        template = rule["Targets"][0]["InputTransformer"]["InputTemplate"]
        event = json.loads(template.replace("<time>", "0").replace("<id>", "0"))
        return str(event["detail"]["interval"])

    scans = {interval(r): r for r in rules if r["Targets"][0]["Arn"] == scheduler}
    # every interval a profile can be scheduled at (PUT …/schedule) has its rule
    assert set(scans) == {i.value for i in SCHEDULED} == {"1d", "1h"}
    assert scans["1d"]["ScheduleExpression"] == synth_context()["tripwire:scanSchedule"]
    # The handler reads the schedule's time: the input must carry it through.
    transformer = scans["1d"]["Targets"][0]["InputTransformer"]
    assert transformer["InputPathsMap"]["time"] == "$.time"
    digests = {r["ScheduleExpression"]: r for r in rules if r["Targets"][0]["Arn"] == digest}
    assert set(digests) == {DIGEST_SCHEDULE, WEEKLY_DIGEST_SCHEDULE}
    assert "InputTransformer" not in digests[DIGEST_SCHEDULE]["Targets"][0]  # the event as is
    # The weekly rule tells the same function which digest, keeping the time it fired.
    weekly = digests[WEEKLY_DIGEST_SCHEDULE]["Targets"][0]["InputTransformer"]
    assert weekly["InputPathsMap"]["time"] == "$.time"
    event = json.loads(weekly["InputTemplate"].replace("<time>", '"2026-03-16T06:00:00Z"'))
    assert is_weekly(event) and week_to_digest(event) == date(2026, 3, 9)


def test_only_the_profiles_function_deletes_and_only_by_batch(synth: Synth) -> None:
    for name in ALL_FUNCTIONS:
        actions = {a for s in _statements(synth, name) for a in _as_list(s["Action"])}
        deletes = {"s3:DeleteObject", "s3:DeleteObjectVersion"}
        assert bool(actions & deletes) is (name == "profiles"), name
        # connection secrets: the connection routes (runs) and deleting a profile
        deletes_secrets = "secretsmanager:DeleteSecret" in actions
        assert deletes_secrets is (name in ("profiles", "runs")), name
    grants = _table_grants(synth, "profiles")
    writes = {"dynamodb:PutItem", "dynamodb:UpdateItem"}
    # the one write: a profile's channel settings (PUT /profiles/{id}/channels)
    assert {t for t, a in grants.items() if a & writes} == {"notifications"}
    assert {t for t, a in grants.items() if "dynamodb:Scan" in a} == {
        "history",
        "runs",
        "notifications",
    }
    statements = _statements(synth, "profiles")
    (delete_secret,) = [
        s for s in statements if "secretsmanager:DeleteSecret" in _as_list(s["Action"])
    ]
    assert _as_list(delete_secret["Action"]) == ["secretsmanager:DeleteSecret"]
    assert "/amazon-ads/*" in json.dumps(delete_secret["Resource"])  # the connections' only
    assert not any("secretsmanager:ListSecrets" in _as_list(s["Action"]) for s in statements)
    env = _env(synth, "profiles")
    assert {"TRIPWIRE_BUCKET_MODELS", "TRIPWIRE_BUCKET_LANDING"} <= set(env)


def test_the_run_sweeper_runs_every_15_minutes_on_the_runs_table_only(synth: Synth) -> None:
    rules = [r["Properties"] for r in _of_type(synth, "AWS::Events::Rule").values()]
    sweeper = {"Fn::GetAtt": [_id(synth, synth.stack.functions.functions["sweeper"]), "Arn"]}
    (rule,) = [r for r in rules if r["Targets"][0]["Arn"] == sweeper]
    assert rule["ScheduleExpression"] == SWEEP_SCHEDULE == "rate(15 minutes)"
    assert _table_grants(synth, "sweeper") == {"runs": set(READ_ACTIONS) | set(WRITE_ACTIONS)}
    resources = json.dumps([s["Resource"] for s in _statements(synth, "sweeper")])
    assert "/index/open" in resources and "/index/by_profile" not in resources
    # the worker's timeout is the one the sweeper's deadlines assume
    assert _function(synth, "scan_worker")["Properties"]["Timeout"] == SCAN.consumer_timeout_seconds


# -- notifications and archival ----------------------------------------------------------


def test_topic_is_encrypted_and_only_critical_alerts_are_mailed(synth: Synth) -> None:
    topic = _id(synth, synth.stack.notifications.topic)
    assert "KmsMasterKeyId" in synth.resources[topic]["Properties"]
    subscriptions = [
        s["Properties"]
        for s in _of_type(synth, "AWS::SNS::Subscription").values()
        if s["Properties"]["TopicArn"] == {"Ref": topic}
    ]
    protocols = {s["Protocol"]: s for s in subscriptions}
    assert set(protocols) == {"lambda", "email", "sms"}
    notifier = _id(synth, synth.stack.functions.functions["notifier"])
    assert protocols["lambda"]["Endpoint"] == {"Fn::GetAtt": [notifier, "Arn"]}
    assert protocols["email"]["Endpoint"] == ALERT_EMAIL
    assert protocols["email"]["FilterPolicy"] == {"severity": ["critical"]}


def test_publishers_and_the_slack_secret(synth: Synth) -> None:
    topic = _id(synth, synth.stack.notifications.topic)
    for name in ALL_FUNCTIONS:
        publishes = any("sns:Publish" in _as_list(s["Action"]) for s in _statements(synth, name))
        assert publishes is (name in {"scan_worker", "digest"}), name
        if publishes:
            assert _env(synth, name)["TRIPWIRE_ALERTS_TOPIC_ARN"] == {"Ref": topic}
            assert _env(synth, name)["TRIPWIRE_EMAIL_SUBSCRIBED"] == "1"  # records e-mails
    secret = _id(synth, synth.stack.notifications.slack_secret)
    assert _env(synth, "notifier")["TRIPWIRE_SLACK_SECRET"] == {"Ref": secret}
    readers = [
        name
        for name in ALL_FUNCTIONS
        if any(
            "secretsmanager:GetSecretValue" in _as_list(s["Action"])
            and {"Ref": secret} in _as_list(s["Resource"])
            for s in _statements(synth, name)
        )
    ]
    assert readers == ["notifier"]
    assert "TRIPWIRE_DASHBOARD_URL" in _env(synth, "scan_worker")


def test_sms_numbers_are_filtered_on_route_plan_and_rate_limit(synth: Synth) -> None:
    """A number is texted for its profiles' critical alerts, only while they are enterprise
    and under the hourly limit: the filter policy SNS applies, the one the API gives."""
    topic = _id(synth, synth.stack.notifications.topic)
    (sms,) = [
        s["Properties"]
        for s in _of_type(synth, "AWS::SNS::Subscription").values()
        if s["Properties"]["TopicArn"] == {"Ref": topic} and s["Properties"]["Protocol"] == "sms"
    ]
    assert sms["Endpoint"] == SMS_NUMBER
    assert sms["FilterPolicy"] == {
        "sms_route": ["acme#A1#critical"],
        "plan": ["enterprise"],
        "sms": ["allowed"],
    }


def test_only_the_profiles_function_subscribes_sms_numbers(synth: Synth) -> None:
    topic = _id(synth, synth.stack.notifications.topic)
    for name in ALL_FUNCTIONS:
        grants = [s for s in _statements(synth, name) if "sns:Subscribe" in _as_list(s["Action"])]
        assert bool(grants) is (name == "profiles"), name
        for statement in grants:
            assert _as_list(statement["Resource"]) == [{"Ref": topic}]
            assert "sns:Unsubscribe" in statement["Action"]
    assert _env(synth, "profiles")["TRIPWIRE_ALERTS_TOPIC_ARN"] == {"Ref": topic}


def test_the_line_token_is_read_by_the_notifier_only(synth: Synth) -> None:
    secret = _id(synth, synth.stack.notifications.line_secret)
    assert _env(synth, "notifier")["TRIPWIRE_LINE_SECRET"] == {"Ref": secret}
    readers = [
        name
        for name in ALL_FUNCTIONS
        if any(
            "secretsmanager:GetSecretValue" in _as_list(s["Action"])
            and {"Ref": secret} in _as_list(s["Resource"])
            for s in _statements(synth, name)
        )
    ]
    assert readers == ["notifier"]
    assert "TRIPWIRE_LINE_API_URL" not in _env(synth, "notifier")  # LINE itself when deployed


def _secret_grants(synth: Synth, name: str) -> dict[str, set[str]]:
    """Secrets Manager actions by resource (as JSON text) of a function's role."""
    grants: dict[str, set[str]] = {}
    for statement in _statements(synth, name):
        actions = {a for a in _as_list(statement["Action"]) if a.startswith("secretsmanager:")}
        for resource in _as_list(statement["Resource"]) if actions else []:
            grants.setdefault(json.dumps(resource), set()).update(actions)
    return grants


def test_ads_secrets_read_by_the_worker_managed_by_the_routes_deleted_with_the_profile(
    synth: Synth,
) -> None:
    prefix = f"{synth.stack.stack_name}/amazon-ads"
    ads = {n: g for n in ALL_FUNCTIONS for r, g in _secret_grants(synth, n).items() if prefix in r}
    assert ads == {
        "scan_worker": {"secretsmanager:GetSecretValue"},
        "runs": {
            "secretsmanager:CreateSecret",
            "secretsmanager:PutSecretValue",
            "secretsmanager:DeleteSecret",
            "secretsmanager:TagResource",
        },
        "profiles": {"secretsmanager:DeleteSecret"},  # deleting a profile
    }
    for name in ads:  # the stack's prefix, never every secret
        (resource,) = [r for r in _secret_grants(synth, name) if prefix in r]
        assert resource.endswith(f':secret:{prefix}/*"]]}}') or f"{prefix}/*" in resource
        assert _env(synth, name)["TRIPWIRE_ADS_SECRET_PREFIX"] == prefix
    worker = _env(synth, "scan_worker")
    assert worker["TRIPWIRE_ADS_API_URL"] == "https://advertising-api.amazon.com"
    assert worker["TRIPWIRE_ADS_TOKEN_URL"] == "https://api.amazon.com/auth/o2/token"
    assert [n for n in ALL_FUNCTIONS if "TRIPWIRE_ADS_API_URL" in _env(synth, n)] == ["scan_worker"]


def test_only_the_worker_reaches_the_market_data_source(synth: Synth) -> None:
    fetchers = [n for n in ALL_FUNCTIONS if "TRIPWIRE_MARKET_URL" in _env(synth, n)]
    assert fetchers == ["scan_worker"]
    assert _env(synth, "scan_worker")["TRIPWIRE_MARKET_URL"] == "https://query2.finance.yahoo.com"
    # it stores what it fetches (profile, hierarchy, bars): write on those two tables only
    written = {
        r
        for s in _statements(synth, "scan_worker")
        if "dynamodb:PutItem" in _as_list(s["Action"])
        for r in map(json.dumps, _as_list(s["Resource"]))
    }
    for table in ("catalog", "metrics"):
        table_id = _id(synth, synth.stack.storage.tables[table])
        assert any(table_id in r for r in written), table


def test_failed_slack_posts_are_kept(synth: Synth) -> None:
    notifier = _id(synth, synth.stack.functions.functions["notifier"])
    (config,) = _of_type(synth, "AWS::Lambda::EventInvokeConfig").values()
    props = config["Properties"]
    assert props["FunctionName"] == {"Ref": notifier}
    assert props["MaximumRetryAttempts"] == 2
    failures = _id(synth, synth.stack.notifications.notifier_failures)
    destination = props["DestinationConfig"]["OnFailure"]["Destination"]
    assert destination == {"Fn::GetAtt": [failures, "Arn"]}


def test_archiver_sees_only_ttl_removals(synth: Synth) -> None:
    alerts = _id(synth, synth.stack.storage.tables["alerts"])
    (mapping,) = [
        m["Properties"]
        for m in _of_type(synth, "AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [alerts, "StreamArn"]}
    ]
    assert mapping["FunctionName"] == {
        "Ref": _id(synth, synth.stack.functions.functions["archiver"])
    }
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    (pattern,) = [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]
    assert pattern == {
        "eventName": ["REMOVE"],
        "userIdentity": {"type": ["Service"], "principalId": ["dynamodb.amazonaws.com"]},
    }


# -- monitoring and lint ------------------------------------------------------------------


def test_alarms_cover_errors_throttles_dlq_and_scan_age(synth: Synth) -> None:
    alarms = synth.stack.monitoring.alarms
    expected = {f"{n}-{kind}" for n in ALL_FUNCTIONS for kind in ("errors", "throttles")}
    others = {"scan-dlq-depth", "learn-dlq-depth", "scan-age", "notifier-failures"}
    others.add("landing-dlq-depth")
    others.add("stream-dlq-depth")
    others.add("runs-swept")
    assert expected | others == set(alarms)
    by_metric = {
        a["Properties"]["MetricName"] for a in _of_type(synth, "AWS::CloudWatch::Alarm").values()
    }
    assert {"Errors", "Throttles", "ApproximateNumberOfMessagesVisible"} <= by_metric
    assert "ApproximateAgeOfOldestMessage" in by_metric
    assert telemetry.RUNS_SWEPT in by_metric
    assert _of_type(synth, "AWS::CloudWatch::Dashboard")


def test_the_dashboard_graphs_the_scan_and_learn_queues_with_their_dlqs(synth: Synth) -> None:
    (dashboard,) = _of_type(synth, "AWS::CloudWatch::Dashboard").values()
    # The body is a Fn::Join of JSON text and queue-name references.
    parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]
    body = "".join(p if isinstance(p, str) else json.dumps(p) for p in parts)
    assert '"title":"Scan queue"' in body
    assert '"title":"Learn queue (half-space trees)"' in body
    scan = synth.stack.scan
    for queue in (scan.queue, scan.dlq, scan.learn_queue, scan.learn_dlq):
        assert _id(synth, queue) in body


def test_the_dashboard_graphs_what_the_functions_count(synth: Synth) -> None:
    (dashboard,) = _of_type(synth, "AWS::CloudWatch::Dashboard").values()
    parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]
    body = "".join(p if isinstance(p, str) else json.dumps(p) for p in parts)
    for name in (
        telemetry.SLICES_SCANNED,
        telemetry.ENTITIES_SCORED,
        telemetry.SCAN_FAILURES,
        telemetry.ALERTS_RAISED,
        telemetry.NOTIFICATIONS_SENT,
        telemetry.NOTIFICATION_FAILURES,
    ):
        assert f'"{telemetry.NAMESPACE}","{name}"' in body, name
    assert '"severity","critical"' in body and '"channel","slack"' in body
    assert _env(synth, "scan_worker")["POWERTOOLS_METRICS_NAMESPACE"] == telemetry.NAMESPACE


def test_cfn_lint_accepts_the_template(synth: Synth) -> None:
    cfn_lint = shutil.which("cfn-lint") or str(Path(sys.executable).parent / "cfn-lint")
    template = synth.outdir / f"{synth.stack.artifact_id}.template.json"
    # W3005: CDK adds DependsOn on each role's policy next to the GetAtt of the role, on
    # purpose (the policy must exist before the function runs); cfn-lint calls it redundant.
    result = subprocess.run(
        [cfn_lint, "--ignore-checks", "W3005", "--", str(template)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
