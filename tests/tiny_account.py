"""A hand-sized account whose roll-ups can be checked by eye, shared by import tests."""

from __future__ import annotations

from pathlib import Path

ENTITIES = """entity_id,entity_type,parent_id,name
A1,account,,Acme
P1,portfolio,A1,Kitchen
C1,campaign,P1,Kitchen | Exact
C2,campaign,A1,No portfolio | Auto
K1,keyword,C1,chef knife
K2,keyword,C1,chef knife
K3,keyword,C2,knife set
"""

METRICS = """date,entity_id,impressions,clicks,spend,sales,orders
2026-01-01,K1,100,5,2.50,30.00,1
2026-01-01,K2,40,1,0.70,0,0
2026-01-01,K3,10,0,0,0,0
2026-01-02,K1,120,6,3.10,0,0
2026-01-02,K2,35,2,1.20,25.50,1
2026-01-02,K3,12,1,0.45,0,0
"""


def write(folder: Path, entities: str = ENTITIES, metrics: str = METRICS) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    entities_path, metrics_path = folder / "entities.csv", folder / "metrics.csv"
    entities_path.write_text(entities)
    metrics_path.write_text(metrics)
    return entities_path, metrics_path
