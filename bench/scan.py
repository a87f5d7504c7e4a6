"""Scheduled scan of a 10,000-keyword profile through the local stack, end to end.

scheduler handler → SQS (moto) → poller → worker handler (per slice: metrics, detection
state, detection, alerts, run) — timed from the schedule tick until the queue is drained.
Prints the share of the workers' time spent in storage (every AWS call, timed by botocore
event hooks) versus detection (the rest), and DynamoDB items read and written per entity.

The steady state is measured: a first tick detects the day after the models' training
window (and loads the models into the worker), the measured tick then detects the next
day and re-scores the one that just settled — what the daily schedule does every day. The
reference run is the same two ticks on a 1,000-keyword profile in the same process.

Models are fitted in-process on a 1,000-entity sample of the profile's history (training
the full profile would only make the bench slower; the detectors score deviations, so a
sample of the same account is representative) and published to the registry like
``tripwire train`` does.

    python bench/scan.py [--keywords 10000] [--reference 1000] [--days 100]
"""

from __future__ import annotations

import argparse
import datetime
import os
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tripwire.demo.generator import GeneratorConfig, generate, write
from tripwire.detection.pipeline import ScanPipeline
from tripwire.ingest.importer import import_account
from tripwire.local.stack import LocalStack
from tripwire.registry.store import RegistryStore
from tripwire.service.fanout import progress
from tripwire.service.series import load_series
from tripwire.store.provision import aws_client
from tripwire.store.schedule import ScheduleStore

SAMPLE = 1000  # entities the models are fitted on
READS = {"GetItem", "BatchGetItem", "Query", "Scan"}
WRITES = {"PutItem", "BatchWriteItem", "UpdateItem", "DeleteItem", "TransactWriteItems"}


