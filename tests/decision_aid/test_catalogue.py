"""The decision-aid data files: consistent, sourced, and registered in the source registry."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import yaml

from spinepath import knowledge as kb
from spinepath.decision_aid.catalogue import load_catalogue
from support.files import ROOT, required_files

SOURCES = ROOT / "src" / "spinepath" / "knowledge" / "data" / "sources"
# The register of seed documents the seed claims cite (kept in the repository).
SEEDS = ROOT / "src" / "spinepath" / "knowledge" / "data" / "seeds.yaml"


def _entries(path: Path) -> list[dict[str, object]]:
    entries: list[dict[str, object]] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return entries


def test_the_catalogue_loads_and_every_cited_source_exists() -> None:
    cat = load_catalogue()
    assert cat.source_ids_used() <= set(cat.sources)


def test_source_ids_are_unique_across_the_registry() -> None:
    ids = Counter(e["id"] for f in required_files(SOURCES, "*.yaml") for e in _entries(f))
    assert [i for i, n in ids.items() if n > 1] == []


def test_decision_aid_sources_are_the_validated_registry() -> None:
    # The registry's model checks kind, verification and identifiers on load; the aid must use
    # exactly those entries, not a copy read some other way.
    assert load_catalogue().sources == kb.default().sources
    for entry in _entries(SOURCES / "decision_aid.yaml"):
        assert entry["id"] in kb.default().sources, entry["id"]


def test_every_decision_aid_source_is_used() -> None:
    cat = load_catalogue()
    own = {str(e["id"]) for e in _entries(SOURCES / "decision_aid.yaml")}
    always_cited = {"IPDAS-CERTIFYING-2014", "OSTELO-2008-MCID"}
    unused = own - cat.source_ids_used() - always_cited
    assert unused == set()


def test_every_option_has_benefits_harms_and_recovery() -> None:
    for option in load_catalogue().options.values():
        assert option.benefits, option.id
        assert option.harms, option.id
        assert option.recovery.sources, option.id


def test_every_harm_has_a_number_or_says_why_not() -> None:
    for option in load_catalogue().options.values():
        for harm in option.harms:
            has_number = harm.evidence or harm.baseline_by_age or harm.effects or harm.durations
            assert has_number or harm.no_number_reason, f"{option.id}.{harm.id}"


def _seeds() -> list[dict[str, object]]:
    assert SEEDS.is_file(), f"the seed register is missing: {SEEDS}"
    seeds = _entries(SEEDS)
    assert seeds, "the seed register is empty"
    return seeds


def test_decision_aid_seed_claims_name_registered_seeds_and_sources() -> None:
    ids = {str(s["id"]) for s in _seeds()}
    claims = load_catalogue().seed_claims
    assert claims, "the catalogue has no seed claims"
    for claim in claims:
        assert claim.sources, claim.id
        for part in claim.seed.split(";"):
            assert part.split()[0] in ids, f"{claim.id}: seed {part!r} is not registered"


def test_knowledge_seed_claims_name_registered_seed_files() -> None:
    files = {str(s["file"]) for s in _seeds()}
    claims = kb.default().seed_claims
    assert claims, "the knowledge base has no seed claims"
    assert [c.id for c in claims if c.seed not in files] == []


REQUIRED_HARMS = {
    "infection",
    "dural_tear",
    "nerve_injury",
    "blood_clot",
    "anaesthesia_medical",
    "no_improvement",
    "reoperation",
}


def test_every_operation_lists_the_main_complication_risks() -> None:
    for option in load_catalogue().options.values():
        if option.kind != "surgical":
            continue
        categories = {h.category for h in option.harms}
        missing = REQUIRED_HARMS - categories
        assert not missing, f"{option.id} lacks {sorted(missing)}"
