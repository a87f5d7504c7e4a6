"""A profile's hierarchy read again costs its head item only while its version (a hash of
the content) is unchanged — what each slice of a scan reads — DynamoDB in-process."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import pytest

from tripwire.domain.entities import Entity
from tripwire.store.catalog import CatalogStore


@pytest.fixture(autouse=True)
def aws(moto_aws: None) -> None:
    """Every test here runs against moto in-process (tests/unit/conftest.py)."""


def _tree(keyword_name: str) -> list[Entity]:
    return [
        Entity(entity_id="A1", entity_type="account"),
        Entity(entity_id="cp-1", entity_type="campaign", parent_id="A1"),
        Entity(entity_id="kw-1", entity_type="keyword", parent_id="cp-1", name=keyword_name),
    ]


def test_a_hierarchy_read_again_reads_its_head_only_until_it_changes() -> None:
    catalog = CatalogStore()
    tenant, other = f"t-{uuid.uuid4().hex[:8]}", f"t-{uuid.uuid4().hex[:8]}"
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    catalog._client.meta.events.register("before-call.dynamodb.*", count)
    first = catalog.put_hierarchy(tenant, "A1", _tree("old"), expected=None)
    catalog.put_hierarchy(other, "A1", _tree("old"), expected=None)  # same content, same version
    calls.clear()
    assert catalog.get_hierarchy(tenant, "A1") == (first, _tree("old"))
    assert catalog.get_hierarchy(tenant, "A1") == (first, _tree("old"))
    assert calls == {"GetItem": 2, "BatchGetItem": 1}
    assert catalog.get_hierarchy(other, "A1") == (first, _tree("old"))  # its own chunks
    assert calls == {"GetItem": 3, "BatchGetItem": 2}
    renamed = catalog.put_hierarchy(tenant, "A1", _tree("new"), expected=first)
    calls.clear()
    assert catalog.get_hierarchy(tenant, "A1") == (renamed, _tree("new"))
    assert calls == {"GetItem": 1, "BatchGetItem": 1}
