"""Persistence: SQLAlchemy 2 models, repository functions and the append-only audit log."""
