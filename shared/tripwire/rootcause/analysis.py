"""Ranked root causes for every alerting entity of one scan period.

Inputs are the scan's arrays (rows in ``entity_ids`` order): the alert mask, deviations
(n, 10) in ``FEATURES`` order, expected and actual values (natural units), and optionally how
many consecutive periods right before this one each entity was already alerting (its onset).

Rules, applied per alerting entity ``e`` on its leading features (those deviating at least
half as much as its strongest one, up to three, each with its own direction):

1. **Sibling anomaly ratio (inherited cause).** For every node, the share of its *eligible*
   children (busy enough on that feature to show a move; a ratio over nothing is not: a
   keyword without clicks this period has no CPC) that moved the same way this period is
   computed for all nodes at once. The highest ancestor of ``e`` where most children moved
   (share ≥ ``SPREAD_SHARE`` = 0.7 and at least two movers) is the cause, relation ``ancestor``
   with its hop count. An aggregate whose own children mostly moved is its own cause.
   Inheritance is transitive: inherited from a campaign that itself (as an alerting entity
   of the same scan) inherited from its portfolio is inherited from the portfolio.
2. **Contribution (one child drives an aggregate).** For an aggregate whose move is not
   spread, the child explaining the largest share of its deviation on the additive measure
   carrying the feature (child's actual − expected over the parent's) is followed down while
   it explains at least ``DRIVER_SHARE``: that descendant is the cause (``descendant``).
   Derived features are carried by an additive one: CTR by clicks, CPC by spend, CVR by
   orders, ACOS and ROAS by whichever of spend (up) and sales (down) moved more.
   Conversions that stopped are judged over the aggregate's evidence run, not the day
   (``shortfall``, ``run_periods``: the conversion CUSUM's): one day of a stopped keyword is
   within its campaign's noise, so the day's deficit may name no driver while the run's
   does. A child explaining ``DRIVER_SHARE`` of the run's orders shortfall, while the rest
   of the parent lost at most ``REST_SHARE`` as large a share of its expected orders as the
   child did (a stop concentrated in it, not one spread in proportion to orders), drives
   the parent — ahead of a spread verdict (a sibling or two with weak evidence of their own
   count as movers) — and the parent is no inherited cause of that child's alert, nor of
   one off that child's branch. The rest's loss is judged with its Poisson noise
   (``NOISE_SIGMAS``): a few orders missing where a few were expected are chance.
3. **Temporal precedence.** A related entity (an ancestor moving the same way, or the
   driving descendant) whose anomaly began earlier than ``e``'s gains confidence, one whose
   anomaly began later loses some: a cause precedes or coincides with its effect. An earlier
   onset only counts for related moves: not a sibling's, nor an ancestor's of which ``e`` is
   a speck (under ``MIN_LINK_SHARE`` of its move) — an account anomalous for days for other
   reasons is not the cause of one keyword's surge today. Onsets come from the alerts of the
   periods before (``tripwire.rootcause.incidents.onset_runs``; stored groups in the scan).
4. **Cannibalisation (sibling).** A fall of ``e`` on a volume measure (impressions, clicks,
   spend, sales, orders) that a sibling's anomalous rise offsets, while their parent holds
   steady, was taken by that sibling — traffic moved, it was not lost (a new or re-bid keyword
   winning the auctions its sibling used to win). The sibling is the cause, relation
   ``sibling``, 2 hops (up to the parent, down to the sibling).
5. **Derived measures** are explained in the sentence by their components: ACOS by CPC and
   CVR, ROAS likewise, CPC by spend and clicks, CVR by orders and clicks, CTR by clicks and
   impressions ("ACOS rose 310% because CVR fell 96%, not because CPC rose 2%").

Everything that touches every entity is vectorised (the share matrices are two
``np.add.at`` calls); the per-alert work is a few array lookups along a ≤ 3-hop chain.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from tripwire.domain.alerts import Relation, RootCause, entity_label
from tripwire.domain.entities import EntityType
from tripwire.features.ppc import FEATURES, INDEX
from tripwire.rootcause.graph import EntityGraph

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

SPREAD_SHARE = 0.7  # share of a node's eligible children moving the same way: a shared cause
MIN_MOVERS = 2  # a "most children" verdict needs at least this many movers
DRIVER_SHARE = 0.5  # a child explaining this share of its parent's move drives it
MOVE_DEVIATION = 1.0  # |standardised deviation| of a child counted as moving
MOVE_RELATIVE = 0.2  # … and at least this relative change
LEAD_FEATURE_RATIO = 0.5  # features within this ratio of the strongest one lead the analysis
LEAD_FEATURES = 3
PRECEDENCE_BONUS = 0.3
LATE_PENALTY = 0.1
MAX_CAUSES = 3
STEADY = 0.05  # a component that moved less than this relative change "held steady"
MIN_CONFIDENCE = 0.05  # weaker alternatives are not listed
ECHO_FACTOR = 0.8  # a shared move below the highest one echoes it
OFFSET_SHARE = 0.75  # a sibling's rise offsetting this share of a fall took it…
STEADY_PARENT = 0.25  # …when the parent's net move is at most this share of the fall
MIN_LINK_SHARE = 0.1  # an ancestor earlier anomalous counts if this entity is ≥ this of its move
REST_SHARE = 0.5  # a stop is one child's when the rest lost ≤ this of the child's relative share
NOISE_SIGMAS = 2.0  # a loss is judged beyond this many Poisson sd of the orders expected

_I, _C, _S, _SA, _O = (INDEX[m] for m in ("impressions", "clicks", "spend", "sales", "orders"))
# Volume that must be expected for a feature's move to be visible, and how much of it.
_VOLUME: dict[str, tuple[int, float]] = {
    "impressions": (_I, 10.0),
    "clicks": (_C, 1.0),
    "spend": (_C, 1.0),
    "sales": (_O, 0.3),
    "orders": (_O, 0.3),
    "ctr": (_I, 10.0),
    "cpc": (_C, 1.0),
    "acos": (_C, 1.0),
    "cvr": (_C, 1.0),
    "roas": (_C, 1.0),
}
# Derived feature → the measure it is a ratio over (ACOS over sales is capped, not undefined)
_DENOMINATORS: dict[str, int] = {"ctr": _I, "cpc": _C, "cvr": _C, "acos": _S, "roas": _S}
# Derived feature → (component, sign of its effect on the feature)
_COMPONENTS: dict[str, tuple[tuple[str, int], ...]] = {
    "ctr": (("clicks", 1), ("impressions", -1)),
    "cpc": (("spend", 1), ("clicks", -1)),
    "acos": (("cpc", 1), ("cvr", -1)),
    "cvr": (("orders", 1), ("clicks", -1)),
    "roas": (("cvr", 1), ("cpc", -1)),
}
# Additive measures that can carry a feature's move: (measure, sign relating the two).
_CARRIERS: dict[str, tuple[tuple[int, int], ...]] = {
    "impressions": ((_I, 1),),
    "clicks": ((_C, 1),),
    "spend": ((_S, 1),),
    "sales": ((_SA, 1),),
    "orders": ((_O, 1),),
    "ctr": ((_C, 1),),
    "cpc": ((_S, 1),),
    "cvr": ((_O, 1),),
    "acos": ((_S, 1), (_SA, -1)),
    "roas": ((_SA, 1), (_S, -1)),
}
_DISPLAY = {f: f.upper() if f in _COMPONENTS else f for f in FEATURES}
_PLURAL = {t: f"{t.value}s" for t in EntityType}


@dataclass(frozen=True)
class _Scan:
    """The scan's arrays in graph row order plus the all-entity share matrices."""

    deviation: FloatArray
    expected: FloatArray
    actual: FloatArray
    relative: FloatArray
    onset: npt.NDArray[np.int64]
    alerting: BoolArray
    eligible_children: FloatArray  # (N, 10)
    movers_up: FloatArray  # (N, 10)
    movers_down: FloatArray  # (N, 10)
    expected_orders: FloatArray | None = None  # (N, span): orders expected, last k+1 periods
    shortfall: FloatArray | None = None  # (N, span): orders expected − seen, last k+1 periods
    run_periods: npt.NDArray[np.int64] | None = None  # (N,) each entity's evidence run
    sentences: dict[tuple[object, ...], str] = field(default_factory=dict)  # per-scan memo


