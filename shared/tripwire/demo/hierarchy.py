"""The entity hierarchy: account → portfolios → campaigns → keywords, with ids and names.

About one in ten campaigns sits in no portfolio, as Amazon allows. Campaign sizes are uneven.
The same keyword text appears in several campaigns under different ids, as on Amazon, so
roll-ups must follow ids, not text.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tripwire.demo.config import GeneratorConfig
from tripwire.demo.names import CATEGORIES, Category, keyword_texts, portfolio_names, unique_names

IntArray = npt.NDArray[np.int64]

ENTITY_COLUMNS = ("entity_id", "entity_type", "parent_id", "name")

MATCH_TYPES = ("Exact", "Phrase", "Broad")
_MATCH_P = (0.4, 0.3, 0.3)


@dataclass(frozen=True)
class Layout:
    entities: list[dict[str, str]]  # ENTITY_COLUMNS, parents before children
    portfolio_ids: list[str]
    portfolio_names: list[str]
    campaign_ids: list[str]
    campaign_names: list[str]
    campaign_portfolio: IntArray  # (C,) portfolio index, -1 for "no portfolio"
    campaign_category: list[Category]
    campaign_match: list[str]
    campaign_ad: list[str]
    keyword_ids: list[str]
    keyword_texts: list[str]
    keyword_campaign: IntArray  # (K,) campaign index
    keyword_words: IntArray  # (K,) 1 = head term, 2 = one modifier, 3 = two modifiers


def build_layout(config: GeneratorConfig, rng: np.random.Generator) -> Layout:
    acct = config.account_id
    cats = [CATEGORIES[i] for i in rng.permutation(len(CATEGORIES))]
    p_names = portfolio_names(cats, config.portfolios)
    c_port = _campaign_portfolios(config, rng)
    c_cat = [cats[p % len(cats)] if p >= 0 else cats[rng.integers(len(cats))] for p in c_port]
    c_theme = [c.themes[rng.integers(len(c.themes))] for c in c_cat]
    c_match = [str(m) for m in rng.choice(MATCH_TYPES, size=config.campaigns, p=_MATCH_P)]
    c_ad = ["SB" if u < 0.15 else "SP" for u in rng.random(config.campaigns)]
    c_names = unique_names(
        [
            f"{cat.name} | {ad} | {m} | {th.name}"
            for cat, ad, m, th in zip(c_cat, c_ad, c_match, c_theme, strict=True)
        ]
    )
    sizes = _campaign_sizes(config.keywords, config.campaigns, rng)
    k_camp = np.repeat(np.arange(config.campaigns), sizes).astype(np.int64)
    texts: list[str] = []
    words: list[int] = []
    for theme, size in zip(c_theme, sizes, strict=True):
        t, w = keyword_texts(theme, int(size), rng)
        texts += t
        words += w

    p_ids = _ids(acct, "P", config.portfolios, 0)
    c_ids = _ids(acct, "C", len(c_port), max(2, len(str(config.campaigns))))
    k_ids = _ids(acct, "K", config.keywords, max(5, len(str(config.keywords))))
    c_parents = [p_ids[p] if p >= 0 else acct for p in c_port.tolist()]
    entities = [_entity(acct, "account", "", acct)]
    entities += [_entity(p, "portfolio", acct, n) for p, n in zip(p_ids, p_names, strict=True)]
    entities += [
        _entity(c, "campaign", p, n) for c, p, n in zip(c_ids, c_parents, c_names, strict=True)
    ]
    entities += [
        _entity(k, "keyword", c_ids[c], t)
        for k, c, t in zip(k_ids, k_camp.tolist(), texts, strict=True)
    ]
    return Layout(
        entities,
        p_ids,
        p_names,
        c_ids,
        c_names,
        c_port,
        c_cat,
        c_match,
        c_ad,
        k_ids,
        texts,
        k_camp,
        np.asarray(words, dtype=np.int64),
    )


def _ids(account_id: str, letter: str, n: int, width: int) -> list[str]:
    """Ids like A1-K00001, numbered from 1 and zero-padded to ``width`` digits."""
    return [f"{account_id}-{letter}{i + 1:0{width}d}" for i in range(n)]


def _entity(entity_id: str, entity_type: str, parent_id: str, name: str) -> dict[str, str]:
    return dict(zip(ENTITY_COLUMNS, (entity_id, entity_type, parent_id, name), strict=True))


def _campaign_portfolios(config: GeneratorConfig, rng: np.random.Generator) -> IntArray:
    """Portfolio index per campaign (sorted, so ids group by portfolio); -1 = no portfolio."""
    n_c, n_p = config.campaigns, config.portfolios
    if n_p == 0:
        return np.full(n_c, -1, dtype=np.int64)
    # About one campaign in ten lives outside any portfolio, as Amazon allows.
    loose = min(n_c - n_p, max(1, round(0.1 * n_c))) if n_c >= 5 else 0
    in_port = n_c - loose
    # Every portfolio gets one campaign, the rest go by uneven (Dirichlet) shares.
    extra = rng.choice(n_p, size=in_port - n_p, p=rng.dirichlet(np.full(n_p, 3.0)))
    port = np.sort(np.concatenate([np.arange(n_p), extra]))
    return np.concatenate([port, np.full(loose, -1)]).astype(np.int64)


def _campaign_sizes(n_keywords: int, n_campaigns: int, rng: np.random.Generator) -> IntArray:
    """Uneven campaign sizes (≈5..60 at the default 25 a campaign) summing to n_keywords."""
    share = np.clip(rng.lognormal(0.0, 0.7, n_campaigns), 0.2, 2.4)
    raw = share / share.sum() * n_keywords
    sizes = np.maximum(1, np.floor(raw)).astype(np.int64)
    # Largest remainders take what rounding left over; the largest campaigns give back excess.
    order = np.argsort(-(raw - np.floor(raw)), kind="stable")
    i = 0
    while sizes.sum() < n_keywords:
        sizes[order[i % n_campaigns]] += 1
        i += 1
    while sizes.sum() > n_keywords:
        sizes[int(np.argmax(sizes))] -= 1
    return sizes
