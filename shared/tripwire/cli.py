"""The `tripwire` command. Each subcommand is a thin adapter onto the package."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tripwire.domain.metrics import Interval
from datetime import date
from pathlib import Path

DEFAULT_TENANT = "local"


def _existing_file(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"no such file: {text}")
    return path


def _use_local_stack_if_running(*, hold: bool = True) -> None:
    """Point boto3 at a running `tripwire local up`, unless an endpoint is already set.

    ``hold``: the stack takes no snapshot until this command exits, so what it writes (an
    import, a training) is kept whole or not at all if the stack is killed meanwhile."""
    if os.environ.get("AWS_ENDPOINT_URL"):
        return
    from tripwire.local import state_dir
    from tripwire.local.persistence import hold_snapshots
    from tripwire.local.stack import load_stack_env

    env = load_stack_env()
    if env is None:
        sys.exit(
            "no AWS endpoint: start the local stack with `tripwire local up` "
            "(or set AWS_ENDPOINT_URL / AWS credentials for a deployed stack)"
        )
    os.environ.update(env)
    if hold:
        hold_snapshots(state_dir())


def cmd_import(args: argparse.Namespace) -> int:
    from tripwire.domain.metrics import Interval
    from tripwire.ingest.errors import ImportRejected
    from tripwire.ingest.importer import import_account

    if args.format != "tripwire":
        return _import_report(args)
    if args.entities is None or args.metrics is None:
        sys.exit("tripwire import: --entities and --metrics are required for --format tripwire")
    _use_local_stack_if_running()
    profile = args.profile or _single_root(args.entities)
    try:
        report = import_account(
            args.tenant,
            profile,
            args.entities,
            args.metrics,
            interval=Interval(args.interval),
            skip_bad_rows=args.skip_bad_rows,
            progress=not args.quiet,
        )
    except ImportRejected as rejected:
        print(f"import stopped, nothing written: {rejected}", file=sys.stderr)
        return 2
    print(report.summary())
    return 0


REPORT_FORMATS = ("ads-console", "ads-api", "ohlcv")


def _import_report(args: argparse.Namespace) -> int:
    """`--format ads-console|ads-api|ohlcv`: the same validation, bad rows and writes."""
    from tripwire.domain.metrics import Interval
    from tripwire.ingest.errors import ImportRejected

    if not args.files:
        sys.exit(f"tripwire import --format {args.format}: name the report(s) with --file")
    common = {"skip_bad_rows": args.skip_bad_rows, "progress": not args.quiet}
    _use_local_stack_if_running()
    try:
        if args.format == "ohlcv":
            from tripwire.ingest.ohlcv_csv import import_ohlcv

            if not (args.market or args.profile):
                sys.exit("tripwire import --format ohlcv: name the market with --market")
            report = import_ohlcv(
                args.tenant,
                args.market or args.profile,
                args.files,
                ticker=args.ticker,
                interval=Interval(args.interval),
                currency=args.currency,
                profile_id=args.profile,
                date_format=args.date_format,
                **common,
            )
        else:
            from tripwire.ingest.ads_api import import_api_report
            from tripwire.ingest.ads_console import import_console_report

            if not args.profile:
                sys.exit(f"tripwire import --format {args.format}: name the account with --profile")
            if args.format == "ads-console":
                report = import_console_report(
                    args.tenant,
                    args.profile,
                    args.files,
                    currency=args.currency,
                    attribution=args.attribution,
                    date_format=args.date_format,
                    **common,
                )
            else:
                report = import_api_report(
                    args.tenant, args.profile, args.files, currency=args.currency, **common
                )
    except ImportRejected as rejected:
        print(f"import stopped, nothing written: {rejected}", file=sys.stderr)
        return 2
    print(report.summary())
    return 0


def cmd_land(args: argparse.Namespace) -> int:
    """Drop a file in the landing bucket (as ``aws s3 cp`` would) and wait for its report."""
    import time

    from tripwire.domain.landing import BadKey, LandingKey
    from tripwire.store.landing import LandingStore

    _use_local_stack_if_running(hold=False)
    key = f"{args.tenant}/{args.profile}/{args.file.name}"
    try:
        LandingKey.parse(key)  # a key the bucket would refuse is refused here, saying why
    except BadKey as bad:
        sys.exit(f"tripwire land: {bad}")
    options = {
        "format": args.format,
        "currency": args.currency,
        "attribution": str(args.attribution) if args.attribution else None,
        "date-format": args.date_format,
        "skip-bad-rows": "true" if args.skip_bad_rows else None,
    }
    store = LandingStore()
    metadata = {name: value for name, value in options.items() if value}
    store.client.upload_file(str(args.file), store.bucket, key, ExtraArgs={"Metadata": metadata})
    etag = store.client.head_object(Bucket=store.bucket, Key=key)["ETag"].strip('"')
    print(f"dropped s3://{store.bucket}/{key}")
    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline:
        report = store.report(key)
        if report is not None and report.etag == etag:
            print(report.reason)
            return 0 if report.status.value == "imported" else 2
        time.sleep(0.2)
    if args.wait:
        print(f"no report after {args.wait:g}s: GET /imports lists it once written")
    return 0


def _single_root(entities: Path) -> str:
    import csv

    with entities.open(newline="", encoding="utf-8-sig") as handle:
        roots = [r["entity_id"] for r in csv.DictReader(handle) if not (r.get("parent_id") or "")]
    if len(roots) != 1:
        sys.exit("the entities file has several roots: name the profile with --profile")
    return roots[0]


def cmd_demo_data(args: argparse.Namespace) -> int:
    from tripwire.demo.generator import GeneratorConfig, generate, write

    config = GeneratorConfig(seed=args.seed, keywords=args.keywords, days=args.days)
    paths = write(generate(config), args.out)
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0


def cmd_local_up(args: argparse.Namespace) -> int:
    import datetime as dt

    from tripwire.demo.ads_book import SyntheticAdsBook
    from tripwire.demo.config import GeneratorConfig
    from tripwire.demo.market_book import SyntheticBook
    from tripwire.local.ads_provider import DEMO_ADS_PROFILE
    from tripwire.local.stack import run_local_up

    # The demo advertiser's 120 generated days end yesterday (drawn on its first report).
    start = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=120)
    ads = SyntheticAdsBook(GeneratorConfig(start=start), ads_profile_id=DEMO_ADS_PROFILE)

    run_local_up(
        args.port,
        args.api_port,
        args.scan_every,
        args.data,
        args.snapshot_every,
        market_book=SyntheticBook(),
        ads_book=ads,
    )
    return 0


def cmd_local_reset(args: argparse.Namespace) -> int:
    """Empty the local stack's kept data: the only way to start a `local up` from nothing."""
    from tripwire.local import state_dir
    from tripwire.local.persistence import SNAPSHOT, read_snapshot
    from tripwire.local.stack import read_state, reset_local_data

    data = args.data or state_dir()
    if read_state() is not None:
        print("tripwire local reset: a local stack is running: stop it first", file=sys.stderr)
        return 2
    path = data / SNAPSHOT
    if not path.exists():
        print(f"nothing to reset: no snapshot in {data}")
        return 0
    if not args.yes:
        try:
            snapshot = read_snapshot(path)
            held = snapshot.summary().text() if snapshot is not None else "nothing"
        except Exception as error:
            held = f"an unreadable snapshot ({error})"
        if not sys.stdin.isatty():
            print(
                f"tripwire local reset: {path} holds {held}; pass --yes to delete it",
                file=sys.stderr,
            )
            return 2
        answer = input(f"Delete {path}, which holds {held}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("kept")
            return 1
    try:
        reset_local_data(data)
    except RuntimeError as error:
        print(f"tripwire local reset: {error}", file=sys.stderr)
        return 2
    print(f"deleted {path}: the next `tripwire local up` starts empty")
    return 0


def cmd_local_scan(args: argparse.Namespace) -> int:
    """One schedule tick against the running stack; its pollers run the worker, then the
    learner (a finished run's learn message is sent before its last slice is deleted)."""
    import time

    from tripwire.local import state_dir
    from tripwire.local.persistence import snapshots_held
    from tripwire.local.poller import fire_schedule, queue_depth
    from tripwire.service.fanout import progress, queue_url
    from tripwire.store.queues import LEARN

    _use_local_stack_if_running(hold=False)  # a scan is replayed or failed after a crash
    with snapshots_held(state_dir()):  # the run and its messages: in a snapshot together
        runs = fire_schedule(args.date)
    print(f"scheduled {len(runs)} scan run(s)")
    if args.no_wait or not runs:
        return 0
    deadline = time.monotonic() + args.timeout
    for url in filter(None, (queue_url(), os.environ.get(LEARN.url_env))):
        while queue_depth(url) and time.monotonic() < deadline:
            time.sleep(0.2)
    for started in runs:
        run = progress(started["tenant_id"], started["run_id"])
        if run is not None:
            notes = "; ".join(run.warnings)
            print(
                f"  {run.tenant_id}/{run.profile_id} {run.run_id} {run.status.value}: "
                f"{run.anomalies_found} new alert(s), {run.rows_processed} series-periods"
                + (f" — {notes}" if notes else "")
                + _trees_learnt(run.tenant_id, run.profile_id)
            )
    return 0


def _trees_learnt(tenant: str, profile: str) -> str:
    from tripwire.service.models import current_trees

    through = (current_trees(tenant, profile) or ("", {}))[1].get("learnt_through")
    return f"; half-space trees learnt through {through}" if through else ""


def cmd_local_token(args: argparse.Namespace) -> int:
    from tripwire.local.auth import issue_token

    print(issue_token(args.tenant, args.user))
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from tripwire.detection.score_cli import main as score_main

    weights = ["--weights", args.weights] if args.weights else []
    settings = [arg for item in args.set for arg in ("--set", item)]
    return score_main(([str(args.file)] if args.file else []) + weights + settings)


def cmd_train(args: argparse.Namespace) -> int:
    from tripwire.service.train import InsufficientHistory, train_profile

    _use_local_stack_if_running()
    try:
        report = train_profile(args.tenant, args.profile, args.end)
    except InsufficientHistory as error:
        print(f"not trained: {error}", file=sys.stderr)
        return 2
    print(report.summary())
    from tripwire.store.schedule import ScheduleStore

    if ScheduleStore().register(args.tenant, args.profile):  # a profile switched off stays off
        print(f"daily scans of {args.profile} switched on (PUT /profiles/{{id}}/schedule)")
    return 0


def cmd_profile_channels(args: argparse.Namespace) -> int:
    """Set a profile's channels (as ``PUT /profiles/{id}/channels``), or show them."""
    import json

    from pydantic import ValidationError

    from tripwire.domain.deliveries import ChannelSettings
    from tripwire.service.channels import channels, set_channels
    from tripwire.service.profiles import ProfileNotFound

    _use_local_stack_if_running()
    try:
        current = channels(args.tenant, args.profile)
        wanted = ChannelSettings.model_validate(
            {
                "plan": args.plan or current.plan,
                "line_to": (args.line or None) if args.line is not None else current.line_to,
                "sms_numbers": args.sms if args.sms is not None else current.sms_numbers,
                "sms_severities": args.sms_severity or current.sms_severities,
            }
        )
        stored = set_channels(args.tenant, args.profile, wanted) if wanted != current else current
    except ProfileNotFound:
        print(f"no profile {args.profile} of {args.tenant}", file=sys.stderr)
        return 1
    except ValidationError as error:
        for problem in error.errors():
            field = ".".join(str(p) for p in problem["loc"])
            print(f"invalid {field}: {problem['msg']}", file=sys.stderr)
        return 2
    print(json.dumps({"profile_id": args.profile, **stored.model_dump(mode="json")}))
    return 0


def cmd_profile_delete(args: argparse.Namespace) -> int:
    """Delete a profile and everything kept of it (as ``DELETE /profiles/{id}``)."""
    from tripwire.service.profiles import ProfileNotFound, delete_profile

    if not args.yes:
        if not sys.stdin.isatty():
            print(
                f"tripwire profile delete: pass --yes to delete {args.profile} of {args.tenant}",
                file=sys.stderr,
            )
            return 2
        answer = input(f"Delete profile {args.profile} of {args.tenant} and all its data? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("kept")
            return 1
    _use_local_stack_if_running()
    try:
        removed = delete_profile(args.tenant, args.profile)
    except ProfileNotFound:
        print(f"no profile {args.profile} of {args.tenant}: nothing deleted", file=sys.stderr)
        return 1
    counts = ", ".join(f"{kind} {n}" for kind, n in removed.items() if n)
    print(f"deleted profile {args.profile} of {args.tenant}: {counts or 'no data'}")
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    from tripwire.service.backtest import run_backtest

    report = run_backtest(
        args.entities, args.metrics, args.start, args.end, args.out, progress=not args.quiet
    )
    print(report.summary())
    return 0


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date (YYYY-MM-DD)") from None


def cmd_market(args: argparse.Namespace) -> int:
    """`tripwire market train|scan`: a market profile's model and its incremental scan."""
    from datetime import datetime, time

    from tripwire.domain.metrics import Interval
    from tripwire.service.market import scan_market, train_market

    _use_local_stack_if_running()
    interval = Interval(args.interval)
    if args.market_command == "fetch":
        return _market_fetch(args, interval)
    end = datetime.combine(args.end, time(23, 59, 59)) if args.end else None
    if args.market_command == "train":
        print(train_market(args.tenant, args.profile, args.market, interval, end=end).summary())
        return 0
    start = datetime.combine(args.start, time()) if args.start else None
    report = scan_market(
        args.tenant, args.profile, args.market, interval, start=start, end=end, force=args.force
    )
    print(f"{report.bars_scored} bars scored, {len(report.alerts)} new anomalies")
    for alert in report.alerts:
        top = ", ".join(f"{e.feature} {e.actual:.4g}" for e in alert.explanation[:3])
        print(f"  {alert.period:%Y-%m-%d %H:%M} {alert.entity_id} {alert.severity} ({top})")
    return 0


def _market_fetch(args: argparse.Namespace, interval: Interval) -> int:
    """`tripwire market fetch`: a symbol's history from the market data source, stored."""
    from tripwire.ingest.market_source import MarketDataSource, YahooChart
    from tripwire.ingest.yfinance_source import YFinanceSource
    from tripwire.service.backfill import BackfillRequest
    from tripwire.service.market_sync import fetch_history
    from tripwire.service.runs import utcnow

    source: MarketDataSource = YFinanceSource() if args.provider == "yfinance" else YahooChart()
    profile = args.profile or args.market
    first, last = BackfillRequest(profile_id=profile, period=args.period).days(utcnow().date())
    fetched = fetch_history(
        args.tenant, profile, args.market, args.ticker, first, last, interval, source=source
    )
    print(
        f"{args.market}-{args.ticker}: {fetched.received} bars from {args.provider}, "
        f"{fetched.kept} stored in profile {profile}"
    )
    for warning in fetched.warnings:
        print(f"  {warning}")
    return 0


def cmd_connect(args: argparse.Namespace) -> int:
    """`tripwire connect amazon-ads`: credentials to Secrets Manager, the profile connected;
    ``--sync`` pulls its reports now (the schedule does it daily)."""
    from pydantic import ValidationError

    from tripwire.service.ads_sync import ConnectRejected, ConnectRequest, connect

    _use_local_stack_if_running()
    fields = ("client_id", "client_secret", "refresh_token", "ads_profile_id", "region")
    given = {name: getattr(args, name) for name in fields if getattr(args, name) is not None}
    try:
        request = ConnectRequest(
            **given, lookback_days=args.lookback_days, history_days=args.history_days
        )
        connection = connect(args.tenant, args.profile, request, by=os.environ.get("USER", "cli"))
    except ValidationError as invalid:
        for error in invalid.errors():
            name = "--" + "-".join(str(p) for p in error["loc"]).replace("_", "-")
            print(f"tripwire connect: {name}: {error['msg']}", file=sys.stderr)
        return 2
    except ConnectRejected as rejected:
        print(
            f"tripwire connect: --{rejected.field.replace('_', '-')}: {rejected}", file=sys.stderr
        )
        return 2
    print(
        f"profile {connection.profile_id} connected to Amazon Ads profile "
        f"{connection.ads_profile_id or '(the first sync picks the only one)'} "
        f"({connection.region.value}); each sync re-pulls "
        f"{connection.lookback_days} days; credentials in Secrets Manager {connection.secret_id}"
    )
    return _sync_now(args.tenant, args.profile, args.as_of) if args.sync else 0


def cmd_sync(args: argparse.Namespace) -> int:
    _use_local_stack_if_running()
    return _sync_now(args.tenant, args.profile, args.as_of)


def _sync_now(tenant: str, profile: str, as_of: date | None = None) -> int:
    from tripwire.service.ads_sync import SyncRefused, sync_profile
    from tripwire.service.runs import utcnow

    try:
        synced = sync_profile(tenant, profile, as_of or utcnow().date())
    except SyncRefused as refused:
        print(f"tripwire sync: refused: {refused}", file=sys.stderr)
        return 1
    if synced.status != "synced":
        why = "; ".join(synced.warnings) or "the profile is not connected"
        print(f"profile {profile}: {synced.status}: {why}", file=sys.stderr)
        return 1
    print(
        f"profile {profile}: {synced.rows} rows of {synced.first}..{synced.last} from "
        f"{synced.reports} report(s), {synced.items_changed} items changed"
    )
    for warning in synced.warnings:
        print(f"  {warning}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from tripwire.demo.run import run_demo

    return run_demo(keywords=args.keywords, days=args.days, seed=args.seed)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tripwire", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("import", help="load entities.csv and metrics.csv into a profile")
    p.add_argument("--entities", type=_existing_file, help="tripwire format (the default)")
    p.add_argument("--metrics", type=_existing_file, help="tripwire format (the default)")
    p.add_argument("--format", default="tripwire", choices=["tripwire", *REPORT_FORMATS])
    p.add_argument(
        "--file",
        dest="files",
        type=_existing_file,
        action="append",
        default=[],
        help="a report (ads-console CSV/XLSX, ads-api JSON[.gz], ohlcv CSV/XLSX); repeatable",
    )
    p.add_argument("--market", help="ohlcv: market code (US, JP, …); the profile by default")
    p.add_argument("--ticker", help="ohlcv: the ticker of a one-ticker file (default: file name)")
    p.add_argument("--currency", help="ads-*: the account currency when the report has none")
    p.add_argument(
        "--attribution",
        type=int,
        choices=[1, 7, 14, 30],
        help="ads-console: the N of 'N Day Total Sales' to read when a report has several",
    )
    p.add_argument(
        "--date-format",
        help="ads-console, ohlcv: iso, mdy (M/D/YYYY), dmy (D.M.YYYY, D/M/YYYY) or a strptime "
        "pattern; default: detected per file (a file whose dates read both ways is refused)",
    )
    p.add_argument("--profile", help="profile id (default: the account's entity id)")
    p.add_argument("--tenant", default=os.environ.get("TRIPWIRE_TENANT", DEFAULT_TENANT))
    p.add_argument("--interval", default="1d", choices=["1d", "1h", "15m", "5m"])
    p.add_argument("--skip-bad-rows", action="store_true", help="skip and report bad rows")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("land", help="drop a report in the landing bucket; print its report")
    p.add_argument("file", type=_existing_file)
    p.add_argument("--profile", required=True)
    p.add_argument("--tenant", default=os.environ.get("TRIPWIRE_TENANT", DEFAULT_TENANT))
    p.add_argument("--format", choices=REPORT_FORMATS, help="default: detected from the file")
    p.add_argument("--currency")
    p.add_argument("--attribution", type=int, choices=[1, 7, 14, 30])
    p.add_argument("--date-format")
    p.add_argument("--skip-bad-rows", action="store_true")
    p.add_argument("--wait", type=float, default=60.0, help="seconds to wait for the report")
    p.set_defaults(func=cmd_land)

    connect = sub.add_parser("connect", help="connect a profile to an outside data source")
    p = connect.add_subparsers(dest="provider", required=True).add_parser(
        "amazon-ads", help="the Amazon Ads API: LWA credentials kept in Secrets Manager"
    )
    p.add_argument("--profile", required=True)
    p.add_argument("--tenant", default=os.environ.get("TRIPWIRE_TENANT", DEFAULT_TENANT))
    p.add_argument("--client-id", default=os.environ.get("TRIPWIRE_ADS_CLIENT_ID"))
    p.add_argument(
        "--client-secret",
        default=os.environ.get("TRIPWIRE_ADS_CLIENT_SECRET"),
        help="default $TRIPWIRE_ADS_CLIENT_SECRET (keeps it out of shell history)",
    )
    p.add_argument(
        "--refresh-token",
        default=os.environ.get("TRIPWIRE_ADS_REFRESH_TOKEN"),
        help="default $TRIPWIRE_ADS_REFRESH_TOKEN",
    )
    p.add_argument(
        "--ads-profile-id",
        help="the Amazon Ads profile id (API scope); default: the only one the token opens",
    )
    p.add_argument("--region", choices=["NA", "EU", "FE"])
    p.add_argument("--lookback-days", type=int, default=3, help="days re-pulled per sync (1-14)")
    p.add_argument("--history-days", type=int, default=62, help="days the first sync pulls (1-95)")
    p.add_argument("--sync", action="store_true", help="pull the reports now")
    p.add_argument("--as-of", type=date.fromisoformat, help="--sync: up to the day before")
    p.set_defaults(func=cmd_connect)

    p = sub.add_parser("sync", help="pull a connected profile's Amazon Ads reports now")
    p.add_argument("--profile", required=True)
    p.add_argument("--tenant", default=os.environ.get("TRIPWIRE_TENANT", DEFAULT_TENANT))
    p.add_argument("--as-of", type=date.fromisoformat, help="pull up to the day before")
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("demo-data", help="generate a synthetic PPC account with incidents")
    p.add_argument("out", type=Path)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--keywords", type=int, default=1000)
    p.add_argument("--days", type=int, default=120)
    p.set_defaults(func=cmd_demo_data)

    p = sub.add_parser("demo", help="the whole job on the local stack with a demo account")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--keywords", type=int, default=1000)
    p.add_argument("--days", type=int, default=120)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("train", help="train a profile's detectors and publish them")
    p.add_argument("--profile", required=True)
    p.add_argument("--tenant", default=os.environ.get("TRIPWIRE_TENANT", DEFAULT_TENANT))
    p.add_argument("--end", type=_date, default=date.today(), help="last day trained on")
    p.set_defaults(func=cmd_train)

    profile = sub.add_parser("profile", help="a profile's lifecycle").add_subparsers(
        dest="profile_command", required=True
    )
    p = profile.add_parser(
        "channels", help="set a profile's plan, LINE recipient and SMS numbers (or show them)"
    )
    p.add_argument("--profile", required=True)
    p.add_argument("--tenant", default=os.environ.get("TRIPWIRE_TENANT", DEFAULT_TENANT))
    p.add_argument("--plan", choices=("standard", "enterprise"))
    p.add_argument("--line", help="a LINE user, group or room id; '' removes it")
    p.add_argument(
        "--sms", nargs="*", metavar="E164", help="the numbers to text (replaces the list)"
    )
    p.add_argument(
        "--sms-severity",
        action="append",
        choices=("low", "medium", "high", "critical"),
        help="severities texted (repeat; default critical)",
    )
    p.set_defaults(func=cmd_profile_channels)
    p = profile.add_parser("delete", help="delete a profile and all of its data (asks first)")
    p.add_argument("--profile", required=True)
    p.add_argument("--tenant", default=os.environ.get("TRIPWIRE_TENANT", DEFAULT_TENANT))
    p.add_argument("--yes", action="store_true", help="do not ask")
    p.set_defaults(func=cmd_profile_delete)

    p = sub.add_parser("backtest", help="replay the daily scan over a date range, in-process")
    p.add_argument("--entities", type=_existing_file, required=True)
    p.add_argument("--metrics", type=_existing_file, required=True)
    p.add_argument("--from", dest="start", type=_date, required=True, help="first day scanned")
    p.add_argument("--to", dest="end", type=_date, required=True, help="last day scanned")
    p.add_argument("--out", type=Path, required=True, help="alerts as JSON lines")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_backtest)

    p = sub.add_parser("score", help="score a timestamp,value CSV (stdin or file), one per row")
    p.add_argument("file", nargs="?", type=_existing_file)
    p.add_argument("--weights", help="streaming detectors and weights, e.g. context=1")
    p.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="a StreamingConfig field"
    )
    p.set_defaults(func=cmd_score)

    market = sub.add_parser("market", help="a market profile's model and scans")
    market_sub = market.add_subparsers(dest="market_command", required=True)
    for name, text in (("train", "train the market's model"), ("scan", "scan unscanned bars")):
        p = market_sub.add_parser(name, help=text)
        p.add_argument("--profile", required=True)
        p.add_argument("--market", help="the market entity (default: the profile's only one)")
        p.add_argument("--tenant", default=os.environ.get("TRIPWIRE_TENANT", DEFAULT_TENANT))
        p.add_argument("--interval", default="1d", choices=["1d", "1h", "15m", "5m"])
        p.add_argument("--end", type=_date, help="last day (default: now)")
        if name == "scan":
            p.add_argument("--start", type=_date, help="scan from this day (a backfill)")
            p.add_argument("--force", action="store_true", help="re-scan scanned bars")
        p.set_defaults(func=cmd_market)
    p = market_sub.add_parser("fetch", help="fetch a symbol's history and store it")
    p.add_argument("--ticker", required=True, help="the provider's symbol: AAPL, 7203.T")
    p.add_argument("--market", required=True, choices=["US", "JP", "TH"])
    p.add_argument("--profile", help="the market profile (default: the market)")
    p.add_argument("--tenant", default=os.environ.get("TRIPWIRE_TENANT", DEFAULT_TENANT))
    p.add_argument("--period", default="5y", help="how much history (5y, 12mo, 90d)")
    p.add_argument("--interval", default="1d", choices=["1d", "1h", "15m", "5m"])
    p.add_argument(
        "--provider",
        default="chart",
        choices=["chart", "yfinance"],
        help="chart: Yahoo's chart endpoint (TRIPWIRE_MARKET_URL; what the Lambda uses); "
        "yfinance: the yfinance package (pip install 'tripwire[yahoo]')",
    )
    p.set_defaults(func=cmd_market)

    local = sub.add_parser("local", help="the local stack").add_subparsers(
        dest="local", required=True
    )
    p = local.add_parser("up", help="start moto server and the API gateway on 127.0.0.1")
    p.add_argument("--port", type=int, help="moto server port (default: a free one)")
    p.add_argument("--api-port", type=int, help="API port (default: a free one)")
    p.add_argument(
        "--scan-every", type=float, default=0.0, help="tick the scan schedule every N seconds"
    )
    p.add_argument("--data", type=Path, help="folder of the kept data (default: .tripwire/local)")
    p.add_argument(
        "--snapshot-every",
        type=float,
        default=10.0,
        help="seconds between snapshots at most while the stack keeps changing (default 10)",
    )
    p.set_defaults(func=cmd_local_up)
    p = local.add_parser("reset", help="delete the local stack's kept data (asks first)")
    p.add_argument("--data", type=Path, help="folder of the kept data (default: .tripwire/local)")
    p.add_argument("--yes", action="store_true", help="do not ask")
    p.set_defaults(func=cmd_local_reset)
    p = local.add_parser("scan", help="tick the scan schedule now (scheduler → queue → worker)")
    p.add_argument("--date", type=_date, help="the schedule's date (default: today)")
    p.add_argument("--no-wait", action="store_true", help="do not wait for the workers")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds to wait at most")
    p.set_defaults(func=cmd_local_scan)
    p = local.add_parser("token", help="issue a JWT the local stack accepts")
    p.add_argument("--tenant", required=True)
    p.add_argument("--user", required=True)
    p.set_defaults(func=cmd_local_token)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
