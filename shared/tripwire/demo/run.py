"""`tripwire demo`: the main job on the embedded default — the local stack.

Starts moto server and the API gateway on 127.0.0.1, generates the demo account, imports
it over real HTTP, trains its models into the registry (S3), scans each day of the incident
period the way the daily schedule would, and prints the alerts with their explanations.
"""

from __future__ import annotations

import datetime
import json
import tempfile
import time
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path

from tqdm import tqdm

from tripwire.demo.generator import GeneratorConfig, Incident, generate, write
from tripwire.domain import Alert, Severity
from tripwire.ingest.importer import import_account
from tripwire.local.stack import LocalStack
from tripwire.service.scan import scan_profile
from tripwire.service.train import train_profile

TENANT = "demo"
SHOWN = 15


def run_demo(keywords: int = 1000, days: int = 120, seed: int = 7) -> int:
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="tripwire-demo-") as folder,
        # Its own state folder, so the demo runs beside a `tripwire local up` in another shell.
        LocalStack(directory=Path(folder) / "stack") as stack,
    ):
        print(f"local stack: API {stack.api_url} · AWS (moto server) {stack.aws_endpoint}")
        config = GeneratorConfig(seed=seed, keywords=keywords, days=days)
        account = generate(config)
        paths = write(account, Path(folder))
        profile = account.config.account_id
        print(f"demo account: {keywords} keywords × {days} days → {folder}")
        print(
            import_account(
                TENANT, profile, paths["entities"], paths["metrics"], progress=True
            ).summary()
        )

        first = config.start + datetime.timedelta(days=days - account.config.incident_days)
        last = config.start + datetime.timedelta(days=days - 1)
        print(train_profile(TENANT, profile, first - datetime.timedelta(days=1)).summary())
        alerts = _scan_days(profile, first, last)
        _show_alerts(alerts)
        _show_incidents(account.incidents)
        _show_api(stack.api_url)
    print(f"done in {time.perf_counter() - started:.1f}s")
    return 0


def _scan_days(profile: str, first: datetime.date, last: datetime.date) -> list[Alert]:
    alerts: list[Alert] = []
    days = [first + datetime.timedelta(days=i) for i in range((last - first).days + 1)]
    for day in tqdm(days, desc="daily scans", unit="day"):
        alerts += scan_profile(TENANT, profile, day).alerts
    return alerts


def _show_alerts(alerts: list[Alert]) -> None:
    counts = Counter(a.severity for a in alerts)
    by_severity = ", ".join(f"{counts[s]} {s.value}" for s in reversed(Severity))
    groups: dict[str, list[Alert]] = defaultdict(list)
    for alert in alerts:
        groups[alert.group_id or alert.alert_id].append(alert)
    print(f"\n{len(alerts)} alerts ({by_severity}) in {len(groups)} incident groups")
    ranked = sorted(groups.values(), key=lambda g: (-max(a.severity.rank for a in g), -len(g)))
    print(f"the {min(SHOWN, len(ranked))} largest of the most severe groups:")
    for members in ranked[:SHOWN]:
        worst = max(members, key=lambda a: (a.severity.rank, a.score))
        cause = worst.root_causes[0]
        print(
            f"  {worst.period.date()} {worst.severity.value:<8} {len(members):>3} alerts · "
            f"root {cause.entity_type.value} {cause.entity_id}: {cause.sentence}"
        )
        for item in worst.explanation[:2]:
            print(
                f"      {worst.entity_id:<10} {item.feature:<12} {item.direction.value:<5} "
                f"expected {item.expected:>10.2f}  actual {item.actual:>10.2f}  "
                f"(Shapley {item.contribution:+.3f})"
            )


def _show_incidents(incidents: list[Incident]) -> None:
    print(f"\n{len(incidents)} incidents were planted in the account (the truth file):")
    for i in incidents:
        print(f"  {i.start} {i.kind:<30} {i.root_entity:<10} {i.description}")


def _show_api(api_url: str) -> None:
    with urllib.request.urlopen(f"{api_url}/health", timeout=10) as response:
        print(f"\nGET {api_url}/health → {response.status} {json.loads(response.read())}")
    print(
        "To explore the API yourself: `tripwire local up` in one shell, then\n"
        "  tripwire demo-data out/ && tripwire import --entities out/entities.csv "
        "--metrics out/metrics.csv --tenant acme\n"
        "  TOKEN=$(tripwire local token --tenant acme --user you)\n"
        "  curl -H \"Authorization: Bearer $TOKEN\" '<api>/alerts/active?profile_id=A1'"
    )
