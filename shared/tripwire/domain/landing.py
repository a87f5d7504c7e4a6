"""Files dropped in the landing bucket: where a key says they go, the options a drop may
carry, and the import report written beside each file.

A key is ``{tenant}/{profile}/{file}``: exactly three parts, the tenant and the profile in
the id alphabet (``ID_PATTERN``: no '/', '#', spaces…), a non-empty file name. The report
of ``{key}`` is ``{key}.result.json``; such keys are reports, never imports.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tripwire.domain.entities import ID_MAX_LENGTH, ID_PATTERN

REPORT_SUFFIX = ".result.json"
ATTRIBUTION_WINDOWS = (1, 7, 14, 30)
_ID = re.compile(ID_PATTERN)


def report_key(key: str) -> str:
    """Where the report of the file at ``key`` is written: beside it."""
    return key + REPORT_SUFFIX


def is_report(key: str) -> bool:
    return key.endswith(REPORT_SUFFIX)


class LandingFormat(StrEnum):
    ADS_CONSOLE = "ads-console"  # Amazon Ads console downloads, CSV or XLSX
    ADS_API = "ads-api"  # Amazon Ads API v3 reports, JSON / JSON Lines, gzip'd or not
    OHLCV = "ohlcv"  # price bars, CSV or XLSX


class BadKey(ValueError):
    """A key not shaped ``{tenant}/{profile}/{file}``; the message says why."""


class LandingKey(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant: str
    profile: str
    file: str

    @classmethod
    def parse(cls, key: str) -> LandingKey:
        parts = key.split("/")
        if len(parts) != 3:
            raise BadKey(
                f"{key!r} has {len(parts) - 1} '/'; a file is dropped at "
                "<tenant>/<profile>/<file> (exactly two '/')"
            )
        tenant, profile, file = parts
        for what, value in (("tenant", tenant), ("profile", profile)):
            if not value or len(value) > ID_MAX_LENGTH or not _ID.match(value):
                raise BadKey(
                    f"the {what} {value!r} is not an id: 1-{ID_MAX_LENGTH} ASCII letters, "
                    "digits or -._~:@!$&'()*+,;=^"
                )
        if not file.strip():
            raise BadKey(f"{key!r} names no file after <tenant>/<profile>/")
        return cls(tenant=tenant, profile=profile, file=file)


class LandingOptions(BaseModel):
    """What a drop may say about itself, as S3 user metadata (``x-amz-meta-<name>``, e.g.
    ``aws s3 cp --metadata currency=INR,attribution=14``): the options of
    ``tripwire import`` for the same formats. Unknown names are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    format: LandingFormat | None = None  # default: detected (service/landing.py)
    currency: str | None = Field(default=None, pattern=r"^[A-Za-z]{3}$")
    attribution: int | None = Field(default=None, description="1, 7, 14 or 30")
    date_format: str | None = Field(default=None, alias="date-format", max_length=32)
    skip_bad_rows: bool = Field(default=False, alias="skip-bad-rows")
    interval: Literal["1d", "1h", "15m", "5m"] = "1d"  # ohlcv bars
    ticker: str | None = Field(default=None, max_length=32)  # ohlcv: default the file name
    market: str | None = Field(default=None, max_length=16)  # ohlcv: default the profile's

    @field_validator("attribution")
    @classmethod
    def _a_window(cls, value: int | None) -> int | None:
        if value is not None and value not in ATTRIBUTION_WINDOWS:
            raise ValueError(f"must be one of {', '.join(map(str, ATTRIBUTION_WINDOWS))}")
        return value


class ImportStatus(StrEnum):
    IMPORTED = "imported"
    REFUSED = "refused"  # nothing was written; ``errors`` says why


class ReportedRow(BaseModel):
    """A row the import skipped or the error that refused the file: where and why."""

    file: str
    line: int = Field(description="1-based line of the file (the header is line 1); 0: none")
    field: str
    message: str


class LandingReport(BaseModel):
    """The outcome of one dropped file, written beside it as ``{key}.result.json``."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(description="the dropped file's key in the landing bucket")
    etag: str = Field(description="the version of the file this report is about")
    size: int = Field(ge=0, description="bytes")
    tenant_id: str | None = Field(description="null when the key names no tenant")
    profile_id: str | None
    status: ImportStatus
    format: LandingFormat | None = Field(description="null when refused before detection")
    reason: str = Field(description="one line: what was imported, or why nothing was")
    rows: int = Field(default=0, ge=0, description="rows read from the file")
    entities: int = Field(default=0, ge=0, description="entities the profile holds now")
    entities_new: int = Field(default=0, ge=0)
    points_written: int = Field(default=0, ge=0, description="points incl. roll-ups")
    items_changed: int = Field(default=0, ge=0, description="0: the file changed nothing")
    skipped: list[ReportedRow] = Field(default_factory=list, description="rows left out")
    errors: list[ReportedRow] = Field(default_factory=list, description="why it was refused")
    finished_at: datetime
    seconds: float = Field(ge=0)
