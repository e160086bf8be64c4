"""Administrators: the audit log (read-only; nothing can change or delete it).

An administrator who belongs to a clinic sees that clinic's events only; an administrator with
no clinic sees every clinic's. Every read of the log is itself logged."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from spinepath.store import repository
from spinepath.store.models import ROW_ID_MAX
from spinepath.web.api.schemas import AuditEventOut
from spinepath.web.deps import CurrentAdmin, DbSession, forbidden

router = APIRouter(tags=["admin"])


@router.get(
    "/audit",
    response_model=list[AuditEventOut],
    summary="Audit log (administrators)",
    description="Who read or changed which patient's data, newest first. Page back with "
    "`before_id` (the smallest id of the previous page).",
)
def get_audit(
    request: Request,
    session: DbSession,
    admin: CurrentAdmin,
    patient_id: Annotated[str | None, Query(max_length=32)] = None,
    clinic_id: Annotated[int | None, Query(ge=1, le=ROW_ID_MAX)] = None,
    before_id: Annotated[int | None, Query(ge=1, le=ROW_ID_MAX)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditEventOut]:
    if admin.clinic_id is not None:
        if clinic_id not in (None, admin.clinic_id):
            raise forbidden("this account sees its own clinic's audit log only")
        clinic_id = admin.clinic_id
    events = repository.list_audit(
        session, patient_id=patient_id, clinic_id=clinic_id, before_id=before_id, limit=limit
    )
    repository.record_audit(
        session,
        actor_kind="admin",
        actor_id=admin.id,
        action="read_audit",
        patient_id=patient_id,
        clinic_id=clinic_id,
        route=f"{request.method} {request.url.path}",
    )
    return [AuditEventOut.model_validate(e, from_attributes=True) for e in events]
