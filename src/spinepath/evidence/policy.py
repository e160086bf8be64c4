"""The source policy `kb check` enforces: every citation points to the original document.

A paper (trial, review, cohort, registry, measurement study) is identified by its DOI, PMID or
PubMed Central id (PMCID), so anyone can find the published version; a guideline is cited from
its publisher's own page. Sites that copy, summarise or report on other people's documents are
refused whatever they cite: a number shown to a patient must be checkable against its primary
source. A source not read in the original says, in its note, what was read and what could not
be checked.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from spinepath.evidence.models import Source

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
        "coek.info",
        "bibliotecabuap.elogim.com",
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
        "droracle.ai",
        "medicalalgorithms.com",
        "scientificspine.com",
        "soapnote.org",
        "plustopcare.org",
    }
)
PAPER_KINDS = frozenset({"trial", "review", "cohort", "registry", "measurement"})


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").removeprefix("www.")


def _declared_unfindable(source: Source) -> bool:
    # The one exception to "papers need an identifier": the paper was read on its publisher's
    # own page, none exists in any record found, and the note says so. It stays visible.
    return (
        source.no_identifier_found
        and source.verification == "verified"
        and "No DOI, PMID or PMCID" in (source.note or "")
    )


def source_policy_problems(sources: Iterable[Source]) -> list[str]:
    """Sources that are not primary: a copying or reporting site, or a paper with no DOI/PMID."""
    problems: list[str] = []
    for source in sources:
        host = _host(source.url)
        if any(host == h or host.endswith(f".{h}") for h in NOT_PRIMARY_HOSTS):
            problems.append(
                f"source {source.id}: {host} copies or reports on documents; cite the original"
            )
        identified = source.doi or source.pmid or source.pmcid
        if source.kind in PAPER_KINDS and not identified and not _declared_unfindable(source):
            problems.append(f"source {source.id}: a {source.kind} needs a DOI, PMID or PMCID")
        if source.verification != "verified" and not source.note:
            problems.append(
                f"source {source.id}: {source.verification}, so its note must say what was read"
            )
    return problems
