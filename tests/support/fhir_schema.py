"""HL7's official FHIR R4 (4.0.1) JSON schema, vendored in tests/interop/vendor, as a validator.

Every FHIR export's tests check their resources with ``schema_errors``: the R4B pydantic models
let through what R4 refuses (a canonical with spaces in it), so the schema is the check that
counts.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft6Validator  # type: ignore[import-untyped]

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "interop" / "vendor" / "fhir.schema.json"

Json = dict[str, Any]


@cache
def schema() -> Json:
    loaded: Json = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


@cache
def root_validator() -> Draft6Validator:
    return Draft6Validator(schema())


@cache
def _type_validator(resource_type: str) -> Draft6Validator:
    # The root schema is a oneOf over every resource type, each branch fixing resourceType with
    # a const, so a resource passes the root exactly when it passes its own type's definition.
    # Entering there gives the same verdict with errors that name the failing element, and
    # skips 145 branches that are bound to fail (seconds per resource with contained ones).
    typed = {**schema(), "$ref": f"#/definitions/{resource_type}"}
    del typed["oneOf"]
    return Draft6Validator(typed)


def schema_errors(resource: Json) -> list[str]:
    """What the R4 schema refuses in ``resource``, one line per error naming the element."""
    found = _type_validator(resource["resourceType"]).iter_errors(resource)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in found]
