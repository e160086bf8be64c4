"""Administrators: the audit log (read-only; nothing can change or delete it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from spinepath.store import repository
from spinepath.web.api.schemas import AuditEventOut
from spinepath.web.deps import CurrentAdmin, DbSession

router = APIRouter(tags=["admin"])


@router.get(
    "/audit",
    response_model=list[AuditEventOut],
    summary="Audit log (administrators)",
    description="Who read or changed which patient's data, newest first. Page back with "
    "`before_id` (the smallest id of the previous page).",
)
def get_audit(
    session: DbSession,
    _admin: CurrentAdmin,
    patient_id: Annotated[str | None, Query(max_length=32)] = None,
    clinic_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    before_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditEventOut]:
    events = repository.list_audit(
        session, patient_id=patient_id, clinic_id=clinic_id, before_id=before_id, limit=limit
    )
    return [AuditEventOut.model_validate(e, from_attributes=True) for e in events]
