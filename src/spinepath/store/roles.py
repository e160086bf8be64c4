"""PostgreSQL: the app runs as a role that can add to the audit log but never change it.

The database owner (who runs the migrations) owns every table, so only the owner could switch
off the audit log's triggers. The app connects as a separate runtime role that may read and
write the ordinary tables, may only SELECT and INSERT on ``audit_events``, and owns nothing.
``grant_runtime_role`` gives it exactly that; run it as the owner after each upgrade
(``spinepath db upgrade`` does when ``database_runtime_role`` is set).
"""

from __future__ import annotations

import re

from sqlalchemy import text

from spinepath.store.db import Database

AUDIT_TABLE = "audit_events"
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def grant_runtime_role(database: Database, role: str) -> None:
    """Grants ``role`` what the app needs and no more; the role must already exist."""
    if database.engine.dialect.name != "postgresql":
        raise ValueError("database_runtime_role: separate roles are a PostgreSQL feature")
    if not _ROLE_NAME.match(role):
        raise ValueError(f"database_runtime_role: {role!r} is not a plain role name")
    statements = [
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}",
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        # The log only grows: no UPDATE, DELETE or TRUNCATE, and (owning nothing) no ALTER
        # TABLE to switch its triggers off.
        f"REVOKE UPDATE, DELETE, TRUNCATE ON {AUDIT_TABLE} FROM {role}",
        # The app reads the schema revision; only the owner's migrations change it.
        f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
    ]
    with database.engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
