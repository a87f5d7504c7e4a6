"""Requests in parallel — as a browser sends them — each see only their own caller.

Powertools keeps the current event on a class shared by every resolver in the process; in
AWS a container serves one request at a time, so the local gateway must not interleave two
handler calls either.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Demo
from tripwire.api.routes import Route
from tripwire.local.gateway import Gateway

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("browser")]
ROUNDS = 12


def test_parallel_callers_never_see_each_others_requests(demo: Demo) -> None:
    acme = {a["alert_id"] for a in demo.alerts("acme")}
    globex = {a["alert_id"] for a in demo.alerts("globex")}
    calls: list[tuple[str, str, str, set[str] | None]] = [
        ("acme", "/alerts/active?profile_id=A1&limit=200", "items", acme),
        ("globex", "/alerts/active?profile_id=A1&limit=200", "items", globex),
        ("acme", "/statistics?profile_id=A1&from=2026-02-01&to=2026-03-15", "alerts", None),
        ("globex", "/entities/C1/profile?profile_id=A1", "entity_id", None),
    ]
    results: list[tuple[str, str, int, Any]] = []
    lock = threading.Lock()
    start = threading.Barrier(len(calls))

    def client(tenant: str, path: str) -> None:
        start.wait()
        for _ in range(ROUNDS):
            status, body = demo.api(tenant, "GET", path)
            with lock:
                results.append((tenant, path, status, body))

    threads = [threading.Thread(target=client, args=(t, p)) for t, p, _, _ in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counter(status for _, _, status, _ in results) == {200: ROUNDS * len(calls)}
    for tenant, path, _, body in results:
        _, _, key, allowed = next(c for c in calls if c[:2] == (tenant, path))
        assert key in body, (tenant, path, body)
        if allowed is not None:
            assert {a["alert_id"] for a in body["items"]} <= allowed, (tenant, path)
            assert {a["tenant_id"] for a in body["items"]} <= {tenant}


ECHO = """
import time

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

app = APIGatewayHttpResolver()


@app.get("/echo")
def echo():
    time.sleep(0.05)  # I/O in a real handler: another request's thread runs meanwhile
    return {"who": app.current_event.query_string_parameters["who"]}


def handler(event, context):
    return app.resolve(event, context)
"""


def test_a_handler_reads_its_own_event_while_others_run(tmp_path: Path) -> None:
    (tmp_path / "echo").mkdir()
    (tmp_path / "echo" / "handler.py").write_text(ECHO)
    routes = [Route("GET", "/echo", "echo", auth=False)]
    answers: dict[int, Any] = {}
    with Gateway(routes, functions_dir=tmp_path, auth_dir=tmp_path) as gateway:

        def ask(who: int) -> None:
            url = f"{gateway.url}/echo?who={who}"
            with urllib.request.urlopen(url, timeout=30) as response:
                answers[who] = json.loads(response.read())["who"]

        threads = [threading.Thread(target=ask, args=(who,)) for who in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert answers == {who: str(who) for who in range(6)}
