"""Browser tests: Playwright driving Debian's Chromium (headless) against the local stack.

The stack runs in a process of its own (``demo_stack.py``) with a small demo account, so its
environment stays out of this process. Chromium is found at /usr/bin/chromium (or on PATH);
when it is missing and we are root with apt-get, the set-up installs Debian's package. The
tests skip only when no Chromium can be had.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

from tripwire.local.auth import issue_token
from tripwire.local.stack import load_stack_env

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"  # screenshots; gitignored
CHROMIUM = ("/usr/bin/chromium", "chromium", "chromium-browser")
# As root in a sandbox with no network: no sandbox, and none of Chromium's own traffic.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
READY_SECONDS = 180  # the demo account: import, train, scan (~20-30 s on 2 busy cores)
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
}


def find_chromium() -> str | None:
    for candidate in CHROMIUM:
        path = shutil.which(candidate)
        if path:
            return path
    return None


def install_chromium() -> str | None:
    """Debian's chromium via apt-get, once per machine (a lock keeps xdist workers in line)."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with open("/tmp/tripwire-chromium-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if find_chromium():
            return find_chromium()
        install = ["apt-get", "install", "-y", "-qq", "chromium"]
        for step in (install, ["apt-get", "update", "-qq"], install):
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                subprocess.run(step, env=env, capture_output=True, timeout=900, check=False)
            if find_chromium():
                break
    return find_chromium()


@pytest.fixture(scope="session")
def chromium() -> str:
    path = find_chromium() or install_chromium()
    if path is None:
        pytest.skip(
            "Chromium not found (/usr/bin/chromium) and not installable here "
            "(needs root and apt-get: `apt-get install chromium`)"
        )
    return path


@dataclass
class Demo:
    """The running demo stack: addresses, tenants' seeded alerts and planted incidents."""

    ready: dict[str, Any]

    @property
    def app_url(self) -> str:
        return str(self.ready["app_url"])

    @property
    def api_url(self) -> str:
        return str(self.ready["api_url"])

    @property
    def state_dir(self) -> Path:
        return Path(self.ready["state_dir"])

    def alerts(self, tenant: str) -> list[dict[str, Any]]:
        return list(self.ready["tenants"][tenant]["alerts"])

    def incidents(self, tenant: str = "acme") -> list[dict[str, Any]]:
        return list(self.ready["tenants"][tenant]["incidents"])

    def token(self, tenant: str, user: str = "ana") -> str:
        return issue_token(tenant, user, directory=self.state_dir)

    def signed_in_url(self, tenant: str, user: str = "ana") -> str:
        """The app with a token in the fragment (what a link from `tripwire local` would be)."""
        return f"{self.app_url}#token={self.token(tenant, user)}&profile=A1"

    def env(self) -> dict[str, str]:
        """What points boto3 at the stack's moto server (endpoint, tables, credentials)."""
        env = load_stack_env(self.state_dir)
        assert env is not None, "the demo stack is not running"
        return env

    def api(self, tenant: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """A second client: the API itself, to check what the page did."""
        headers = {"Authorization": f"Bearer {self.token(tenant)}"}
        data = None if body is None else json.dumps(body).encode()
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.api_url + path, data, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    folder = tmp_path_factory.mktemp("e2e-demo")
    log = (folder / "demo_stack.log").open("w")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.e2e.demo_stack", "--dir", str(folder)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        ready = folder / "ready.json"
        deadline = time.monotonic() + READY_SECONDS
        while not ready.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                tail = (folder / "demo_stack.log").read_text()[-3000:]
                pytest.fail(f"the demo stack did not come up (exit {process.poll()}):\n{tail}")
            time.sleep(0.2)
        yield Demo(json.loads(ready.read_text()))
    finally:
        if process.stdin:
            process.stdin.close()  # asks it to stop the stack and exit
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright, chromium: str) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
    yield browser
    browser.close()


@dataclass
class Console:
    """What the page said on its console; tests end with none of it being an error."""

    errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        """An error this test provokes on purpose (e.g. the 404 of another tenant's alert)."""
        self.allowed.append(re.compile(pattern))

    def record(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"{message.text} ({message.location.get('url', '')})")

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def page(request: pytest.FixtureRequest, browser: Browser, console: Console) -> Iterator[Page]:
    """A fresh browser context (no stored token), desktop-sized unless a test asks for
    ``@pytest.mark.parametrize("page", ["desktop", "phone"], indirect=True)``."""
    size = getattr(request, "param", "desktop")
    context = browser.new_context(**VIEWPORTS[size])
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("console", console.record)
    page.on("pageerror", lambda error: console.errors.append(f"uncaught: {error}"))
    yield page
    context.close()
    assert console.unexpected() == [], "the page logged errors"


def viewport_name(page: Page) -> str:
    size = page.viewport_size or {"width": 0}
    return "phone" if size["width"] < 600 else "desktop"


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}-{viewport_name(page)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
