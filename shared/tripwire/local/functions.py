"""Loading ``functions/<name>/handler.py`` by file path, once per process.

The same module names as the gateway's loader, so a function loaded by either is one
module (one warm "container") in the local stack.
"""

from __future__ import annotations

import importlib.util
import secrets
import sys
import threading
from typing import Any

from tripwire.local.gateway import Handler, LambdaContext, functions_root

_lock = threading.Lock()


def load_handler(function: str) -> Handler:
    name = f"_tripwire_functions.{function}.handler"
    with _lock:
        module = sys.modules.get(name)
        if module is None:
            path = functions_root() / function / "handler.py"
            spec = importlib.util.spec_from_file_location(name, path)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {path}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:
                del sys.modules[name]
                raise
        handler: Handler = module.handler
        return handler


def invoke(function: str, event: dict[str, Any], timeout_ms: int = 900_000) -> Any:
    """Call a function's handler the way the Lambda runtime would (event, context)."""
    context = LambdaContext(function, secrets.token_hex(16), timeout_ms=timeout_ms)
    return load_handler(function)(event, context)
