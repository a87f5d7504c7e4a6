"""The constructs the Tripwire stack is built from, one per concern."""

from infra.components.storage import Storage

__all__ = ["Storage"]
