"""Relation incidents: measures keep their own ranges while their relation breaks.

Planted only with ``GeneratorConfig(relation_incidents=True)``; the classic incidents of a
seed stay exactly where they were."""

from __future__ import annotations

import dataclasses
import datetime
from collections import Counter

import numpy as np
import pytest

from tripwire.demo.generator import GeneratedAccount, GeneratorConfig, generate
from tripwire.demo.incidents import INCIDENT_KINDS, RELATION_KINDS

CONFIG = GeneratorConfig(seed=5, keywords=400, campaigns=12, portfolios=2, days=70)


@pytest.fixture(scope="module")
def pair() -> tuple[GeneratedAccount, GeneratedAccount]:
    return generate(CONFIG), generate(dataclasses.replace(CONFIG, relation_incidents=True))


def _cells(account: GeneratedAccount, keyword: str, start: datetime.date, end: datetime.date):
    m = account.metrics
    days = {np.datetime64(start + datetime.timedelta(d)) for d in range((end - start).days + 1)}
    rows = m[(m["entity_id"] == keyword) & np.isin(m["date"], list(days))]
    return rows


def test_off_by_default_and_classic_incidents_unchanged(
    pair: tuple[GeneratedAccount, GeneratedAccount],
) -> None:
    plain, related = pair
    assert {i.kind for i in plain.incidents} <= set(INCIDENT_KINDS)
    classic = [i for i in related.incidents if i.kind in INCIDENT_KINDS]
    key = [(i.kind, i.root_entity, i.start, i.end, i.description) for i in plain.incidents]
    assert [(i.kind, i.root_entity, i.start, i.end, i.description) for i in classic] == key


def test_relation_kinds_are_planted_on_mid_traffic_keywords(
    pair: tuple[GeneratedAccount, GeneratedAccount],
) -> None:
    _, related = pair
    kinds = Counter(i.kind for i in related.incidents)
    assert {k: kinds[k] for k in RELATION_KINDS} == {k: 4 for k in RELATION_KINDS}
    seen: set[tuple[str, datetime.date]] = set()
    for inc in related.incidents:
        cells = {
            (k, inc.start + datetime.timedelta(d))
            for k in inc.affected
            for d in range((inc.end - inc.start).days + 1)
        }
        assert not cells & seen, inc.incident_id  # never on a keyword-day of another
        seen |= cells
        if inc.kind in RELATION_KINDS:
            assert inc.level == "keyword" and inc.affected == (inc.root_entity,)
            assert 2 <= (inc.end - inc.start).days + 1 <= 4


def test_bot_clicks_raise_ctr_on_unchanged_impressions(
    pair: tuple[GeneratedAccount, GeneratedAccount],
) -> None:
    plain, related = pair
    ratios = []
    for inc in related.incidents:
        if inc.kind != "keyword_bot_clicks":
            continue
        before = _cells(plain, inc.root_entity, inc.start, inc.end)
        after = _cells(related, inc.root_entity, inc.start, inc.end)
        # Same keyword-days, same drivers except the CTR (and CVR, so orders stay put).
        ratios.append(
            (after["clicks"].sum() + 1)
            / (before["clicks"].sum() + 1)
            / ((after["impressions"].sum() + 1) / (before["impressions"].sum() + 1))
        )
    assert len(ratios) == 4 and np.median(ratios) > 1.25
