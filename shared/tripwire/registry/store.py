"""Model artifacts in the models bucket, addressed by content (SHA-256) and published as sets.

Layout (every key starts with the tenant)::

    {tenant}/{profile}/{detector}/{version}.bin    the artifact (ONNX or pickled state)
    {tenant}/{profile}/{detector}/{version}.json   its metadata
    {tenant}/{profile}/{detector}/CURRENT.json     pointer to the detector's newest version
    {tenant}/{profile}/MODELSET.json               the current version of every detector
    {tenant}/{profile}/CANDIDATE.json              the last trained set held back (worse)

A version is the hex SHA-256 of the artifact's bytes, so an object is immutable once
written and a load can prove it got what was published. Readers only follow
MODELSET.json, written after every artifact it names, so they never see half a set.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from tripwire.store.tables import MODELS

MODELSET = "MODELSET.json"
CURRENT = "CURRENT.json"
CANDIDATE = "CANDIDATE.json"
_VERSION = re.compile(r"^[0-9a-f]{64}$")


class RegistryError(Exception):
    """Base of every registry error."""


class NoModels(RegistryError):
    """The profile (or this detector of it) has no published models."""


class ModelNotFound(RegistryError):
    """A named version does not exist."""


class IntegrityError(RegistryError):
    """An artifact's bytes do not hash to its version: refused."""


class ModelSetChanged(RegistryError):
    """The model set was replaced (a retrain, another learner) since the caller read it."""


def version_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _segment(kind: str, value: str) -> str:
    # A "/" or ".." in a tenant or profile would address another tenant's keys.
    if not value or "/" in value or value in (".", "..") or value != value.strip():
        raise ValueError(f"invalid {kind} for a model key: {value!r}")
    return value


def _check_version(version: str) -> str:
    if not _VERSION.match(version):
        raise ValueError(f"a model version is a lowercase hex SHA-256, got {version!r}")
    return version


def profile_prefix(tenant: str, profile: str) -> str:
    return f"{_segment('tenant', tenant)}/{_segment('profile', profile)}"


def detector_prefix(tenant: str, profile: str, detector: str) -> str:
    return f"{profile_prefix(tenant, profile)}/{_segment('detector', detector)}"


def _now() -> str:
    return datetime.now(UTC).isoformat()


