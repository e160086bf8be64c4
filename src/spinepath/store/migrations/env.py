"""Alembic environment: runs on the connection handed over by spinepath.store.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from spinepath.store.models import Base

connection: Connection | None = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `spinepath db upgrade`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
