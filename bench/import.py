"""Import throughput: the generated account into the local stack (moto server over HTTP).

Prints rows/second for the whole import and, as the in-process reference, for parsing and
validating the same files without writing — the share the store costs.

    python bench/import.py [--keywords 1000] [--days 120]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

from tripwire.demo.generator import GeneratorConfig, generate, write
from tripwire.ingest.csv_files import Collector, read_entities, read_ppc_metrics
from tripwire.ingest.importer import import_account
from tripwire.local.stack import LocalStack
from tripwire.store.metrics import MetricStore


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keywords", type=int, default=1000)
    parser.add_argument("--days", type=int, default=120)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, LocalStack():
        config = GeneratorConfig(keywords=args.keywords, days=args.days)
        paths = write(generate(config), Path(folder))
        rows = args.keywords * args.days

        started = time.perf_counter()
        entities = {e.entity_id: e for e in read_entities(paths["entities"], Collector(False))}
        read_ppc_metrics(paths["metrics"], entities, Collector(False))
        parse_seconds = time.perf_counter() - started

        store = MetricStore()
        started = time.perf_counter()
        tenant = f"bench-{uuid.uuid4().hex[:6]}"
        report = import_account(tenant, "A1", paths["entities"], paths["metrics"], metrics=store)
        import_seconds = time.perf_counter() - started

    print(f"account: {args.keywords} keywords × {args.days} days = {rows:,} metric rows")
    print(f"parse + validate only:   {rows / parse_seconds:>10,.0f} rows/s  ({parse_seconds:.2f}s)")
    rate = rows / import_seconds
    print(f"import into local stack: {rate:>10,.0f} rows/s  ({import_seconds:.2f}s)")
    print(f"store share of import:   {1 - parse_seconds / import_seconds:>10.0%}")
    print(f"items read {store.reads}, written {store.writes} for {report.entities} entities")
    print(f"ratio parse-only / full import: {import_seconds / parse_seconds:.1f}x")


if __name__ == "__main__":
    main()