class RegistryStore:
    """Publish and load model artifacts (S3 through ``aws_client("s3")`` unless given one)."""

    def __init__(self, client: Any | None = None) -> None:
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is not None:
            return self._client
        from tripwire.store.provision import aws_client

        return aws_client("s3")  # cached per endpoint: follows the local stack's env

    def publish(
        self, tenant: str, profile: str, detector: str, data: bytes, metadata: Mapping[str, Any]
    ) -> str:
        """Store an artifact and its metadata, point CURRENT.json at it; returns the version.

        The model set is not touched: call ``publish_set`` once every detector is published.
        """
        prefix = detector_prefix(tenant, profile, detector)
        version = self._store(tenant, profile, detector, data, metadata, published_at=_now())
        self._put_json(f"{prefix}/{CURRENT}", {"version": version, "published_at": _now()})
        return version

    def publish_set(
        self,
        tenant: str,
        profile: str,
        versions: Mapping[str, str],
        *,
        if_match: str | None = None,
    ) -> None:
        """Make ``versions`` (detector -> version) the profile's model set, as a whole.

        Every named artifact must already exist, so the set never names a missing object.
        ``if_match``: the ETag of the set this one replaces; ``ModelSetChanged`` if the
        stored set is another by now (S3 conditional write).
        """
        if not versions:
            raise ValueError("a model set names at least one detector")
        for detector, version in versions.items():
            key = f"{detector_prefix(tenant, profile, detector)}/{_check_version(version)}.bin"
            if not self._exists(key):
                raise ModelNotFound(f"{detector} {version} is not published for {profile!r}")
        document = {"models": dict(sorted(versions.items())), "published_at": _now()}
        body = json.dumps(document, sort_keys=True).encode()
        condition = {} if if_match is None else {"IfMatch": if_match}
        try:
            self.client.put_object(
                Bucket=MODELS.name,
                Key=f"{profile_prefix(tenant, profile)}/{MODELSET}",
                Body=body,
                ContentType="application/json",
                **condition,
            )
        except ClientError as error:
            if error.response["Error"]["Code"] in ("PreconditionFailed", "412"):
                raise ModelSetChanged(f"the model set of {profile!r} changed meanwhile") from error
            raise

    def publish_models(
        self,
        tenant: str,
        profile: str,
        artifacts: Mapping[str, tuple[bytes, Mapping[str, Any]]],
        *,
        based_on: Mapping[str, str] | None = None,
    ) -> dict[str, str]:
        """Publish several detectors, then the set (kept detectors not given stay as they are).

        ``based_on``: the set the artifacts were derived from (online learning). The new set
        replaces it only if it is still the stored one — checked, then enforced by a
        conditional write — else ``ModelSetChanged`` and the set is left as it is.
        """
        published = {
            detector: self.publish(tenant, profile, detector, data, metadata)
            for detector, (data, metadata) in artifacts.items()
        }
        document, etag = self._get_json_tagged(f"{profile_prefix(tenant, profile)}/{MODELSET}")
        current = {} if document is None else dict(document["models"])
        if based_on is not None and current != dict(based_on):
            raise ModelSetChanged(f"the model set of {profile!r} changed meanwhile")
        versions = {**current, **published}
        self.publish_set(tenant, profile, versions, if_match=None if based_on is None else etag)
        return versions

    def store_candidate(
        self,
        tenant: str,
        profile: str,
        artifacts: Mapping[str, tuple[bytes, Mapping[str, Any]]],
        *,
        run_id: str,
    ) -> dict[str, str]:
        """Keep artifacts that were not published (a model worse than the one in use):
        each stored under its version, CURRENT.json and the model set untouched, and the
        profile's CANDIDATE.json naming them with the run that trained them."""
        versions = {
            detector: self._store(
                tenant,
                profile,
                detector,
                data,
                metadata,
                published_at=None,
                candidate_of_run=run_id,
            )
            for detector, (data, metadata) in artifacts.items()
        }
        candidate = {"models": dict(sorted(versions.items())), "run_id": run_id, "at": _now()}
        self._put_json(f"{profile_prefix(tenant, profile)}/{CANDIDATE}", candidate)
        return versions

    def candidate(self, tenant: str, profile: str) -> dict[str, Any] | None:
        """The last candidate kept (``models``, ``run_id``, ``at``), if any."""
        return self._get_json(f"{profile_prefix(tenant, profile)}/{CANDIDATE}")

    def current_set(self, tenant: str, profile: str) -> dict[str, str] | None:
        """The profile's model set (detector -> version), or None if nothing is published."""
        document = self._get_json(f"{profile_prefix(tenant, profile)}/{MODELSET}")
        return None if document is None else dict(document["models"])

    def current(self, tenant: str, profile: str, detector: str) -> str | None:
        """The newest published version of one detector (not necessarily in the set yet)."""
        document = self._get_json(f"{detector_prefix(tenant, profile, detector)}/{CURRENT}")
        return None if document is None else str(document["version"])

    def load(
        self, tenant: str, profile: str, detector: str, version: str
    ) -> tuple[bytes, dict[str, Any]]:
        """The artifact's bytes and the metadata it was published with, hash verified."""
        prefix = f"{detector_prefix(tenant, profile, detector)}/{_check_version(version)}"
        data = self._get(f"{prefix}.bin")
        if data is None:
            raise ModelNotFound(f"{detector} {version} is not published for {profile!r}")
        if version_of(data) != version:
            raise IntegrityError(
                f"{detector} {version} for {profile!r}: the stored bytes hash to "
                f"{version_of(data)}; refusing a tampered or corrupt model"
            )
        document = self._get_json(f"{prefix}.json")
        if document is None or document.get("version") != version:
            raise IntegrityError(f"{detector} {version} for {profile!r}: metadata missing")
        return data, dict(document["metadata"])

    def _store(
        self,
        tenant: str,
        profile: str,
        detector: str,
        data: bytes,
        metadata: Mapping[str, Any],
        **extra: Any,
    ) -> str:
        """The artifact and its metadata document under its version; returns the version."""
        prefix = detector_prefix(tenant, profile, detector)
        version = version_of(data)
        document = {
            "tenant": tenant,
            "profile": profile,
            "detector": detector,
            "version": version,
            "size": len(data),
            **extra,
            "metadata": dict(metadata),
        }
        self._put(f"{prefix}/{version}.bin", data, "application/octet-stream")
        self._put_json(f"{prefix}/{version}.json", document)
        return version

    def _put(self, key: str, body: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=MODELS.name, Key=key, Body=body, ContentType=content_type)

    def _put_json(self, key: str, document: Mapping[str, Any]) -> None:
        self._put(key, json.dumps(document, sort_keys=True).encode(), "application/json")

    def _get(self, key: str) -> bytes | None:
        return self._get_tagged(key)[0]

    def _get_tagged(self, key: str) -> tuple[bytes | None, str | None]:
        """The object's bytes and its ETag (for a conditional write over it); None if absent."""
        try:
            response = self.client.get_object(Bucket=MODELS.name, Key=key)
        except ClientError as error:
            if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None, None
            raise
        body: bytes = response["Body"].read()
        return body, str(response["ETag"])

    def _get_json(self, key: str) -> dict[str, Any] | None:
        return self._get_json_tagged(key)[0]

    def _get_json_tagged(self, key: str) -> tuple[dict[str, Any] | None, str | None]:
        body, etag = self._get_tagged(key)
        document: dict[str, Any] | None = None if body is None else json.loads(body)
        return document, etag

    def _exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=MODELS.name, Key=key)
        except ClientError as error:
            if error.response["Error"]["Code"] in ("NoSuchKey", "404", "NotFound"):
                return False
            raise
        return True
