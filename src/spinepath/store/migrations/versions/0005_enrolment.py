"""Enrolment: clinic join codes, and re-issued or revoked patient links.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clinic_join_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinics.id"],
            name=op.f("fk_clinic_join_codes_clinic_id_clinics"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_clinic_join_codes_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinic_join_codes")),
        sa.UniqueConstraint("code", name=op.f("uq_clinic_join_codes_code")),
    )
    with op.batch_alter_table("clinic_join_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_clinic_join_codes_clinic_id"), ["clinic_id"], unique=False
        )
    op.create_table(
        "patient_links",
        sa.Column("patient_id", sa.String(length=32), nullable=False),
        sa.Column("reissued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_patient_links_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_patient_links")),
    )


def downgrade() -> None:
    op.drop_table("patient_links")
    with op.batch_alter_table("clinic_join_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clinic_join_codes_clinic_id"))
    op.drop_table("clinic_join_codes")
