"""A realistic synthetic Amazon Ads (Sponsored Products/Brands) account with labelled incidents.

The account model
-----------------
* **Hierarchy.** One account → a few portfolios (one product category each, e.g. "Kitchen") →
  campaigns (one theme and match type each, e.g. "Kitchen | SP | Exact | Knives"; about one in
  ten campaigns sits in no portfolio, as Amazon allows) → keywords. Campaign sizes are uneven.
  The same keyword text appears in several campaigns under different ids, as on Amazon, so
  roll-ups must follow ids, not text.
* **Per-keyword rates** (drawn once): mean daily impressions are lognormal with a few
  Pareto-like head keywords, so most keywords get tens to a few hundred impressions and a
  click or two a day while a handful get thousands; CTR ~0.2–2 %, CPC ~$0.30–$3, CVR ~3–20 %,
  order value ~$12–$80. Match type and ad type shift them (exact: fewer impressions, better
  CTR/CVR; broad: the reverse).
* **Dynamics** on the log scale of the impression rate: a weekday profile shared by the
  account and varied per portfolio, a small account trend, and mean-reverting AR(1) drifts
  per campaign and per keyword; CPC drifts the same way (bid tweaks); CTR and CVR get small
  day-to-day jitter.
* **Counts.** impressions ~ Gamma–Poisson (negative binomial) around the rate, clicks ~
  Binomial(impressions, CTR), orders ~ Binomial(clicks, CVR); spend is the sum of per-click
  costs and sales the sum of order values (each a Gamma sum, drawn in one go). So
  clicks <= impressions, orders <= clicks, spend is 0 without clicks and sales 0 without
  orders, always.
* **Incidents** are planted only in the last ``incident_days`` days; the history before is
  clean. Each is a multiplier on the impression rate, the CPC or the CVR of its keywords for
  1–4 days, applied *before* sampling so counts stay self-consistent. No keyword-day carries
  two incidents, so every label is unambiguous. Roots are picked among entities busy enough
  for the incident to be real (a conversion collapse hits a keyword that normally has orders
  daily), both in the history and on the incident days themselves. Incidents that only drop
  orders/sales are kept out of the last three days, which Amazon restates (attributed sales
  arrive up to 48 h late), so no label sits where a detector should stay provisional.

Returned data
-------------
``GeneratedAccount.metrics`` is a numpy structured array (fields as in ``METRIC_COLUMNS``,
dtype from ``metrics_dtype``) with one row per keyword per day, sorted by date then id.
Because every keyword has every day, ``metrics.reshape(config.days, -1)`` is a dense
day × keyword table (columns in keyword-id order). ``spend`` and ``sales`` are float dollars
already rounded to cents. ``write`` turns it into CSV at about a million rows a second.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import json
import pathlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

ENTITY_COLUMNS = ("entity_id", "entity_type", "parent_id", "name")
METRIC_COLUMNS = ("date", "entity_id", "impressions", "clicks", "spend", "sales", "orders")
LATE_ATTRIBUTION_DAYS = 3  # Amazon restates roughly the last three days of sales and orders.

# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeneratorConfig:
    seed: int = 7  # same seed → byte-identical files
    keywords: int = 1000
    days: int = 120
    start: datetime.date = datetime.date(2026, 1, 1)
    portfolios: int = 4
    campaigns: int = 40  # keywords spread unevenly over them (~5..60 each at the defaults)
    incident_days: int = 30  # incidents only in these last days; the history before is clean
    account_id: str = "A1"


@dataclass(frozen=True)
class Incident:
    incident_id: str
    kind: str
    level: str  # "keyword" | "campaign" | "portfolio" | "account"
    root_entity: str
    start: datetime.date
    end: datetime.date  # inclusive
    affected: tuple[str, ...]  # keyword ids whose raw metrics were changed
    metrics: tuple[str, ...]  # measures that move, e.g. ("cpc", "spend")
    direction: str  # "up" | "down"
    description: str


@dataclass(frozen=True)
class GeneratedAccount:
    """The account: entity rows (parents before children), keyword metrics, planted truth.

    ``metrics`` is a numpy structured array with the fields of ``METRIC_COLUMNS`` (dtype
    ``metrics_dtype(width)``: date datetime64[D], entity_id str, impressions/clicks/orders
    int64, spend/sales float64 dollars rounded to cents), one row per keyword per day, sorted
    by date then entity_id, so ``metrics.reshape(config.days, -1)`` is day × keyword.
    """

    entities: list[dict[str, str]]  # entity_id, entity_type, parent_id, name
    metrics: npt.NDArray[np.void]
    incidents: list[Incident]
    config: GeneratorConfig


def metrics_dtype(id_width: int = 16) -> np.dtype[np.void]:
    """The structured dtype of ``GeneratedAccount.metrics`` (entity ids up to ``id_width``;
    the generator uses the width of its longest id)."""
    return np.dtype(
        [
            ("date", "datetime64[D]"),
            ("entity_id", f"U{id_width}"),
            ("impressions", np.int64),
            ("clicks", np.int64),
            ("spend", np.float64),
            ("sales", np.float64),
            ("orders", np.int64),
        ]
    )


METRICS_DTYPE = metrics_dtype()


def generate(config: GeneratorConfig = GeneratorConfig()) -> GeneratedAccount:
    """Build the account, its daily keyword metrics and the incidents planted in them.

    Sizes that cannot all hold are reduced, and ``GeneratedAccount.config`` records what was
    used: campaigns <= keywords, portfolios <= campaigns, and an incident period that would
    swallow the whole history shrinks to half the days. Nonsense (no keywords, no days, an
    account id that is not plain letters/digits/underscores) raises ``ValueError``.
    """
    config = _effective(config)
    # Independent streams per stage: changing one stage's draws leaves the others untouched.
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(config.seed).spawn(5)]
    rng_layout, rng_params, rng_dynamics, rng_incidents, rng_counts = streams
    layout = _build_layout(config, rng_layout)
    params = _keyword_params(layout, rng_params)
    drivers = _daily_drivers(config, layout, params, rng_dynamics)
    incidents = _plant_incidents(config, layout, drivers, rng_incidents)
    counts = _sample_counts(drivers, params, rng_counts)
    metrics = _to_structured(config, layout.keyword_ids, counts)
    return GeneratedAccount(layout.entities, metrics, incidents, config)


def write(account: GeneratedAccount, out_dir: pathlib.Path) -> dict[str, pathlib.Path]:
    """Writes entities.csv, metrics.csv, truth.json; returns their paths by name
    ('entities', 'metrics', 'truth')."""
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "entities": out_dir / "entities.csv",
        "metrics": out_dir / "metrics.csv",
        "truth": out_dir / "truth.json",
    }
    _write_entities(account.entities, paths["entities"])
    _write_metrics(account.metrics, paths["metrics"])
    paths["truth"].write_text(_truth_json(account), encoding="utf-8")
    return paths


def incident_to_dict(incident: Incident) -> dict[str, Any]:
    """JSON-ready form of an incident (ISO dates, lists instead of tuples)."""
    row = dataclasses.asdict(incident)
    row["start"] = incident.start.isoformat()
    row["end"] = incident.end.isoformat()
    row["affected"] = list(incident.affected)
    row["metrics"] = list(incident.metrics)
    return row


def config_to_dict(config: GeneratorConfig) -> dict[str, Any]:
    row = dataclasses.asdict(config)
    row["start"] = config.start.isoformat()
    return row


def _effective(config: GeneratorConfig) -> GeneratorConfig:
    # Ids go unquoted into metrics.csv: keep them to a safe alphabet.
    if not re.fullmatch(r"[A-Za-z0-9_]+", config.account_id):
        raise ValueError("account_id must be letters, digits or underscores")
    if config.keywords < 1 or config.campaigns < 1 or config.days < 2:
        raise ValueError("need at least one keyword, one campaign and two days")
    if config.portfolios < 0 or config.incident_days < 0:
        raise ValueError("portfolios and incident_days cannot be negative")
    campaigns = min(config.campaigns, config.keywords)
    incident_days = config.incident_days
    if incident_days >= config.days:  # keep a clean history to learn the baseline from
        incident_days = config.days // 2
    return dataclasses.replace(
        config,
        campaigns=campaigns,
        portfolios=min(config.portfolios, campaigns),
        incident_days=incident_days,
    )


# --------------------------------------------------------------------------------------------
# Vocabulary: categories → themes → keyword parts
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Theme:
    name: str
    heads: tuple[str, ...]  # the core search terms
    pre: tuple[str, ...]  # modifiers searched before the core term
    post: tuple[str, ...]  # modifiers searched after it


@dataclass(frozen=True)
class _Category:
    name: str
    aov: float  # typical order value, $
    cpc: float  # typical cost per click, $
    themes: tuple[_Theme, ...]


def _t(name: str, heads: str, pre: str, post: str) -> _Theme:
    return _Theme(name, tuple(heads.split("; ")), tuple(pre.split("; ")), tuple(post.split("; ")))


_CATEGORIES = (
    _Category(
        "Kitchen",
        34.0,
        0.95,
        (
            _t(
                "Knives",
                "chef knife; knife set; santoku knife; paring knife; bread knife",
                "japanese; german; professional; damascus; stainless steel",
                "8 inch; with block; with sheath; for kitchen; gift set",
            ),
            _t(
                "Cookware",
                "frying pan; cast iron skillet; dutch oven; saucepan; nonstick pan",
                "ceramic; stainless steel; induction; large; enameled",
                "with lid; 12 inch; set; oven safe; pfas free",
            ),
            _t(
                "Coffee",
                "french press; coffee grinder; milk frother; pour over coffee maker; espresso cups",
                "electric; manual; glass; portable; burr",
                "34 oz; for travel; set of 4; with filter; handheld",
            ),
            _t(
                "Storage",
                "food storage containers; spice rack; pantry organizer; bread box; lunch box",
                "glass; airtight; bamboo; stackable; bpa free",
                "with lids; set; for fridge; for cabinet; 24 piece",
            ),
        ),
    ),
    _Category(
        "Outdoor",
        52.0,
        1.15,
        (
            _t(
                "Camping",
                "camping chair; tent; sleeping bag; camping lantern; hammock",
                "lightweight; waterproof; 4 person; ultralight; portable",
                "for adults; with carry bag; for backpacking; heavy duty; rechargeable",
            ),
            _t(
                "Hiking",
                "hiking backpack; trekking poles; water bottle; hydration pack; hiking socks",
                "insulated; collapsible; womens; mens; merino wool",
                "32 oz; 40l; for trail; with straw; 3 pack",
            ),
            _t(
                "Grilling",
                "grill brush; grill cover; bbq tools set; meat thermometer; grill mat",
                "wireless; stainless steel; heavy duty; digital; non stick",
                "for gas grill; for smoker; waterproof; set of 2; instant read",
            ),
        ),
    ),
    _Category(
        "Pet Supplies",
        27.0,
        0.80,
        (
            _t(
                "Dog",
                "dog bed; dog leash; dog harness; dog toys; dog bowl",
                "orthopedic; no pull; chew proof; large; small",
                "for large dogs; for puppies; reflective; washable; slow feeder",
            ),
            _t(
                "Cat",
                "cat litter box; cat tree; cat toys; cat scratcher; cat fountain",
                "self cleaning; interactive; wooden; large; quiet",
                "for indoor cats; with lid; for kittens; stainless steel; 2l",
            ),
            _t(
                "Grooming",
                "dog shampoo; pet hair remover; dog nail clippers; deshedding brush; pet wipes",
                "oatmeal; hypoallergenic; reusable; self cleaning; gentle",
                "for sensitive skin; for couch; for cats; 100 count; unscented",
            ),
        ),
    ),
    _Category(
        "Home Office",
        58.0,
        1.30,
        (
            _t(
                "Desk",
                "standing desk; desk organizer; monitor stand; desk mat; desk lamp",
                "electric; wooden; adjustable; led; leather",
                "with drawers; for home office; 48 inch; with usb port; dual monitor",
            ),
            _t(
                "Seating",
                "office chair; ergonomic chair; seat cushion; lumbar support pillow; footrest",
                "mesh; memory foam; high back; gaming; kneeling",
                "with lumbar support; for back pain; under desk; with headrest; big and tall",
            ),
            _t(
                "Cables",
                "usb c hub; cable management; charging station; extension cord; webcam cover",
                "multiport; under desk; braided; flat plug; magnetic",
                "for laptop; 10 ft; for multiple devices; with surge protector; 6 in 1",
            ),
        ),
    ),
    _Category(
        "Fitness",
        41.0,
        1.05,
        (
            _t(
                "Weights",
                "adjustable dumbbells; kettlebell; weight plates; resistance bands; ankle weights",
                "cast iron; neoprene; heavy; womens; fabric",
                "set; 25 lb; for home gym; with handles; pair",
            ),
            _t(
                "Yoga",
                "yoga mat; yoga blocks; foam roller; yoga strap; meditation cushion",
                "non slip; thick; cork; extra long; high density",
                "for women; 6mm; with carrying strap; 2 pack; for pilates",
            ),
            _t(
                "Cardio",
                "jump rope; exercise bike; walking pad; mini stepper; rowing machine",
                "weighted; folding; magnetic; quiet; under desk",
                "for home; with resistance bands; 300 lb capacity; cordless; for seniors",
            ),
        ),
    ),
    _Category(
        "Baby",
        31.0,
        0.90,
        (
            _t(
                "Feeding",
                "baby bottles; silicone bibs; high chair; sippy cup; bottle warmer",
                "anti colic; glass; waterproof; portable; spill proof",
                "for newborn; 4 pack; for toddlers; 6 months plus; with straw",
            ),
            _t(
                "Nursery",
                "baby monitor; swaddle blanket; crib sheets; white noise machine; night light",
                "video; muslin; organic cotton; portable; dimmable",
                "with camera; for boys; for girls; 2 pack; with app",
            ),
        ),
    ),
    _Category(
        "Garden",
        33.0,
        0.85,
        (
            _t(
                "Tools",
                "pruning shears; garden hose; hose nozzle; garden gloves; kneeling pad",
                "expandable; heavy duty; bypass; leather; thorn proof",
                "50 ft; for women; high pressure; set; ergonomic",
            ),
            _t(
                "Planters",
                "raised garden bed; plant pots; potting soil; seed starter kit; plant stand",
                "galvanized; ceramic; self watering; organic; indoor",
                "outdoor; with drainage; 8 inch; for vegetables; 5 pack",
            ),
        ),
    ),
    _Category(
        "Beauty",
        24.0,
        1.00,
        (
            _t(
                "Skincare",
                "vitamin c serum; face moisturizer; retinol cream; mineral sunscreen; eye cream",
                "korean; fragrance free; hydrating; anti aging; oil free",
                "for face; for sensitive skin; spf 50; for dark circles; for men",
            ),
            _t(
                "Hair",
                "hair dryer; hair straightener; curling iron; hair ties; silk pillowcase",
                "ionic; ceramic; cordless; travel; mulberry",
                "with diffuser; 1 inch; for thick hair; no damage; queen size",
            ),
        ),
    ),
)

# Match type and ad type shift a keyword's rates: imp, ctr, cpc, cvr multipliers.
_MATCH_TYPES = ("Exact", "Phrase", "Broad")
_MATCH_P = (0.4, 0.3, 0.3)
_MATCH_EFFECT = {
    "Exact": (0.6, 1.4, 1.10, 1.30),
    "Phrase": (1.0, 1.0, 1.00, 1.00),
    "Broad": (1.6, 0.7, 0.90, 0.75),
}
_AD_EFFECT = {"SP": (1.0, 1.0, 1.0, 1.0), "SB": (0.8, 0.8, 1.25, 0.8)}


# --------------------------------------------------------------------------------------------
# Layout: the entity hierarchy
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    entities: list[dict[str, str]]
    portfolio_ids: list[str]
    campaign_ids: list[str]
    campaign_names: list[str]
    campaign_portfolio: IntArray  # (C,) portfolio index, -1 for "no portfolio"
    campaign_category: list[_Category]
    campaign_match: list[str]
    campaign_ad: list[str]
    keyword_ids: list[str]
    keyword_texts: list[str]
    keyword_campaign: IntArray  # (K,) campaign index
    keyword_words: IntArray  # (K,) 1 = head term, 2 = one modifier, 3 = two modifiers


def _build_layout(config: GeneratorConfig, rng: np.random.Generator) -> _Layout:
    acct = config.account_id
    cats = [_CATEGORIES[i] for i in rng.permutation(len(_CATEGORIES))]
    p_names = _portfolio_names(cats, config.portfolios)
    c_port = _campaign_portfolios(config, rng)
    c_cat = [cats[p % len(cats)] if p >= 0 else cats[rng.integers(len(cats))] for p in c_port]
    c_theme = [c.themes[rng.integers(len(c.themes))] for c in c_cat]
    c_match = [str(m) for m in rng.choice(_MATCH_TYPES, size=config.campaigns, p=_MATCH_P)]
    c_ad = ["SB" if u < 0.15 else "SP" for u in rng.random(config.campaigns)]
    c_names = _unique(
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
        t, w = _keyword_texts(theme, int(size), rng)
        texts += t
        words += w

    p_ids = [f"{acct}-P{i + 1}" for i in range(config.portfolios)]
    c_ids = [f"{acct}-C{i + 1:0{max(2, len(str(config.campaigns)))}d}" for i in range(len(c_port))]
    k_width = max(5, len(str(config.keywords)))
    k_ids = [f"{acct}-K{i + 1:0{k_width}d}" for i in range(config.keywords)]

    entities = [{"entity_id": acct, "entity_type": "account", "parent_id": "", "name": acct}]
    entities += [
        {"entity_id": p, "entity_type": "portfolio", "parent_id": acct, "name": n}
        for p, n in zip(p_ids, p_names, strict=True)
    ]
    entities += [
        {
            "entity_id": c,
            "entity_type": "campaign",
            "parent_id": p_ids[p] if p >= 0 else acct,
            "name": n,
        }
        for c, p, n in zip(c_ids, c_port.tolist(), c_names, strict=True)
    ]
    entities += [
        {"entity_id": k, "entity_type": "keyword", "parent_id": c_ids[c], "name": t}
        for k, c, t in zip(k_ids, k_camp.tolist(), texts, strict=True)
    ]
    return _Layout(
        entities,
        p_ids,
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


def _portfolio_names(cats: list[_Category], n: int) -> list[str]:
    # More portfolios than categories: reuse categories with a suffix ("Kitchen 2").
    return [
        cats[i % len(cats)].name + ("" if i < len(cats) else f" {i // len(cats) + 1}")
        for i in range(n)
    ]


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


def _keyword_texts(theme: _Theme, n: int, rng: np.random.Generator) -> tuple[list[str], list[int]]:
    """n keyword texts for one campaign, distinct while the theme's vocabulary lasts."""
    pool: list[tuple[str, int]] = []
    for head in theme.heads:
        pool.append((head, 1))
        pool += [(f"{p} {head}", 2) for p in theme.pre]
        pool += [(f"{head} {q}", 2) for q in theme.post]
        pool += [(f"{p} {head} {q}", 3) for p in theme.pre for q in theme.post]
    # Heads and short phrases are what a campaign bids on first; long tail fills it up.
    weight = np.array([{1: 8.0, 2: 2.0, 3: 1.0}[w] for _, w in pool])
    picks = rng.choice(len(pool), size=n, replace=n > len(pool), p=weight / weight.sum())
    return [pool[i][0] for i in picks], [pool[i][1] for i in picks]


