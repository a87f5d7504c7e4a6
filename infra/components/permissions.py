"""What each Lambda may touch, declared in one place (read from the code it runs).

Every function gets its own role built from its entry here and nothing else, so a test can
check, say, that the alerts function cannot write the metrics table. When a function starts
using a new table, store or service, its entry here is the one line to change.

Access levels per table:

- ``R``  — GetItem, BatchGetItem, Query, ConditionCheckItem (reads, and the condition checks
           of a transaction);
- ``W``  — PutItem, UpdateItem, BatchWriteItem (transactions need the per-item actions too);
- ``RW`` — both; ``Scan`` is granted only where ``scans`` names the table;
- ``deletes`` — BatchWriteItem (its DeleteRequests), for deleting a profile's data only.

Indexes are granted only where listed (``table/index/<name>``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from tripwire.store.tables import (
    ALERTS,
    CATALOG,
    FEEDBACK,
    HISTORY,
    IDEMPOTENCY,
    INCIDENTS,
    METADATA,
    METRICS,
    NOTIFICATIONS,
    RUNS,
    STATISTICS,
    Table,
)

Level = Literal["R", "W", "RW"]

READ_ACTIONS: tuple[str, ...] = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:ConditionCheckItem",
)
WRITE_ACTIONS: tuple[str, ...] = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:BatchWriteItem",
)
# Powertools' idempotency layer deletes its in-progress record when the handler fails.
IDEMPOTENCY_ACTIONS: tuple[str, ...] = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
)


@dataclass(frozen=True)
class TableAccess:
    table: Table
    level: Level
    indexes: tuple[str, ...] = ()
    scans: bool = False
    deletes: bool = False

    def actions(self) -> list[str]:
        if self.table is IDEMPOTENCY:
            return list(IDEMPOTENCY_ACTIONS)
        actions = [*(READ_ACTIONS if "R" in self.level else ())]
        actions += WRITE_ACTIONS if "W" in self.level else ()
        if self.scans:
            actions.append("dynamodb:Scan")
        if self.deletes and "dynamodb:BatchWriteItem" not in actions:
            actions.append("dynamodb:BatchWriteItem")
        return actions


@dataclass(frozen=True)
class Access:
    """One function's grants: tables, the models bucket, the queue, the topic, the secret."""

    tables: tuple[TableAccess, ...] = ()
    read_models: bool = False  # s3:GetObject on the models bucket (the model registry)
    write_models: bool = False  # s3:PutObject there too (publishing learnt states)
    send_scans: bool = False  # sqs:SendMessage(Batch) on the scan queue
    send_learning: bool = False  # sqs:SendMessage on the learn queue (FIFO)
    publish_alerts: bool = False  # sns:Publish on the alerts topic
    read_slack_secret: bool = False  # secretsmanager:GetSecretValue on the webhook secret
    read_line_secret: bool = False  # … on the LINE channel access token
    # sns:Subscribe, Unsubscribe, Get/SetSubscriptionAttributes, ListSubscriptionsByTopic on
    # the alerts topic: the profile's SMS numbers and their filter policies (notify/sms.py).
    manage_sms: bool = False
    # The landing bucket: s3:ListBucket (so a missing report is a 404, not a 403) and
    # s3:GetObject; ``write_reports`` adds s3:PutObject (the import reports).
    read_landing: bool = False
    write_reports: bool = False
    # Deleting profiles: s3:ListBucket(Versions) and s3:DeleteObject(Version) on the models
    # and landing buckets (its connection secret: ``ads_secrets="delete"``).
    purge_profiles: bool = False
    river: bool = False  # the streaming detector's layer (river + scipy + numpy)
    numeric: bool = True  # numpy, onnxruntime, networkx
    # Calls the market data source over HTTPS (no AWS permission; TRIPWIRE_MARKET_URL).
    fetch_market: bool = False
    # The Amazon Ads connections' secrets (store/connections.py SecretStore), under the
    # stack's prefix only: "read" — GetSecretValue (the sync, service/ads_sync.py) and the
    # Ads API / LWA URLs; "manage" — create, replace and delete them (the connection routes);
    # "delete" — DeleteSecret (deleting a profile).
    ads_secrets: Literal["read", "manage", "delete"] | None = None
    # states:StartExecution on the training state machine (POST /profiles/{id}/train).
    start_training: bool = False
    extra_env: tuple[str, ...] = field(default=())  # names only; values come from the stack

    def table_names(self) -> set[str]:
        return {grant.table.logical for grant in self.tables}


_ALERT_WRITE = (
    # An alert write is one transaction: the alert, its history record, the counters.
    TableAccess(ALERTS, "RW", indexes=("active", "by_entity", "by_profile")),
    TableAccess(HISTORY, "W"),
    TableAccess(STATISTICS, "W"),
)