@dataclass(frozen=True)
class _Spread:
    share: float
    movers: int
    eligible: int
    feature: int
    sign: int

    @property
    def is_shared(self) -> bool:
        return self.share >= SPREAD_SHARE and self.movers >= MIN_MOVERS


def analyse(
    graph: EntityGraph,
    entity_ids: Sequence[str],
    alerting: npt.ArrayLike,
    deviation: npt.ArrayLike,
    expected: npt.ArrayLike,
    actual: npt.ArrayLike,
    previous: npt.ArrayLike | None = None,
    *,
    max_causes: int = MAX_CAUSES,
    expected_orders: npt.ArrayLike | None = None,
    shortfall: npt.ArrayLike | None = None,
    run_periods: npt.ArrayLike | None = None,
) -> dict[str, list[RootCause]]:
    """Alerting entity id → its root causes, most likely first (never empty).

    ``previous`` (n,): for each entity, how many consecutive periods right before this one
    it was alerting (a bool "alerted last period" works too); None means no history.
    ``expected_orders``, ``shortfall`` (n, span) and ``run_periods`` (n,): orders expected,
    and expected minus seen, over the last 1..span periods, and how many periods each
    entity's evidence run of stopped conversions has lasted (0: none) — the conversion
    CUSUM's (``detection.cusum.CusumResult``).
    """
    scan = _prepare(graph, entity_ids, alerting, deviation, expected, actual, previous)
    if expected_orders is not None and shortfall is not None and run_periods is not None:
        rows = _rows(graph, entity_ids)

        def place(values: npt.ArrayLike) -> FloatArray:
            arr = np.asarray(values, dtype=np.float64)
            full = np.zeros((len(graph), *arr.shape[1:]))
            full[rows] = arr
            return full

        scan = replace(
            scan,
            expected_orders=place(expected_orders),
            shortfall=place(shortfall),
            run_periods=place(run_periods).astype(np.int64),
        )
    out: dict[str, list[RootCause]] = {}
    rows = np.flatnonzero(scan.alerting)
    # ancestors first, so an inherited cause is followed to its end (``_follow``)
    for row in rows[np.argsort(graph.depth[rows], kind="stable")].tolist():
        out[graph.ids[row]] = _follow(out, _causes(graph, scan, row, max_causes), max_causes)
    return {e: _through(graph, out, e, ranked, max_causes) for e, ranked in out.items()}


