"""`tripwire demo`: the main job on the embedded default — the local stack.

Starts moto server and the API gateway on 127.0.0.1, generates the demo account,
imports it over real HTTP, and checks the API end to end. Later stages (training,
the scheduled scan, alerts and notifications) join here as they land.
"""

from __future__ import annotations

import json
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

from tripwire.demo.generator import GeneratorConfig, Incident, generate, write
from tripwire.ingest.importer import import_account
from tripwire.local.stack import LocalStack
from tripwire.store.catalog import CatalogStore

TENANT = "demo"


def run_demo(keywords: int = 1000, days: int = 120, seed: int = 7) -> int:
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="tripwire-demo-") as folder,
        # Its own state folder, so the demo runs beside a `tripwire local up` in another shell.
        LocalStack(directory=Path(folder) / "stack") as stack,
    ):
        print(f"local stack: API {stack.api_url} · AWS (moto server) {stack.aws_endpoint}")
        account = generate(GeneratorConfig(seed=seed, keywords=keywords, days=days))
        paths = write(account, Path(folder))
        print(f"demo account: {keywords} keywords × {days} days → {folder}")
        report = import_account(
            TENANT, account.config.account_id, paths["entities"], paths["metrics"], progress=True
        )
        print(report.summary())
        _show_hierarchy(account.config.account_id)
        _show_health(stack.api_url)
        _show_incidents(account.incidents)
    print(f"done in {time.perf_counter() - started:.1f}s")
    return 0


def _show_hierarchy(profile: str) -> None:
    _, entities = CatalogStore().get_hierarchy(TENANT, profile)
    counts = Counter(e.entity_type.value for e in entities)
    print("stored hierarchy: " + ", ".join(f"{n} {kind}s" for kind, n in counts.items()))


def _show_health(api_url: str) -> None:
    with urllib.request.urlopen(f"{api_url}/health", timeout=10) as response:
        print(f"GET /health → {response.status} {json.loads(response.read())}")


def _show_incidents(incidents: list[Incident]) -> None:
    print(f"\n{len(incidents)} incidents planted in the account (the truth file):")
    for i in incidents:
        print(f"  {i.start} {i.kind:<30} {i.root_entity:<10} {i.description}")
