"""Row-level import errors that name the file, the line and the field."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError


@dataclass(frozen=True)
class RowError:
    source: str  # file name
    line: int  # 1-based physical line; the header is line 1
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.source} line {self.line}, field '{self.field}': {self.message}"


class ImportRejected(Exception):
    """Bad rows stopped an import; nothing was written."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        first = str(errors[0]) if errors else "no rows"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"{first}{more}")


def row_errors(
    error: ValidationError, source: str, line: int, renames: dict[str, str] | None = None
) -> list[RowError]:
    """One RowError per pydantic error, with the model's field names mapped to columns."""
    renames = renames or {}
    found = []
    for detail in error.errors():
        field = str(detail["loc"][0]) if detail["loc"] else "row"
        message = detail["msg"].removeprefix("Value error, ")
        found.append(RowError(source, line, renames.get(field, field), message))
    return found