def _through(
    graph: EntityGraph,
    done: Mapping[str, list[RootCause]],
    entity: str,
    ranked: list[RootCause],
    limit: int,
) -> list[RootCause]:
    """A cause whose own cause is an ancestor of ``entity`` is that ancestor's: a portfolio
    whose move is its campaign's, where the campaign's is the account's, is the account's
    (ancestors are followed as they are ranked, ``_follow``; this closes the loop through
    a descendant, which is ranked after its ancestors)."""
    top, seen = ranked[0], {entity}
    end = top
    while end.entity_id not in seen and done.get(end.entity_id):
        seen.add(end.entity_id)
        nxt = done[end.entity_id][0]
        if nxt.entity_id == end.entity_id:
            break
        end = nxt
    if end is top or not _is_ancestor(graph, end.entity_id, entity):
        return ranked
    hops = int(graph.depth[graph.index[entity]] - graph.depth[graph.index[end.entity_id]])
    return _inherited(ranked, end, hops, limit)


def _is_ancestor(graph: EntityGraph, candidate: str, entity: str) -> bool:
    node = graph.parent_of.get(entity)
    while node is not None:
        if node == candidate:
            return True
        node = graph.parent_of.get(node)
    return False


def _follow(
    done: Mapping[str, list[RootCause]], ranked: list[RootCause], limit: int
) -> list[RootCause]:
    """Inheritance is transitive: inherited from a campaign that itself inherited from its
    portfolio is inherited from the portfolio (a keyword may lead on a measure its portfolio's
    campaigns did not all move on, while its campaign's leading measures say "portfolio")."""
    top = ranked[0]
    above = done.get(top.entity_id)
    if top.relation is not Relation.ANCESTOR or not above:
        return ranked
    higher = above[0]
    if higher.relation is not Relation.ANCESTOR:
        return ranked
    return _inherited(ranked, higher, top.hops + higher.hops, limit)


