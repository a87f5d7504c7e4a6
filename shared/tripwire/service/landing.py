"""A file dropped in the landing bucket, imported: the landing function's one use case.

The bucket's object-created notifications reach the landing function through a queue
(retries, then a dead-letter queue). For each file at ``{tenant}/{profile}/{file}``:

1. ``{key}.result.json`` (a report) and ``…/`` (a console's folder marker) are not imports:
   ignored, so writing a report never imports anything;
2. the file is read to disk; when a report for this very version (ETag) exists, the
   notification is a redelivery and nothing happens;
3. the key, the tenant (known: it has a profile), the options (S3 user metadata,
   ``LandingOptions``) and the format (``ingest.formats``, or the ``format`` option; an
   existing market profile takes OHLCV) are checked, then the file is imported by the
   same readers and the same all-or-nothing write as ``tripwire import``;
4. the outcome is written beside the file as ``{key}.result.json``: rows, entities, items
   changed and skipped rows, or ``refused`` with the errors — and then nothing was written.

AWS and concurrency errors (``ClientError``, ``ConcurrentChange``) are raised: the message
is retried (the import is a merge, so a retry adds nothing twice). A file whose reader
fails in a way it does not name is refused with the error, logged and counted.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from tripwire import telemetry
from tripwire.domain.entities import EntityType, ProfileKind
from tripwire.domain.landing import (
    BadKey,
    ImportStatus,
    LandingFormat,
    LandingKey,
    LandingOptions,
    LandingReport,
    ReportedRow,
    is_report,
)
from tripwire.domain.metrics import Interval
from tripwire.ingest.ads_api import import_api_report
from tripwire.ingest.ads_console import import_console_report
from tripwire.ingest.errors import ImportRejected, RowError
from tripwire.ingest.formats import detect_format
from tripwire.ingest.importer import ImportReport
from tripwire.store.catalog import CatalogStore, ConcurrentChange
from tripwire.store.landing import FileGone, LandedFile, LandingStore
from tripwire.store.metrics import MetricStore
from tripwire.telemetry import logger

# Reported per file; the first ones are enough to fix it (the reader stops at its first
# refusing error anyway, unless bad rows are skipped).
MAX_REPORTED = 100


@dataclass
class LandingStores:
    landing: LandingStore = field(default_factory=LandingStore)
    catalog: CatalogStore = field(default_factory=CatalogStore)
    metrics: MetricStore = field(default_factory=MetricStore)


def land(key: str, stores: LandingStores | None = None) -> LandingReport | None:
    """Import the file at ``key`` and write its report; None when there is nothing to do
    (a report, a folder marker, a deleted file). A redelivery returns the report it has."""
    if is_report(key) or key.endswith("/"):
        return None
    stores = stores or LandingStores()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="landing-") as directory:
        try:
            file = stores.landing.fetch(key, Path(directory), _file_name(key))
        except FileGone:
            logger.warning("dropped file gone before it was read", extra={"key": key})
            return None
        earlier = stores.landing.report(key)
        if earlier is not None and earlier.etag == file.etag:
            logger.info("file already imported", extra={"key": key, "etag": file.etag})
            return earlier
        report = _import(file, stores, started)
    stores.landing.put_report(report)
    imported = report.status is ImportStatus.IMPORTED
    telemetry.count(telemetry.FILES_IMPORTED if imported else telemetry.FILES_REFUSED)
    logger.info(
        "file landed",
        extra={"key": key, "status": report.status.value, "reason": report.reason},
    )
    return report


def _import(file: LandedFile, stores: LandingStores, started: float) -> LandingReport:
    where: LandingKey | None = None
    chosen: LandingFormat | None = None
    try:
        where = LandingKey.parse(file.key)
        options = _options(file)
        kind = _known_profile_kind(where, stores.catalog)
        chosen = options.format or (
            LandingFormat.OHLCV if kind is ProfileKind.MARKET else detect_format(file.path)
        )
        if file.size == 0:
            raise ImportRejected([RowError(file.path.name, 0, "file", "is empty")])
        result = _run(chosen, where, options, file.path, stores)
    except (ClientError, BotoCoreError, ConcurrentChange):
        raise  # retried: the import is a merge, a retry adds nothing twice
    except (BadKey, ImportRejected) as refused:
        errors = refused.errors if isinstance(refused, ImportRejected) else [_key_error(refused)]
        return _refused(file, where, chosen, errors, started)
    except Exception as error:  # a reader failing in a way it does not name
        logger.exception("dropped file could not be read", extra={"key": file.key})
        why = f"could not be read: {type(error).__name__}: {error}"
        return _refused(file, where, chosen, [RowError(file.path.name, 0, "file", why)], started)
    skipped = [_row(e) for e in result.skipped[:MAX_REPORTED]]
    more = f", {len(result.skipped)} bad rows skipped" if result.skipped else ""
    return LandingReport(
        key=file.key,
        etag=file.etag,
        size=file.size,
        tenant_id=where.tenant,
        profile_id=where.profile,
        status=ImportStatus.IMPORTED,
        format=chosen,
        reason=f"{result.rows} rows imported into {where.profile} as {chosen.value}, "
        f"{result.items_written} items changed{more}",
        rows=result.rows,
        entities=result.entities,
        entities_new=result.entities_new,
        points_written=result.points_written,
        items_changed=result.items_written,
        skipped=skipped,
        finished_at=datetime.now(UTC),
        seconds=round(time.perf_counter() - started, 3),
    )


def _file_name(key: str) -> str:
    name = key.rsplit("/", 1)[-1]
    return name if name not in ("", ".", "..") else "file"


def _options(file: LandedFile) -> LandingOptions:
    try:
        return LandingOptions.model_validate(file.metadata)
    except ValidationError as invalid:
        raise ImportRejected(
            [RowError(file.path.name, 0, _loc(e["loc"]), _message(e)) for e in invalid.errors()]
        ) from None


def _loc(loc: tuple[Any, ...]) -> str:
    return "x-amz-meta-" + (str(loc[0]).replace("_", "-") if loc else "metadata")


def _message(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        known = ", ".join(f.alias or n for n, f in LandingOptions.model_fields.items())
        return f"is not an option (known: {known})"
    return str(error["msg"]).removeprefix("Value error, ")


def _known_profile_kind(where: LandingKey, catalog: CatalogStore) -> ProfileKind | None:
    """The profile's kind when it exists; refuses a tenant the catalog does not know."""
    profiles = catalog.list_profiles(where.tenant)
    if not profiles:
        why = (
            f"tenant {where.tenant!r} is not known here (it has no profile): a tenant is "
            "provisioned, and its first profile created, through the API or `tripwire import`"
        )
        raise ImportRejected([RowError(where.file, 0, "tenant", why)])
    return next((p.kind for p in profiles if p.profile_id == where.profile), None)


