"""Opaque page cursors: the last sort key of a page, bound to the tenant and profile.

A cursor is base64url JSON ``{"v": 1, "s": scope, "k": key}``. The scope is a hash of
tenant and profile, so a cursor from another tenant or profile is refused rather than
read, and the tenant's id never appears in it. The key only bounds a query whose
partition comes from the token, so even a forged cursor cannot reach other data.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re

VERSION = 1
MAX_LENGTH = 512
# ``{created_at}#{alert}`` as written by AlertStore.
KEY_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}T[0-9:.+\-]+#[^#\s]{1,128}$")


class InvalidCursor(ValueError):
    """Not a cursor this API issued for this tenant and profile."""


def _scope(tenant: str, profile: str) -> str:
    return hashlib.sha256(f"{tenant}\x00{profile}".encode()).hexdigest()[:16]


def encode(key: str, tenant: str, profile: str) -> str:
    payload = {"v": VERSION, "s": _scope(tenant, profile), "k": key}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse(cursor: str) -> dict[str, str]:
    """The cursor's fields if it is well formed (checked at the edge, before any query)."""
    if not cursor or len(cursor) > MAX_LENGTH:
        raise InvalidCursor("cursor is empty or too long")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError) as error:
        raise InvalidCursor("cursor is not valid") from error
    if not isinstance(payload, dict) or payload.get("v") != VERSION:
        raise InvalidCursor("cursor is not valid")
    scope, key = payload.get("s"), payload.get("k")
    if not isinstance(scope, str) or not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise InvalidCursor("cursor is not valid")
    return {"scope": scope, "key": key}


def decode(cursor: str, tenant: str, profile: str) -> str:
    """The sort key to continue after; InvalidCursor unless issued for tenant and profile."""
    fields = parse(cursor)
    if fields["scope"] != _scope(tenant, profile):
        raise InvalidCursor("cursor belongs to another listing")
    return fields["key"]