def _inherited(ranked: list[RootCause], end: RootCause, hops: int, limit: int) -> list[RootCause]:
    """``ranked`` with its top cause followed to ``end``, an ancestor ``hops`` levels up."""
    top = ranked[0]
    detail = end.sentence.split(": ", 1)[-1]
    via = f"{top.entity_type.value} {top.entity_id}"
    head = f"Inherited from {end.entity_type.value} {end.entity_id}"
    followed = RootCause.model_construct(
        entity_id=end.entity_id,
        entity_type=end.entity_type,
        entity_name=end.entity_name,
        relation=Relation.ANCESTOR,
        hops=hops,
        confidence=top.confidence,
        sentence=f"{head} ({_levels(hops)} up, through {via}): {detail}",
    )
    rest = [c for c in ranked if c.entity_id != end.entity_id]
    return [followed, *rest][:limit]


# -- vectorised preparation -------------------------------------------------------------


def _rows(graph: EntityGraph, entity_ids: Sequence[str]) -> npt.NDArray[np.int64]:
    if tuple(entity_ids) == graph.ids:
        return np.arange(len(graph))
    try:
        return np.array([graph.index[e] for e in entity_ids], dtype=np.int64)
    except KeyError as missing:
        raise ValueError(f"entity {missing} is not in the graph") from None


def _prepare(
    graph: EntityGraph,
    entity_ids: Sequence[str],
    alerting: npt.ArrayLike,
    deviation: npt.ArrayLike,
    expected: npt.ArrayLike,
    actual: npt.ArrayLike,
    previous: npt.ArrayLike | None,
) -> _Scan:
    n_graph, width = len(graph), len(FEATURES)
    dev_in = np.asarray(deviation, dtype=np.float64)
    if dev_in.shape != (len(entity_ids), width):
        raise ValueError(f"deviations must be ({len(entity_ids)}, {width}), got {dev_in.shape}")
    rows = _rows(graph, entity_ids)

    def place(values: npt.ArrayLike, fill: float = 0.0) -> FloatArray:
        arr = np.asarray(values, dtype=np.float64)
        full = np.full((n_graph, *arr.shape[1:]), fill)
        full[rows] = arr
        return full

    dev, exp, act = place(dev_in), place(expected), place(actual)
    alert = np.zeros(n_graph, dtype=bool)
    alert[rows] = np.asarray(alerting, dtype=bool)
    onset = np.zeros(n_graph, dtype=np.int64)
    if previous is not None:
        onset[rows] = np.asarray(previous).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(exp > 0, (act - exp) / np.where(exp > 0, exp, 1.0), np.sign(act) * 1e9)
    volume_col = np.array([_VOLUME[f][0] for f in FEATURES])
    volume_min = np.array([_VOLUME[f][1] for f in FEATURES])
    eligible = exp[:, volume_col] >= volume_min
    # a ratio over nothing did not move: no clicks this period, no CPC (nor CVR) to judge
    for feature, denominator in _DENOMINATORS.items():
        eligible[:, INDEX[feature]] &= act[:, denominator] > 0
    up = eligible & (dev >= MOVE_DEVIATION) & (rel >= MOVE_RELATIVE)
    down = eligible & (dev <= -MOVE_DEVIATION) & (rel <= -MOVE_RELATIVE)
    has_parent = graph.parent_index >= 0
    parents = graph.parent_index[has_parent]
    counts = np.zeros((3, n_graph, width))
    for k, mask in enumerate((eligible, up, down)):
        np.add.at(counts[k], parents, mask[has_parent].astype(np.float64))
    return _Scan(dev, exp, act, rel, onset, alert, counts[0], counts[1], counts[2])


# -- per alert ----------------------------------------------------------------------------


@dataclass
class _Candidate:
    row: int
    relation: Relation
    hops: int
    confidence: float
    sentence: str
    effect: bool = False  # moved because of the alerting entity: never its cause
    link: float = 1.0  # share of the candidate's move the alerting entity's own move makes
    window: int = 0  # periods of the evidence run the move was judged over (0: the period)


def _lead_features(dev: FloatArray) -> list[tuple[int, int]]:
    strength = np.abs(dev)
    top = float(strength.max()) if strength.size else 0.0
    if top <= 0:
        return []
    order = np.argsort(-strength, kind="stable")[:LEAD_FEATURES]
    return [
        (int(f), 1 if dev[f] > 0 else -1)
        for f in order.tolist()
        if strength[f] >= LEAD_FEATURE_RATIO * top
    ]


def _spread(scan: _Scan, node: int, leads: list[tuple[int, int]]) -> _Spread | None:
    best: _Spread | None = None
    for f, s in leads:
        eligible = int(scan.eligible_children[node, f])
        if eligible == 0:
            continue
        movers = int((scan.movers_up if s > 0 else scan.movers_down)[node, f])
        spread = _Spread(movers / eligible, movers, eligible, f, s)
        if best is None or (spread.share, spread.movers) > (best.share, best.movers):
            best = spread
    return best