def _run(
    chosen: LandingFormat,
    where: LandingKey,
    options: LandingOptions,
    path: Path,
    stores: LandingStores,
) -> ImportReport:
    common: dict[str, Any] = {
        "skip_bad_rows": options.skip_bad_rows,
        "catalog": stores.catalog,
        "metrics": stores.metrics,
    }
    if chosen is LandingFormat.ADS_CONSOLE:
        return import_console_report(
            where.tenant,
            where.profile,
            [path],
            currency=options.currency,
            attribution=options.attribution,
            date_format=options.date_format,
            **common,
        )
    if chosen is LandingFormat.ADS_API:
        return import_api_report(
            where.tenant, where.profile, [path], currency=options.currency, **common
        )
    from tripwire.ingest.ohlcv_csv import import_ohlcv

    return import_ohlcv(
        where.tenant,
        options.market or _market_of(where, stores.catalog),
        [path],
        ticker=options.ticker,
        interval=Interval(options.interval),
        currency=options.currency,
        profile_id=where.profile,
        date_format=options.date_format,
        **common,
    )


def _market_of(where: LandingKey, catalog: CatalogStore) -> str:
    """An existing market profile's market; else the profile id is the market code."""
    _, entities = catalog.get_hierarchy(where.tenant, where.profile)
    markets = [e.entity_id for e in entities if e.entity_type is EntityType.MARKET]
    return markets[0] if len(markets) == 1 else where.profile


def _key_error(bad: BadKey) -> RowError:
    return RowError("key", 0, "key", str(bad))


def _row(error: RowError) -> ReportedRow:
    return ReportedRow(file=error.source, line=error.line, field=error.field, message=error.message)


def _refused(
    file: LandedFile,
    where: LandingKey | None,
    chosen: LandingFormat | None,
    errors: list[RowError],
    started: float,
) -> LandingReport:
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    first = str(errors[0]) if errors else "no rows"
    return LandingReport(
        key=file.key,
        etag=file.etag,
        size=file.size,
        tenant_id=where.tenant if where else None,
        profile_id=where.profile if where else None,
        status=ImportStatus.REFUSED,
        format=chosen,
        reason=f"nothing imported: {first}{more}",
        errors=[_row(e) for e in errors[:MAX_REPORTED]],
        finished_at=datetime.now(UTC),
        seconds=round(time.perf_counter() - started, 3),
    )


# -- the landing function's record handler ---------------------------------------------


def object_keys(body: str, bucket: str) -> list[str]:
    """The created objects' keys an S3 notification (an SQS message body) names.

    S3's ``s3:TestEvent`` (sent when the notification is configured) names none. Keys in
    S3 events are URL-encoded (``+`` for a space)."""
    event = json.loads(body)
    keys = []
    for record in event.get("Records", []):
        if record.get("eventSource") != "aws:s3":
            continue
        if not str(record.get("eventName", "")).startswith("ObjectCreated:"):
            continue
        named = record["s3"]["bucket"]["name"]
        if named != bucket:
            raise ValueError(f"a notification of bucket {named!r}; this function lands {bucket!r}")
        keys.append(unquote_plus(record["s3"]["object"]["key"]))
    return keys


def handle_record(record: SQSRecord) -> None:
    """One message of the landing queue (the landing function's Powertools record handler)."""
    stores = LandingStores()
    for key in object_keys(record.body, stores.landing.bucket):
        land(key, stores)


# -- GET /imports ------------------------------------------------------------------------


def import_reports(
    tenant: str, profile: str | None, limit: int, store: LandingStore | None = None
) -> list[LandingReport]:
    """The tenant's import reports (one profile's, or all), newest first."""
    return (store or LandingStore()).reports(tenant, profile, limit)
