"""A channel credential from Secrets Manager (a webhook URL, a LINE channel access token),
cached in memory for a few minutes so warm invocations skip the read and a rotated value is
picked up soon. The value is never logged."""

from __future__ import annotations

import json
import os
import threading
import time

from tripwire.store.provision import aws_client

SECRET_MAX_AGE = 300.0  # seconds; a rotated credential is picked up within five minutes


class CachedSecret:
    """The secret named by env ``secret_env`` (or ``secret_id``): a plain string, or JSON
    ``{field: value}`` as the console's key/value form stores it."""

    def __init__(
        self,
        secret_env: str,
        field: str,
        secret_id: str | None = None,
        max_age: float = SECRET_MAX_AGE,
    ) -> None:
        self._env = secret_env
        self._field = field
        self._secret_id = secret_id
        self._max_age = max_age
        self._value: str | None = None
        self._read_at = 0.0
        self._lock = threading.Lock()

    def value(self) -> str:
        with self._lock:
            if self._value is None or time.monotonic() - self._read_at > self._max_age:
                self._value = self._fetch()
                self._read_at = time.monotonic()
            return self._value

    def forget(self) -> None:
        """Drop the cached value (rotated, or a new local stack installed another)."""
        with self._lock:
            self._value = None

    def _fetch(self) -> str:
        secret_id = self._secret_id or os.environ.get(self._env)
        if not secret_id:
            raise RuntimeError(f"{self._env} is not set: no secret to read")
        raw = aws_client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
        value = json.loads(raw)[self._field] if raw.lstrip().startswith("{") else raw
        return str(value).strip()
