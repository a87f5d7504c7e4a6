"""``tripwire local up``: moto server for AWS, the gateway for the API, every table created,
the scan queue (with its dead-letter queue) polled by the real worker, the learn queue
(FIFO, with its DLQ) polled by the real learner, the landing bucket notifying the landing
queue (with its DLQ) polled by the real landing function, the alerts topic delivering to a local
Slack, and — optionally — the scan schedule ticking.

A state file lets ``tripwire`` commands in other shells find the running stack. With a
``data`` folder (``tripwire local up`` uses ``.tripwire/local``) the stack restores its last
snapshot on start and keeps snapshotting while it runs (``persistence.py``); without one
(tests, the demo, benchmarks) it starts empty and forgets everything on stop.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tripwire.domain.metrics import Interval
from tripwire.local import state_dir
from tripwire.local.ads_provider import (
    DEMO_ADS_PROFILE,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    AdsBook,
    LocalAdsProvider,
)
from tripwire.local.atomic import serialize_dynamodb
from tripwire.local.environ import export, restore
from tripwire.local.gateway import Gateway
from tripwire.local.market_provider import Book, LocalMarketProvider
from tripwire.local.persistence import (
    MAX_AGE,
    SNAPSHOT,
    Capture,
    Names,
    Snapshotter,
    Summary,
    drop,
    lock_data,
    read_snapshot,
    restore_data,
    restore_messages,
)
from tripwire.local.poller import (
    DigestTicker,
    LandingPoller,
    LearnPoller,
    ScanPoller,
    ScheduleTicker,
    StreamPoller,
    SweepTicker,
    fire_schedule,
    fire_sweep,
)
from tripwire.local.training import (
    TrainingRunner,
    TrainingTicker,
    create_state_machine,
    fire_training_schedule,
)
from tripwire.store import provision as store
from tripwire.store.connections import SECRET_PREFIX_ENV
from tripwire.store.queues import (
    LANDING,
    LEARN,
    MAX_RECEIVES_ENV,
    SCAN,
    STREAM,
    STREAM_ARN_ENV,
    Queue,
)
from tripwire.store.tables import LANDING as LANDING_BUCKET
from tripwire.store.tables import physical_names
from tripwire.telemetry import LOCAL_ENVIRONMENT

if TYPE_CHECKING:
    from tripwire.local.recovery import Recovered

STATE_FILE = "stack.json"
HOST = "127.0.0.1"
STOP_PATIENCE = 30.0  # seconds a clean stop waits for a `tripwire` command still writing


class LocalStack:
    """Starts and stops the local stack; ``env`` is what clients need to reach it."""

    def __init__(
        self,
        *,
        aws_port: int | None = None,
        api_port: int | None = None,
        directory: Path | None = None,
        prefix: str = "tripwire-local",
        region: str = "us-east-1",
        scan_every: float = 0.0,
        notifications: bool = True,
        echo_slack: bool = True,
        data: Path | None = None,
        snapshot_every: float = MAX_AGE,
        market_book: Book | None = None,
        ads_book: AdsBook | None = None,
    ) -> None:
        self.directory = (directory or state_dir()).resolve()
        self.data = data.resolve() if data is not None else None  # None: nothing kept
        self.restored: Summary | None = None  # what start() restored from the snapshot
        self.recovered: Recovered | None = None  # how interrupted runs were settled
        self.snapshotter: Snapshotter | None = None
        self._data_lock: Any = None
        self.snapshot_every = snapshot_every  # at most this many seconds between snapshots
        self.aws_port = aws_port or 0
        self.api_port = api_port or 0
        self.prefix = prefix
        self.region = region
        self.env: dict[str, str] = {}
        self.startup_seconds = 0.0
        self._api_url = ""
        self._moto: Any = None
        self._gateway: Gateway | None = None
        self._saved_env: dict[str, str | None] = {}
        self.scan_every = scan_every  # seconds between schedule ticks (0: no ticking)
        self.notifications_enabled = notifications
        self.echo_slack = echo_slack
        self.poller: ScanPoller | None = None
        self.learner: LearnPoller | None = None
        self.landing: LandingPoller | None = None
        self.stream: StreamPoller | None = None
        self.notifications: Any = None  # LocalNotifications, when started
        self._ticker: ScheduleTicker | None = None
        self._sweeper: SweepTicker | None = None
        self._digests: DigestTicker | None = None
        self.trainer: TrainingRunner | None = None  # the training state machine's stand-in
        self._train_ticker: TrainingTicker | None = None
        # The market data source's stand-in (Yahoo's chart endpoint), serving this book.
        self.market = LocalMarketProvider(market_book)
        # Amazon Ads' stand-in (Login with Amazon + v3 reporting), serving this book.
        self.ads = LocalAdsProvider(ads_book)

    @property
    def queue_url(self) -> str:
        return self.env[SCAN.url_env]

    @property
    def dlq_url(self) -> str:
        return self.env[SCAN.dlq_env]

    @property
    def learn_queue_url(self) -> str:
        return self.env[LEARN.url_env]

    @property
    def learn_dlq_url(self) -> str:
        return self.env[LEARN.dlq_env]

    @property
    def state_file(self) -> Path:
        return self.directory / STATE_FILE

    @property
    def snapshot_path(self) -> Path | None:
        return None if self.data is None else self.data / SNAPSHOT

    @property
    def aws_endpoint(self) -> str:
        return self.env["AWS_ENDPOINT_URL"]

    @property
    def api_url(self) -> str:
        if not self._api_url:
            raise RuntimeError("the local stack has not been started")
        return self._api_url

    def start(self) -> dict[str, str]:
        """Start everything, export ``env`` into ``os.environ`` and return it."""
        from moto.server import ThreadedMotoServer  # dev-only dependency, slow to import

        started = time.perf_counter()
        running = read_state(self.directory)
        if running is not None:
            raise RuntimeError(
                f"a local stack is already running (pid {running['pid']}, "
                f"API at {running['api_url']}); stop it or use another TRIPWIRE_LOCAL_DIR"
            )
        self.directory.mkdir(parents=True, exist_ok=True)
        snapshot: Capture | None = None
        if self.data is not None:
            self._data_lock = lock_data(self.data)
            try:
                snapshot = read_snapshot(self.data / SNAPSHOT)  # unreadable: refuse to start
            except BaseException:
                self._release_data()
                raise
        if self.aws_port:
            _check_free(self.aws_port)  # moto's start() would wait forever on a taken port
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per AWS call
        # Metrics are off here (LOCAL_ENVIRONMENT): a handler that counted nothing has nothing
        # to flush, and Powertools' warning about it is noise in every local run.
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        serialize_dynamodb()  # conditional writes and transactions must be atomic
        self._moto = ThreadedMotoServer(HOST, self.aws_port, verbose=False)
        self._moto.start()
        host, port = self._moto.get_host_and_port()
        self.env = {
            "AWS_ENDPOINT_URL": f"http://{host}:{port}",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "TRIPWIRE_LOCAL_DIR": str(self.directory),
            **physical_names(self.prefix),
            **LOCAL_ENVIRONMENT,  # no EMF on stdout, no X-Ray daemon
        }
        try:
            self._export()
            if self.data is not None:
                drop(self._names, self.region)  # an earlier stack's tables in this process
            store.provision(env=self.env)
            if snapshot is not None:
                restore_data(snapshot, self._names, self.region)
            self._gateway = Gateway(port=self.api_port, auth_dir=self.directory).start()
            self._api_url = self._gateway.url
            self._start_scan_pipeline()
            if self.data is not None:
                self._start_persistence(snapshot)
            self._write_state()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.perf_counter() - started
        return dict(self.env)

    @property
    def _names(self) -> Names:
        return Names.of(self.env, self.prefix)

    def _start_persistence(self, snapshot: Capture | None) -> None:
        """Queue the snapshot's messages again, settle interrupted runs, start snapshotting."""
        from tripwire.local.recovery import SCAN_QUEUE, recover_runs

        assert self.data is not None
        names = self._names
        if snapshot is not None:
            restore_messages(snapshot, names, self.region)
        self.snapshotter = Snapshotter(
            self.data / SNAPSHOT, names, self.region, self.directory, max_age=self.snapshot_every
        )
        if snapshot is not None:
            self.restored = snapshot.summary()
            self.recovered = recover_runs(
                snapshot.tables.get("runs", []), snapshot.queues.get(SCAN_QUEUE, [])
            )
        self.snapshotter.start()

    def snapshot(self, wait: float = 0.0) -> bool | None:
        """Write a snapshot now (True), or find nothing changed (False) or a `tripwire`
        command still writing after ``wait`` seconds (None)."""
        if self.snapshotter is None:
            raise RuntimeError("this stack keeps no data (start it with data=FOLDER)")
        return self.snapshotter.snapshot(wait=wait)

    def _release_data(self) -> None:
        if self._data_lock is not None:
            self._data_lock.close()  # releases the flock
            self._data_lock = None

    def stop(self) -> None:
        """Shut everything down, join the threads, write the last snapshot (a stack with
        data), forget the stack's AWS resources, remove the state file, restore env."""
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None
        if self._sweeper is not None:
            self._sweeper.stop()
            self._sweeper = None
        if self._digests is not None:
            self._digests.stop()
            self._digests = None
        for background in (self._train_ticker, self.trainer):
            if background is not None:
                background.stop()
        self._train_ticker = self.trainer = None
        for poller in (self.poller, self.learner, self.landing, self.stream):
            if poller is not None:
                poller.stop()
        self.poller = self.learner = self.landing = self.stream = None
        if self.notifications is not None:
            self.notifications.stop()
            self.notifications = None
        self.market.stop()
        self.ads.stop()
        if self._gateway is not None:
            self._gateway.stop()
            self._gateway = None
        if self.snapshotter is not None:
            self.snapshotter.stop()
            if self.snapshotter.snapshot(wait=STOP_PATIENCE) is None:
                print(
                    "a tripwire command was still writing: its writes are not kept "
                    "(the last snapshot holds the state before it)",
                    file=sys.stderr,
                )
            self.snapshotter = None
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
            drop(self._names, self.region)  # moto outlives the stack in this process
        state = read_state(self.directory, check_pid=False)
        if state is not None and state.get("pid") == os.getpid():
            self.state_file.unlink(missing_ok=True)
        restore(self._saved_env)
        store.reset_clients()
        self._release_data()

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _start_scan_pipeline(self) -> None:
        """Scan and learn queues + DLQs (redrive policies), their pollers, notifications,
        the ticker."""
        urls = {q.name: _queue_with_dlq(self.prefix, q) for q in (SCAN, LEARN)}
        self._add_env(
            {
                **{q.url_env: urls[q.name][0] for q in (SCAN, LEARN)},
                **{q.dlq_env: urls[q.name][1] for q in (SCAN, LEARN)},
                MAX_RECEIVES_ENV: str(SCAN.max_receives),
            }
        )
        if self.notifications_enabled:
            from tripwire.local.notifications import LocalNotifications

            self.notifications = LocalNotifications(
                self.env, prefix=self.prefix, api_url=self.api_url, echo=self.echo_slack
            )
            self.env.update(self.notifications.start())  # exports the topic for the worker
        self._add_env(self.market.start())  # the worker's market sync talks to it
        self._add_env(self.ads.start())  # … and its Amazon Ads sync to this one
        self._add_env({SECRET_PREFIX_ENV: f"{self.prefix}/amazon-ads"})
        self.poller = ScanPoller(urls[SCAN.name][0]).start()
        self.learner = LearnPoller(urls[LEARN.name][0]).start()
        self._start_landing()
        self._start_stream()
        if self.scan_every > 0:
            self._ticker = ScheduleTicker(self.scan_every).start()
        self._sweeper = SweepTicker().start()  # overdue runs failed, as the deployed rule does
        self._digests = DigestTicker().start()  # the daily and weekly digest rules
        self._start_training()

    def _start_training(self) -> None:
        """The training state machine (in moto) and its stand-in runner; with a schedule,
        the daily training rule too."""
        env = create_state_machine(self.prefix)
        self._add_env(env)
        (arn,) = env.values()
        self.trainer = TrainingRunner(arn).start()
        if self.scan_every > 0:
            self._train_ticker = TrainingTicker(arn).start()

    def _start_landing(self) -> None:
        """The landing bucket notifies its queue (+DLQ) of every created object, as in AWS
        (moto sends S3 notifications to SQS); the poller hands them to the real function."""
        queue, dlq = _queue_with_dlq(self.prefix, LANDING)
        self._add_env({LANDING.url_env: queue, LANDING.dlq_env: dlq})
        sqs = store.aws_client("sqs")
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
        store.aws_client("s3").put_bucket_notification_configuration(
            Bucket=self.env[LANDING_BUCKET.env_var],
            NotificationConfiguration={
                "QueueConfigurations": [
                    {
                        "Id": "landing",
                        "QueueArn": arn["Attributes"]["QueueArn"],
                        "Events": ["s3:ObjectCreated:*"],
                    }
                ]
            },
        )
        self.landing = LandingPoller(queue).start()

    def _start_stream(self) -> None:
        """The Marketing Stream queue (+DLQ): the Amazon Ads stand-in delivers a subscribed
        profile's hourly records to it; the poller hands them to the real function."""
        queue, dlq = _queue_with_dlq(self.prefix, STREAM)
        arn = store.aws_client("sqs").get_queue_attributes(
            QueueUrl=queue, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        self._add_env({STREAM.url_env: queue, STREAM.dlq_env: dlq, STREAM_ARN_ENV: arn})
        self.stream = StreamPoller(queue).start()

    def drain_stream(self, timeout: float = 120.0) -> None:
        """Wait until every stream record delivered so far was ingested."""
        if self.stream is None:
            raise RuntimeError("the local stack has not been started")
        self.stream.drain(timeout)

    def drain(self, timeout: float = 900.0) -> None:
        """Wait until every scan message was handled (or moved to the DLQ), then every learn
        message the finished runs sent."""
        if self.poller is None or self.learner is None:
            raise RuntimeError("the local stack has not been started")
        self.poller.drain(timeout)
        self.learner.drain(timeout)

    def scan(
        self,
        as_of: datetime.date | None = None,
        *,
        wait: bool = True,
        intervals: Sequence[Interval] = (Interval.D1,),
    ) -> list[dict[str, str]]:
        """One schedule tick now (the real scheduler → queue → poller → worker path) of the
        ``intervals``' rules; returns the runs started, after they finished when ``wait``."""
        runs = fire_schedule(as_of, intervals=intervals)
        if wait:
            self.drain()
        return runs

    def train(self, as_of: datetime.date | None = None, *, wait: bool = True) -> None:
        """One tick of the training rule now (the real scheduler → the jobs due), and
        wait for every training execution to finish when ``wait``."""
        if self.trainer is None:
            raise RuntimeError("the local stack has not been started")
        fire_training_schedule(self.trainer.machine_arn, as_of)
        if wait:
            self.trainer.drain()

    def sweep(self) -> list[dict[str, str]]:
        """One run sweep now (the real sweeper handler); the runs it failed."""
        return fire_sweep()

    def _add_env(self, values: dict[str, str]) -> None:
        self.env.update(values)
        export(values, self._saved_env)

    def _export(self) -> None:
        self._saved_env = {}
        export(self.env, self._saved_env)
        store.reset_clients()  # cached clients point at the previous endpoint

    def _write_state(self) -> None:
        state = {
            "pid": os.getpid(),
            "api_url": self.api_url,
            "aws_endpoint": self.aws_endpoint,
            "env": self.env,
            "started_at": time.time(),
        }
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(self.state_file)  # readers never see half a file


def _queue_with_dlq(prefix: str, declared: Queue) -> tuple[str, str]:
    """The declared queue, whose messages move to its own DLQ after its max receives."""
    sqs = store.aws_client("sqs")
    name = f"{prefix}-{declared.name}"
    suffix, kind = (".fifo", {"FifoQueue": "true"}) if declared.fifo else ("", {})
    dlq = sqs.create_queue(QueueName=f"{name}-dlq{suffix}", Attributes=kind)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(declared.max_receives)}
    queue = sqs.create_queue(
        QueueName=f"{name}{suffix}",
        Attributes={
            **kind,
            "VisibilityTimeout": str(declared.local_visibility_seconds),
            "RedrivePolicy": json.dumps(redrive),
        },
    )["QueueUrl"]
    return queue, dlq


