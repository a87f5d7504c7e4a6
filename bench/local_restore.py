"""What keeping the local stack's data costs, on the demo account (1,000 keywords × 120 days,
imported, trained, scanned — alerts, incidents, statistics, models).

Prints, in one run:
- reference: a stack start with an empty data folder, and one with no data folder at all;
- a snapshot: the capture (moto's DynamoDB paused meanwhile) and the atomic write, and the
  file's size on disk;
- a restart: reading the snapshot, putting it back, the whole start with the restore;
- the alternatives the design rejected, timed on the same state: reading every table and
  object through the AWS API (what a snapshot over HTTP would cost) and pickling the tables'
  moto objects.

    python bench/local_restore.py [--keywords 1000] [--days 120] [--repeat 5]
"""

from __future__ import annotations

import argparse
import datetime
import os
import pickle
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tripwire.demo.generator import GeneratorConfig, generate, write
from tripwire.ingest.importer import import_account
from tripwire.local.persistence import (
    SNAPSHOT,
    Names,
    capture,
    moto_backends,
    read_snapshot,
    write_snapshot,
)
from tripwire.local.stack import LocalStack
from tripwire.service.train import train_profile
from tripwire.store.provision import aws_client
from tripwire.store.schedule import ScheduleStore

TENANT = "demo"


def timed(work: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Median seconds of ``repeat`` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def build(stack: LocalStack, keywords: int, days: int, folder: Path) -> None:
    """The demo's account: import, train before the incident period, scan its last day."""
    config = GeneratorConfig(seed=7, keywords=keywords, days=days)
    account = generate(config)
    paths = write(account, folder)
    profile = account.config.account_id
    started = time.perf_counter()
    print(import_account(TENANT, profile, paths["entities"], paths["metrics"]).summary())
    first = config.start + datetime.timedelta(days=days - account.config.incident_days)
    print(train_profile(TENANT, profile, first - datetime.timedelta(days=1)).summary())
    ScheduleStore().set(TENANT, profile, True)
    stack.scan(config.start + datetime.timedelta(days=days - 1))
    print(f"demo account built in {time.perf_counter() - started:.0f}s")


def through_the_api(names: Names) -> int:
    """Every item and object read over HTTP (the snapshot the design did not choose)."""
    dynamodb, s3, read = aws_client("dynamodb"), aws_client("s3"), 0
    for table in names.tables.values():
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            read += len(page["Items"])
    for bucket in names.buckets.values():
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
                read += 1
    return read


def pickled(names: Names, region: str) -> bytes:
    dynamodb, _, _ = moto_backends(region)
    tables = {n: dynamodb.tables[n].items for n in names.tables.values()}
    return pickle.dumps(tables, protocol=pickle.HIGHEST_PROTOCOL)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keywords", type=int, default=1000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    with tempfile.TemporaryDirectory(prefix="tripwire-restore-") as tmp:
        folder = Path(tmp)
        data = folder / "data"

        def stack(**options: object) -> LocalStack:
            return LocalStack(directory=folder / "state", notifications=False, **options)  # type: ignore[arg-type]

        empty_starts, bare_starts = [], []
        for _ in range(args.repeat):
            with stack(data=folder / "empty") as empty:
                empty_starts.append(empty.startup_seconds)
            with stack() as bare:
                bare_starts.append(bare.startup_seconds)

        with stack(data=data) as running:
            build(running, args.keywords, args.days, folder)
            names, region = Names.of(running.env, running.prefix), running.region
            capture_s, (state, _) = timed(lambda: capture(names, region), args.repeat)
            path = folder / "bench.zip"
            write_s, size = timed(lambda: write_snapshot(path, state), args.repeat)
            api_s, api_read = timed(lambda: through_the_api(names), 1)
            pickle_s, blob = timed(lambda: pickled(names, region), args.repeat)
            unpickle_s, _ = timed(lambda: pickle.loads(blob), args.repeat)  # type: ignore[arg-type]
        summary = state.summary()
        raw = sum(len(str(i)) for items in state.tables.values() for i in items) + sum(
            len(value) for objects in state.objects.values() for _, value, _ in objects
        )
        read_s, _ = timed(lambda: read_snapshot(data / SNAPSHOT), args.repeat)
        restarts = []
        for _ in range(args.repeat):
            with stack(data=data) as restarted:
                restarts.append(restarted.startup_seconds)
                assert restarted.restored == summary, (restarted.restored, summary)

    ms = 1e3
    print()
    print(f"state: {summary.text()}")
    print(f"medians of {args.repeat} runs")
    print(f"reference: start, empty data folder   {statistics.median(empty_starts) * ms:8.0f} ms")
    print(f"reference: start, no data folder      {statistics.median(bare_starts) * ms:8.0f} ms")
    print(f"snapshot: capture (DynamoDB paused)   {capture_s * ms:8.0f} ms")
    print(f"snapshot: write zip + fsync + rename  {write_s * ms:8.0f} ms")
    print(
        f"snapshot: size on disk                {size / 1e6:8.2f} MB  (state ~{raw / 1e6:.1f} MB)"
    )  # type: ignore[operator]
    print(f"restore: read the snapshot            {read_s * ms:8.0f} ms")
    print(f"restore: start with the restore       {statistics.median(restarts) * ms:8.0f} ms")
    extra = statistics.median(restarts) - statistics.median(empty_starts)
    print(f"restore: start cost over the reference {extra * ms:7.0f} ms")
    print(
        f"rejected: read all through the AWS API {api_s * ms:7.0f} ms  ({api_read} items+objects)"
    )
    print(f"rejected: pickle moto's tables        {pickle_s * ms:8.0f} ms", end="")
    print(f", unpickle {unpickle_s * ms:.0f} ms")


if __name__ == "__main__":
    main()
