"""A local stack with a small demo account, in a process of its own, for the browser tests.

``python -m tests.e2e.demo_stack --dir DIR`` starts the stack (state in ``DIR/stack``),
imports a generated Amazon Ads account for tenant ``acme``, trains it, scans the days of a
few planted incidents, gives tenant ``globex`` a hand-sized account with two alerts of its
own and ``initech`` one with none, writes ``DIR/ready.json`` (addresses, incidents,
alerts) and serves until its standard input closes or it is sent SIGTERM.

Its own process keeps the stack's environment (AWS endpoint, table names) out of the test
process, where other tests may run their own stack.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import signal
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tests import tiny_account
from tripwire.demo.generator import GeneratorConfig, generate, write
from tripwire.detection.pipeline import PipelineConfig
from tripwire.domain import Alert, Severity
from tripwire.domain.alerts import Attribution, Direction, Relation, RootCause
from tripwire.ingest.importer import import_account
from tripwire.local.stack import LocalStack
from tripwire.notify import publish_new_groups
from tripwire.service.detect import DetectRequest, detect
from tripwire.service.train import train_profile
from tripwire.store.alerts import AlertStore

TENANT, OTHER, QUIET, PROFILE = "acme", "globex", "initech", "A1"
# Small enough to import, train and scan in ~20 s; incidents in the last 14 of 70 days.
CONFIG = GeneratorConfig(seed=11, keywords=60, campaigns=4, portfolios=2, days=70, incident_days=14)
SCANNED = ("campaign_paused", "portfolio_bid_change")  # the kinds whose first days are scanned
# A short LSTM fit: the browser tests need alerts to look at, not the best model.
TRAINING = PipelineConfig(detector_options={"lstm": {"epochs": 2}})


def seed_acme(folder: Path) -> dict[str, Any]:
    clock = time.perf_counter()
    seconds: dict[str, float] = {}

    def lap(step: str) -> None:
        nonlocal clock
        seconds[step] = round(time.perf_counter() - clock, 1)
        clock = time.perf_counter()

    account = generate(CONFIG)
    paths = write(account, folder)
    import_account(TENANT, PROFILE, paths["entities"], paths["metrics"])
    lap("import")
    first = CONFIG.start + datetime.timedelta(days=CONFIG.days - account.config.incident_days)
    train_profile(TENANT, PROFILE, first - datetime.timedelta(days=1), config=TRAINING)
    lap("train")
    planted = [i for i in account.incidents if i.kind in SCANNED]
    days = sorted({i.start for i in planted})
    alerts: list[Alert] = []
    for day in days:
        alerts += detect(TENANT, DetectRequest(profile_id=PROFILE, day=day)).new
    lap("scan")
    publish_new_groups(alerts)  # announced, as the scan worker does: the alert view's deliveries
    lap("notify")
    return {
        "seconds": seconds,
        "incidents": [
            {**asdict(i), "start": i.start.isoformat(), "end": i.end.isoformat()} for i in planted
        ],
        "alerts": [_summary(a) for a in alerts],
    }


def seed_globex(folder: Path) -> dict[str, Any]:
    """Another tenant with the same profile id and its own two alerts."""
    entities, metrics = tiny_account.write(folder)
    import_account(OTHER, PROFILE, entities, metrics)
    cause = RootCause(
        entity_id="C1",
        entity_type="campaign",
        relation=Relation.SELF,
        hops=0,
        confidence=0.9,
        sentence="Campaign C1 itself: spend rose 300%",
    )
    alerts = [
        Alert(
            alert_id=f"globex-{n}",
            tenant_id=OTHER,
            profile_id=PROFILE,
            entity_id=entity,
            entity_type=kind,
            period=datetime.datetime(2026, 1, 2),
            score=0.99999,
            threshold=0.9999,
            severity=Severity.HIGH,
            explanation=[
                Attribution(
                    feature="spend",
                    contribution=0.4,
                    direction=Direction.ABOVE,
                    expected=1.0,
                    actual=4.3,
                )
            ],
            root_causes=[cause],
            group_id="globex-group",
            run_id="globex-run",
            created_at=datetime.datetime(2026, 1, 3, 6, n),
        )
        for n, (entity, kind) in enumerate((("C1", "campaign"), ("K1", "keyword")))
    ]
    AlertStore().put_many(alerts)
    return {"alerts": [_summary(a) for a in alerts]}


def seed_quiet(folder: Path) -> dict[str, Any]:
    """A tenant with an account and no alerts yet (a test raises one while the page is open)."""
    entities, metrics = tiny_account.write(folder)
    import_account(QUIET, PROFILE, entities, metrics)
    return {"alerts": []}


def _summary(alert: Alert) -> dict[str, Any]:
    cause = alert.root_causes[0] if alert.root_causes else None
    return {
        "alert_id": alert.alert_id,
        "entity_id": alert.entity_id,
        "entity_type": alert.entity_type.value,
        "period": alert.period.date().isoformat(),
        "severity": alert.severity.value,
        "group_id": alert.group_id,
        "cause": cause.entity_id if cause else None,
        "explained": [a.feature for a in alert.explanation],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, required=True)
    folder = parser.parse_args().dir.resolve()
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    started = time.perf_counter()
    with LocalStack(directory=folder / "stack") as stack:
        acme = seed_acme(folder / "acme")
        globex = seed_globex(folder / "globex")
        quiet = seed_quiet(folder / "initech")
        ready = {
            "api_url": stack.api_url,
            "app_url": f"{stack.api_url}/app/",
            "state_dir": str(stack.directory),
            "profile": PROFILE,
            "tenants": {TENANT: acme, OTHER: globex, QUIET: quiet},
            "seconds": round(time.perf_counter() - started, 1),
        }
        tmp = folder / "ready.json.tmp"
        tmp.write_text(json.dumps(ready, indent=1))
        tmp.replace(folder / "ready.json")
        print(f"ready in {ready['seconds']} s: {ready['app_url']}", flush=True)
        # Serve until the test closes our stdin (or is gone) or sends SIGTERM.
        threading.Thread(target=lambda: (sys.stdin.read(), stopping.set()), daemon=True).start()
        stopping.wait()
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    # The stack is stopped; skip the interpreter's teardown of torch and friends (~8 s).
    os._exit(code)
