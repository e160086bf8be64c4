"""An intake in and out of the data set's nested ``assessments.intake`` column.

The column (``tables.ASSESSMENTS``) holds the intake nested as the intake model nests it, a
question left out being null. An intake written from the model leaves out every answer equal to
its default (unanswered, no treatments listed, the intake version), as the intake JSON people
and the cohort generator write does; so an intake read back from FHIR or from spinepath's
database fills the column exactly as one that never left it. The one difference: a section
given with no answer at all (``"mimics": {}``) comes back as no section.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from spinepath.pathway.intake import Intake
from spinepath.validation import error_lines


class IntakeError(ValueError):
    """A value that is not an intake; the message names the first field at fault."""


def intake_record(intake: Intake) -> dict[str, Any]:
    """``intake`` as the column stores it (a JSON object without its defaults)."""
    return intake.model_dump(mode="json", exclude_defaults=True)


def _answered(value: Any) -> Any:
    # Nulls in the column are questions left out, which the strict model wants absent.
    if isinstance(value, dict):
        return {k: _answered(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_answered(v) for v in value]
    return value


def read_intake(value: object) -> Intake:
    """The intake a value of the column holds; IntakeError naming the first problem."""
    if not isinstance(value, dict):
        raise IntakeError("no intake")
    try:
        return Intake.model_validate(_answered(value))
    except ValidationError as exc:
        lines = error_lines(exc, "intake")
        more = f" (and {len(lines) - 1} more)" if len(lines) > 1 else ""
        raise IntakeError(f"{lines[0]}{more}") from None
