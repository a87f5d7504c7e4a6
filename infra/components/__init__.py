"""The constructs the Tripwire stack is built from, one per concern."""

from infra.components.api import Api
from infra.components.functions import Functions
from infra.components.monitoring import Monitoring
from infra.components.pipeline import Archival, Notifications, ScanPipeline
from infra.components.storage import Storage

__all__ = ["Api", "Archival", "Functions", "Monitoring", "Notifications", "ScanPipeline", "Storage"]
