"""The model registry: content-addressed artifacts in S3 and the per-container cache."""

from tripwire.registry.manager import ModelManager, default_manager
from tripwire.registry.store import (
    IntegrityError,
    ModelNotFound,
    ModelSetChanged,
    NoModels,
    RegistryError,
    RegistryStore,
    version_of,
)

__all__ = [
    "IntegrityError",
    "ModelManager",
    "ModelNotFound",
    "ModelSetChanged",
    "NoModels",
    "RegistryError",
    "RegistryStore",
    "default_manager",
    "version_of",
]
