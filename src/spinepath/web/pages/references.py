"""The sources behind a patient's result, listed once at the end instead of inside the advice.

Every item of an assessment names its sources as ``ID`` or ``ID:pinpoint``; the patient's page
shows the citation of each distinct source, in the order the advice first cites it, with a link
to the original (DOI, PubMed, PubMed Central or the publisher's page).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pydantic import BaseModel

from spinepath import knowledge
from spinepath.evidence.models import Source
from spinepath.pathway.assessment import Assessment


@dataclass(frozen=True)
class Reference:
    citation: str
    link: str | None
    link_text: str
    verification: str


def _cited(node: object) -> Iterator[str]:
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            value = getattr(node, name)
            if name == "sources" and isinstance(value, list):
                yield from (ref.split(":", 1)[0] for ref in value if isinstance(ref, str))
            else:
                yield from _cited(value)
    elif isinstance(node, (list, tuple)):
        for item in node:
            yield from _cited(item)


def _link(source: Source) -> tuple[str | None, str]:
    if source.doi:
        return f"https://doi.org/{source.doi}", f"doi: {source.doi}"
    if source.pmid:
        return f"https://pubmed.ncbi.nlm.nih.gov/{source.pmid}/", f"PubMed {source.pmid}"
    if source.pmcid:
        return f"https://pmc.ncbi.nlm.nih.gov/articles/{source.pmcid}/", source.pmcid
    return source.url, source.url


def patient_references(assessment: Assessment) -> list[Reference]:
    registry = knowledge.default().sources
    out: list[Reference] = []
    seen: set[str] = set()
    for source_id in _cited(assessment):
        source = registry.get(source_id)
        if source is None or source_id in seen:
            continue
        seen.add(source_id)
        link, text = _link(source)
        out.append(Reference(source.citation, link, text, source.verification))
    return out
