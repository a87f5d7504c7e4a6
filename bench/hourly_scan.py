"""Hourly scan of a 10,000-keyword Amazon Ads profile (one hour) through the local stack.

The hourly schedule's tick → scheduler handler → SQS (moto) → poller → worker handler (per
slice: the hierarchy, detection state, the hour's window of hourly points, the hourly
pipeline — count model on the hour-of-week baseline — alerts, run), timed from the tick until
the queue is drained. Storage share and DynamoDB items per entity as ``bench/scan.py``
reports them (its meter).

Set-up, per profile: a generated hierarchy (``GeneratorConfig``: 25 keywords a campaign),
two weeks of hourly points with a daily rhythm written through the import (leaves and
roll-ups), the latest streamed hour marked as the stream consumer does. Steady state is
measured: a first tick scans hour H − 1 (and trains the profile's hourly model, which the
first hourly scan does), then hour H's points land and the measured tick scans H alone.
The reference run is the same on a 1,000-keyword profile in the same process.

    python bench/hourly_scan.py [--keywords 10000] [--reference 1000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scan import AwsMeter, Tick, report, write_counter  # bench/scan.py
from tripwire.demo.config import GeneratorConfig
from tripwire.demo.generator import generate
from tripwire.domain.entities import Entity, Profile
from tripwire.domain.metrics import Interval
from tripwire.ingest.importer import import_parsed
from tripwire.local.stack import LocalStack
from tripwire.service.fanout import progress
from tripwire.store.runs import RunSlices
from tripwire.store.schedule import ScheduleStore
from tripwire.store.stream import StreamStore

HISTORY_HOURS = 14 * 24
HOUR = dt.datetime(2026, 6, 10, 14)  # the hour measured


def _hours(rng: np.random.Generator, n: int, hours: list[dt.datetime]) -> np.ndarray:
    """(n, hours, 5) keyword-hours: a per-keyword level, a daily rhythm, Poisson noise."""
    level = rng.gamma(1.5, 4.0, size=(n, 1))  # impressions an average hour
    shape = np.array([0.3 + max(0.0, np.sin((h.hour - 6) / 24 * 2 * np.pi)) for h in hours])
    impressions = rng.poisson(level * shape / shape.mean())
    clicks = rng.binomial(impressions, 0.04)
    orders = rng.binomial(clicks, 0.1)
    return np.stack([impressions, clicks, clicks * 0.9, orders * 30.0, orders], axis=2)


def _write(
    tenant: str, profile: str, keywords: list[str], hours: list[dt.datetime], raw: np.ndarray
) -> None:
    """Keyword-hours ``raw`` (keywords × hours × 5) imported; the last hour marked streamed."""
    leaves = {
        k: {h.isoformat(): tuple(float(v) for v in raw[i, j]) for j, h in enumerate(hours)}
        for i, k in enumerate(keywords)
    }
    stored = Profile(tenant_id=tenant, profile_id=profile)
    import_parsed(stored, [], leaves, rows=0, skipped=[], interval=Interval.H1)
    StreamStore().mark_latest(tenant, profile, hours[-1].isoformat())


def prepare(keywords: int) -> tuple[str, str, int, list[str], np.ndarray]:
    config = GeneratorConfig(seed=7, keywords=keywords, campaigns=max(40, keywords // 25), days=2)
    account = generate(config)
    tenant, profile = f"hourly-{uuid.uuid4().hex[:6]}", account.config.account_id
    entities = [
        Entity.model_validate({**e, "parent_id": e["parent_id"] or None}) for e in account.entities
    ]
    started = time.perf_counter()
    import_parsed(Profile(tenant_id=tenant, profile_id=profile), entities, {}, rows=0, skipped=[])
    leaves = [e.entity_id for e in entities if e.entity_type == "keyword"]
    hours = [HOUR - dt.timedelta(hours=HISTORY_HOURS - k) for k in range(HISTORY_HOURS + 1)]
    raw = _hours(np.random.default_rng(keywords), len(leaves), hours)  # the history and H
    _write(tenant, profile, leaves, hours[:-1], raw[:, :-1])
    print(
        f"  {len(entities):,} entities, {len(leaves) * HISTORY_HOURS:,} keyword-hours written "
        f"in {time.perf_counter() - started:.1f}s"
    )
    ScheduleStore().set(tenant, profile, True, interval=Interval.H1)
    return tenant, profile, len(entities), leaves, raw[:, -1:]


def tick(stack: LocalStack, meter: AwsMeter, tenant: str, entities: int) -> Tick:
    meter.reset()
    started = time.perf_counter()
    runs = [
        r for r in stack.scan(HOUR.date(), intervals=(Interval.H1,)) if r["tenant_id"] == tenant
    ]
    seconds = time.perf_counter() - started
    run = progress(tenant, runs[0]["run_id"])
    assert run is not None and run.status.value == "complete", run
    slices = RunSlices().count(tenant, run.run_id)
    return Tick(entities, seconds, meter.seconds, Counter(meter.items), slices, run.anomalies_found)


def measure(stack: LocalStack, meter: AwsMeter, keywords: int) -> Tick:
    print(f"{keywords:,}-keyword profile:")
    tenant, profile, entities, leaves, hour = prepare(keywords)
    warm = tick(stack, meter, tenant, entities)
    print(f"  first tick (hour H-1; the hourly model trained): {warm.seconds:.1f}s")
    _write(tenant, profile, leaves, [HOUR], hour)
    steady = tick(stack, meter, tenant, entities)
    ScheduleStore().set(tenant, profile, False, interval=Interval.H1)
    return steady


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keywords", type=int, default=10_000)
    parser.add_argument("--reference", type=int, default=1_000)
    args = parser.parse_args()
    run(args.keywords, args.reference)


def run(keywords: int, reference_keywords: int) -> None:
    """Both profiles measured on one fresh local stack, and the figures printed."""
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    with (
        tempfile.TemporaryDirectory() as folder,
        LocalStack(directory=Path(folder) / "stack", notifications=False) as stack,
    ):
        meter = AwsMeter()
        write_counter(meter)
        reference = measure(stack, meter, reference_keywords)
        big = measure(stack, meter, keywords)
    print()
    report("reference", reference)
    report("measured", big)
    print(
        f"ratio: {big.entities / reference.entities:.1f}x the entities took "
        f"{big.seconds / reference.seconds:.1f}x the time "
        f"({big.seconds / big.entities * 1e3:.2f} vs "
        f"{reference.seconds / reference.entities * 1e3:.2f} ms/entity)"
    )
    print(
        f"target (one hour of {big.entities:,} entities ≤ 30 s): "
        f"{'met' if big.seconds <= 30 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
