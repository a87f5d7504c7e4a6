"""The landing bucket: dropped files read to disk, and the import reports beside them.

Keys are ``{tenant}/{profile}/{file}`` and ``{tenant}/{profile}/{file}.result.json``
(``domain.landing``), so a tenant's reports are the objects under ``{tenant}/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from pydantic import ValidationError

from tripwire.domain.landing import LandingReport, is_report, report_key
from tripwire.store.provision import aws_client
from tripwire.store.tables import LANDING

CHUNK = 1 << 20


class FileGone(Exception):
    """The dropped file was deleted before it could be read."""


@dataclass(frozen=True)
class LandedFile:
    key: str
    etag: str  # without quotes
    size: int
    metadata: dict[str, str]  # the object's user metadata (x-amz-meta-*), names lower case
    path: Path  # where it was written on disk


class LandingStore:
    def __init__(self, client: Any | None = None) -> None:
        self.client = client if client is not None else aws_client("s3")

    @property
    def bucket(self) -> str:
        return LANDING.name

    def fetch(self, key: str, directory: Path, name: str) -> LandedFile:
        """The file at ``key`` (its current version) written to ``directory/name``."""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
                raise FileGone(key) from error
            raise
        path = directory / name
        with path.open("wb") as out:
            for chunk in response["Body"].iter_chunks(CHUNK):
                out.write(chunk)
        return LandedFile(
            key=key,
            etag=str(response["ETag"]).strip('"'),
            size=int(response["ContentLength"]),
            metadata={k.lower(): v for k, v in response.get("Metadata", {}).items()},
            path=path,
        )

    def report(self, key: str) -> LandingReport | None:
        """The report written for the file at ``key``, if any."""
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=report_key(key))["Body"]
        except ClientError as error:
            if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise
        return LandingReport.model_validate_json(body.read())

    def put_report(self, report: LandingReport) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=report_key(report.key),
            Body=report.model_dump_json(indent=2).encode(),
            ContentType="application/json",
        )

    def reports(self, tenant: str, profile: str | None, limit: int) -> list[LandingReport]:
        """A tenant's reports (one profile's, or every one under the tenant), newest first."""
        if not tenant or "/" in tenant:
            return []  # no key starts with such a tenant: it could only reach another's
        prefix = f"{tenant}/{profile}/" if profile is not None else f"{tenant}/"
        found: list[tuple[Any, str]] = []
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        )
        for page in pages:
            found += [(o["LastModified"], o["Key"]) for o in page.get("Contents", [])]
        candidates = sorted((f for f in found if is_report(f[1])), reverse=True)
        if len(candidates) > limit:
            # LastModified has whole seconds: read every report tied with the last one kept,
            # then order by when each import finished.
            edge = candidates[limit - 1][0]
            candidates = [c for c in candidates if c[0] >= edge]
        reports = []
        for _, key in candidates:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            try:
                reports.append(LandingReport.model_validate_json(body))
            except ValidationError:
                continue  # a file someone named like a report: not one of ours
        reports.sort(key=lambda r: (r.finished_at, r.key), reverse=True)
        return reports[:limit]
