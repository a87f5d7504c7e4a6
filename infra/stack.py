"""The one Tripwire stack; each concern is a construct under infra.components.

Context (cdk.json, or ``-c key=value``):

- ``tripwire:alertEmail``: critical alerts and operational alarms (empty: no e-mail);
- ``tripwire:scanSchedule``: EventBridge expression for profiles with daily bars (hourly by
  default: restated sales are picked up within the hour);
- ``tripwire:hourlyScanSchedule``: the same for profiles with hourly bars;
- ``tripwire:layerAssets``: ``build`` (the real layers) or ``recipe`` (the layer recipes as
  assets, for fast unit tests);
- ``tripwire:trainingSchedule``: when the training scheduler looks for profiles due
  (daily; each profile is retrained every ``every_days``, weekly by default);
- ``tripwire:trainingImage``: the training job's image URI (default: AWS's PyTorch
  training DLC for the region);
- ``tripwire:authDomainPrefix``: the Cognito hosted UI's domain prefix, unique per region
  across AWS (default ``tripwire-<account id>``).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, CfnOutput, Fn, Stack
from constructs import Construct

from infra.components import (
    Api,
    Archival,
    Functions,
    Monitoring,
    Notifications,
    ScanPipeline,
    Storage,
)
from infra.components.api import WebAccess, hosted_ui_domain
from infra.components.dashboard import Dashboard, SignIn
from infra.components.landing import Landing
from infra.components.pipeline import DEFAULT_HOURLY_SCAN_SCHEDULE, DEFAULT_SCAN_SCHEDULE
from infra.components.stream import Stream
from infra.components.training import DEFAULT_TRAINING_SCHEDULE, Training


class TripwireStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        alert_email = str(self.node.try_get_context("tripwire:alertEmail") or "")
        scan_schedule = str(
            self.node.try_get_context("tripwire:scanSchedule") or DEFAULT_SCAN_SCHEDULE
        )
        hourly_schedule = str(
            self.node.try_get_context("tripwire:hourlyScanSchedule") or DEFAULT_HOURLY_SCAN_SCHEDULE
        )
        layer_assets = str(self.node.try_get_context("tripwire:layerAssets") or "build")
        auth_prefix = str(
            self.node.try_get_context("tripwire:authDomainPrefix")
            or Fn.join("-", ["tripwire", Aws.ACCOUNT_ID])
        )

        self.storage = Storage(self, "Storage")
        self.functions = Functions(
            self, "Functions", storage=self.storage, layer_assets=layer_assets
        )
        # The distribution first: its URL is the web client's callback and the API's CORS origin.
        self.dashboard = Dashboard(
            self,
            "Dashboard",
            auth_domain=hosted_ui_domain(auth_prefix),
            access_logs=self.storage.access_logs,
        )
        self.api = Api(
            self,
            "Api",
            functions=dict(self.functions.functions),
            web=WebAccess(
                url=self.dashboard.url, origin=self.dashboard.origin, domain_prefix=auth_prefix
            ),
        )
        assert self.api.web_client is not None
        self.dashboard.publish(
            api_url=self.api.url,
            sign_in=SignIn(
                domain=self.api.domain.base_url(), client_id=self.api.web_client.user_pool_client_id
            ),
        )
        self.scan = ScanPipeline(
            self,
            "ScanPipeline",
            functions=self.functions,
            scan_schedules={"1d": scan_schedule, "1h": hourly_schedule},
        )
        self.notifications = Notifications(
            self,
            "Notifications",
            functions=self.functions,
            alert_email=alert_email,
            dashboard_url=self.dashboard.url,
            # {"+819012345678": ["acme/A1"]}: numbers texted for those profiles' criticals
            sms_subscriptions=self.node.try_get_context("tripwire:smsSubscriptions") or {},
        )
        self.archival = Archival(
            self,
            "Archival",
            archiver=self.functions.functions["archiver"],
            alerts_table=self.storage.tables["alerts"],
        )
        self.landing = Landing(self, "Landing", functions=self.functions)
        self.training = Training(
            self,
            "Training",
            functions=self.functions,
            schedule=str(
                self.node.try_get_context("tripwire:trainingSchedule") or DEFAULT_TRAINING_SCHEDULE
            ),
        )
        self.stream = Stream(self, "Stream", functions=self.functions)
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            functions=self.functions.functions,
            queue=self.scan.queue,
            dlq=self.scan.dlq,
            learn_queue=self.scan.learn_queue,
            learn_dlq=self.scan.learn_dlq,
            notifier_failures=self.notifications.notifier_failures,
            key=self.notifications.key,
            alert_email=alert_email,
            landing_dlq=self.landing.dlq,
            stream_dlq=self.stream.dlq,
        )
        self.functions.acknowledge_wildcards()
        CfnOutput(self, "ApiUrl", value=self.api.url)
        CfnOutput(self, "UserPoolId", value=self.api.user_pool.user_pool_id)
        CfnOutput(self, "UserPoolClientId", value=self.api.client.user_pool_client_id)
        CfnOutput(self, "DashboardUrl", value=self.dashboard.url)
        CfnOutput(self, "WebClientId", value=self.api.web_client.user_pool_client_id)
        CfnOutput(self, "SlackSecretArn", value=self.notifications.slack_secret.secret_arn)
        CfnOutput(self, "LineSecretArn", value=self.notifications.line_secret.secret_arn)
        CfnOutput(self, "AlertsTopicArn", value=self.notifications.topic.topic_arn)
        landing = self.storage.buckets["landing"]
        CfnOutput(self, "LandingBucketName", value=landing.bucket_name)
        CfnOutput(self, "StreamQueueArn", value=self.stream.queue.queue_arn)