def _causes(graph: EntityGraph, scan: _Scan, row: int, limit: int) -> list[RootCause]:
    leads = _lead_features(scan.deviation[row])
    candidates: list[_Candidate] = []
    if not leads:
        return [
            _root(
                graph,
                _Candidate(row, Relation.SELF, 0, 0.3, _self_sentence(graph, scan, row, None)),
            )
        ]
    f0, s0 = leads[0]
    chain = graph.ancestor_rows(row)
    # 1. inherited from the highest ancestor whose children mostly moved the same way
    for hops, anc in enumerate(chain, start=1):
        spread = _spread(scan, anc, leads)
        if (
            spread is not None
            and spread.is_shared
            and not _carries_stop(scan, row, anc, f0, s0)
            and not _stop_elsewhere(graph, scan, anc, row)
        ):
            confidence = _spread_confidence(spread)
            key = ("inherited", anc, hops, spread.feature, spread.sign)
            sentence = scan.sentences.get(key) or scan.sentences.setdefault(
                key, _inherited_sentence(graph, scan, anc, hops, spread)
            )
            candidates.append(_Candidate(anc, Relation.ANCESTOR, hops, confidence, sentence))
        elif _moves_with(scan, anc, f0, s0):
            # a weak candidate: moving the same way, but not across its children
            share = _share_of(scan, row, anc, f0, s0)
            confidence = 0.35 * (1.0 - min(1.0, max(0.0, share)))
            sentence = _weak_ancestor_sentence(graph, scan, anc, hops, f0)
            # when this entity explains most of the ancestor's move, the ancestor is its effect
            weak = _Candidate(anc, Relation.ANCESTOR, hops, confidence, sentence)
            weak.effect = share >= DRIVER_SHARE
            weak.link = share
            candidates.append(weak)
    taker = _cannibal(graph, scan, row, f0, s0)
    if taker is not None:
        candidates.append(taker)
    own = _spread(scan, row, leads) if graph.children_rows(row).size else None
    driver = _driver(graph, scan, row, leads) if graph.children_rows(row).size else None
    if own is not None and own.is_shared and (driver is None or not driver.window):
        sentence = _spread_self_sentence(graph, scan, row, own)
        candidates.append(_Candidate(row, Relation.SELF, 0, _spread_confidence(own), sentence))
    elif driver is not None:
        candidates.append(driver)
    # the highest node whose children mostly moved is the cause; nearer ones only echo it
    shared = [
        c
        for c in candidates
        if c.relation in (Relation.ANCESTOR, Relation.SELF) and c.confidence >= 0.5
    ]
    if shared:
        highest = max(shared, key=lambda c: c.hops)
        for cand in shared:
            if cand is not highest:
                cand.confidence *= ECHO_FACTOR
    self_conf = 0.5 if not graph.children_rows(row).size else 0.4
    candidates.append(
        _Candidate(row, Relation.SELF, 0, self_conf, _self_sentence(graph, scan, row, f0))
    )
    # 3. temporal precedence
    for cand in candidates:
        if cand.row == row:
            continue
        lead = int(scan.onset[cand.row]) - int(scan.onset[row])
        if lead > 0 and cand.relation is Relation.ANCESTOR and not cand.effect:
            cand.effect = _explained_elsewhere(graph, scan, cand.row, row, chain)
        # an earlier onset links only entities whose moves are related: not a sibling that
        # happened to move first, nor an ancestor this entity is a speck of
        related = cand.relation is not Relation.SIBLING and cand.link >= MIN_LINK_SHARE
        if lead > 0 and not cand.effect and related:
            # a related entity anomalous earlier is preferred over the entity itself
            cand.confidence = max(cand.confidence, self_conf) + PRECEDENCE_BONUS
            cand.sentence += f" (anomalous {_periods(lead)} earlier)"
        elif lead < 0:
            cand.confidence -= LATE_PENALTY
    # the highest ancestor with a shared move wins over nearer ones at equal confidence
    ranked = sorted(candidates, key=lambda c: (-round(c.confidence, 6), -c.hops))
    seen: set[int] = set()
    out: list[RootCause] = []
    for cand in ranked:
        if cand.row in seen or (out and cand.confidence < MIN_CONFIDENCE):
            continue
        seen.add(cand.row)
        out.append(_root(graph, cand))
        if len(out) >= limit:
            break
    return out


