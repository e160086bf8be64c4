"""The aid's references lead to the original: a DOI or PubMed link for every paper that has one."""

from __future__ import annotations

from spinepath import knowledge as kb
from spinepath.decision_aid import build_decision_aid, render_html
from spinepath.evidence.policy import PAPER_KINDS
from spinepath.pathway.engine import assess
from support.intakes import sciatica_intake


def test_every_paper_reference_links_to_its_doi_or_pubmed_record() -> None:
    intake = sciatica_intake()
    aid = build_decision_aid(intake, assess(intake))
    html = render_html(aid, standalone=False)
    sources = kb.default().sources
    papers = [r for r in aid.references if sources[r.id].kind in PAPER_KINDS]
    assert papers, "the sciatica aid cites no papers"
    for reference in papers:
        source = sources[reference.id]
        assert (reference.doi, reference.pmid) == (source.doi, source.pmid)
        if source.doi:
            assert f'href="https://doi.org/{source.doi}"' in html, reference.id
        elif source.pmid:
            assert f'href="https://pubmed.ncbi.nlm.nih.gov/{source.pmid}/"' in html, reference.id


def test_the_peul_trial_is_cited_from_the_journal() -> None:
    intake = sciatica_intake()
    aid = build_decision_aid(intake, assess(intake))
    peul = next(r for r in aid.references if r.id == "PEUL-2007")
    assert peul.doi == "10.1056/NEJMoa064039"
    assert "N Engl J Med 2007;356(22):2245-2256" in peul.citation