class AwsMeter:
    """Counts DynamoDB items read and written, and the time the scan spends in AWS calls
    (summed over threads; the scheduler and the worker run one after the other)."""

    def __init__(self) -> None:
        self.items: Counter[str] = Counter()
        self.seconds = 0.0
        self._started = threading.local()
        self._lock = threading.Lock()
        for service in ("dynamodb", "sqs", "s3"):
            events = aws_client(service).meta.events
            events.register("before-call.*.*", self._before)
            events.register("after-call.*.*", self._after)

    def reset(self) -> None:
        self.items.clear()
        self.seconds = 0.0

    def _before(self, **_: Any) -> None:
        self._started.at = time.perf_counter()

    def _after(self, http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        took = time.perf_counter() - getattr(self._started, "at", time.perf_counter())
        name = model.name
        if name == "GetQueueAttributes" or (
            name == "ReceiveMessage" and not parsed.get("Messages")
        ):
            return  # the bench waiting for the queue to drain, the poller idling: not the scan
        with self._lock:
            self.seconds += took
            if model.service_model.service_name != "dynamodb":
                return
            if name == "BatchGetItem":
                read = sum(len(v) for v in parsed.get("Responses", {}).values())
                self.items["read"] += read
            elif name in ("Query", "Scan"):
                self.items["read"] += int(parsed.get("Count", 0))
            elif name == "GetItem":
                self.items["read"] += 1 if parsed.get("Item") else 0
            elif name == "BatchWriteItem":
                pass  # counted from the request in _before_write
            elif name in WRITES:
                self.items["written"] += 1
            self.items[f"calls {name}"] += 1


@dataclass
class Tick:
    entities: int
    seconds: float
    aws_seconds: float
    items: Counter[str]
    slices: int
    alerts: int


def write_counter(meter: AwsMeter) -> None:
    """BatchWriteItem's items come from the request (the response lists only leftovers)."""

    def count(params: dict[str, Any], **_: Any) -> None:
        with meter._lock:
            meter.items["written"] += sum(len(v) for v in params.get("RequestItems", {}).values())

    aws_client("dynamodb").meta.events.register(
        "provide-client-params.dynamodb.BatchWriteItem", count
    )


def prepare(keywords: int, days: int, folder: Path) -> tuple[str, str, datetime.date, int]:
    """Import a generated account and publish models fitted on a sample of it."""
    config = GeneratorConfig(
        seed=7, keywords=keywords, campaigns=max(40, keywords // 25), days=days
    )
    account = generate(config)
    paths = write(account, folder / str(keywords))
    tenant, profile = f"bench-{uuid.uuid4().hex[:6]}", account.config.account_id
    started = time.perf_counter()
    report = import_account(tenant, profile, paths["entities"], paths["metrics"])
    print(f"  imported {report.entities} entities in {time.perf_counter() - started:.1f}s")
    last = config.start + datetime.timedelta(days=days - 1)
    trained_until = last - datetime.timedelta(days=2)
    series = load_series(tenant, profile, trained_until, days - 2)
    rows = np.random.default_rng(0).choice(
        len(series.entities), min(SAMPLE, len(series.entities)), replace=False
    )
    started = time.perf_counter()
    pipeline = ScanPipeline().fit(series.raw[np.sort(rows)], series.first_day.weekday())
    artifacts = pipeline.export()
    for _, metadata in artifacts.values():
        metadata.update(
            training_start=series.first_day.isoformat(), training_end=trained_until.isoformat()
        )
    RegistryStore().publish_models(tenant, profile, artifacts)
    print(f"  models fitted on {len(rows)} entities in {time.perf_counter() - started:.1f}s")
    ScheduleStore().set(tenant, profile, True)
    return tenant, profile, last, report.entities


def tick(
    stack: LocalStack, meter: AwsMeter, tenant: str, day: datetime.date, entities: int
) -> Tick:
    meter.reset()
    started = time.perf_counter()
    runs = [r for r in stack.scan(day) if r["tenant_id"] == tenant]
    seconds = time.perf_counter() - started
    run = progress(tenant, runs[0]["run_id"])
    assert run is not None and run.status.value == "complete", run
    from tripwire.store.runs import RunSlices

    slices = RunSlices().count(tenant, run.run_id)
    return Tick(entities, seconds, meter.seconds, Counter(meter.items), slices, run.anomalies_found)


def measure(stack: LocalStack, meter: AwsMeter, keywords: int, days: int, folder: Path) -> Tick:
    print(f"{keywords:,}-keyword profile:")
    tenant, profile, last, entities = prepare(keywords, days, folder)
    warm = tick(stack, meter, tenant, last - datetime.timedelta(days=1), entities)
    print(f"  first tick (models loaded, first day detected): {warm.seconds:.1f}s")
    steady = tick(stack, meter, tenant, last, entities)
    ScheduleStore().set(tenant, profile, False)
    return steady


def report(name: str, t: Tick) -> None:
    storage = t.aws_seconds / t.seconds if t.seconds else 0.0
    print(f"{name}: {t.entities:,} entities in {t.slices} slice(s)")
    print(f"  end-to-end scan (scheduler → queue → workers → alerts): {t.seconds:.2f}s")
    print(f"  storage (AWS calls) {storage:.0%} · detection and the rest {1 - storage:.0%}")
    print(
        f"  DynamoDB items read {t.items['read']:,} ({t.items['read'] / t.entities:.2f}/entity), "
        f"written {t.items['written']:,} ({t.items['written'] / t.entities:.3f}/entity); "
        f"{t.alerts} new alerts"
    )
    calls = ", ".join(f"{k[6:]} {v}" for k, v in sorted(t.items.items()) if k.startswith("calls"))
    print(f"  DynamoDB calls: {calls}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keywords", type=int, default=10_000)
    parser.add_argument("--reference", type=int, default=1_000)
    parser.add_argument("--days", type=int, default=100)
    args = parser.parse_args()
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    with (
        tempfile.TemporaryDirectory() as folder,
        LocalStack(directory=Path(folder) / "stack", notifications=False) as stack,
    ):
        meter = AwsMeter()
        write_counter(meter)
        reference = measure(stack, meter, args.reference, args.days, Path(folder))
        big = measure(stack, meter, args.keywords, args.days, Path(folder))
    print()
    report("reference", reference)
    report("measured", big)
    per_ref = reference.seconds / reference.entities
    per_big = big.seconds / big.entities
    print(
        f"ratio: {big.entities / reference.entities:.1f}x the entities took "
        f"{big.seconds / reference.seconds:.1f}x the time "
        f"({per_big * 1e3:.2f} vs {per_ref * 1e3:.2f} ms/entity)"
    )
    target = "met" if big.seconds < 30 and big.items["read"] <= 2 * big.entities else "MISSED"
    print(f"target (< 30 s, ≤ 2 reads per entity): {target}")


if __name__ == "__main__":
    main()
