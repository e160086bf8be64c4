"""The source policy `kb check` enforces: every citation points to the original document.

A paper (trial, review, cohort, registry) is identified by its DOI or PMID, so anyone can find
the publisher's version; a guideline is cited from its publisher's own page. Sites that copy,
summarise or report on other people's documents are refused whatever they cite: a number shown
to a patient must be checkable against its primary source.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from spinepath.knowledge.models import KnowledgeBase

NOT_PRIMARY_HOSTS = frozenset(
    {
        # document-sharing and slide sites
        "slideplayer.com",
        "yumpu.com",
        "docsbay.net",
        "fliphtml5.com",
        "studylib.net",
        "scribd.com",
        "issuu.com",
        # news, reposts and third-party summaries
        "2medical.news",
        "oscalenews.com",
        "paperexplained.cn",
        "medscape.com",
        "physiospot.com",
        "orthobullets.com",
        "metajournal.com",
        "medtalks.in",
        "iatrox.com",
        "guidelinecentral.com",
    }
)
PAPER_KINDS = frozenset({"trial", "review", "cohort", "registry"})


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").removeprefix("www.")


def source_policy_problems(kb: KnowledgeBase) -> list[str]:
    """Sources that are not primary: a copying or reporting site, or a paper with no DOI/PMID."""
    problems: list[str] = []
    for source in kb.sources.values():
        host = _host(source.url)
        if any(host == h or host.endswith(f".{h}") for h in NOT_PRIMARY_HOSTS):
            problems.append(
                f"source {source.id}: {host} copies or reports on documents; cite the original"
            )
        if source.kind in PAPER_KINDS and source.doi is None and source.pmid is None:
            problems.append(f"source {source.id}: a {source.kind} needs a DOI or PMID")
    return problems