# Why an account runs a second campaign on the same theme and match type.
_VARIANTS = ("Top Performers", "Long Tail", "Research", "Harvest", "Low Bid", "Defense")


def _unique(names: list[str]) -> list[str]:
    # Amazon requires unique campaign names within an account.
    seen: dict[str, int] = {}
    out = []
    for name in names:
        n = seen.get(name, 0)
        seen[name] = n + 1
        if n == 0:
            out.append(name)
        elif n <= len(_VARIANTS):
            out.append(f"{name} | {_VARIANTS[n - 1]}")
        else:
            out.append(f"{name} | #{n + 1}")
    return out


# --------------------------------------------------------------------------------------------
# Per-keyword rates and their daily dynamics
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Params:
    impressions: FloatArray  # (K,) mean daily impressions
    ctr: FloatArray
    cpc: FloatArray  # $
    cvr: FloatArray
    aov: FloatArray  # $ per order


def _keyword_params(layout: _Layout, rng: np.random.Generator) -> _Params:
    n_k = len(layout.keyword_ids)
    camp = layout.keyword_campaign
    effect = np.array(
        [
            np.multiply(_MATCH_EFFECT[m], _AD_EFFECT[a])
            for m, a in zip(layout.campaign_match, layout.campaign_ad, strict=True)
        ]
    )[camp]
    cat_aov = np.array([c.aov for c in layout.campaign_category])[camp]
    cat_cpc = np.array([c.cpc for c in layout.campaign_category])[camp]
    n_c = len(layout.campaign_ids)
    # Head terms draw far more searches than long-tail phrases.
    specificity = np.array([0.0, 3.0, 1.0, 0.35])[layout.keyword_words]
    imp = rng.lognormal(np.log(180.0), 1.0, n_k) * specificity * effect[:, 0]
    imp *= rng.lognormal(0.0, 0.35, n_c)[camp]
    head = rng.random(n_k) < 0.015  # a few Pareto-tail head keywords with thousands a day
    imp[head] *= 3.0 + rng.pareto(1.5, int(head.sum())) * 3.0
    return _Params(
        impressions=np.clip(imp, 2.0, 80_000.0),
        ctr=np.clip(rng.lognormal(np.log(0.007), 0.45, n_k) * effect[:, 1], 0.0015, 0.025),
        cpc=np.clip(cat_cpc * rng.lognormal(0.0, 0.4, n_k) * effect[:, 2], 0.25, 4.0),
        cvr=np.clip(rng.lognormal(np.log(0.085), 0.4, n_k) * effect[:, 3], 0.025, 0.25),
        aov=np.clip(cat_aov * rng.lognormal(0.0, 0.3, n_c)[camp], 12.0, 80.0),
    )


