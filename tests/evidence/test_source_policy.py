"""The source policy: papers carry a DOI or PMID; nothing is cited from a copying or news site;
a source not read in the original says what was read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from spinepath import knowledge as kb
from spinepath.evidence import default_registry, load_sources
from spinepath.evidence.policy import source_policy_problems
from support.knowledge import copy_evidence, edit_yaml

PAPER = {
    "id": "TEST-PAPER",
    "citation": "Author A. A trial. Journal 2020;1:1-2.",
    "url": "https://example.org/article",
    "kind": "trial",
    "verification": "verified",
}


def _problems_with(tmp_path: Path, **fields: Any) -> list[str]:
    directory = copy_evidence(tmp_path)
    edit_yaml(directory, "sources/core.yaml", lambda rows: rows.append({**PAPER, **fields}))
    sources = load_sources(directory / "sources")
    return [p for p in source_policy_problems(sources.values()) if "TEST-PAPER" in p]


def test_every_packaged_source_meets_the_policy() -> None:
    assert source_policy_problems(default_registry().sources.values()) == []


def test_a_paper_without_doi_or_pmid_is_refused(tmp_path: Path) -> None:
    assert _problems_with(tmp_path) == ["source TEST-PAPER: a trial needs a DOI, PMID or PMCID"]


@pytest.mark.parametrize("kind", ["review", "cohort", "registry", "measurement"])
def test_every_kind_of_paper_needs_an_identifier(tmp_path: Path, kind: str) -> None:
    assert _problems_with(tmp_path, kind=kind) == [
        f"source TEST-PAPER: a {kind} needs a DOI, PMID or PMCID"
    ]


@pytest.mark.parametrize(
    "identifier",
    [{"doi": "10.1136/bmj-2022-070730"}, {"pmid": "37076169"}, {"pmcid": "PMC10498296"}],
)
def test_a_doi_a_pmid_or_a_pmcid_is_enough(tmp_path: Path, identifier: dict[str, str]) -> None:
    assert _problems_with(tmp_path, **identifier) == []


@pytest.mark.parametrize(
    "url",
    [
        "https://slideplayer.com/slide/123/",
        "https://www.yumpu.com/en/document/view/1",
        "https://en.docsbay.net/doc",
        "https://www.medscape.com/viewarticle/985300",
        "http://oscalenews.com/?p=26761",
        "https://c.coek.info/pdf-x.html",
        "https://www.droracle.ai/articles/1",
    ],
)
def test_a_copying_or_news_site_is_refused_even_with_a_doi(tmp_path: Path, url: str) -> None:
    problems = _problems_with(tmp_path, url=url, doi="10.1000/xyz")
    assert len(problems) == 1
    assert "copies or reports on documents; cite the original" in problems[0]


def test_a_guideline_needs_no_doi(tmp_path: Path) -> None:
    problems = _problems_with(
        tmp_path, kind="guideline", url="https://www.nice.org.uk/guidance/ng99"
    )
    assert problems == []


@pytest.mark.parametrize("verification", ["secondary", "unverified"])
def test_a_source_not_read_in_the_original_must_say_what_was_read(
    tmp_path: Path, verification: str
) -> None:
    fields = {"verification": verification, "doi": "10.1000/xyz"}
    assert _problems_with(tmp_path, **fields) == [
        f"source TEST-PAPER: {verification}, so its note must say what was read"
    ]
    assert _problems_with(tmp_path / "noted", **fields, note="Abstract read on PubMed.") == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("doi", "bmj-2022-070730"), ("pmid", "PMC123"), ("pmcid", "10498296")],
)
def test_a_malformed_identifier_does_not_load(tmp_path: Path, field: str, value: str) -> None:
    directory = copy_evidence(tmp_path)
    edit_yaml(directory, "sources/core.yaml", lambda rows: rows.append({**PAPER, field: value}))
    with pytest.raises(kb.KnowledgeError, match=f"TEST-PAPER.*{field}"):
        kb.load(evidence=directory)


def test_laser_procedures_are_cited_from_their_interventional_procedures_guidance() -> None:
    # NG59 does not assess laser spinal procedures; NICE's IPG61 and IPG31 do.
    claim = next(c for c in kb.default().seed_claims if c.id == "SEED-LASER-NOT-INVASIVE")
    assert {"NICE-IPG61", "NICE-IPG31-LASER-FORAMINOPLASTY"} <= set(claim.sources)
    assert "NICE-NG59" not in claim.sources
