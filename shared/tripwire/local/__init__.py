"""The local stack: moto server for AWS, an HTTP gateway for the API, local JWTs for Cognito."""

from __future__ import annotations

import os
from pathlib import Path


def state_dir() -> Path:
    """Where the local stack keeps its keys and state file (``TRIPWIRE_LOCAL_DIR``)."""
    configured = os.environ.get("TRIPWIRE_LOCAL_DIR")
    return Path(configured) if configured else Path.cwd() / ".tripwire" / "local"