@dataclass(frozen=True)
class _Drivers:
    """Day × keyword expected rates; incidents edit these before counts are drawn."""

    impressions: FloatArray  # (D, K) expected impressions
    ctr: FloatArray
    cpc: FloatArray
    cvr: FloatArray


# Shared weekday profile (log scale, Mon..Sun): Sunday/Monday browsing peak, Friday/Saturday dip.
_WEEKDAY = np.array([0.07, 0.03, 0.0, -0.02, -0.07, -0.10, 0.09])


def _daily_drivers(
    config: GeneratorConfig, layout: _Layout, params: _Params, rng: np.random.Generator
) -> _Drivers:
    n_d, n_k, n_c = config.days, len(layout.keyword_ids), len(layout.campaign_ids)
    camp = layout.keyword_campaign
    weekdays = (np.arange(n_d) + config.start.weekday()) % 7
    # Each portfolio (and the loose campaigns, row -1) has its own take on the weekly rhythm.
    n_groups = config.portfolios + 1
    amp = rng.uniform(0.6, 1.4, n_groups)[:, None]
    week = amp * _WEEKDAY[None, :] + rng.normal(0.0, 0.02, (n_groups, 7))
    group = layout.campaign_portfolio[camp]  # -1 indexes the last row: the loose campaigns
    log_imp = week[group[None, :], weekdays[:, None]]
    log_imp += (rng.uniform(-0.0005, 0.0015) * np.arange(n_d))[:, None]  # slow account trend
    log_imp += _ar1(rng, n_d, n_c, phi=0.97, sigma=0.025)[:, camp]
    log_imp += _ar1(rng, n_d, n_k, phi=0.95, sigma=0.04)
    log_cpc = _ar1(rng, n_d, n_k, phi=0.95, sigma=0.03)  # bid tweaks, auction pressure
    return _Drivers(
        impressions=params.impressions[None, :] * np.exp(log_imp),
        ctr=np.minimum(params.ctr[None, :] * rng.lognormal(0.0, 0.08, (n_d, n_k)), 0.5),
        cpc=params.cpc[None, :] * np.exp(log_cpc),
        cvr=np.minimum(params.cvr[None, :] * rng.lognormal(0.0, 0.1, (n_d, n_k)), 0.9),
    )


