"""``tripwire local up``: moto server for AWS, the gateway for the API, every table created.

A state file lets ``tripwire`` commands in other shells find the running stack.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import threading
import time
from pathlib import Path
from typing import Any

from tripwire.local import state_dir
from tripwire.local.atomic import serialize_dynamodb
from tripwire.local.gateway import Gateway
from tripwire.store import provision as store
from tripwire.store.tables import physical_names

STATE_FILE = "stack.json"
HOST = "127.0.0.1"


class LocalStack:
    """Starts and stops the local stack; ``env`` is what clients need to reach it."""

    def __init__(
        self,
        *,
        aws_port: int | None = None,
        api_port: int | None = None,
        directory: Path | None = None,
        prefix: str = "tripwire-local",
        region: str = "us-east-1",
    ) -> None:
        self.directory = (directory or state_dir()).resolve()
        self.aws_port = aws_port or 0
        self.api_port = api_port or 0
        self.prefix = prefix
        self.region = region
        self.env: dict[str, str] = {}
        self.startup_seconds = 0.0
        self._api_url = ""
        self._moto: Any = None
        self._gateway: Gateway | None = None
        self._saved_env: dict[str, str | None] = {}

    @property
    def state_file(self) -> Path:
        return self.directory / STATE_FILE

    @property
    def aws_endpoint(self) -> str:
        return self.env["AWS_ENDPOINT_URL"]

    @property
    def api_url(self) -> str:
        if not self._api_url:
            raise RuntimeError("the local stack has not been started")
        return self._api_url

    def start(self) -> dict[str, str]:
        """Start everything, export ``env`` into ``os.environ`` and return it."""
        from moto.server import ThreadedMotoServer  # dev-only dependency, slow to import

        started = time.perf_counter()
        running = read_state(self.directory)
        if running is not None:
            raise RuntimeError(
                f"a local stack is already running (pid {running['pid']}, "
                f"API at {running['api_url']}); stop it or use another TRIPWIRE_LOCAL_DIR"
            )
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.aws_port:
            _check_free(self.aws_port)  # moto's start() would wait forever on a taken port
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per AWS call
        serialize_dynamodb()  # conditional writes and transactions must be atomic
        self._moto = ThreadedMotoServer(HOST, self.aws_port, verbose=False)
        self._moto.start()
        host, port = self._moto.get_host_and_port()
        self.env = {
            "AWS_ENDPOINT_URL": f"http://{host}:{port}",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "TRIPWIRE_LOCAL_DIR": str(self.directory),
            **physical_names(self.prefix),
        }
        try:
            self._export()
            store.provision(env=self.env)
            self._gateway = Gateway(port=self.api_port, auth_dir=self.directory).start()
            self._api_url = self._gateway.url
            self._write_state()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.perf_counter() - started
        return dict(self.env)

    def stop(self) -> None:
        """Shut both servers down, join their threads, remove the state file, restore env."""
        if self._gateway is not None:
            self._gateway.stop()
            self._gateway = None
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
        state = read_state(self.directory, check_pid=False)
        if state is not None and state.get("pid") == os.getpid():
            self.state_file.unlink(missing_ok=True)
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env = {}
        store.reset_clients()

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _export(self) -> None:
        self._saved_env = {name: os.environ.get(name) for name in self.env}
        os.environ.update(self.env)
        store.reset_clients()  # cached clients point at the previous endpoint

    def _write_state(self) -> None:
        state = {
            "pid": os.getpid(),
            "api_url": self.api_url,
            "aws_endpoint": self.aws_endpoint,
            "env": self.env,
            "started_at": time.time(),
        }
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(self.state_file)  # readers never see half a file


def _check_free(port: int) -> None:
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError as error:
            raise RuntimeError(f"port {port} on {HOST} is taken: {error}") from error


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def read_state(directory: Path | None = None, *, check_pid: bool = True) -> dict[str, Any] | None:
    """The running stack's state file, or None if there is none or its process is gone."""
    path = (directory or state_dir()) / STATE_FILE
    try:
        state: dict[str, Any] = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    if check_pid and not _alive(int(state.get("pid", 0))):
        return None
    return state


def load_stack_env(directory: Path | None = None) -> dict[str, str] | None:
    """The environment that points boto3 and the CLI at a running local stack, if any."""
    state = read_state(directory)
    return None if state is None else dict(state["env"])


def run_local_up(port: int | None, api_port: int | None) -> None:
    """Start the stack, say where it listens, and serve until Ctrl-C (or SIGTERM)."""
    stack = LocalStack(aws_port=port, api_port=api_port)
    stack.start()
    stopping = threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        # Handle SIGINT too: a shell starting us in the background leaves it ignored.
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: stopping.set())
    print(f"Tripwire local stack up in {stack.startup_seconds:.2f}s")
    print(f"  API:          {stack.api_url}   (try: curl {stack.api_url}/health)")
    print(f"  AWS endpoint: {stack.aws_endpoint}   (moto server; credentials 'testing')")
    print(f"  State:        {stack.state_file}")
    print("  Token:        tripwire local token --tenant T --user U")
    print("Ctrl-C to stop.", flush=True)
    try:
        while not stopping.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        print("Stopping…", flush=True)
        stack.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
