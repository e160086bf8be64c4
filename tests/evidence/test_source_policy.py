"""The source policy: papers carry a DOI or PMID; nothing is cited from a copying or news site."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from spinepath import knowledge as kb
from spinepath.knowledge.source_policy import source_policy_problems
from support.knowledge import copy_knowledge, edit_yaml

PAPER = {
    "id": "TEST-PAPER",
    "citation": "Author A. A trial. Journal 2020;1:1-2.",
    "url": "https://example.org/article",
    "kind": "trial",
    "verification": "verified",
}


def _problems_with(tmp_path: Path, **fields: Any) -> list[str]:
    directory = copy_knowledge(tmp_path)
    edit_yaml(directory, "sources/core.yaml", lambda rows: rows.append({**PAPER, **fields}))
    return [p for p in source_policy_problems(kb.load(directory)) if "TEST-PAPER" in p]


# Sources still short of the policy: each was searched for and its DOI/PMID (or the publisher's
# own page) was not found in a retrieved record. This list may only shrink; when it is empty,
# `kb check` runs the policy (today the policy is reported by this test alone).
STILL_SHORT = {
    "source CKS-NECK-MYELOPATHY: yumpu.com copies or reports on documents; cite the original",
    "source ENGQUIST-2013: physiospot.com copies or reports on documents; cite the original",
    "source ENGQUIST-2013: a trial needs a DOI or PMID",
    "source MARTIN-REOPERATION-TRENDS: a registry needs a DOI or PMID",
    "source NUNNA-2021-SMOKING: a review needs a DOI or PMID",
    "source OBESITY-SPORT-EFFECT: a review needs a DOI or PMID",
    "source SPORT-IDH-REHERNIATION: a cohort needs a DOI or PMID",
    "source YEE-2020-ANTERIOR-CERVICAL: a review needs a DOI or PMID",
}


def test_only_the_listed_sources_fall_short_of_the_policy() -> None:
    assert set(source_policy_problems(kb.default())) == STILL_SHORT


def test_a_paper_without_doi_or_pmid_is_refused(tmp_path: Path) -> None:
    assert _problems_with(tmp_path) == ["source TEST-PAPER: a trial needs a DOI or PMID"]


@pytest.mark.parametrize("identifier", [{"doi": "10.1136/bmj-2022-070730"}, {"pmid": "37076169"}])
def test_a_doi_or_a_pmid_is_enough(tmp_path: Path, identifier: dict[str, str]) -> None:
    assert _problems_with(tmp_path, **identifier) == []


@pytest.mark.parametrize(
    "url",
    [
        "https://slideplayer.com/slide/123/",
        "https://www.yumpu.com/en/document/view/1",
        "https://en.docsbay.net/doc",
        "https://www.medscape.com/viewarticle/985300",
        "http://oscalenews.com/?p=26761",
    ],
)
def test_a_copying_or_news_site_is_refused_even_with_a_doi(tmp_path: Path, url: str) -> None:
    problems = _problems_with(tmp_path, url=url, doi="10.1000/xyz")
    assert len(problems) == 1
    assert "copies or reports on documents; cite the original" in problems[0]


def test_a_guideline_needs_no_doi(tmp_path: Path) -> None:
    problems = _problems_with(
        tmp_path, kind="guideline", url="https://www.nice.org.uk/guidance/ng59"
    )
    assert problems == []


@pytest.mark.parametrize(("field", "value"), [("doi", "bmj-2022-070730"), ("pmid", "PMC123")])
def test_a_malformed_identifier_does_not_load(tmp_path: Path, field: str, value: str) -> None:
    directory = copy_knowledge(tmp_path)
    edit_yaml(directory, "sources/core.yaml", lambda rows: rows.append({**PAPER, field: value}))
    with pytest.raises(kb.KnowledgeError, match=f"TEST-PAPER.*{field}"):
        kb.load(directory)


def test_laser_procedures_are_cited_from_their_interventional_procedures_guidance() -> None:
    # NG59 does not assess laser spinal procedures; NICE's IPG61 and IPG31 do.
    claim = next(c for c in kb.default().seed_claims if c.id == "SEED-LASER-NOT-INVASIVE")
    assert set(claim.sources) == {"NICE-IPG61", "NICE-IPG31-LASER-FORAMINOPLASTY"}
