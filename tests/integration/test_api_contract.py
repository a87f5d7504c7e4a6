"""The API keeps the contract ``/openapi.json`` states: schemathesis, every check, 0 failures.

schemathesis (its CLI, as a user would run it) generates requests for every documented
operation from the served document — valid ones and invalid ones, across its examples,
coverage, fuzzing and stateful phases — sends them over real HTTP to the local stack as
a tenant with a profile, alerts and runs, and checks every answer with ``--checks all``:
no 5xx, only documented statuses and bodies, valid requests accepted, invalid ones
refused, undeclared methods a 405, and more. Rules the document states in words only are
kept by the valid cases through ``contract_hooks``. Bounded by ``EXAMPLES`` per operation
and a fixed seed (about a minute; the figures are in the run's summary, printed on
failure).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tripwire.domain import Alert, Entity, Profile, Severity
from tripwire.domain.runs import DetectionRun, RunStatus, Trigger
from tripwire.local.auth import issue_token
from tripwire.local.stack import LocalStack
from tripwire.store.alerts import AlertStore
from tripwire.store.catalog import CatalogStore
from tripwire.store.runs import RunStore

pytestmark = [pytest.mark.integration, pytest.mark.slow]
EXAMPLES = 30
SEED = 1
ROOT = Path(__file__).resolve().parents[2]


def _seed(tenant: str) -> None:
    """A profile A1 (account ACC > campaign C1 > keyword K1), two alerts and a run; and a
    profile D1 that ``DELETE /profiles/{id}`` may delete (contract_hooks)."""
    catalog = CatalogStore()
    catalog.put_profile(Profile(tenant_id=tenant, profile_id="A1"))
    catalog.put_profile(Profile(tenant_id=tenant, profile_id="D1"))  # for DELETE /profiles
    hierarchy = [
        Entity(entity_id="ACC", entity_type="account"),
        Entity(entity_id="C1", entity_type="campaign", parent_id="ACC"),
        Entity(entity_id="K1", entity_type="keyword", parent_id="C1"),
    ]
    catalog.put_hierarchy(tenant, "A1", hierarchy, expected=None)
    AlertStore().put_many(
        [
            Alert(
                alert_id=f"al-{n}",
                tenant_id=tenant,
                profile_id="A1",
                entity_id="K1",
                entity_type="keyword",
                period=datetime(2026, 3, n),
                score=0.99,
                threshold=0.9,
                severity=Severity.HIGH,
                run_id="run-1",
                created_at=datetime(2026, 3, n, 6),
            )
            for n in (1, 2)
        ]
    )
    started = datetime(2026, 3, 4, 6, tzinfo=UTC)
    RunStore().put(
        DetectionRun(
            run_id="run-1",
            tenant_id=tenant,
            profile_id="A1",
            trigger=Trigger.SCHEDULE,
            model_versions={"iforest": "v1"},
            started_at=started,
            completed_at=started + timedelta(seconds=3),
            entities_checked=3,
            anomalies_found=2,
            alert_ids=["al-1", "al-2"],
            status=RunStatus.COMPLETE,
            expires_at=2_000_000_000,
        )
    )


def test_schemathesis_with_every_check_finds_no_failure(
    local_stack: LocalStack, tenant: str, tmp_path: Path
) -> None:
    _seed(tenant)
    token = issue_token(tenant, "schemathesis", directory=local_stack.directory)
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{local_stack.api_url}/openapi.json",
        "--checks=all",
        f"--max-examples={EXAMPLES}",
        f"--seed={SEED}",
        "--workers=1",
        "--generation-database=none",  # reproducible: nothing carried between runs
        "--request-timeout=60",
        "--no-color",
        "--header",
        f"Authorization: Bearer {token}",
    ]
    paths = [str(ROOT), str(ROOT / "shared"), os.environ.get("PYTHONPATH", "")]
    env = os.environ | {
        "SCHEMATHESIS_HOOKS": "tests.integration.contract_hooks",
        "PYTHONPATH": os.pathsep.join(p for p in paths if p),
    }
    run = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    report = run.stdout[-30_000:] + run.stderr[-5_000:]
    assert run.returncode == 0, report
    generated = re.search(r"(\d+) generated", run.stdout)
    assert generated is not None and int(generated[1]) >= 20 * EXAMPLES, report
    assert re.search(r"Tested: 27\b", run.stdout), report  # every documented operation
