"""The dashboard in AWS: web/ in a private S3 bucket behind CloudFront, its config.json
(API URL, Cognito hosted UI) written at deploy time.

Built in two steps because the pieces reference each other: the distribution comes first (its
URL is the Cognito callback and the API's CORS origin), then :meth:`Dashboard.publish` uploads
the files with a config.json naming the API and the web app client.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Acknowledgment, Aws, CfnResource, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

WEB_DIR = Path(__file__).resolve().parents[2] / "web"
# Tooling and docs stay in the repo; a local config.json would shadow the generated one.
WEB_EXCLUDE = ["README.md", "eslint.config.mjs", ".prettierrc.json", "node_modules", "config.json"]
OIDC_SCOPES = "openid email profile"


@dataclass(frozen=True)
class SignIn:
    """What the page needs for the Cognito hosted UI (README: ``config.json``)."""

    domain: str  # https://<prefix>.auth.<region>.amazoncognito.com
    client_id: str


def content_security_policy(auth_domain: str) -> str:
    # The API's own host cannot be named here: the API's CORS origin is this distribution and
    # the distribution's headers would name the API, a reference cycle CloudFormation refuses.
    # Any API Gateway host in the region is the narrowest stand-in.
    api_hosts = f"https://*.execute-api.{Aws.REGION}.{Aws.URL_SUFFIX}"
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",  # charts set styles through the CSSOM, which this allows
            "img-src 'self' data:",
            f"connect-src 'self' {api_hosts} {auth_domain}",
            "base-uri 'self'",
            f"form-action 'self' {auth_domain}",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ]
    )


class Dashboard(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        auth_domain: str,
        access_logs: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            # SSE-S3: with SSE-KMS the key policy would have to admit CloudFront too.
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            # Not versioned: every object is a copy of web/ in git, replaced whole on each deploy.
            versioned=False,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="dashboard/",
            # Build output only: it goes with the stack (the deployment empties it first).
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(auth_domain), override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(365),
                    include_subdomains=True,
                    override=True,
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
            ),
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="Tripwire dashboard",
            default_root_object="index.html",  # hash routes: no SPA rewrite needed
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self.headers,
                compress=True,
            ),
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
        )
        self._acknowledge_distribution()

    @property
    def origin(self) -> str:
        """The CORS origin of the page (no trailing slash)."""
        return f"https://{self.distribution.distribution_domain_name}"

    @property
    def url(self) -> str:
        """The page's address: the Cognito callback and sign-out URL, and ``redirectUri``."""
        return f"{self.origin}/"

    def publish(self, *, api_url: str, sign_in: SignIn) -> s3deploy.BucketDeployment:
        """Upload web/ and a config.json naming the API and the Cognito hosted UI.

        The upload is a custom resource (a Lambda run by CloudFormation), so the tokens in
        config.json are resolved at deploy time; it then invalidates the distribution.
        """
        config = {
            "apiUrl": api_url,
            "auth": "cognito",
            "cognito": {
                "domain": sign_in.domain,
                "clientId": sign_in.client_id,
                "redirectUri": self.url,
                "scope": OIDC_SCOPES,
            },
        }
        self.deployment = s3deploy.BucketDeployment(
            self,
            "Files",
            destination_bucket=self.bucket,
            sources=[
                s3deploy.Source.asset(str(WEB_DIR), exclude=WEB_EXCLUDE),
                s3deploy.Source.json_data("config.json", config),
            ],
            distribution=self.distribution,
            distribution_paths=["/*"],
            prune=True,
            retain_on_delete=False,  # so that the bucket is empty when the stack deletes it
            memory_limit=256,
        )
        self._acknowledge_deployment()
        return self.deployment

    def _acknowledge_distribution(self) -> None:
        cfn = self.distribution.node.default_child
        assert cfn is not None
        for rule, reason in (
            (
                "AwsSolutions-CFR1",
                "No geo restriction: the dashboard is a sign-in page for the tenant's own "
                "users, wherever they are; Cognito and the API authorise every request.",
            ),
            (
                "AwsSolutions-CFR2",
                "No WAF web ACL: the distribution serves static files only (no data); the "
                "API it calls is throttled and behind a JWT authorizer. A web ACL costs a "
                "monthly fee per ACL and rule.",
            ),
            (
                "AwsSolutions-CFR3",
                "No CloudFront access logs: standard logs need an ACL-enabled bucket; the "
                "static files carry no tenant data, and every data request is in the API's "
                "access log.",
            ),
            (
                "AwsSolutions-CFR4",
                "The default *.cloudfront.net certificate allows TLSv1 viewers; a minimum of "
                "TLSv1.2 needs a custom domain and an ACM certificate (not configured).",
            ),
        ):
            Validations.of(cfn).acknowledge(Acknowledgment(id=rule, reason=reason))

    def _acknowledge_deployment(self) -> None:
        """The upload handler is CDK's own (a singleton Lambda at stack level): its runtime and
        policy are the library's; each finding is acknowledged alone, so a new one still fails."""
        role = self.deployment.handler_role
        handler = role.node.scope  # the role is the handler function's "ServiceRole"
        assert handler is not None and handler.node.default_child is not None
        Validations.of(handler.node.default_child).acknowledge(
            Acknowledgment(
                id="AwsSolutions-L1",
                reason="CDK's BucketDeployment handler: aws-cdk-lib pins its runtime with the "
                "bundled AWS CLI; it runs only during a deploy and serves no requests.",
            )
        )
        assert role.node.default_child is not None
        Validations.of(role.node.default_child).acknowledge(
            Acknowledgment(
                id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                "service-role/AWSLambdaBasicExecutionRole]",
                reason="CDK's BucketDeployment handler writes its own logs; the managed policy "
                "grants only CloudWatch Logs writes.",
            )
        )
        bucket = self.bucket.node.default_child
        assert isinstance(bucket, CfnResource)
        stack = Stack.of(self)
        bucket_id = stack.resolve(stack.get_logical_id(bucket))
        copy = "CDK's upload grant: it copies the web/ asset into the dashboard bucket"
        reasons = {
            "Action::s3:GetBucket*": f"{copy} (the asset bucket and this bucket only).",
            "Action::s3:GetObject*": f"{copy} (the asset bucket and this bucket only).",
            "Action::s3:List*": f"{copy} (the asset bucket and this bucket only).",
            "Action::s3:Abort*": f"{copy}; aborts its own multipart uploads in this bucket.",
            "Action::s3:DeleteObject*": f"{copy}; prune deletes files no longer in web/.",
            "Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-"
            "<AWS::Region>/*": f"{copy}: it reads the uploaded asset from the CDK asset bucket.",
            f"Resource::<{bucket_id}.Arn>/*": f"{copy}: any file of the site may change.",
            "Resource::*": "cloudfront:CreateInvalidation/GetInvalidation after an upload; "
            "CDK's grant names no distribution (both actions only touch caches).",
        }
        policy = role.node.find_child("DefaultPolicy").node.default_child
        assert policy is not None
        for finding, reason in reasons.items():
            Validations.of(policy).acknowledge(
                Acknowledgment(id=f"AwsSolutions-IAM5[{finding}]", reason=reason)
            )
