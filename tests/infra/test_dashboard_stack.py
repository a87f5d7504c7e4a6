"""The dashboard in AWS: web/ in a private bucket behind CloudFront (OAC, security headers),
a config.json naming the API and the Cognito hosted UI, a public code-grant web client, and
the API's CORS open to the distribution — with cdk-nag satisfied.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aws_cdk import CfnResource
from infra.components.api import CORS_HEADERS, CORS_METHODS
from infra.components.dashboard import WEB_DIR

from tests.infra.conftest import Synth


def _id(synth: Synth, construct: Any) -> str:
    cfn = construct if isinstance(construct, CfnResource) else construct.node.default_child
    assert isinstance(cfn, CfnResource)
    return synth.stack.get_logical_id(cfn)


def _props(synth: Synth, construct: Any) -> dict[str, Any]:
    props: dict[str, Any] = synth.resources[_id(synth, construct)]["Properties"]
    return props


def _of_type(synth: Synth, kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in synth.resources.items() if v["Type"] == kind}


def _distribution_domain(synth: Synth) -> dict[str, Any]:
    return {"Fn::GetAtt": [_id(synth, synth.stack.dashboard.distribution), "DomainName"]}


def _url(synth: Synth, suffix: str) -> dict[str, Any]:
    parts = ["https://", _distribution_domain(synth)] + ([suffix] if suffix else [])
    return {"Fn::Join": ["", parts]}


def test_bucket_is_private_encrypted_and_tls_only(synth: Synth) -> None:
    bucket = _props(synth, synth.stack.dashboard.bucket)
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert "LoggingConfiguration" in bucket
    bucket_ref = {"Ref": _id(synth, synth.stack.dashboard.bucket)}
    (policy,) = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in _of_type(synth, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == bucket_ref
    ]
    deny_plain_http = [
        s
        for s in policy
        if s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert deny_plain_http
    # The only reader is CloudFront, for this distribution alone.
    (allow,) = [s for s in policy if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    source = json.dumps(allow["Condition"]["StringEquals"]["AWS:SourceArn"])
    assert _id(synth, synth.stack.dashboard.distribution) in source


def test_distribution_reads_the_bucket_through_origin_access_control(synth: Synth) -> None:
    config = _props(synth, synth.stack.dashboard.distribution)["DistributionConfig"]
    assert config["DefaultRootObject"] == "index.html"
    assert (WEB_DIR / "index.html").is_file()
    (origin,) = config["Origins"]
    assert origin["DomainName"] == {
        "Fn::GetAtt": [_id(synth, synth.stack.dashboard.bucket), "RegionalDomainName"]
    }
    (oac_id,) = _of_type(synth, "AWS::CloudFront::OriginAccessControl")
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": [oac_id, "Id"]}
    assert origin["S3OriginConfig"]["OriginAccessIdentity"] == ""  # no legacy OAI
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["ResponseHeadersPolicyId"] == {"Ref": _id(synth, synth.stack.dashboard.headers)}


def test_security_headers_let_the_page_reach_only_the_api_and_cognito(synth: Synth) -> None:
    headers = _props(synth, synth.stack.dashboard.headers)["ResponseHeadersPolicyConfig"]
    security = headers["SecurityHeadersConfig"]
    csp = synth.stack.resolve(security["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    text = json.dumps(csp)
    directives = "".join(p if isinstance(p, str) else "<token>" for p in csp["Fn::Join"][1])
    assert "default-src 'none'" in directives and "script-src 'self';" in directives
    assert "frame-ancestors 'none'" in directives
    connect = next(d for d in directives.split("; ") if d.startswith("connect-src"))
    assert connect.startswith("connect-src 'self' https://*.execute-api.")
    assert ".amazoncognito.com" in connect
    assert "tripwire" in text  # the hosted UI's domain prefix
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert security["FrameOptions"]["FrameOption"] == "DENY"


def test_deployment_uploads_web_and_a_generated_config(synth: Synth) -> None:
    (deployment,) = _of_type(synth, "Custom::CDKBucketDeployment").values()
    props = deployment["Properties"]
    assert props["DestinationBucketName"] == {"Ref": _id(synth, synth.stack.dashboard.bucket)}
    assert props["DistributionId"] == {"Ref": _id(synth, synth.stack.dashboard.distribution)}
    assert props["DistributionPaths"] == ["/*"] and props["Prune"] is True
    # Files go with the stack, so the (unversioned, DESTROY) bucket is empty when deleted.
    assert props["RetainOnDelete"] is False
    bucket = synth.resources[_id(synth, synth.stack.dashboard.bucket)]
    assert (
        bucket["DeletionPolicy"] == "Delete"
        and "VersioningConfiguration" not in bucket["Properties"]
    )
    assert len(props["SourceObjectKeys"]) == 2  # web/ and config.json
    # config.json's deploy-time values: the API, the hosted UI, the web client, the page.
    (markers,) = [m for m in props["SourceMarkers"] if m]
    values = json.dumps(list(markers.values()))
    api = _id(synth, synth.stack.api.http_api)
    assert f'{{"Ref": "{api}"}}, ".execute-api."' in values
    assert _id(synth, synth.stack.api.domain) in values and ".amazoncognito.com" in values
    assert synth.stack.api.web_client is not None
    assert json.dumps({"Ref": _id(synth, synth.stack.api.web_client)}) in values
    assert json.dumps(_distribution_domain(synth)) in values

    web_key, config_key = (k.removesuffix(".zip") for k in props["SourceObjectKeys"])
    web = {p.name for p in (synth.outdir / f"asset.{web_key}").iterdir()}
    assert web == {"index.html", "style.css", "src", "vendor"}  # no README, lint config
    # The staged file holds markers, each replaced by a resolved, JSON-quoted value.
    staged = (synth.outdir / f"asset.{config_key}" / "config.json").read_text()
    config = json.loads(re.sub(r"<<marker:0xbaba:(\d+)>>", r'"marker \1"', staged))
    assert config["auth"] == "cognito"
    assert config["apiUrl"].startswith("marker")
    assert set(config["cognito"]) == {"domain", "clientId", "redirectUri", "scope"}
    assert config["cognito"]["scope"] == "openid email profile"
    assert len(markers) == 4


def test_web_client_is_public_with_the_code_grant_back_to_the_dashboard(synth: Synth) -> None:
    assert synth.stack.api.web_client is not None
    client = _props(synth, synth.stack.api.web_client)
    assert client["GenerateSecret"] is False
    assert client["AllowedOAuthFlows"] == ["code"]
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    assert {"openid", "email", "profile"} == set(client["AllowedOAuthScopes"])
    assert client["CallbackURLs"] == [_url(synth, "/")]
    assert client["LogoutURLs"] == [_url(synth, "/")]
    assert client["WriteAttributes"] == ["email"]  # never custom:tenant_id
    # The script client keeps no hosted-UI flows (CDK would default to implicit + example.com).
    script_client = _props(synth, synth.stack.api.client)
    assert "AllowedOAuthFlows" not in script_client
    assert "CallbackURLs" not in script_client


def test_authorizer_accepts_tokens_of_both_clients(synth: Synth) -> None:
    assert synth.stack.api.web_client is not None
    (authorizer,) = _of_type(synth, "AWS::ApiGatewayV2::Authorizer").values()
    audience = authorizer["Properties"]["JwtConfiguration"]["Audience"]
    assert audience == [
        {"Ref": _id(synth, synth.stack.api.client)},
        {"Ref": _id(synth, synth.stack.api.web_client)},
    ]


def test_api_allows_the_dashboard_origin_only(synth: Synth) -> None:
    cors = _props(synth, synth.stack.api.http_api)["CorsConfiguration"]
    assert cors["AllowOrigins"] == [_url(synth, "")]
    assert cors["AllowHeaders"] == CORS_HEADERS == ["Authorization", "Content-Type"]
    assert set(cors["AllowMethods"]) == set(CORS_METHODS) >= {"GET", "PATCH", "POST"}
    assert "AllowCredentials" not in cors  # bearer tokens, no cookies


def test_dashboard_url_is_an_output(synth: Synth) -> None:
    outputs = synth.template.to_json()["Outputs"]
    assert outputs["DashboardUrl"]["Value"] == _url(synth, "/")
    assert "WebClientId" in outputs


def test_cdk_nag_passes_with_justified_acknowledgments(synth: Synth) -> None:
    # app.synth() in the fixture raises on an unacknowledged cdk-nag error; these are the
    # dashboard's acknowledgments, each with its reason in the template.
    distribution = synth.resources[_id(synth, synth.stack.dashboard.distribution)]
    acknowledged = distribution["Metadata"]["cdk_nag"]["rules_to_suppress"]
    assert {a["id"] for a in acknowledged} == {f"AwsSolutions-CFR{n}" for n in (1, 2, 3, 4)}
    assert all(len(a["reason"]) > 40 for a in acknowledged)
