"""Contextual anomaly: how new is the *context* in which the current value arrives?

The idea is Mikhail Smirnov's Contextual Anomaly Detector (CAD OSE, published on NAB);
this is our own implementation of it, made causal. Each row becomes a few discrete
"facts" (the bits of its quantised level). A *context* pairs a set of facts that held
one row ago — the previous row's facts plus the contexts that fired then ("neurons"),
so contexts chain into long sequences — with the facts of the row that followed.
Inputs must be finite (``tripwire score`` rejects anything else). Every row:

1. the (previous facts, current facts) pair is looked up; if it was never seen, it is
   stored and the row is *new* — and the overlaps between it and the stored contexts
   whose left side partly matched become candidate contexts too;
2. contexts whose left side fully held one row ago are *selected*; those whose right
   side holds now are *active* (and counted, so routine contexts rank high);
3. the row's score is ½ (1 − active / selected + added / candidates): contexts that
   usually work now failing, and the memory having to grow, both raise it; a row whose
   facts were all predicted scores 0;
4. the strongest active contexts become the next row's neurons, and the contexts whose
   left side fully holds now predict the next row's facts.

The score is a share, already on a probability-like scale (``DirectCalibrator``).

Causality — the levels. CAD OSE sizes its 8 levels from the minimum and maximum of the
whole file, which a stream does not know. Here the range is that of the rows seen so far
(the first ``warmup`` rows, widened by ``margin``); a row outside it widens the range and
the memory is rebuilt from the last ``replay`` rows on the new levels, so the new extreme
meets a memory that has never seen its level: it scores as new. Records become rare
as the range settles (4-16 rebuilds on NAB's series). Learning the range from the first
150 rows and keeping it (levels beyond it as facts of their own) scored 59.2 on the NAB
development set; this, 74.0 alone (the whole file's range: 73.8).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from tripwire.detection.base import FloatArray, PrequentialDetector, as_rows

_NEURON = 1 << 40  # facts at or above this are neurons: _NEURON + context id
_COLUMN = 1 << 20  # facts of column c are offset by c * _COLUMN

_Facts = tuple[int, ...]


@dataclass(eq=False)
class _Left:
    """The left side of stored contexts: level facts plus neurons; right id -> context."""

    facts: _Facts
    levels: frozenset[int]
    neurons: frozenset[int]
    contexts: dict[int, int] = field(default_factory=dict)


@dataclass(eq=False)
class _Context:
    right: _Facts
    zero_level: bool
    predicted: int = 0  # facts this context has predicted (its left side held)
    hits: int = 0  # of those, facts that came true
    activations: int = 0  # times its whole right side came true


class _ContextMemory:
    """The contexts learnt over a stream of fact sets (levels fixed by the caller)."""

    def __init__(self, max_left: int, max_neurons: int, max_per_neuron: int) -> None:
        self.max_left = max_left
        self.max_neurons = max_neurons
        # Each neuron indexes only its newest left sides: bounded work per row (a routine
        # context can sit in thousands of them), at the cost of forgetting old, rare ones.
        self.max_per_neuron = max_per_neuron
        self._lefts: dict[_Facts, _Left] = {}
        self._level_only: list[_Left] = []  # left sides without neurons (few)
        self._by_neuron: dict[int, deque[_Left]] = {}
        self._rights: dict[_Facts, int] = {}
        self._contexts: list[_Context] = []
        # (levels, right) of zero-level contexts whose left side has neurons: what a
        # left side matching only through its levels can derive (see _derive_through_levels)
        self._level_pairs: set[tuple[frozenset[int], _Facts]] = set()
        self._group: _Facts = ()  # last row's facts plus its neurons
        self._group_set: frozenset[int] = frozenset()
        self._touching: list[_Left] = []  # left sides sharing a fact with the group
        self._predicted: set[int] = set()

    def score_learn(self, facts: _Facts) -> float:
        facts = tuple(sorted(set(facts)))
        unpredicted = any(f not in self._predicted for f in facts)
        active_share, added_share = self._step(facts)
        return (1.0 - active_share + added_share) / 2.0 if unpredicted else 0.0

    # -- memory ---------------------------------------------------------------------

    def _left(self, facts: _Facts) -> _Left:
        left = self._lefts.get(facts)
        if left is None:
            neurons = frozenset(f for f in facts if f >= _NEURON)
            left = self._lefts[facts] = _Left(facts, frozenset(facts) - neurons, neurons)
            if not neurons:
                self._level_only.append(left)
            for n in neurons:
                index = self._by_neuron.get(n)
                if index is None:
                    index = self._by_neuron[n] = deque(maxlen=self.max_per_neuron)
                index.append(left)
        return left

    def _store(self, left_facts: _Facts, right: _Facts, zero_level: bool) -> tuple[int, bool]:
        """Context id for (left, right), stored if new; True when it was new."""
        left = self._left(left_facts)
        rid = self._rights.setdefault(right, len(self._rights))
        cid = left.contexts.get(rid)
        new = cid is None
        if cid is None:
            cid = left.contexts[rid] = len(self._contexts)
            self._contexts.append(_Context(right, zero_level))
        elif zero_level:
            self._contexts[cid].zero_level = True
        if zero_level and left.neurons:
            self._level_pairs.add((left.levels, right))
        return cid, new

    def _touching_lefts(self, group: frozenset[int]) -> list[_Left]:
        """Left sides that share a neuron with `group`, and the level-only ones."""
        seen: dict[int, _Left] = {id(left): left for left in self._level_only}
        for f in group:
            if f >= _NEURON:
                for left in self._by_neuron.get(f, ()):
                    seen[id(left)] = left
        return list(seen.values())

    # -- one row --------------------------------------------------------------------

    def _step(self, facts: _Facts) -> tuple[float, float]:
        now = frozenset(facts)
        group = self._group_set
        candidates: set[tuple[_Facts, _Facts]] = set()
        new_id, is_new = -1, False
        if self._group:
            candidates.add((self._group, facts))
            new_id, is_new = self._store(self._group, facts, zero_level=True)

        selected, active = 0, []
        derived: set[tuple[_Facts, _Facts]] = set()
        for left in self._touching:
            matched = group.intersection(left.facts)
            if not matched:
                continue
            full = len(matched) == len(left.facts)
            can_derive = is_new and len(matched) <= self.max_left
            for rid_cid in left.contexts.values():
                if rid_cid == new_id:
                    continue
                ctx = self._contexts[rid_cid]
                hit = now.intersection(ctx.right)
                if full:
                    selected += 1
                    ctx.predicted += len(ctx.right)
                    ctx.hits += len(hit)
                    if len(hit) == len(ctx.right):
                        ctx.activations += 1
                        active.append(rid_cid)
                        continue
                if hit and ctx.zero_level and can_derive:
                    derived.add((tuple(sorted(matched)), tuple(sorted(hit))))
        if is_new:
            derived |= self._derive_through_levels(group, now)
        candidates |= derived
        active_share = len(active) / selected if selected else 0.0

        active.sort(key=lambda c: (self._contexts[c].activations, c))
        neurons = [_NEURON + c for c in active[-self.max_neurons :]]
        self._group = tuple(sorted({*facts, *neurons}))
        self._group_set = frozenset(self._group)

        added = sum(self._store(left, right, zero_level=False)[1] for left, right in derived)
        self._touching = self._touching_lefts(self._group_set)
        self._predicted = self._predict()
        added += 1 if is_new else 0
        added_share = added / len(candidates) if is_new and candidates else 0.0
        return active_share, added_share

    def _derive_through_levels(
        self, group: frozenset[int], now: frozenset[int]
    ) -> set[tuple[_Facts, _Facts]]:
        """Contexts derived from left sides that share only level facts with the group.

        Such a left side (it has neurons, none of them in the group) contributes
        (its levels ∩ group, its right ∩ now) whatever its neurons are, so the distinct
        (levels, right) pairs stand for all of them: no walk over the whole memory.
        """
        out = set()
        for levels, right in self._level_pairs:
            matched = levels & group
            if not matched or len(matched) > self.max_left:
                continue
            hit = now.intersection(right)
            if hit:
                out.add((tuple(sorted(matched)), tuple(sorted(hit))))
        return out

    def _predict(self) -> set[int]:
        """The facts the strongest fully-held contexts expect next."""
        best, winners = 0.0, []
        group = self._group_set
        for left in self._touching:
            if not group.issuperset(left.facts):
                continue
            for cid in left.contexts.values():
                ctx = self._contexts[cid]
                weight = ctx.hits / ctx.predicted if ctx.predicted else 0.0
                if weight > best:
                    best, winners = weight, [ctx]
                elif weight == best:
                    winners.append(ctx)
        return {f for ctx in winners for f in ctx.right}


class ContextAnomaly(PrequentialDetector):
    """Streaming contextual anomaly score in [0, 1] per row; NaN during warm-up."""

    def __init__(
        self,
        level_bits: int = 3,
        warmup: int = 50,
        margin: float = 0.05,
        replay: int = 1_500,
        max_left: int = 7,
        max_neurons: int = 15,
        max_per_neuron: int = 64,
        name: str = "context",
    ) -> None:
        self.name = name
        self.levels = (1 << level_bits) - 1
        self.bits = level_bits
        self.warmup = warmup
        self.margin = margin
        self.replay = max(replay, warmup)
        self._memory_args = (max_left, max_neurons, max_per_neuron)
        self._reset()

    def _reset(self) -> None:
        self._recent: deque[FloatArray] = deque(maxlen=self.replay)
        self._lo = np.zeros(0)
        self._hi = np.zeros(0)
        self._memory: _ContextMemory | None = None
        self.rebuilds = 0

    # -- the detector interface -----------------------------------------------------

    def score_learn(self, x: FloatArray) -> FloatArray:
        rows = as_rows(x)
        if not np.isfinite(rows).all():
            raise ValueError("the contextual detector needs finite values")
        return np.array([self._score_learn_row(row) for row in rows])

    # -- levels ---------------------------------------------------------------------

    def _score_learn_row(self, row: FloatArray) -> float:
        self._recent.append(row)
        if self._memory is None:
            if len(self._recent) < self.warmup:
                return math.nan
            seen = np.array(self._recent)
            lo, hi = seen.min(axis=0), seen.max(axis=0)
            pad = (hi - lo) * self.margin
            self._lo, self._hi = lo - pad, hi + pad
            self._rebuild()
        elif np.any(row < self._lo) or np.any(row > self._hi):
            # A record: widen the range on the side it broke, with a margin (so the next
            # near-record does not rebuild again), and relearn on the new levels.
            pad = (self._hi - self._lo) * self.margin
            self._lo = np.where(row < self._lo, row - pad, self._lo)
            self._hi = np.where(row > self._hi, row + pad, self._hi)
            self._rebuild()
        assert self._memory is not None
        return self._memory.score_learn(self._facts(row))

    def stored_contexts(self) -> int:
        """How many contexts the memory holds (what grows with the stream)."""
        return 0 if self._memory is None else len(self._memory._contexts)

    def _rebuild(self) -> None:
        """A fresh memory on the current levels, replaying the recent rows but the last."""
        self._memory = _ContextMemory(*self._memory_args)
        self.rebuilds += 1
        for row in list(self._recent)[:-1]:
            self._memory.score_learn(self._facts(row))

    def _facts(self, row: FloatArray) -> _Facts:
        """The bits of each column's level, as facts (column c's offset by c * _COLUMN)."""
        span = np.where(self._hi > self._lo, self._hi - self._lo, 1.0)
        levels = np.clip(np.floor((row - self._lo) / (span / self.levels)), 0, self.levels)
        out: list[int] = []
        for c, level in enumerate(levels.astype(int)):
            out.extend(c * _COLUMN + 2 * i + ((level >> i) & 1) for i in range(self.bits))
        return tuple(out)
