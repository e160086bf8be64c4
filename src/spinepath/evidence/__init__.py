"""The evidence registry: every source, seed claim and number the project shows (``data/``).

The knowledge base, the decision aid and the questionnaires cite from this one registry.
``models`` describes the entries, ``registry`` reads them, ``policy`` says what counts as a
primary source and ``check`` holds the registry's checks, run by `spinepath kb check`.
"""

from spinepath.evidence.models import SeedClaim, Source, Verdict
from spinepath.evidence.registry import (
    EvidenceError,
    Registry,
    default_registry,
    evidence_dir,
    load_registry,
    load_sources,
)

__all__ = [
    "EvidenceError",
    "Registry",
    "SeedClaim",
    "Source",
    "Verdict",
    "default_registry",
    "evidence_dir",
    "load_registry",
    "load_sources",
]
