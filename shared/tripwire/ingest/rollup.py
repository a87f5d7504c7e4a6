"""Parents' series are sums of their leaves' series, following ids (not names).

Amazon reports keywords (and campaigns), never portfolios or accounts; Tripwire stores
every level so each can be scanned, and rolls the raw, additive measures up the tree.
Ratios (CTR, CPC, ACOS…) are derived from the rolled-up sums later, never summed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from tripwire.domain.entities import Entity

Series = dict[str, tuple[float, ...]]


def ancestors(entities: Iterable[Entity]) -> dict[str, list[str]]:
    """Each entity's ancestors, nearest first (a parent dict beats graph queries here)."""
    parent = {e.entity_id: e.parent_id for e in entities}
    chains: dict[str, list[str]] = {}
    for entity_id in parent:
        chain, current = [], parent[entity_id]
        while current is not None:
            chain.append(current)
            current = parent.get(current)
        chains[entity_id] = chain
    return chains


def roll_up(
    entities: Sequence[Entity],
    leaves: Mapping[str, Series],
    measures: Sequence[str],
    integer_measures: Iterable[str] = (),
    periods: Iterable[str] | None = None,
) -> dict[str, Series]:
    """Every ancestor's series over ``periods`` (default: every period any leaf has).

    A parent has a point for a period when at least one of its leaves has one.
    """
    wanted = sorted(
        set(periods) if periods is not None else {p for s in leaves.values() for p in s}
    )
    column = {p: i for i, p in enumerate(wanted)}
    chains = ancestors(entities)
    parents = sorted({a for e in leaves for a in chains.get(e, [])})
    row = {p: i for i, p in enumerate(parents)}
    totals = np.zeros((len(parents), len(wanted), len(measures)))
    present = np.zeros((len(parents), len(wanted)), dtype=bool)
    for leaf, points in leaves.items():
        rows = [row[a] for a in chains.get(leaf, [])]
        cols = [column[p] for p in points if p in column]
        if not rows or not cols:
            continue
        values = np.array([points[p] for p in points if p in column], dtype=float)
        for r in rows:
            totals[r, cols] += values
            present[r, cols] = True
    integer = np.array([m in set(integer_measures) for m in measures])
    rounded = np.where(integer, np.rint(totals), np.round(totals, 4))
    result: dict[str, Series] = {}
    for parent, r in row.items():
        result[parent] = {
            wanted[c]: tuple(_plain(v, i) for v, i in zip(rounded[r, c], integer, strict=True))
            for c in np.flatnonzero(present[r])
        }
    return result


def _plain(value: float, integer: bool) -> float:
    # Counts stay ints in storage and JSON; money keeps its cents without float noise.
    return int(value) if integer else float(value)


def roll_up_levels(
    entities: Sequence[Entity],
    points: Mapping[str, Series],
    measures: Sequence[str],
    integer_measures: Iterable[str] = (),
    periods: Iterable[str] | None = None,
) -> tuple[dict[str, Series], set[tuple[str, str]]]:
    """Parents' series where a parent may also have points of its own (a campaign report).

    Bottom-up, a parent's point for a period is the sum of its children's points when any
    child has one, else its own point: a campaign-level row counts only where no keyword
    row exists, and a portfolio sums its campaigns whichever way each was measured.
    ``points`` holds leaves and parents' own points alike. Returns the series of every
    ancestor of ``points`` and of every parent with points, over ``periods``; and the
    (parent, period) pairs whose own point gave way to its children's sum.
    """
    wanted = sorted(
        set(periods) if periods is not None else {p for s in points.values() for p in s}
    )
    column = {p: i for i, p in enumerate(wanted)}
    chains = ancestors(entities)
    children: dict[str, list[str]] = {}
    for entity in entities:
        if entity.parent_id is not None:
            children.setdefault(entity.parent_id, []).append(entity.entity_id)
    shape = (len(wanted), len(measures))
    values: dict[str, np.ndarray] = {}
    present: dict[str, np.ndarray] = {}
    for entity_id, series in points.items():
        cols = [column[p] for p in series if p in column]
        if not cols:
            continue
        values[entity_id] = np.zeros(shape)
        values[entity_id][cols] = [series[p] for p in series if p in column]
        present[entity_id] = np.zeros(len(wanted), dtype=bool)
        present[entity_id][cols] = True
    leaf_ids = {e.entity_id for e in entities if e.is_leaf}
    parents = {a for e in values for a in chains.get(e, [])}
    parents |= {e for e in values if e not in leaf_ids and e in chains}
    superseded: set[tuple[str, str]] = set()
    for parent in sorted(parents, key=lambda p: -len(chains[p])):  # deepest first
        total, covered = np.zeros(shape), np.zeros(len(wanted), dtype=bool)
        for child in children.get(parent, []):
            if child in values:
                total[present[child]] += values[child][present[child]]
                covered |= present[child]
        own, has_own = values.get(parent), present.get(parent)
        if own is not None and has_own is not None:
            superseded |= {(parent, wanted[c]) for c in np.flatnonzero(has_own & covered)}
            total = np.where(covered[:, None], total, own)
            covered = covered | has_own
        values[parent], present[parent] = total, covered
    integer = np.array([m in set(integer_measures) for m in measures])
    result: dict[str, Series] = {}
    for parent in parents:
        rounded = np.where(integer, np.rint(values[parent]), np.round(values[parent], 4))
        result[parent] = {
            wanted[c]: tuple(_plain(v, i) for v, i in zip(rounded[c], integer, strict=True))
            for c in np.flatnonzero(present[parent])
        }
    return result, superseded
