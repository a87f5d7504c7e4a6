"""Request models of the alerts API: validated at the edge, errors name the field."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from tripwire.api import cursor
from tripwire.domain.alerts import Severity
from tripwire.domain.entities import EntityType, Identifier

Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]


class ActiveQuery(BaseModel):
    """Query string of ``GET /alerts/active``."""

    model_config = ConfigDict(extra="forbid")

    profile_id: Identifier
    severity: Severity | None = None
    entity_type: EntityType | None = None
    entity_id: Identifier | None = None
    group_id: Identifier | None = None
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = None

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
