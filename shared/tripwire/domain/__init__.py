"""The domain model, in one place: every fact Tripwire stores or returns has a type here."""

from tripwire.domain.alerts import (
    Alert,
    AlertStatus,
    Attribution,
    Direction,
    Relation,
    RootCause,
    Severity,
)
from tripwire.domain.entities import (
    LEAF_TYPES,
    PARENT_TYPES,
    Entity,
    EntityType,
    Profile,
    ProfileKind,
    Tenant,
    check_parent,
)
from tripwire.domain.metrics import (
    OHLCV_MEASURES,
    PPC_MEASURES,
    Interval,
    OHLCVBar,
    PPCPoint,
    format_period,
    parse_period,
)
from tripwire.domain.runs import DetectionMetadata, DetectionRun, RunStatus, SeriesStatus, Trigger

__all__ = [
    "LEAF_TYPES",
    "OHLCV_MEASURES",
    "PARENT_TYPES",
    "PPC_MEASURES",
    "Alert",
    "AlertStatus",
    "Attribution",
    "DetectionMetadata",
    "DetectionRun",
    "Direction",
    "Entity",
    "EntityType",
    "Interval",
    "OHLCVBar",
    "PPCPoint",
    "Profile",
    "ProfileKind",
    "Relation",
    "RootCause",
    "RunStatus",
    "SeriesStatus",
    "Severity",
    "Tenant",
    "Trigger",
    "check_parent",
    "format_period",
    "parse_period",
]
