"""Realistic names: product categories with their themes and keyword vocabulary, portfolio and
campaign names, and keyword texts built from a theme's words."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Theme:
    name: str
    heads: tuple[str, ...]  # the core search terms
    pre: tuple[str, ...]  # modifiers searched before the core term
    post: tuple[str, ...]  # modifiers searched after it


@dataclass(frozen=True)
class Category:
    name: str
    aov: float  # typical order value, $
    cpc: float  # typical cost per click, $
    themes: tuple[Theme, ...]


def _t(name: str, heads: str, pre: str, post: str) -> Theme:
    return Theme(name, tuple(heads.split("; ")), tuple(pre.split("; ")), tuple(post.split("; ")))


CATEGORIES = (
    Category(
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
    Category(
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
    Category(
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
    Category(
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
    Category(
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
    Category(
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
    Category(
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
    Category(
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


def portfolio_names(cats: list[Category], n: int) -> list[str]:
    # More portfolios than categories: reuse categories with a suffix ("Kitchen 2").
    return [
        cats[i % len(cats)].name + ("" if i < len(cats) else f" {i // len(cats) + 1}")
        for i in range(n)
    ]


# Why an account runs a second campaign on the same theme and match type.
_VARIANTS = ("Top Performers", "Long Tail", "Research", "Harvest", "Low Bid", "Defense")


def unique_names(names: list[str]) -> list[str]:
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


def keyword_texts(theme: Theme, n: int, rng: np.random.Generator) -> tuple[list[str], list[int]]:
    """n keyword texts for one campaign, distinct while the theme's vocabulary lasts, and the
    word count of each (1 = head term, 2 = one modifier, 3 = two modifiers)."""
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