def _ar1(rng: np.random.Generator, n_d: int, n: int, phi: float, sigma: float) -> FloatArray:
    """Mean-reverting drift: slow wandering that never runs away over a long history."""
    shocks = rng.normal(0.0, sigma, (n_d, n))
    out = np.empty((n_d, n))
    out[0] = rng.normal(0.0, sigma / np.sqrt(1.0 - phi * phi), n)  # start in the steady state
    for d in range(1, n_d):
        out[d] = phi * out[d - 1] + shocks[d]
    return out


# --------------------------------------------------------------------------------------------
# Incidents
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Kind:
    kind: str
    level: str
    metrics: tuple[str, ...]
    direction: str
    days: tuple[int, int]  # shortest, longest duration
    imp: tuple[float, float]  # multiplier range on the impression rate
    cpc: tuple[float, float]
    cvr: tuple[float, float]
    min_clicks: float  # a root needs this many expected clicks a day to show the incident
    min_orders: float
    sentence: str


_NO = (1.0, 1.0)
_KINDS = (
    _Kind(
        "account_tracking_outage", "account", ("orders", "sales"), "down", (1, 2),
        _NO, _NO, (0.0, 0.0), 0.0, 0.0,
        "Conversion tracking failed account-wide: orders and sales were 0 on all {n} keywords"
        " while impressions and clicks stayed normal.",
    ),
    _Kind(
        "portfolio_bid_change", "portfolio", ("cpc", "impressions", "spend"), "up", (1, 4),
        (1.35, 1.8), (1.6, 2.0), _NO, 0.0, 0.0,
        "A bid change across portfolio '{name}' ({id}) raised CPC ×{cpc:.1f} and impressions"
        " ×{imp:.1f} on its {n} keywords, pushing spend up.",
    ),
    _Kind(
        "campaign_paused", "campaign",
        ("impressions", "clicks", "spend", "orders", "sales"), "down", (1, 4),
        (0.0, 0.0), _NO, _NO, 30.0, 0.0,
        "Campaign '{name}' ({id}) was paused: its {n} keywords had zero impressions, clicks,"
        " spend, orders and sales.",
    ),
    _Kind(
        "campaign_budget_exhausted", "campaign", ("impressions", "clicks", "spend"), "down",
        (1, 4), (0.0, 0.1), _NO, _NO, 30.0, 0.0,
        "Campaign '{name}' ({id}) ran out of daily budget early: impressions, clicks and spend"
        " fell to ×{imp:.2f} across its {n} keywords.",
    ),
    _Kind(
        "campaign_spend_spike", "campaign", ("cpc", "spend"), "up", (1, 4),
        _NO, (2.5, 3.5), _NO, 30.0, 0.0,
        "Misconfigured bids in campaign '{name}' ({id}) raised CPC ×{cpc:.1f} on all {n}"
        " keywords, so spend spiked.",
    ),
    _Kind(
        "keyword_cpc_spike", "keyword", ("cpc", "spend"), "up", (1, 4),
        _NO, (2.5, 4.0), _NO, 15.0, 0.0,
        "CPC of keyword '{name}' ({id}) jumped ×{cpc:.1f}, pushing its spend up.",
    ),
    _Kind(
        "keyword_conversion_collapse", "keyword", ("orders", "sales"), "down", (1, 4),
        _NO, _NO, (0.0, 0.03), 0.0, 2.0,
        "Keyword '{name}' ({id}) kept its clicks but its orders and sales collapsed to about"
        " zero (conversion ×{cvr:.2f}).",
    ),
    _Kind(
        "keyword_impression_surge", "keyword", ("impressions", "clicks"), "up", (1, 4),
        (4.0, 8.0), _NO, _NO, 3.0, 0.0,
        "Impressions of keyword '{name}' ({id}) surged ×{imp:.1f} and its clicks followed.",
    ),
    _Kind(
        "keyword_zero_impressions", "keyword", ("impressions", "clicks", "spend"), "down",
        (1, 4), (0.0, 0.0), _NO, _NO, 3.0, 0.0,
        "Keyword '{name}' ({id}) suddenly got zero impressions (listing suppressed or out of"
        " stock).",
    ),
)  # fmt: skip
INCIDENT_KINDS = tuple(k.kind for k in _KINDS)


