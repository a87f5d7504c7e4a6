"""API throughput and latency on the local stack (loopback only, bounded in count and time).

For ``GET /alerts/active`` and ``PATCH /alerts/{id}/acknowledge`` (each acknowledgement a
real transition of a fresh alert), prints requests/s and p50/p99 latency for one client —
the reference, run first in the same process — and for ``--clients`` concurrent clients,
with the ratio between them. Any non-2xx answer is an error; the script exits 1 on errors.

    python bench/api.py [--clients 8] [--requests 160] [--alerts 200] [--max-seconds 40]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tripwire.domain import Alert, Profile, Severity
from tripwire.local.auth import issue_token
from tripwire.local.stack import LocalStack
from tripwire.store.alerts import AlertStore
from tripwire.store.catalog import CatalogStore

T0 = datetime(2026, 3, 1, 6, 0)
SEVERITIES = list(Severity)


@dataclass
class Run:
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def line(self, label: str) -> str:
        done = len(self.latencies)
        ms = sorted(x * 1000 for x in self.latencies) or [0.0]
        p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))]
        return (
            f"{label:<34} {done / self.seconds:>8.1f} req/s   p50 {statistics.median(ms):>7.1f} ms"
            f"   p99 {p99:>7.1f} ms   errors {len(self.errors)}   ({done} requests)"
        )


def _alert(tenant: str, n: int) -> Alert:
    return Alert(
        alert_id=f"al-{n:05d}",
        tenant_id=tenant,
        profile_id="A1",
        entity_id=f"K{n % 97}",
        entity_type="keyword",
        period=T0 - timedelta(days=n % 60),
        score=0.99,
        threshold=0.9,
        severity=SEVERITIES[n % len(SEVERITIES)],
        run_id="bench",
        created_at=T0 + timedelta(seconds=n),
    )


def _request(url: str, token: str, method: str) -> Callable[[], None]:
    def send() -> None:
        request = urllib.request.Request(
            url, headers={"Authorization": f"Bearer {token}"}, method=method
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            json.loads(response.read())

    return send


def drive(calls: list[Callable[[], None]], clients: int, max_seconds: float) -> Run:
    """Run ``calls`` on ``clients`` threads (each takes the next call) until done or out of time."""
    run, lock = Run(), threading.Lock()
    pending = iter(calls)
    deadline = time.perf_counter() + max_seconds

    def client() -> None:
        while time.perf_counter() < deadline:
            with lock:
                call = next(pending, None)
            if call is None:
                return
            started = time.perf_counter()
            try:
                call()
            except (urllib.error.URLError, OSError, ValueError) as error:
                with lock:
                    run.errors.append(str(error))
                continue
            with lock:
                run.latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.seconds = time.perf_counter() - started
    return run


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=160, help="per phase (concurrent)")
    parser.add_argument("--alerts", type=int, default=200, help="open alerts listed")
    parser.add_argument("--max-seconds", type=float, default=40.0, help="per phase")
    args = parser.parse_args()
    single = max(args.requests // 4, 20)
    with LocalStack() as stack:
        tenant = f"bench-{uuid.uuid4().hex[:6]}"
        CatalogStore().put_profile(Profile(tenant_id=tenant, profile_id="A1"))
        to_ack = single + args.requests
        AlertStore().put_many(_alert(tenant, n) for n in range(args.alerts + to_ack))
        token = issue_token(tenant, "bench", directory=stack.directory)
        active = _request(f"{stack.api_url}/alerts/active?profile_id=A1&limit=50", token, "GET")
        acks = [
            _request(f"{stack.api_url}/alerts/al-{n:05d}/acknowledge", token, "PATCH")
            for n in range(args.alerts, args.alerts + to_ack)
        ]
        drive([active] * 5, 1, args.max_seconds)  # warm: handlers imported, clients made
        results = {
            "GET /alerts/active, 1 client": drive([active] * single, 1, args.max_seconds),
            f"GET /alerts/active, {args.clients} clients": drive(
                [active] * args.requests, args.clients, args.max_seconds
            ),
            "PATCH .../acknowledge, 1 client": drive(acks[:single], 1, args.max_seconds),
            f"PATCH .../acknowledge, {args.clients} clients": drive(
                acks[single:], args.clients, args.max_seconds
            ),
        }
    print(f"local stack on 127.0.0.1; {args.alerts} open alerts listed, 50 per page")
    for label, run in results.items():
        print(run.line(label))
    pairs = list(results.values())
    for name, one, many in (("GET /alerts/active", *pairs[:2]), ("PATCH acknowledge", *pairs[2:])):
        ratio = (len(many.latencies) / many.seconds) / (len(one.latencies) / one.seconds)
        print(f"ratio {args.clients} clients / 1 client, {name}: {ratio:.2f}x req/s")
    errors = sum(len(run.errors) for run in results.values())
    if errors:
        print(f"{errors} errors, first: {next(e for r in pairs for e in r.errors)}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
