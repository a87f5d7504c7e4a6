"""The HTTP API: Cognito user pool + JWT authorizer, every route from ``ROUTES``.

Tenancy: the tenant lives in the immutable custom attribute ``tenant_id`` (claim
``custom:tenant_id``, as the local stack's tokens carry it). Users cannot write it — the app
client's write attributes leave it out — so only an administrator assigns a tenant.
"""

from __future__ import annotations

from dataclasses import dataclass

import jsii
from aws_cdk import Acknowledgment, Aws, Duration, RemovalPolicy, Validations
from aws_cdk import aws_apigateway as apigw_v1
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from tripwire.api.routes import ROUTES, Route

# Steady-state and burst requests per second across the API (the account limit is 10k/5k).
THROTTLE_RATE = 100
THROTTLE_BURST = 200
_ACCESS_LOG_FIELDS = (
    "requestId",
    "ip",
    "requestTime",
    "httpMethod",
    "routeKey",
    "status",
    "protocol",
    "responseLength",
    "integrationErrorMessage",
    "authorizer.error",
)


@dataclass(frozen=True)
class WebAccess:
    """The dashboard's sign-in: its address (Cognito callback, CORS origin) and the hosted UI."""

    url: str  # https://<distribution>/ — callback and sign-out URL
    origin: str  # https://<distribution> — the CORS origin
    domain_prefix: str  # the hosted UI's Cognito domain prefix


# What the page sends (README: web/): the id token in Authorization, JSON bodies.
CORS_HEADERS = ["Authorization", "Content-Type"]
CORS_METHODS = ["GET", "PATCH", "POST", "PUT"]


def hosted_ui_domain(prefix: str) -> str:
    """The Cognito hosted UI's base URL for a domain prefix (as ``UserPoolDomain.base_url()``)."""
    return f"https://{prefix}.auth.{Aws.REGION}.amazoncognito.com"


def _access_log_format() -> apigw_v1.AccessLogFormat:
    # The caller (Cognito ``sub``) is logged so an operator can trace a user's requests;
    # ``custom:tenant_id`` is left out: a colon in a $context variable name is not documented.
    fields = {name.replace(".", "_"): f"$context.{name}" for name in _ACCESS_LOG_FIELDS}
    fields["user"] = "$context.authorizer.claims.sub"
    body = ",".join(f'"{key}":"{value}"' for key, value in fields.items())
    return apigw_v1.AccessLogFormat.custom("{" + body + "}")


