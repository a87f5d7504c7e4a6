"""The model registry against the local stack (moto server over real HTTP)."""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

import pytest

from tripwire.local.stack import LocalStack
from tripwire.registry import (
    IntegrityError,
    ModelManager,
    ModelNotFound,
    ModelSetChanged,
    NoModels,
    RegistryStore,
)
from tripwire.store.provision import aws_client
from tripwire.store.tables import MODELS

pytestmark = pytest.mark.integration

PROFILE = "ppc-main"
ONNX = b"\x08\x07fake-onnx-graph" * 50
STATE = b"\x80\x05pickled-river-state" * 30
META = {"detector": "iforest", "rows": 1200, "features": ["ctr", "cpc"], "quality": 0.93}


class CountingClient:
    """Wraps the S3 client and counts the calls made through it."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] = self.calls[name] + 1
            return attribute(*args, **kwargs)

        return call


@pytest.fixture
def s3(local_stack: LocalStack) -> CountingClient:
    return CountingClient(aws_client("s3"))


@pytest.fixture
def store(s3: CountingClient) -> RegistryStore:
    return RegistryStore(s3)


def test_publish_load_round_trip(store: RegistryStore, tenant: str) -> None:
    version = store.publish(tenant, PROFILE, "iforest", ONNX, META)
    assert version == hashlib.sha256(ONNX).hexdigest()
    assert store.current(tenant, PROFILE, "iforest") == version
    assert store.current_set(tenant, PROFILE) is None  # not in a set until published as one

    store.publish_set(tenant, PROFILE, {"iforest": version})
    assert store.current_set(tenant, PROFILE) == {"iforest": version}
    data, metadata = store.load(tenant, PROFILE, "iforest", version)
    assert data == ONNX
    assert metadata == META

    keys = {
        o["Key"]
        for o in aws_client("s3").list_objects_v2(Bucket=MODELS.name, Prefix=f"{tenant}/")[
            "Contents"
        ]
    }
    assert keys == {
        f"{tenant}/{PROFILE}/iforest/{version}.bin",
        f"{tenant}/{PROFILE}/iforest/{version}.json",
        f"{tenant}/{PROFILE}/iforest/CURRENT.json",
        f"{tenant}/{PROFILE}/MODELSET.json",
    }


def test_tampered_artifact_is_refused(store: RegistryStore, tenant: str) -> None:
    version = store.publish(tenant, PROFILE, "iforest", ONNX, META)
    store.publish_set(tenant, PROFILE, {"iforest": version})
    aws_client("s3").put_object(
        Bucket=MODELS.name, Key=f"{tenant}/{PROFILE}/iforest/{version}.bin", Body=b"evil"
    )
    with pytest.raises(IntegrityError, match="tampered"):
        store.load(tenant, PROFILE, "iforest", version)
    manager = ModelManager(store, check_seconds=0)
    with pytest.raises(IntegrityError):
        manager.get(tenant, PROFILE, "iforest", bytes)
    assert manager.cached() == []


def test_set_must_name_published_artifacts(store: RegistryStore, tenant: str) -> None:
    with pytest.raises(ModelNotFound):
        store.publish_set(tenant, PROFILE, {"iforest": hashlib.sha256(b"nope").hexdigest()})
    with pytest.raises(ValueError, match="SHA-256"):
        store.publish_set(tenant, PROFILE, {"iforest": "latest"})
    with pytest.raises(ModelNotFound):
        store.load(tenant, PROFILE, "iforest", hashlib.sha256(b"nope").hexdigest())
    assert store.current_set(tenant, PROFILE) is None


def test_manager_caches(store: RegistryStore, s3: CountingClient, tenant: str) -> None:
    store.publish_models(tenant, PROFILE, {"iforest": (ONNX, META), "hst": (STATE, {})})
    built: list[bytes] = []

    def factory(data: bytes) -> tuple[str, int]:
        built.append(data)
        return ("model", len(data))

    manager = ModelManager(store, check_seconds=60)
    s3.calls.clear()
    first = manager.get(tenant, PROFILE, "iforest", factory)
    assert s3.calls["get_object"] == 3  # MODELSET.json, the .bin, its .json
    s3.calls.clear()
    assert manager.get(tenant, PROFILE, "iforest", factory) is first
    assert sum(s3.calls.values()) == 0  # served from memory, set not re-read yet
    assert built == [ONNX]
    assert manager.metadata(tenant, PROFILE, "iforest") == META

    # With checks on every call, a warm get costs one small GET (MODELSET.json) only.
    manager.check_seconds = 0
    assert manager.get(tenant, PROFILE, "iforest", factory) is first
    assert dict(s3.calls) == {"get_object": 1}


def test_warm_manager_picks_up_a_new_version(store: RegistryStore, tenant: str) -> None:
    old = store.publish_models(tenant, PROFILE, {"iforest": (ONNX, META), "hst": (STATE, {})})
    manager = ModelManager(store, check_seconds=0)
    assert manager.get(tenant, PROFILE, "iforest", bytes) == ONNX
    assert manager.get(tenant, PROFILE, "hst", bytes) == STATE

    retrained = ONNX + b"retrained"
    new = store.publish_models(tenant, PROFILE, {"iforest": (retrained, {**META, "rows": 1500})})
    assert new["hst"] == old["hst"] and new["iforest"] != old["iforest"]

    assert manager.get(tenant, PROFILE, "iforest", bytes) == retrained
    assert manager.metadata(tenant, PROFILE, "iforest")["rows"] == 1500
    versions = {(m["detector"], m["version"]) for m in manager.cached()}
    assert versions == {("iforest", new["iforest"]), ("hst", old["hst"])}  # stale one dropped


def test_check_interval_delays_pick_up(store: RegistryStore, tenant: str) -> None:
    store.publish_models(tenant, PROFILE, {"iforest": (ONNX, META)})
    now = [1000.0]
    manager = ModelManager(store, check_seconds=60, clock=lambda: now[0])
    assert manager.get(tenant, PROFILE, "iforest", bytes) == ONNX
    store.publish_models(tenant, PROFILE, {"iforest": (ONNX + b"v2", META)})
    now[0] += 59
    assert manager.get(tenant, PROFILE, "iforest", bytes) == ONNX  # within the interval
    now[0] += 2
    assert manager.get(tenant, PROFILE, "iforest", bytes) == ONNX + b"v2"


def test_tenant_isolation(store: RegistryStore, tenant: str, new_tenant: Any) -> None:
    store.publish_models(tenant, PROFILE, {"iforest": (ONNX, META)})
    other = new_tenant()
    manager = ModelManager(store, check_seconds=0)
    assert manager.get(tenant, PROFILE, "iforest", bytes) == ONNX
    assert store.current_set(other, PROFILE) is None
    with pytest.raises(NoModels, match="no models"):
        manager.get(other, PROFILE, "iforest", bytes)
    with pytest.raises(ValueError, match="invalid tenant"):
        store.current_set(f"{other}/../{tenant}", PROFILE)
    with pytest.raises(NoModels, match="no 'lstm' model"):
        manager.get(tenant, PROFILE, "lstm", bytes)


def test_cached_lists_versions(store: RegistryStore, tenant: str) -> None:
    versions = store.publish_models(
        tenant, PROFILE, {"iforest": (ONNX, META), "hst": (STATE, {"window": 250})}
    )
    manager = ModelManager(store, check_seconds=0)
    assert manager.cached() == []
    manager.get(tenant, PROFILE, "hst", bytes)
    manager.get(tenant, PROFILE, "iforest", bytes)
    listed = manager.cached()
    assert [(m["tenant"], m["profile"], m["detector"], m["version"]) for m in listed] == [
        (tenant, PROFILE, "hst", versions["hst"]),
        (tenant, PROFILE, "iforest", versions["iforest"]),
    ]
    assert all(m["loaded_at"].endswith("+00:00") for m in listed)


def test_a_set_derived_from_a_replaced_set_is_not_published(
    store: RegistryStore, tenant: str
) -> None:
    # A learner read the set, a retrain replaced it, then the learner publishes its trees:
    # the retrain's set stands.
    read = store.publish_models(tenant, PROFILE, {"iforest": (ONNX, META)})
    retrained = store.publish_models(tenant, PROFILE, {"iforest": (ONNX + b"v2", META)})
    with pytest.raises(ModelSetChanged):
        store.publish_models(tenant, PROFILE, {"streaming": (STATE, META)}, based_on=read)
    assert store.current_set(tenant, PROFILE) == retrained
    # Based on the stored set it publishes.
    learnt = store.publish_models(tenant, PROFILE, {"streaming": (STATE, META)}, based_on=retrained)
    assert (
        store.current_set(tenant, PROFILE)
        == learnt
        == {**retrained, "streaming": learnt["streaming"]}
    )


def test_the_set_write_is_conditional_on_what_was_read(store: RegistryStore, tenant: str) -> None:
    # The race the check alone cannot close: the set changes between read and write.
    store.publish_models(tenant, PROFILE, {"iforest": (ONNX, META)})
    key = f"{tenant}/{PROFILE}/MODELSET.json"
    stale = store.client.head_object(Bucket=MODELS.name, Key=key)["ETag"]
    newer = store.publish_models(tenant, PROFILE, {"iforest": (ONNX + b"v2", META)})
    with pytest.raises(ModelSetChanged):
        store.publish_set(tenant, PROFILE, {"iforest": newer["iforest"]}, if_match=stale)
    assert store.current_set(tenant, PROFILE) == newer
