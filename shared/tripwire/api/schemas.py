"""Request models of the API: validated at the edge, errors name the field."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationInfo,
    field_validator,
)
from pydantic.config import JsonDict

from tripwire.api import cursor
from tripwire.domain.alerts import Severity
from tripwire.domain.entities import EntityType, Identifier
from tripwire.domain.metrics import (
    DATE_RANGE,
    INTEGER_MEASURES,
    OHLCV_MEASURES,
    PPC_MEASURES,
    Count,
    Day,
    Interval,
    Money,
)
from tripwire.features.ppc import FEATURES as PPC_FEATURES

Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
Cursor = Annotated[
    str,
    Field(
        min_length=1,
        max_length=cursor.MAX_LENGTH,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="the `next_cursor` of the page before (for this tenant and profile)",
    ),
]


class ActiveQuery(BaseModel):
    """Query string of ``GET /alerts/active``."""

    model_config = ConfigDict(extra="forbid")

    profile_id: Identifier
    severity: Severity | None = None
    entity_type: EntityType | None = None
    entity_id: Identifier | None = None
    group_id: Identifier | None = None
    limit: int = Field(default=50, ge=1, le=200)
    cursor: Cursor | None = None

    @field_validator("cursor")
    @classmethod
    def _well_formed(cls, value: str | None) -> str | None:
        if value is not None:
            cursor.parse(value)  # InvalidCursor is a ValueError: pydantic reports the field
        return value

    def where(self) -> dict[str, str]:
        """The equality filters given."""
        fields = {"entity_type": self.entity_type, "entity_id": self.entity_id}
        fields["group_id"] = self.group_id
        return {name: str(value) for name, value in fields.items() if value is not None}


class ResolveBody(BaseModel):
    # strict: JSON types must match (no "yes" for a bool); extra fields are mistakes.
    model_config = ConfigDict(extra="forbid", strict=True)

    notes: Annotated[Note, StringConstraints(min_length=1)]


class FeedbackBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    is_anomaly: bool
    note: Note = ""


# -- stats function -------------------------------------------------------------------

MAX_RANGE_DAYS = 366


class RangeQuery(BaseModel):
    """``profile_id`` and an optional closed date range ``from``..``to`` (ISO dates)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    profile_id: Identifier
    start: Day | None = Field(default=None, alias="from")
    to: Day | None = Field(
        default=None, description=f"not before `from`; at most {MAX_RANGE_DAYS} days after it"
    )

    @field_validator("to")
    @classmethod
    def _after_start(cls, end: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("start")
        if end is not None and start is not None:
            if end < start:
                raise ValueError("must not be before 'from'")
            if (end - start).days >= MAX_RANGE_DAYS:
                raise ValueError(f"the range may span at most {MAX_RANGE_DAYS} days")
        return end

    def dates(self, default_days: int = 30) -> tuple[date, date]:
        """``from``..``to``; a missing end makes a range of ``default_days`` days (to today)."""
        end = self.to or (self.start + timedelta(days=default_days - 1) if self.start else _today())
        return self.start or end - timedelta(days=default_days - 1), end


def _today() -> date:
    return datetime.now(UTC).date()


class StatisticsQuery(RangeQuery):
    top: int = Field(default=10, ge=1, le=100)


_METRIC = "|".join(dict.fromkeys((*PPC_FEATURES, *OHLCV_MEASURES)))


class SeriesQuery(RangeQuery):
    interval: Interval = Field(
        default=Interval.D1, description="an intraday chart spans at most 31 days"
    )
    # Comma-separated metric names; which exist depends on the profile's kind (checked
    # by the service, which names this field when one is unknown).
    metrics: str | None = Field(
        default=None,
        max_length=400,
        pattern=rf"^(?:{_METRIC})(?:,(?:{_METRIC}))*$",
        description=f"comma-separated; Ads profiles: {', '.join(PPC_FEATURES)}; "
        f"market profiles: {', '.join(OHLCV_MEASURES)}",
    )

    def metric_names(self) -> list[str] | None:
        return list(dict.fromkeys(self.metrics.split(","))) if self.metrics else None


class EntityQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile_id: Identifier


# -- ingest function ------------------------------------------------------------------

MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_POINTS = 5000
MAX_ENTITIES = 2000
Row = dict[str, Any]  # checked row by row by the service, so errors name row and field


def _schema(kind: Any) -> JsonDict:
    return TypeAdapter(kind).json_schema()


# The rows' schemas, documented from the domain types the service checks them with
# (``Entity``, ``PPCPoint``); rules across rows (a point's entity exists, a parent fits its
# child, clicks within impressions, one point per entity and period) are checked there.
ENTITY_ROW: JsonDict = {
    "type": "object",
    "required": ["entity_id", "entity_type"],
    "additionalProperties": False,
    "properties": {
        "entity_id": _schema(Identifier),
        "entity_type": _schema(EntityType),
        "parent_id": _schema(Identifier) | {"description": "none for an account"},
        "name": {"type": "string"},
    },
}
POINT_ROW: JsonDict = {
    "type": "object",
    "required": ["entity_id", "date", *PPC_MEASURES],
    "additionalProperties": False,
    "properties": {
        "entity_id": _schema(Identifier) | {"description": "a keyword of the profile or body"},
        "date": _schema(Day)
        | {"description": f"ISO date ({DATE_RANGE}); a timestamp for intraday intervals"},
        **{m: _schema(Count if m in INTEGER_MEASURES else Money) for m in PPC_MEASURES},
    },
}


class MetricsBody(BaseModel):
    """``POST /metrics``: PPC points of leaf entities, and entities new to the profile —
    at least one of either."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [
                {"required": ["points"], "properties": {"points": {"minItems": 1}}},
                {"required": ["entities"], "properties": {"entities": {"minItems": 1}}},
            ]
        },
    )

    profile_id: Identifier
    interval: Interval = Interval.D1
    entities: list[Row] = Field(
        default_factory=list, max_length=MAX_ENTITIES, json_schema_extra={"items": ENTITY_ROW}
    )
    points: list[Row] = Field(
        default_factory=list,
        max_length=MAX_POINTS,
        validate_default=True,
        json_schema_extra={"items": POINT_ROW},
    )

    @field_validator("points")
    @classmethod
    def _something_to_do(cls, points: list[Row], info: ValidationInfo) -> list[Row]:
        if not points and not info.data.get("entities"):
            raise ValueError("send at least one point or entity")
        return points
