"""One evidence registry: the knowledge base, the decision aid and the questionnaires cite the
same sources and claims, and `kb check` refuses a document or a claim entered twice."""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import Result

from spinepath import knowledge as kb
from spinepath.decision_aid import models as aid_models
from spinepath.decision_aid.catalogue import load_catalogue
from spinepath.evidence import EvidenceError, default_registry, load_registry
from spinepath.evidence.check import duplicate_claims, duplicate_sources
from spinepath.evidence.models import Verdict
from spinepath.instruments import catalogue as instruments
from support.cli import PLAIN_WIDE, cli_runner, spinepath_app
from support.knowledge import copy_evidence, edit_yaml

RUNNER = cli_runner(PLAIN_WIDE)


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    return spinepath_app()


def _kb_check(app: typer.Typer, evidence: Path) -> Result:
    return RUNNER.invoke(app, ["kb", "check", "--evidence", str(evidence)])


def test_the_knowledge_base_the_aid_and_the_questionnaires_read_one_registry() -> None:
    registry = default_registry()
    assert kb.default().sources == registry.sources
    assert load_catalogue().sources == registry.sources
    assert instruments.sources() == registry.sources
    assert kb.default().seed_claims == registry.seed_claims
    assert load_catalogue().seed_claims == registry.seed_claims


def test_every_questionnaire_source_is_in_the_registry() -> None:
    cited = {sid for d in instruments.definitions().values() for sid in d.all_source_ids()}
    assert cited <= default_registry().sources.keys()


def test_claims_have_one_verdict_vocabulary_everywhere() -> None:
    aid_verdict = aid_models.SeedClaim.model_fields["verdict"].annotation
    assert set(typing.get_args(aid_verdict)) == set(typing.get_args(Verdict))
    assert {c.verdict for c in default_registry().seed_claims} <= set(typing.get_args(Verdict))


def test_the_packaged_registry_passes_kb_check(app: typer.Typer) -> None:
    result = RUNNER.invoke(app, ["kb", "check"])
    assert result.exit_code == 0, result.output


SAME_PAPER = {
    "citation": "Another entry for Liu 2023.",
    "url": "https://example.org/liu",
    "kind": "review",
    "verification": "verified",
}


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"doi": "10.1136/BMJ-2022-070730"}, "DOI"),
        ({"pmid": "37076169"}, "PMID"),
        ({"url": "https://doi.org/10.1136/bmj-2022-070730/", "doi": "10.1000/x"}, "address"),
    ],
)
def test_kb_check_refuses_one_document_under_two_ids(
    app: typer.Typer, tmp_path: Path, fields: dict[str, str], key: str
) -> None:
    evidence = copy_evidence(tmp_path)
    entry = {"id": "LIU-AGAIN", **SAME_PAPER, **fields}
    edit_yaml(evidence, "sources/core.yaml", lambda rows: rows.append(entry))
    result = _kb_check(app, evidence)
    assert result.exit_code == 1
    assert f"DISCECTOMY-META-BMJ-2023, LIU-AGAIN are one document (same {key}" in result.output


def test_kb_check_refuses_a_source_from_a_copying_site(app: typer.Typer, tmp_path: Path) -> None:
    evidence = copy_evidence(tmp_path)

    def repost(rows: list[dict[str, Any]]) -> None:
        row = next(r for r in rows if r["id"] == "NICE-NG59")
        row["url"] = "https://www.yumpu.com/en/document/view/ng59"

    edit_yaml(evidence, "sources/core.yaml", repost)
    result = _kb_check(app, evidence)
    assert result.exit_code == 1
    assert "NICE-NG59: yumpu.com copies or reports on documents" in result.output


def test_kb_check_refuses_the_same_claim_twice(app: typer.Typer, tmp_path: Path) -> None:
    evidence = copy_evidence(tmp_path)

    def again(rows: list[dict[str, Any]]) -> None:
        first = next(r for r in rows if r["id"] == "SEED-BED-REST")
        rows.append(
            {
                **first,
                "id": "SEED-BED-REST-AGAIN",
                "claim": "Bed rest is contraindicated, in most cases!",
            }
        )

    edit_yaml(evidence, "seed_claims.yaml", again)
    result = _kb_check(app, evidence)
    assert result.exit_code == 1
    assert "seed claims SEED-BED-REST and SEED-BED-REST-AGAIN make the same claim" in result.output


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("seeds", ["999"], "unknown seeds ['999']"),
        ("sources", ["NO-SUCH-SOURCE"], "unknown sources ['NO-SUCH-SOURCE']"),
        ("verdict", "overstated", "verdict"),
    ],
)
def test_a_claim_with_an_unknown_reference_or_verdict_does_not_load(
    tmp_path: Path, field: str, value: object, message: str
) -> None:
    evidence = copy_evidence(tmp_path)

    def breaks(rows: list[dict[str, Any]]) -> None:
        next(r for r in rows if r["id"] == "SEED-BED-REST")[field] = value

    edit_yaml(evidence, "seed_claims.yaml", breaks)
    with pytest.raises(EvidenceError, match="SEED-BED-REST") as raised:
        load_registry(evidence)
    assert message in str(raised.value)


def test_a_number_citing_an_unknown_source_does_not_load(tmp_path: Path) -> None:
    evidence = copy_evidence(tmp_path)

    def breaks(data: dict[str, Any]) -> None:
        data["effects"][0]["source"] = "NO-SUCH-SOURCE"

    edit_yaml(evidence, "numbers.yaml", breaks)
    with pytest.raises(EvidenceError, match=r"numbers.yaml: unknown sources \['NO-SUCH-SOURCE'\]"):
        load_registry(evidence)


def test_a_repeated_number_id_does_not_load(tmp_path: Path) -> None:
    evidence = copy_evidence(tmp_path)
    edit_yaml(evidence, "numbers.yaml", lambda d: d["effects"].append(d["effects"][0]))
    with pytest.raises(EvidenceError, match="duplicate ids"):
        load_registry(evidence)


def test_the_packaged_registry_has_no_duplicates() -> None:
    registry = default_registry()
    assert duplicate_sources(registry.sources) == []
    assert duplicate_claims(registry.seed_claims) == []