# The training job (SageMaker, ``service/train.py`` run_training): the run's progress and
# outcome, the profile's hierarchy, metrics and labels; the registry read (the model in
# use) and written (the new or candidate model).
TRAINING_JOB = Access(
    tables=(
        TableAccess(RUNS, "RW"),
        TableAccess(CATALOG, "R"),
        TableAccess(METRICS, "R"),
        TableAccess(FEEDBACK, "R"),
    ),
    read_models=True,
    write_models=True,
)

FUNCTIONS: dict[str, Access] = {
    "health": Access(numeric=False),
    "docs": Access(numeric=False),
    # service/alerts.py: AlertStore (indexes, transitions), HistoryStore, FeedbackStore.
    "alerts": Access(
        tables=(
            TableAccess(ALERTS, "RW", indexes=("active", "by_entity", "by_profile")),
            TableAccess(HISTORY, "RW"),
            TableAccess(STATISTICS, "W"),
            TableAccess(FEEDBACK, "RW"),
        ),
    ),
    # service/detect.py: the synchronous scan (scan.py's stores), async → the scan queue.
    "detect": Access(
        tables=(
            *_ALERT_WRITE,
            TableAccess(CATALOG, "R"),
            TableAccess(METRICS, "R"),
            TableAccess(METADATA, "RW"),
            TableAccess(RUNS, "RW"),
            TableAccess(IDEMPOTENCY, "RW"),
        ),
        read_models=True,
        send_scans=True,
    ),
    # service/verify.py: reads the alert, the hierarchy and the window; stores a run.
    "verify": Access(
        tables=(
            TableAccess(ALERTS, "R"),
            TableAccess(CATALOG, "R"),
            TableAccess(METRICS, "R"),
            TableAccess(RUNS, "W"),
        ),
        read_models=True,
    ),
    # service/statistics.py + service/entities.py: counters, hierarchy, series, alerts.
    "stats": Access(
        tables=(
            TableAccess(STATISTICS, "R"),
            TableAccess(CATALOG, "R"),
            TableAccess(METRICS, "R"),
            TableAccess(ALERTS, "R", indexes=("by_entity",)),
        ),
    ),
    # service/ingest_api.py: hierarchy (transactional replace) and metric items (merge);
    # service/landing.py import_reports: GET /imports reads the landing bucket's reports.
    "ingest": Access(
        tables=(
            TableAccess(CATALOG, "RW"),
            TableAccess(METRICS, "RW"),
            TableAccess(IDEMPOTENCY, "RW"),
        ),
        read_landing=True,
    ),
    # api/runs.py + api/backfill.py: runs by profile, models, backfill → the scan queue,
    # schedules (ScheduleStore in the metadata table; an Ads profile's hourly schedule reads
    # its latest streamed hour in the metrics table); api/connections.py: a profile's
    # Amazon Ads connection (metadata table) and its credentials (Secrets Manager);
    # api/training.py: a training run written, its execution started (Step Functions), the
    # profile's retraining interval (metadata, ``#TRAINING``).
    "runs": Access(
        tables=(
            TableAccess(RUNS, "RW", indexes=("by_profile",)),
            TableAccess(CATALOG, "R"),
            TableAccess(METADATA, "RW"),
            TableAccess(METRICS, "R"),
        ),
        read_models=True,
        send_scans=True,
        ads_secrets="manage",
        start_training=True,
    ),
    # service/fanout.py schedule_scans: active schedules, hierarchies, runs, the queue.
    "scan_scheduler": Access(
        tables=(
            TableAccess(METADATA, "R"),
            TableAccess(CATALOG, "R"),
            TableAccess(RUNS, "RW"),
        ),
        send_scans=True,
    ),
    # service/fanout.py handle_record: scan.py's stores, run slices, the next backfill
    # chunk on the queue, new alert groups claimed (notifications) and published; the
    # incident groups the scan keeps (store/incidents.py); the learn message of a finished
    # scheduled run (service/learn.py request_learning); a market's bars fetched by symbol
    # (service/market_sync.py) stored through the OHLCV import: the profile, its hierarchy
    # and the bars.
    "scan_worker": Access(
        tables=(
            *_ALERT_WRITE,
            TableAccess(CATALOG, "RW"),
            TableAccess(METRICS, "RW"),
            TableAccess(METADATA, "RW"),
            TableAccess(RUNS, "RW"),
            TableAccess(NOTIFICATIONS, "RW"),
            TableAccess(INCIDENTS, "RW"),
        ),
        read_models=True,
        # An Ads profile's first hourly scan trains and publishes its hourly model
        # (service/train.py train_hours: a count model, numpy only).
        write_models=True,
        send_scans=True,
        send_learning=True,
        publish_alerts=True,
        # No river: the worker only scores; the learner learns (river's layer with
        # base+numeric would pass Lambda's 250 MB).
        river=False,
        extra_env=("TRIPWIRE_DASHBOARD_URL",),  # alert links (notify.messages.LINK_ENV)
        fetch_market=True,
        # The sync step of a connected profile (service/ads_sync.py, a "sync" message):
        # its credentials read, its reports imported (catalog, metrics), its status written
        # back (metadata).
        ads_secrets="read",
    ),
    # notify/notifier.py: the Slack webhook URL and the LINE token from Secrets Manager; the
    # profile's channels read and each delivery recorded (notifications).
    "notifier": Access(
        tables=(TableAccess(NOTIFICATIONS, "RW"),),
        read_slack_secret=True,
        read_line_secret=True,
        numeric=False,
    ),
    # notify/digest.py: statistics counters, a Scan of the catalog's profiles, the incidents
    # ranked by impact, the week's alerts (by_profile) for the weekly trend and MTTR, SNS.
    "digest": Access(
        tables=(
            TableAccess(STATISTICS, "R"),
            TableAccess(CATALOG, "R", scans=True),
            TableAccess(INCIDENTS, "R"),
            TableAccess(ALERTS, "R", indexes=("by_profile",)),
        ),
        publish_alerts=True,
        numeric=False,
    ),
    # service/learn.py: the hierarchy, how far detection stands (metadata) and the metrics
    # window of the days to learn, the trees' state from the registry and the learnt state
    # published back. river's layer (with numpy) instead of numeric: no detector runs here.
    "learner": Access(
        tables=(
            TableAccess(CATALOG, "R"),
            TableAccess(METADATA, "R"),
            TableAccess(METRICS, "R"),
        ),
        read_models=True,
        write_models=True,
        river=True,
        numeric=False,
    ),
    # service/landing.py: a dropped file read, imported like ``tripwire import`` (the
    # tenant's profiles, the hierarchy, metric items merged), its report written beside it.
    "landing": Access(
        tables=(
            TableAccess(CATALOG, "RW"),
            TableAccess(METRICS, "RW"),
        ),
        read_landing=True,
        write_reports=True,
    ),
    # service/ads_stream.py: stream records merged into keyword-hour cells (metrics table,
    # conditional writes), routes read (metadata), hourly points imported (catalog, metrics).
    "stream_ingest": Access(
        tables=(
            TableAccess(CATALOG, "RW"),
            TableAccess(METRICS, "RW"),
            TableAccess(METADATA, "R"),
        ),
    ),
    # service/sweep.py: overdue runs from the sparse ``open`` index, each run's slices
    # (fanout.progress), the failed run written conditionally.
    "sweeper": Access(tables=(TableAccess(RUNS, "RW", indexes=("open",)),)),
    # service/profiles.py → store/purge.py: a profile's partitions Queried, its alerts by the
    # by_profile index, history, runs and notifications Scanned by tenant; all deleted in
    # batches; its objects (every version) and connection secrets deleted. service/channels.py:
    # the channel settings written (notifications) and the SMS subscriptions kept in step.
    "profiles": Access(
        tables=(
            *(
                TableAccess(table, "R", deletes=True)
                for table in (METRICS, METADATA, FEEDBACK, STATISTICS, INCIDENTS, CATALOG)
            ),
            TableAccess(ALERTS, "R", indexes=("by_profile",), deletes=True),
            *(TableAccess(table, "R", scans=True, deletes=True) for table in (HISTORY, RUNS)),
            TableAccess(NOTIFICATIONS, "RW", scans=True, deletes=True),
        ),
        manage_sms=True,
        purge_profiles=True,
        ads_secrets="delete",
        numeric=False,
    ),
    # service/training_runs.py plan_trainings: scheduled and connected profiles (metadata),
    # their training entries claimed, whether a model set exists (the registry), an
    # untrained profile's top-level series (catalog, metrics), a run per profile due.
    "train_scheduler": Access(
        tables=(
            TableAccess(METADATA, "RW"),
            TableAccess(CATALOG, "R"),
            TableAccess(METRICS, "R"),
            TableAccess(RUNS, "RW"),
        ),
        read_models=True,
        numeric=False,
    ),
    # service/training_runs.py record_failure: the failed job's run read and failed.
    "train_recorder": Access(tables=(TableAccess(RUNS, "RW"),), numeric=False),
    # store/archive.py: the expired alert (from the stream record) into history.
    "archiver": Access(tables=(TableAccess(HISTORY, "W"),), numeric=False),
}
