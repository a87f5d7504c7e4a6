"""Who is calling: tenant and user from the claims API Gateway's JWT authorizer verified.

The tenant comes from the token only — never from a path, query or body — so every API
app reads it here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler.exceptions import UnauthorizedError

TENANT_CLAIM = "custom:tenant_id"
# Cognito ID tokens only: API Gateway's JWT authorizer accepts an access token of the same
# pool too (it checks ``client_id`` where an ID token has ``aud``), so the function refuses it.
TOKEN_USE_CLAIM, ID_TOKEN = "token_use", "id"
USER_CLAIMS = ("cognito:username", "username", "sub")  # the first one present names the user


@dataclass(frozen=True)
class Caller:
    tenant: str
    user: str


def claims_of(event: dict[str, Any]) -> dict[str, Any]:
    context = event.get("requestContext") or {}
    jwt = (context.get("authorizer") or {}).get("jwt") or {}
    return dict(jwt.get("claims") or {})


def caller_of(event: dict[str, Any]) -> Caller:
    """The verified caller; 401 for anything but an ID token with a tenant and a user."""
    claims = claims_of(event)
    if claims.get(TOKEN_USE_CLAIM) != ID_TOKEN:
        raise UnauthorizedError("Unauthorized")
    tenant = str(claims.get(TENANT_CLAIM) or "").strip()
    user = next((str(claims[c]) for c in USER_CLAIMS if claims.get(c)), "")
    if not tenant or "#" in tenant or not user:
        raise UnauthorizedError("Unauthorized")
    return Caller(tenant=tenant, user=user)