def _check_free(port: int) -> None:
    with socket.socket() as probe:
        # As the servers bind: a port whose last stack just stopped (TIME_WAIT) is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as error:
            raise RuntimeError(f"port {port} on {HOST} is taken: {error}") from error


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def read_state(directory: Path | None = None, *, check_pid: bool = True) -> dict[str, Any] | None:
    """The running stack's state file, or None if there is none or its process is gone."""
    path = (directory or state_dir()) / STATE_FILE
    try:
        state: dict[str, Any] = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    if check_pid and not _alive(int(state.get("pid", 0))):
        return None
    return state


def load_stack_env(directory: Path | None = None) -> dict[str, str] | None:
    """The environment that points boto3 and the CLI at a running local stack, if any."""
    state = read_state(directory)
    return None if state is None else dict(state["env"])


def run_local_up(
    port: int | None,
    api_port: int | None,
    scan_every: float = 0.0,
    data: Path | None = None,
    snapshot_every: float = MAX_AGE,
    market_book: Book | None = None,
    ads_book: AdsBook | None = None,
) -> None:
    """Start the stack on its data (restoring the last snapshot), say where it listens and
    what it restored, and serve until Ctrl-C (or SIGTERM)."""
    data = data or state_dir()
    stack = LocalStack(
        aws_port=port,
        api_port=api_port,
        scan_every=scan_every,
        data=data,
        snapshot_every=snapshot_every,
        market_book=market_book,
        ads_book=ads_book,
    )
    stack.start()
    stack.ads.account(DEMO_REFRESH_TOKEN, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_ADS_PROFILE)
    stopping = threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        # Handle SIGINT too: a shell starting us in the background leaves it ignored.
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: stopping.set())
    print(f"Tripwire local stack up in {stack.startup_seconds:.2f}s")
    print(f"  API:          {stack.api_url}   (try: curl {stack.api_url}/health)")
    print(f"  AWS endpoint: {stack.aws_endpoint}   (moto server; credentials 'testing')")
    print(f"  State:        {stack.state_file}")
    print(f"  Data:         {stack.snapshot_path}   (`tripwire local reset` empties it)")
    if stack.restored is None:
        print("  Restored:     nothing (no snapshot yet): a new, empty stack")
    else:
        print(f"  Restored:     {stack.restored.text()}")
        if stack.recovered is not None and (stack.recovered.replayed or stack.recovered.failed):
            print(f"  Recovery:     {stack.recovered.text()}")
    print("  Token:        tripwire local token --tenant T --user U")
    schedule = f"every {scan_every:g}s" if scan_every > 0 else "off (--scan-every SECONDS)"
    print(f"  Scan queue:   {stack.queue_url}   (DLQ {stack.dlq_url})")
    print(f"  Learn queue:  {stack.learn_queue_url}   (DLQ {stack.learn_dlq_url})")
    print(f"  Schedule:     {schedule}; `tripwire local scan` ticks it now")
    print(f"  Market data:  {stack.market.url}   (Yahoo chart stand-in; POST /backfill by ticker)")
    print(f"  Amazon Ads:   {stack.ads.url}   (LWA + reporting stand-in; `tripwire connect`)")
    landing = stack.env[LANDING_BUCKET.env_var]
    print(f"  Landing:      s3://{landing}/<tenant>/<profile>/<file>   (`tripwire land FILE`)")
    print("Ctrl-C to stop.", flush=True)
    try:
        while not stopping.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        print("Stopping…", flush=True)
        stack.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if stack.snapshot_path is not None and stack.snapshot_path.exists():
            size = stack.snapshot_path.stat().st_size
            print(f"Data kept in {stack.snapshot_path} ({size / 1e6:.1f} MB)", flush=True)


def reset_local_data(data: Path | None = None, directory: Path | None = None) -> Summary | None:
    """Delete the kept data (the snapshot); refuses while a stack runs. Returns what the
    snapshot held (None: there was none)."""
    data = data or state_dir()
    running = read_state(directory)
    if running is not None:
        raise RuntimeError(
            f"a local stack is running (pid {running['pid']}): stop it before resetting"
        )
    path = data / SNAPSHOT
    held = None
    if path.exists():
        try:
            snapshot = read_snapshot(path)
            held = snapshot.summary() if snapshot is not None else Summary()
        except Exception:  # an unreadable snapshot is reset too
            held = Summary()
    lock = lock_data(data)  # no stack may be using it
    try:
        path.unlink(missing_ok=True)
        path.with_name(f".{path.name}.tmp").unlink(missing_ok=True)
    finally:
        lock.close()
    return held