_VOLUMES = {_I, _C, _S, _SA, _O}
_STOP_CARRIERS = {_SA, _O}  # what stopped conversions move, judged over the evidence run


def _cannibal(graph: EntityGraph, scan: _Scan, row: int, f: int, s: int) -> _Candidate | None:
    """The sibling whose anomalous rise took ``row``'s fall, its parent holding steady."""
    parent = int(graph.parent_index[row])
    if parent < 0 or s > 0:
        return None
    measure, direction = _carrier(scan, row, f, s)
    fall = float(_delta(scan, row, measure))
    if measure not in _VOLUMES or direction > 0 or fall >= 0:
        return None
    if abs(float(_delta(scan, parent, measure))) > STEADY_PARENT * -fall:
        return None
    siblings = graph.children_rows(parent)
    siblings = siblings[siblings != row]
    rises = _delta(scan, siblings, measure)
    # the sibling must have moved anomalously itself, not just drifted up
    moved = scan.alerting[siblings] | (scan.deviation[siblings, measure] >= 2 * MOVE_DEVIATION)
    moved &= scan.relative[siblings, measure] >= MOVE_RELATIVE
    rises = np.where(moved, rises, 0.0)
    if not rises.size or rises.max() < OFFSET_SHARE * -fall:
        return None
    best = int(np.argmax(rises))
    sibling, offset = int(siblings[best]), min(1.0, float(rises[best]) / -fall)
    name = FEATURES[measure]
    sentence = (
        f"Cannibalised by sibling {_name(graph, sibling)} (same {_name(graph, parent)}): "
        f"{name} fell {-fall:,.4g} here while it gained {float(rises[best]):,.4g} "
        f"({_move(scan, sibling, measure)}), and {_name(graph, parent)} held "
        f"({_move(scan, parent, measure)})"
    )
    return _Candidate(sibling, Relation.SIBLING, 2, 0.55 + 0.4 * offset, sentence)


def _explained_elsewhere(
    graph: EntityGraph, scan: _Scan, anc: int, row: int, chain: list[int]
) -> bool:
    """Is the ancestor's own move driven by a descendant off ``row``'s branch? Then it is
    anomalous for another reason, and its earlier onset says nothing about ``row``."""
    leads = _lead_features(scan.deviation[anc])
    if not leads:
        return False
    driver = _driver(graph, scan, anc, leads)
    if driver is None:
        return False
    return (
        driver.row != row
        and driver.row not in chain
        and row not in set(graph.ancestor_rows(driver.row))
    )


def _root(graph: EntityGraph, cand: _Candidate) -> RootCause:
    # fields are valid by construction (ids from the graph, confidence clipped): skip validation
    return RootCause.model_construct(
        entity_id=graph.ids[cand.row],
        entity_type=graph.types[cand.row],
        entity_name=graph.names[cand.row],
        relation=cand.relation,
        hops=cand.hops,
        confidence=float(min(1.0, max(0.0, cand.confidence))),
        sentence=cand.sentence,
    )


def _spread_confidence(spread: _Spread) -> float:
    # more eligible children → firmer verdict; higher ancestors rank first on ties
    return (0.5 + 0.45 * spread.share) * (1.0 - 0.5 ** (spread.eligible + 1))


def _moves_with(scan: _Scan, node: int, f: int, s: int) -> bool:
    return bool(scan.alerting[node] or s * scan.deviation[node, f] >= MOVE_DEVIATION)


def _carrier(scan: _Scan, node: int, f: int, s: int) -> tuple[int, int]:
    """The additive measure carrying feature ``f``'s move at ``node``, and its direction."""
    options = _CARRIERS[FEATURES[f]]
    measure, sign = max(options, key=lambda o: o[1] * s * scan.deviation[node, o[0]])
    return measure, sign * s


def _delta(
    scan: _Scan, node: int | npt.NDArray[np.int64], measure: int, window: int = 0
) -> FloatArray:
    """Actual − expected on ``measure``: the scanned period's, or over the last ``window``
    periods of the conversion CUSUM's orders (``_judged``)."""
    if window and scan.shortfall is not None:
        return np.asarray(-scan.shortfall[node, window - 1])
    return np.asarray(scan.actual[node, measure] - scan.expected[node, measure])