def _incident_count(kind: _Kind, config: GeneratorConfig) -> int:
    """How many incidents of a kind to plant: at least two, more for larger accounts."""
    if config.incident_days == 0:
        return 0
    if kind.level == "account":
        return 2 if config.incident_days >= 14 else 1
    if kind.level == "portfolio":
        return 0 if config.portfolios == 0 else max(2, config.portfolios // 2)
    if kind.level == "campaign":
        return max(2, round(config.campaigns / 15))
    return max(2, round(config.keywords / 350))


@dataclass(frozen=True)
class _Root:
    entity_id: str
    name: str
    keywords: IntArray  # keyword indices below this root


def _roots(level: str, config: GeneratorConfig, layout: _Layout) -> list[_Root]:
    camp = layout.keyword_campaign
    if level == "account":
        return [_Root(config.account_id, config.account_id, np.arange(len(camp)))]
    if level == "portfolio":
        port = layout.campaign_portfolio[camp]
        by_id = {e["entity_id"]: e["name"] for e in layout.entities}
        return [
            _Root(p, by_id[p], np.flatnonzero(port == i))
            for i, p in enumerate(layout.portfolio_ids)
        ]
    if level == "campaign":
        return [
            _Root(c, layout.campaign_names[i], np.flatnonzero(camp == i))
            for i, c in enumerate(layout.campaign_ids)
        ]
    return [
        _Root(k, layout.keyword_texts[i], np.array([i], dtype=np.int64))
        for i, k in enumerate(layout.keyword_ids)
    ]


@dataclass(frozen=True)
class _Traffic:
    """Expected (noise-free, incident-free) clicks and orders per day and keyword."""

    clicks: FloatArray  # (D, K)
    orders: FloatArray
    first: int  # first day of the incident period

    @classmethod
    def of(cls, drivers: _Drivers, first: int) -> _Traffic:
        clicks = drivers.impressions * drivers.ctr
        return cls(clicks, clicks * drivers.cvr, first)

    def busy_enough(self, kind: _Kind, keywords: IntArray, days: slice) -> bool:
        """Does the root carry enough traffic on these days for the incident to show?"""
        n = days.stop - days.start
        clicks = self.clicks[days, keywords].sum() / n
        orders = self.orders[days, keywords].sum() / n
        return bool(clicks >= kind.min_clicks and orders >= kind.min_orders)


def _candidates(
    kind: _Kind, roots: list[_Root], traffic: _Traffic, need: int
) -> tuple[list[_Root], bool]:
    """Roots that are normally busy enough for the incident to be a real, visible one.

    Returns the roots and whether the traffic floor still applies (False after falling back
    to the busiest roots of a small account)."""
    history = slice(0, traffic.first)
    # Roots of one level partition the keywords: one bincount sums them all.
    label = np.zeros(traffic.clicks.shape[1], dtype=np.int64)
    for i, root in enumerate(roots):
        label[root.keywords] = i
    clicks = np.bincount(label, traffic.clicks[history].mean(axis=0), len(roots))
    orders = np.bincount(label, traffic.orders[history].mean(axis=0), len(roots))
    ok = (clicks >= kind.min_clicks) & (orders >= kind.min_orders)
    if ok.sum() >= need:
        return [r for r, keep in zip(roots, ok.tolist(), strict=True) if keep], True
    score = orders if kind.min_orders > 0 else clicks
    top = np.argsort(-score, kind="stable")[: max(need * 2, 1)]
    return [roots[i] for i in sorted(top.tolist())], False


def _plant_incidents(
    config: GeneratorConfig, layout: _Layout, drivers: _Drivers, rng: np.random.Generator
) -> list[Incident]:
    """Place incidents without overlap in (keyword, day) and apply them to the drivers."""
    first = config.days - config.incident_days
    traffic = _Traffic.of(drivers, first)  # before any incident edits the drivers
    busy = np.zeros((config.incident_days, len(layout.keyword_ids)), dtype=bool)
    placed: list[tuple[int, int, Incident]] = []
    used: set[str] = set()
    # Widest incidents first: they need the most free room.
    for kind in _KINDS:
        need = _incident_count(kind, config)
        if need == 0:
            continue
        cands, floor = _candidates(kind, _roots(kind.level, config, layout), traffic, need)
        for _ in range(need):
            spot = _find_spot(kind, cands, used, busy, traffic if floor else None, rng)
            if spot is None and floor:  # nothing busy enough is free: take a quieter spot
                spot = _find_spot(kind, cands, used, busy, None, rng)
            if spot is None:
                continue  # no room left for this kind: plant fewer rather than overlap
            root, start, length = spot
            busy[start : start + length, root.keywords] = True
            used.add(root.entity_id)
            day = slice(first + start, first + start + length)
            incident = _apply(kind, root, day, config, layout, drivers, rng)
            placed.append((start, _level_rank(kind.level), incident))
    placed.sort(key=lambda t: (t[0], t[1], t[2].root_entity, t[2].kind))
    return [
        dataclasses.replace(inc, incident_id=f"{config.account_id}-INC{i + 1:03d}")
        for i, (_, _, inc) in enumerate(placed)
    ]


def _level_rank(level: str) -> int:
    return ("account", "portfolio", "campaign", "keyword").index(level)


def _find_spot(
    kind: _Kind,
    cands: list[_Root],
    used: set[str],
    busy: npt.NDArray[np.bool_],
    traffic: _Traffic | None,
    rng: np.random.Generator,
) -> tuple[_Root, int, int] | None:
    """A random free (root, start, length), busy enough on those very days when ``traffic``
    is given (drift can make a normally busy keyword quiet for a while). Roots not yet used
    by an incident come first."""
    window = busy.shape[0]
    first = traffic.first if traffic else 0
    length = int(rng.integers(kind.days[0], kind.days[1] + 1))
    # Orders/sales-only drops stay out of the restated days, or no one could confirm them.
    tail = LATE_ATTRIBUTION_DAYS if kind.cvr != _NO else 0
    last_start = window - length - tail
    if last_start < 0:
        return None
    order = rng.permutation(len(cands))
    fresh = [cands[i] for i in order if cands[i].entity_id not in used]
    reused = [cands[i] for i in order if cands[i].entity_id in used]
    for root in fresh + reused:
        for start in rng.permutation(last_start + 1).tolist():
            if busy[start : start + length, root.keywords].any():
                continue
            days = slice(first + start, first + start + length)
            if traffic is None or traffic.busy_enough(kind, root.keywords, days):
                return root, start, length
    return None


def _apply(
    kind: _Kind,
    root: _Root,
    day: slice,
    config: GeneratorConfig,
    layout: _Layout,
    drivers: _Drivers,
    rng: np.random.Generator,
) -> Incident:
    """Scale the root's keyword rates for the incident days and describe what happened."""
    imp, cpc, cvr = (float(rng.uniform(*r)) for r in (kind.imp, kind.cpc, kind.cvr))
    cols = root.keywords
    drivers.impressions[day, cols] *= imp
    drivers.cpc[day, cols] *= cpc
    drivers.cvr[day, cols] *= cvr
    start = config.start + datetime.timedelta(days=day.start)
    text = kind.sentence.format(
        name=root.name, id=root.entity_id, n=len(cols), imp=imp, cpc=cpc, cvr=cvr
    )
    return Incident(
        incident_id="",
        kind=kind.kind,
        level=kind.level,
        root_entity=root.entity_id,
        start=start,
        end=start + datetime.timedelta(days=day.stop - day.start - 1),
        affected=tuple(layout.keyword_ids[i] for i in cols.tolist()),
        metrics=kind.metrics,
        direction=kind.direction,
        description=text,
    )


# --------------------------------------------------------------------------------------------
# Counts and output
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Counts:
    impressions: IntArray  # (D, K)
    clicks: IntArray
    orders: IntArray
    spend_cents: IntArray
    sales_cents: IntArray


_IMPRESSION_DISPERSION = 25.0  # Gamma–Poisson shape: a little more spread than Poisson
_CPC_SHAPE = 25.0  # per-click cost ~ Gamma(25): ±20 % around the day's CPC
_ORDER_SHAPE = 16.0  # order value ~ Gamma(16): ±25 % around the keyword's order value


def _sample_counts(drivers: _Drivers, params: _Params, rng: np.random.Generator) -> _Counts:
    lam = drivers.impressions * rng.gamma(_IMPRESSION_DISPERSION, 1 / _IMPRESSION_DISPERSION)
    impressions = rng.poisson(lam).astype(np.int64)
    clicks = rng.binomial(impressions, drivers.ctr).astype(np.int64)
    orders = rng.binomial(clicks, np.clip(drivers.cvr, 0.0, 1.0)).astype(np.int64)
    # A sum of n Gamma(k, θ) draws is Gamma(n·k, θ): one draw per cell, 0 when n is 0.
    spend = rng.gamma(clicks * _CPC_SHAPE, drivers.cpc / _CPC_SHAPE)
    sales = rng.gamma(orders * _ORDER_SHAPE, params.aov[None, :] / _ORDER_SHAPE)
    # Amazon's floor is $0.02 a click; an order is never worth less than a dollar.
    spend_cents = np.maximum(np.rint(spend * 100).astype(np.int64), 2 * clicks)
    sales_cents = np.maximum(np.rint(sales * 100).astype(np.int64), 100 * orders)
    return _Counts(impressions, clicks, orders, spend_cents, sales_cents)


def _to_structured(
    config: GeneratorConfig, keyword_ids: list[str], counts: _Counts
) -> npt.NDArray[np.void]:
    n_d, n_k = counts.impressions.shape
    width = max(len(k) for k in keyword_ids)
    out = np.empty(n_d * n_k, dtype=metrics_dtype(width))
    dates = np.datetime64(config.start, "D") + np.arange(n_d)
    # Day-major order with zero-padded ids is exactly "sorted by date then entity_id".
    out["date"] = np.repeat(dates, n_k)
    out["entity_id"] = np.tile(np.asarray(keyword_ids), n_d)
    out["impressions"] = counts.impressions.ravel()
    out["clicks"] = counts.clicks.ravel()
    out["orders"] = counts.orders.ravel()
    out["spend"] = counts.spend_cents.ravel() / 100
    out["sales"] = counts.sales_cents.ravel() / 100
    return out


def _write_entities(entities: list[dict[str, str]], path: pathlib.Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=ENTITY_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(entities)


_ROW_FORMAT = "%s,%s,%d,%d,%d.%02d,%d.%02d,%d\n"
_CHUNK = 50_000


def _write_metrics(metrics: npt.NDArray[np.void], path: pathlib.Path) -> None:
    # One C-level %-format per chunk is ~10× faster than csv.writer on a million rows.
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(METRIC_COLUMNS) + "\n")
        for chunk in _chunks(metrics):
            fh.write((_ROW_FORMAT * (chunk.size // 9)) % tuple(chunk.ravel().tolist()))


def _chunks(metrics: npt.NDArray[np.void]) -> Iterator[npt.NDArray[np.object_]]:
    """Rows as (n, 9) object arrays: date, id, impressions, clicks, $, ¢, $, ¢, orders."""
    for lo in range(0, len(metrics), _CHUNK):
        part = metrics[lo : lo + _CHUNK]
        spend = np.rint(part["spend"] * 100).astype(np.int64)
        sales = np.rint(part["sales"] * 100).astype(np.int64)
        rows = np.empty((len(part), 9), dtype=object)
        rows[:, 0] = part["date"].astype(str)
        rows[:, 1] = part["entity_id"]
        rows[:, 2] = part["impressions"]
        rows[:, 3] = part["clicks"]
        rows[:, 4], rows[:, 5] = spend // 100, spend % 100
        rows[:, 6], rows[:, 7] = sales // 100, sales % 100
        rows[:, 8] = part["orders"]
        yield rows


def _truth_json(account: GeneratedAccount) -> str:
    doc = {
        "config": config_to_dict(account.config),
        "incidents": [incident_to_dict(i) for i in account.incidents],
    }
    return json.dumps(doc, indent=2) + "\n"
