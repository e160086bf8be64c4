"""The decision-aid data files: consistent, sourced, and registered in the source registry."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import yaml

from spinepath import knowledge as kb
from spinepath.decision_aid.catalogue import load_catalogue
from support.files import ROOT, required_files

SOURCES = ROOT / "src" / "spinepath" / "evidence" / "data" / "sources"


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
    always_cited = {"IPDAS-CERTIFYING-2014"}
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