def _judged(scan: _Scan, node: int, measure: int) -> tuple[int, int]:
    """The measure and window ``node``'s move is judged on: a conversion stop (orders or
    sales down, with an evidence run at ``node``) over the run's orders, else the period's."""
    if scan.run_periods is None or measure not in _STOP_CARRIERS:
        return measure, 0
    window = int(scan.run_periods[node])
    return (_O, window) if window else (measure, 0)


def _stop_share(scan: _Scan, child: int, parent: int, window: int) -> float:
    """The share of ``parent``'s orders shortfall over ``window`` periods ``child``
    explains, or 0 when the rest of the parent lost more than ``REST_SHARE`` as large a share
    of its expected orders as the child did beyond noise (a stop spread in proportion, not
    the child's)."""
    assert scan.shortfall is not None and scan.expected_orders is not None
    k = window - 1
    total, part = float(scan.shortfall[parent, k]), float(scan.shortfall[child, k])
    expected, own = float(scan.expected_orders[parent, k]), float(scan.expected_orders[child, k])
    if total <= 0 or own <= 0:
        return 0.0
    allowed = REST_SHARE * part / own  # the largest share of its orders the rest may lose
    return part / total if _within(total - part, expected - own, allowed) else 0.0


def _within(lost: float, expected: float, share: float) -> bool:
    """Could orders ``expected`` with ``lost`` of them missing have lost at most ``share``?
    One-sided, to ``NOISE_SIGMAS`` Poisson sd: the rest of a campaign expecting 3 orders over
    two days and seeing 1 has lost nothing it could not lose by chance, so it does not turn
    one keyword's stop into a spread one."""
    if expected <= 0:
        return True
    kept = expected * (1.0 - share)  # what it would see had it lost exactly ``share``
    return expected - lost >= kept - NOISE_SIGMAS * float(np.sqrt(kept))


def _carries_stop(scan: _Scan, row: int, anc: int, f: int, s: int) -> bool:
    """Does ``row`` carry the stop its ancestor is judged on over the ancestor's run?"""
    measure, direction = _carrier(scan, anc, f, s)
    if direction > 0:
        return False
    _, window = _judged(scan, anc, measure)
    return bool(window) and _stop_share(scan, row, anc, window) >= DRIVER_SHARE


def _stop_elsewhere(graph: EntityGraph, scan: _Scan, anc: int, row: int) -> bool:
    """Is the ancestor's move a stop a descendant off ``row``'s branch carries? That is the
    ancestor's own verdict, ahead of its children moving with it (``_causes``), so the
    ancestor is no inherited cause of ``row``: the account whose orders fell because one
    campaign's stopped is not why a sibling campaign dipped the same day."""
    leads = _lead_features(scan.deviation[anc])
    if not leads:
        return False
    driver = _driver(graph, scan, anc, leads)
    if driver is None or not driver.window or driver.row == row:
        return False
    return row not in graph.ancestor_rows(driver.row)


def _share_of(scan: _Scan, child: int, parent: int, f: int, s: int) -> float:
    """How much of ``parent``'s move on f's carrier ``child``'s own move explains."""
    measure, direction = _carrier(scan, parent, f, s)
    measure, window = _judged(scan, parent, measure) if direction < 0 else (measure, 0)
    total = float(_delta(scan, parent, measure, window))
    return float(_delta(scan, child, measure, window)) / total if total else 0.0


def _driver(
    graph: EntityGraph, scan: _Scan, row: int, leads: list[tuple[int, int]]
) -> _Candidate | None:
    """Follow the child explaining most of the move down while it explains enough."""
    f, s = leads[0]
    measure, direction = _carrier(scan, row, f, s)
    measure, window = _judged(scan, row, measure) if direction < 0 else (measure, 0)
    total = float(_delta(scan, row, measure, window))
    if total == 0 or direction * total <= 0:
        return None
    node, hops, share = row, 0, 1.0
    while True:
        children = graph.children_rows(node)
        if children.size == 0:
            break
        node_total = float(_delta(scan, node, measure, window))
        if node_total == 0:
            break
        if window:  # a stop over the run: the child that carries it, concentrated
            shares = np.array([_stop_share(scan, int(c), node, window) for c in children])
        else:
            shares = _delta(scan, children, measure, window) / node_total
        best = int(np.argmax(shares))
        if shares[best] < DRIVER_SHARE:
            break
        if not window and hops and (spread := _spread(scan, node, leads)) and spread.is_shared:
            break
        node, hops = int(children[best]), hops + 1
        share = float(_delta(scan, node, measure, window)) / total
    if hops == 0:
        return None
    confidence = 0.3 + 0.65 * min(1.0, max(0.0, share))
    over = f" over the last {_periods(window)}" if window else ""
    sentence = (
        f"Driven by {_name(graph, node)} ({_levels(hops)} down): it explains "
        f"{100 * min(share, 9.99):.0f}% of the {FEATURES[measure]} "
        f"{'rise' if total > 0 else 'fall'} here{over} ({total:+,.2f}); "
        f"{_move(scan, node, f)}{_because(scan, node, f)}"
    )
    return _Candidate(node, Relation.DESCENDANT, hops, confidence, sentence, window=window)


