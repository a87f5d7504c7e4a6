"""Every request example in the README runs as written and succeeds.

The README's ``curl`` lines (every fenced block, continuation lines joined) run in bash
with the real curl against the local stack, with ``$TOKEN`` a token of the tenant that
imported and trained the README's account (a smaller cut of ``tripwire demo-data --seed
7``: the same ids and days), and ``<api>``, ``http://127.0.0.1:<api-port>`` and
``$API_URL`` the stack's API. Each must answer 2xx with JSON.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tripwire.demo.generator import GeneratorConfig, generate, write
from tripwire.ingest.importer import import_account
from tripwire.local.auth import issue_token
from tripwire.local.stack import LocalStack
from tripwire.service.train import train_profile

pytestmark = pytest.mark.integration
README = Path(__file__).resolve().parents[2] / "README.md"
# The README's demo account (seed 7, 120 days from 2026-01-01, ids A1-C01…), smaller.
CONFIG = GeneratorConfig(seed=7, keywords=120, campaigns=12, portfolios=2, days=120)
TRAINED_THROUGH = datetime.date(2026, 3, 31)  # as `tripwire train --end 2026-03-31`
API_PLACEHOLDERS = ("http://127.0.0.1:<api-port>", "<api>")


def readme_requests() -> list[str]:
    """The README's curl commands, one line each."""
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", README.read_text(), re.S | re.M)
    lines = "\n".join(blocks).replace("\\\n", " ").splitlines()
    return [re.sub(r"\s+", " ", line.strip()) for line in lines if line.startswith("curl ")]


def _id(command: str) -> str:
    method = re.search(r"-X (\w+)", command)
    path = re.search(r"(?:<api>|<api-port>|\$API_URL)(/[^?' \"]*)", command)
    return f"{method[1] if method else 'GET'} {path[1] if path else command}"


REQUESTS = readme_requests()


def test_the_readme_has_request_examples() -> None:
    assert len(REQUESTS) >= 7, REQUESTS
    assert all(any(p in c for p in (*API_PLACEHOLDERS, "$API_URL")) for c in REQUESTS)


@pytest.fixture(scope="module")
def token(local_stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    paths = write(generate(CONFIG), tmp_path_factory.mktemp("readme"))
    tenant = f"readme-{uuid.uuid4().hex[:8]}"
    import_account(tenant, "A1", paths["entities"], paths["metrics"])
    train_profile(tenant, "A1", TRAINED_THROUGH)
    yield issue_token(tenant, "ana", directory=local_stack.directory)
    local_stack.drain()  # the backfill example's chunks, before other tests run


@pytest.mark.skipif(shutil.which("curl") is None, reason="the examples need curl")
@pytest.mark.parametrize("command", REQUESTS, ids=[_id(c) for c in REQUESTS])
def test_a_readme_request_runs_as_written(
    local_stack: LocalStack, token: str, command: str, tmp_path: Path
) -> None:
    for placeholder in API_PLACEHOLDERS:
        command = command.replace(placeholder, local_stack.api_url)
    body = tmp_path / "body.json"
    # curl as written, then where to put the answer and print its status.
    run = subprocess.run(
        [
            "bash",
            "-c",
            f"{command} --silent --show-error --output {body} --write-out '%{{http_code}}'",
        ],
        env=os.environ | {"TOKEN": token, "API_URL": local_stack.api_url},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    status = int(run.stdout)
    answer = json.loads(body.read_text())
    assert 200 <= status < 300, (command, status, answer)
