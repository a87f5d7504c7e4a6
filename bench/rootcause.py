"""Time root-cause analysis of one scan of a large profile.

    python bench/rootcause.py [--keywords 10000] [--anomalous 0.01] [--repeat 5] [--seed 0]

Profile: one account, 10 portfolios, keywords / 50 campaigns, the keywords spread evenly.
Anomalous: that share of keywords, half of them as whole paused campaigns (every keyword of
the campaign), half as single keywords with a CPC spike; their campaigns, portfolios and the
account alert too. Prints the graph build time (once per hierarchy version, cached), the
analysis time of the scan (best of ``--repeat``; the target is under 1 s on one core), the
time to group it as incidents continuing over three daily scans (``IncidentBook``, the rule
the scan service persists) and to compute the
onsets (temporal precedence) from those groups.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from tripwire.domain.alerts import Severity
from tripwire.domain.entities import Entity, EntityType
from tripwire.features.ppc import derive
from tripwire.rootcause import IncidentBook, analyse, build_graph
from tripwire.rootcause.grouping import GroupMember


def profile(keywords: int) -> list[Entity]:
    campaigns = max(1, keywords // 50)
    out = [Entity(entity_id="A1", entity_type=EntityType.ACCOUNT)]
    out += [
        Entity(entity_id=f"P{p}", entity_type=EntityType.PORTFOLIO, parent_id="A1")
        for p in range(10)
    ]
    out += [
        Entity(entity_id=f"C{c}", entity_type=EntityType.CAMPAIGN, parent_id=f"P{c % 10}")
        for c in range(campaigns)
    ]
    out += [
        Entity(entity_id=f"K{k}", entity_type=EntityType.KEYWORD, parent_id=f"C{k % campaigns}")
        for k in range(keywords)
    ]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keywords", type=int, default=10_000)
    parser.add_argument("--anomalous", type=float, default=0.01)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    entities = profile(args.keywords)
    started = time.perf_counter()
    graph = build_graph(entities)
    built = time.perf_counter() - started
    n = len(graph)
    leaf = np.array([e.entity_type is EntityType.KEYWORD for e in entities])
    raw_exp = np.zeros((n, 5))
    imp = rng.lognormal(4.0, 1.5, leaf.sum())
    clicks = imp * 0.02
    raw_exp[leaf] = np.stack([imp, clicks, clicks * 0.8, clicks * 0.1 * 30, clicks * 0.1], 1)
    noise = rng.lognormal(0.0, 0.1, raw_exp.shape)
    raw_act = raw_exp * noise
    keyword_rows = np.flatnonzero(leaf)
    want = round(float(args.anomalous) * int(leaf.sum()))
    campaigns = [i for i, e in enumerate(entities) if e.entity_type is EntityType.CAMPAIGN]
    moved: list[int] = []
    for c in rng.permutation(campaigns).tolist():
        if len(moved) >= want // 2:
            break
        kids = graph.children_rows(c).tolist()
        raw_act[kids] *= 0.03
        moved += kids
    singles = rng.choice(np.setdiff1d(keyword_rows, moved), want - len(moved), replace=False)
    raw_act[singles, 2] *= 3.0
    moved += singles.tolist()
    for row in np.argsort(-graph.depth, kind="stable").tolist():
        parent = int(graph.parent_index[row])
        if parent >= 0:
            raw_exp[parent] += raw_exp[row]
            raw_act[parent] += raw_act[row]
    exp, act = derive(raw_exp), derive(raw_act)
    dev = (act - exp) / np.sqrt(np.maximum(exp, 1.0))
    alerting = np.zeros(n, dtype=bool)
    alerting[moved] = True
    for row in moved:
        alerting[graph.ancestor_rows(row)] = True
    previous = rng.integers(0, 2, n) * alerting

    best = float("inf")
    for _ in range(args.repeat):
        started = time.perf_counter()
        causes = analyse(graph, graph.ids, alerting, dev, exp, act, previous)
        best = min(best, time.perf_counter() - started)
    members = [GroupMember(e, "2026-11-20", Severity.HIGH, tuple(r)) for e, r in causes.items()]
    book, days = IncidentBook(), ("2026-11-20", "2026-11-21", "2026-11-22")
    started = time.perf_counter()
    for day in days:
        book.add([GroupMember(m.entity_id, day, m.severity, m.root_causes) for m in members])
    continued = (time.perf_counter() - started) / len(days)
    started = time.perf_counter()
    onsets = book.onsets("2026-11-23", graph.ids)
    onset_time = time.perf_counter() - started
    print(
        f"{args.keywords:,} keywords ({n:,} entities), {len(moved)} anomalous keywords, "
        f"{int(alerting.sum())} alerting entities"
    )
    print(f"graph build   {1000 * built:8.1f} ms (cached per hierarchy version)")
    print(f"analyse       {1000 * best:8.1f} ms (best of {args.repeat}; target < 1000 ms)")
    print(
        f"incidents     {1000 * continued:8.1f} ms per daily scan "
        f"(3 scans → {len(book.groups())} groups, {int(onsets.astype(bool).sum())} with onsets)"
    )
    print(f"onsets        {1000 * onset_time:8.1f} ms")


if __name__ == "__main__":
    main()