# -- sentences ---------------------------------------------------------------------------


def _name(graph: EntityGraph, row: int) -> str:
    return entity_label(graph.types[row].value, graph.ids[row], graph.names[row])


def _levels(hops: int) -> str:
    return f"{hops} level{'s' if hops != 1 else ''}"


def _periods(n: int) -> str:
    return f"{n} period{'s' if n != 1 else ''}"


def _move(scan: _Scan, row: int, f: int) -> str:
    name = _DISPLAY[FEATURES[f]]
    exp, act = float(scan.expected[row, f]), float(scan.actual[row, f])
    if exp <= 0:
        return f"{name} rose from 0 to {act:,.4g}" if act > 0 else f"{name} stayed at 0"
    change = (act - exp) / exp
    verb = "rose" if change > 0 else "fell"
    return f"{name} {verb} {100 * abs(change):,.0f}%"


def _because(scan: _Scan, row: int, f: int) -> str:
    """For a derived feature: which component moved it, and which did not."""
    components = _COMPONENTS.get(FEATURES[f])
    if not components:
        return ""
    s = 1 if scan.deviation[row, f] >= 0 else -1
    pushes = [(sign * s * scan.deviation[row, INDEX[c]], c) for c, sign in components]
    pushes.sort(reverse=True)
    (main_push, main), (_, other) = pushes[0], pushes[-1]
    if main_push <= 0:
        return ""
    exp, act = scan.expected[row, INDEX[other]], scan.actual[row, INDEX[other]]
    if exp > 0 and abs(act - exp) < STEADY * exp:
        return f" because {_move(scan, row, INDEX[main])}, with {_DISPLAY[other]} steady"
    return f" because {_move(scan, row, INDEX[main])}, not because {_move(scan, row, INDEX[other])}"


def _children_phrase(graph: EntityGraph, row: int, spread: _Spread) -> str:
    kinds = {graph.types[c] for c in graph.children_rows(row).tolist()}
    noun = _PLURAL[next(iter(kinds))] if len(kinds) == 1 else "children"
    return f"across {spread.movers} of {spread.eligible} {noun}"


def _inherited_sentence(
    graph: EntityGraph, scan: _Scan, anc: int, hops: int, spread: _Spread
) -> str:
    return (
        f"Inherited from {_name(graph, anc)} ({_levels(hops)} up): "
        f"{_move(scan, anc, spread.feature)} {_children_phrase(graph, anc, spread)}"
        f"{_because(scan, anc, spread.feature)}"
    )


def _spread_self_sentence(graph: EntityGraph, scan: _Scan, row: int, spread: _Spread) -> str:
    name = _name(graph, row)
    return (
        f"{name[0].upper()}{name[1:]} itself: {_move(scan, row, spread.feature)} "
        f"{_children_phrase(graph, row, spread)}{_because(scan, row, spread.feature)}"
    )


def _weak_ancestor_sentence(graph: EntityGraph, scan: _Scan, anc: int, hops: int, f: int) -> str:
    return (
        f"Possibly from {_name(graph, anc)} ({_levels(hops)} up), which moved the same way: "
        f"{_move(scan, anc, f)}"
    )


def _self_sentence(graph: EntityGraph, scan: _Scan, row: int, f: int | None) -> str:
    name = _name(graph, row)
    head = f"{name[0].upper()}{name[1:]} itself"
    if f is None:
        return f"{head}: no single measure stands out"
    return f"{head}: {_move(scan, row, f)}{_because(scan, row, f)}"
