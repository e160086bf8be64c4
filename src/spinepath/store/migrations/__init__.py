"""Alembic migrations of the spinepath database (run with `spinepath db upgrade`)."""
