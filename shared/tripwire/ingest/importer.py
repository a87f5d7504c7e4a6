"""`tripwire import`: load an account's entities and metrics into the store.

Order of work: read and validate both files completely, merge the hierarchy with what
the profile already has, roll the leaves up, and only then write — so a bad row leaves
nothing half-written. Writing is a merge keyed by (entity, period): importing the same
files again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from tripwire.domain.entities import Entity, Profile, ProfileKind
from tripwire.domain.metrics import INTEGER_MEASURES, OHLCV_MEASURES, PPC_MEASURES, Interval
from tripwire.ingest.csv_files import Collector, LeafSeries, read_entities, read_ppc_metrics
from tripwire.ingest.errors import ImportRejected, RowError
from tripwire.ingest.rollup import roll_up_levels
from tripwire.store.catalog import CatalogStore
from tripwire.store.metrics import MetricStore


@dataclass
class ImportReport:
    tenant: str
    profile: str
    entities: int = 0
    entities_new: int = 0
    rows: int = 0
    points_written: int = 0  # leaf and rolled-up points offered to the store
    items_written: int = 0  # store items that changed
    skipped: list[RowError] = field(default_factory=list)
    seconds: float = 0.0
    # campaign-level (campaign, day) points that gave way to the day's keyword roll-up
    superseded: int = 0

    def summary(self) -> str:
        lines = [
            f"profile {self.profile}: {self.entities} entities ({self.entities_new} new), "
            f"{self.rows} metric rows, {self.points_written} points incl. roll-ups, "
            f"{self.items_written} items changed in {self.seconds:.1f}s",
        ]
        if self.superseded:
            lines.append(
                f"{self.superseded} campaign-level days came from keyword rows instead "
                "(a campaign's own rows count only where it has no keyword rows)"
            )
        if self.skipped:
            lines.append(f"skipped {len(self.skipped)} bad rows:")
            lines += [f"  {error}" for error in self.skipped]
        return "\n".join(lines)


def import_account(
    tenant: str,
    profile_id: str,
    entities_path: Path,
    metrics_path: Path,
    *,
    interval: Interval = Interval.D1,
    skip_bad_rows: bool = False,
    progress: bool = False,
    catalog: CatalogStore | None = None,
    metrics: MetricStore | None = None,
) -> ImportReport:
    started = datetime.now()
    catalog = catalog or CatalogStore()
    metrics = metrics or MetricStore()
    collector = Collector(skip_bad_rows)

    entities = read_entities(entities_path, collector, progress)
    _, stored = catalog.get_hierarchy(tenant, profile_id)
    merged = {e.entity_id: e for e in stored} | {e.entity_id: e for e in entities}
    leaves, rows = read_ppc_metrics(metrics_path, merged, collector, interval, progress)

    # An existing profile keeps its kind and currency (a CSV names neither).
    profile = catalog.get_profile(tenant, profile_id) or Profile(
        tenant_id=tenant, profile_id=profile_id, kind=ProfileKind.ADS
    )
    return import_parsed(
        profile,
        entities,
        leaves,
        rows=rows,
        skipped=collector.errors,
        interval=interval,
        catalog=catalog,
        metrics=metrics,
        started=started,
    )


def _with_roll_ups(
    tenant: str,
    profile_id: str,
    interval: Interval,
    entities: list[Entity],
    leaves: LeafSeries,
    metrics: MetricStore,
    own: LeafSeries | None = None,
) -> tuple[LeafSeries, int]:
    """The new leaf points plus every ancestor's recomputed points for the touched periods,
    and how many of the parents' own points gave way to their children's sums.

    A parent's point sums all its leaves, including ones stored by earlier imports, so
    stored points are read for the touched range and merged under the new points. A
    parent's own points (a campaign report) stand only where it has no child points.
    """
    own = own or {}
    touched = sorted({p for series in (leaves, own) for ps in series.values() for p in ps})
    if not touched:
        return {}, 0
    start, end = datetime.fromisoformat(touched[0]), datetime.fromisoformat(touched[-1])
    # Parents' stored points matter too: a campaign measured only by campaign reports.
    ids = [e.entity_id for e in entities]
    stored = metrics.read_window(tenant, profile_id, interval, ids, start, end)
    new = {**leaves, **own}
    combined = {e: {**stored.get(e, {}), **new.get(e, {})} for e in ids}
    parents, superseded = roll_up_levels(
        entities, combined, PPC_MEASURES, INTEGER_MEASURES, touched
    )
    gave_way = sum(1 for e, p in superseded if p in own.get(e, {}))
    return {**leaves, **parents}, gave_way


def import_parsed(
    profile: Profile,
    entities: list[Entity],
    leaves: LeafSeries,
    *,
    rows: int,
    skipped: list[RowError],
    interval: Interval = Interval.D1,
    catalog: CatalogStore | None = None,
    metrics: MetricStore | None = None,
    started: datetime | None = None,
    own: LeafSeries | None = None,
) -> ImportReport:
    """The write half of an import, for readers of other formats (Amazon reports, OHLCV).

    Takes rows the reader already validated completely; merges the hierarchy, rolls PPC
    leaves up (OHLCV bars are not additive: tickers only) and writes. A profile that
    exists with another kind or currency is refused before anything is written. ``own``
    holds parents' own points (campaign-level reports), kept where no leaf has the day.
    """
    started = started or datetime.now()
    catalog = catalog or CatalogStore()
    metrics = metrics or MetricStore()
    tenant, profile_id = profile.tenant_id, profile.profile_id
    existing = catalog.get_profile(tenant, profile_id)
    if existing is not None:
        for name in ("kind", "currency"):
            if getattr(existing, name) != getattr(profile, name):
                why = f"profile {profile_id} is {getattr(existing, name)}, this import is "
                raise ImportRejected([RowError(profile_id, 0, name, why + getattr(profile, name))])
    version, stored = catalog.get_hierarchy(tenant, profile_id)
    merged = {e.entity_id: e for e in stored} | {e.entity_id: e for e in entities}
    superseded = 0
    if profile.kind is ProfileKind.MARKET:
        measures, series = OHLCV_MEASURES, leaves
    else:
        measures = PPC_MEASURES
        hierarchy = list(merged.values())
        series, superseded = _with_roll_ups(
            tenant, profile_id, interval, hierarchy, leaves, metrics, own
        )
    if existing is None:
        catalog.put_profile(profile)
    catalog.put_hierarchy(tenant, profile_id, list(merged.values()), expected=version)
    # PPC days are restated: the import's day tells which figures are still first-seen ones
    seen_on = started.date() if profile.kind is not ProfileKind.MARKET else None
    written = metrics.write(tenant, profile_id, interval, measures, series, seen_on)
    return ImportReport(
        tenant=tenant,
        profile=profile_id,
        entities=len(merged),
        entities_new=len(merged) - len(stored),
        rows=rows,
        points_written=written.points,
        items_written=written.items_written,
        skipped=skipped,
        seconds=(datetime.now() - started).total_seconds(),
        superseded=superseded,
    )
