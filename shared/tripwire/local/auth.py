"""Local stand-in for Cognito (issuing id tokens) and API Gateway's JWT authorizer.

The key pair lives in the state directory so tokens issued by ``tripwire local token`` in
one shell verify in the stack running in another.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tripwire.local import state_dir

ISSUER = "https://cognito-idp.local.tripwire/local-pool"
AUDIENCE = "tripwire-local-client"
TENANT_CLAIM = "custom:tenant_id"
KEY_ID = "tripwire-local"
KEY_FILE = "jwt-private.pem"

_keys: dict[Path, rsa.RSAPrivateKey] = {}
_lock = threading.Lock()


class AuthError(Exception):
    """The token is missing, malformed, badly signed, expired or has no tenant."""


def private_key(directory: Path | None = None) -> rsa.RSAPrivateKey:
    """The stack's signing key, created on first use."""
    path = (directory or state_dir()) / KEY_FILE
    with _lock:
        if path not in _keys:
            _keys[path] = _load_or_create(path)
        return _keys[path]


def _load_or_create(path: Path) -> rsa.RSAPrivateKey:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{uuid.uuid4().hex}")
        tmp.write_bytes(pem)
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)  # atomic and exclusive: a concurrent creator's key wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, rsa.RSAPrivateKey):
        raise AuthError(f"{path} is not an RSA private key")
    return loaded


def issue_token(tenant: str, user: str, ttl: int = 3600, *, directory: Path | None = None) -> str:
    """An RS256 token shaped like a Cognito id token, valid for ``ttl`` seconds."""
    if not tenant:
        raise ValueError("tenant must not be empty")
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, f"tripwire:{tenant}:{user}")),
        "username": user,
        "cognito:username": user,
        TENANT_CLAIM: tenant,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "token_use": "id",
        "auth_time": now,
        "iat": now,
        "exp": now + ttl,
        "jti": str(uuid.uuid4()),
    }
    key = private_key(directory)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": KEY_ID})


def verify(token: str, *, directory: Path | None = None) -> dict[str, Any]:
    """The token's claims, checked as API Gateway's JWT authorizer would (plus the tenant)."""
    public = private_key(directory).public_key()
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            public,
            algorithms=["RS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.ExpiredSignatureError as error:
        raise AuthError("token expired") from error
    except jwt.InvalidSignatureError as error:
        raise AuthError("token signature is invalid") from error
    except jwt.PyJWTError as error:
        raise AuthError(f"invalid token: {error}") from error
    if not claims.get(TENANT_CLAIM):
        raise AuthError(f"token has no {TENANT_CLAIM} claim")
    return claims


def bearer_token(authorization: str | None) -> str:
    """The token in an ``Authorization`` header (``Bearer`` prefix optional, as in AWS)."""
    if not authorization or not authorization.strip():
        raise AuthError("missing Authorization header")
    parts = authorization.strip().split(None, 1)
    if len(parts) == 2 and parts[0].lower() == "bearer":
        return parts[1].strip()
    return parts[0]
