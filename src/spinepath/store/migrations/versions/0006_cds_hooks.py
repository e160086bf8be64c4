"""CDS Hooks: the JWT ids already accepted (replay protection) and the feedback on cards.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cds_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.String(length=100), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("card_uuid", sa.String(length=100), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column(
            "accepted_suggestions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "override_reason",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("outcome_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cds_feedback")),
    )
    with op.batch_alter_table("cds_feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cds_feedback_card_uuid"), ["card_uuid"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_cds_feedback_service_id"), ["service_id"], unique=False
        )

    op.create_table(
        "cds_tokens_seen",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jti_hash", sa.String(length=64), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cds_tokens_seen")),
        sa.UniqueConstraint("jti_hash", name=op.f("uq_cds_tokens_seen_jti_hash")),
    )
    with op.batch_alter_table("cds_tokens_seen", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cds_tokens_seen_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("cds_tokens_seen", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cds_tokens_seen_expires_at"))

    op.drop_table("cds_tokens_seen")
    with op.batch_alter_table("cds_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cds_feedback_service_id"))
        batch_op.drop_index(batch_op.f("ix_cds_feedback_card_uuid"))

    op.drop_table("cds_feedback")