@jsii.implements(apigw.IAccessLogSettings)
class _AccessLogSettings:
    # An interface, not a struct, in the jsii bindings: implemented here.
    def __init__(
        self, destination: apigw.IAccessLogDestination, log_format: apigw_v1.AccessLogFormat
    ) -> None:
        self._destination, self._format = destination, log_format

    @property
    def destination(self) -> apigw.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw_v1.AccessLogFormat:
        return self._format


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: dict[str, lambda_.IFunction],
        web: WebAccess | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.user_pool = self._user_pool()
        self.client = self.user_pool.add_client(
            "ApiClient",
            auth_flows=cognito.AuthFlow(user_password=True, user_srp=True),
            # No hosted-UI flows: CDK's default (code + implicit to https://example.com) would be
            # live now that the pool has a domain; browsers sign in through the web client.
            disable_o_auth=True,
            generate_secret=False,
            # Users may edit their e-mail, never their tenant.
            write_attributes=cognito.ClientAttributes().with_standard_attributes(email=True),
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            prevent_user_existence_errors=True,
        )
        self.web_client = self._web_client(web) if web else None
        clients = [self.client] + ([self.web_client] if self.web_client else [])
        self.authorizer = authorizers.HttpUserPoolAuthorizer(
            "JwtAuthorizer",
            self.user_pool,
            user_pool_clients=clients,  # the JWT audience: a token from either client
            identity_source=["$request.header.Authorization"],
        )
        self.http_api = apigw.HttpApi(
            self,
            "HttpApi",
            create_default_stage=False,
            # API Gateway answers the browser's preflight for the dashboard's origin itself.
            cors_preflight=apigw.CorsPreflightOptions(
                allow_origins=[web.origin],
                allow_headers=CORS_HEADERS,
                allow_methods=[apigw.CorsHttpMethod[m] for m in CORS_METHODS],
                max_age=Duration.hours(1),
            )
            if web
            else None,
        )
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.stage = apigw.HttpStage(
            self,
            "DefaultStage",
            http_api=self.http_api,
            auto_deploy=True,
            throttle=apigw.ThrottleSettings(rate_limit=THROTTLE_RATE, burst_limit=THROTTLE_BURST),
            access_log_settings=_AccessLogSettings(
                apigw.LogGroupLogDestination(self.access_logs), _access_log_format()
            ),
        )
        integrations_by_function = {
            name: integrations.HttpLambdaIntegration(f"{name}Integration", function)
            for name, function in functions.items()
        }
        self.routes: dict[str, apigw.HttpRoute] = {
            route.route_key: self._route(route, integrations_by_function[route.function])
            for route in ROUTES
        }

    @property
    def url(self) -> str:
        return self.stage.url

    def _web_client(self, web: WebAccess) -> cognito.UserPoolClient:
        """The dashboard's client: public (a page keeps no secret), code grant + PKCE."""
        self.domain = self.user_pool.add_domain(
            "HostedUi", cognito_domain=cognito.CognitoDomainOptions(domain_prefix=web.domain_prefix)
        )
        return self.user_pool.add_client(
            "WebClient",
            generate_secret=False,
            # Code grant only (the page adds PKCE, web/src/auth.js); no implicit grant: no
            # tokens in URLs.
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True, implicit_code_grant=False),
                scopes=[
                    cognito.OAuthScope.OPENID,
                    cognito.OAuthScope.EMAIL,
                    cognito.OAuthScope.PROFILE,
                ],
                callback_urls=[web.url],
                logout_urls=[web.url],
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            auth_flows=cognito.AuthFlow(user_srp=True),
            write_attributes=cognito.ClientAttributes().with_standard_attributes(email=True),
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            prevent_user_existence_errors=True,
        )

    def _user_pool(self) -> cognito.UserPool:
        pool = cognito.UserPool(
            self,
            "UserPool",
            self_sign_up_enabled=False,  # tenants are provisioned by an administrator
            sign_in_aliases=cognito.SignInAliases(email=True),
            custom_attributes={"tenant_id": cognito.StringAttribute(mutable=False)},
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_digits=True,
                require_lowercase=True,
                require_uppercase=True,
                require_symbols=True,
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.ESSENTIALS,
            removal_policy=RemovalPolicy.RETAIN,
        )
        assert pool.node.default_child is not None
        Validations.of(pool.node.default_child).acknowledge(
            Acknowledgment(
                id="AwsSolutions-COG2",
                reason="MFA is optional, not required: API clients and scripts sign in with "
                "USER_PASSWORD_AUTH; users who use the console can enrol a TOTP factor.",
            )
        )
        Validations.of(pool.node.default_child).acknowledge(
            Acknowledgment(
                id="AwsSolutions-COG8",
                reason="Threat protection (advanced security) needs the Plus feature plan, "
                "billed per monthly active user; the pool is admin-provisioned with a strong "
                "password policy, so the Essentials plan is the deliberate default.",
            )
        )
        return pool

    def _route(self, route: Route, integration: apigw.HttpRouteIntegration) -> apigw.HttpRoute:
        route_id = "".join(c for c in route.route_key.title() if c.isalnum())
        http_route = apigw.HttpRoute(
            self,
            f"{route_id}Route",
            http_api=self.http_api,
            route_key=apigw.HttpRouteKey.with_(route.path, apigw.HttpMethod(route.method)),
            integration=integration,
            authorizer=self.authorizer if route.auth else apigw.HttpNoneAuthorizer(),
        )
        if not route.auth:
            assert http_route.node.default_child is not None
            Validations.of(http_route.node.default_child).acknowledge(
                Acknowledgment(
                    id="AwsSolutions-APIG4",
                    reason=f"{route.route_key} is public by design (routes.py auth=False): "
                    "health checks and the API documentation carry no tenant data.",
                )
            )
        return http_route
