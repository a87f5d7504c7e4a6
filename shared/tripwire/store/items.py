"""Pydantic models in and out of DynamoDB items: the model as one JSON attribute, plus
the key and index attributes the access patterns need."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from tripwire.store.batch import Item

M = TypeVar("M", bound=BaseModel)


def to_item(model: BaseModel, **attributes: str | int | None) -> Item:
    item: Item = {"body": {"S": model.model_dump_json()}}
    for name, value in attributes.items():
        if value is None:
            continue
        item[name] = {"N": str(value)} if isinstance(value, int) else {"S": value}
    return item


def from_item(model: type[M], item: dict[str, Any]) -> M:
    return model.model_validate_json(item["body"]["S"])
