"""The registry's own checks, run by `spinepath kb check`: one entry per source and per claim,
every citation resolvable, and every source primary (``policy``)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping

from spinepath.evidence.models import SeedClaim, Source
from spinepath.evidence.policy import source_policy_problems

_URL_TAIL = re.compile(r"/+$")


def _same(
    sources: Iterable[Source], key: Callable[[Source], str | None], what: str
) -> Iterable[str]:
    by_key: defaultdict[str, list[str]] = defaultdict(list)
    for source in sources:
        value = key(source)
        if value:
            by_key[value].append(source.id)
    for value, ids in sorted(by_key.items()):
        if len(ids) > 1:
            names = ", ".join(sorted(ids))
            yield f"sources {names} are one document (same {what} {value}); keep one"


def duplicate_sources(sources: Mapping[str, Source]) -> list[str]:
    """Two ids for one document: the same DOI, PMID, PMCID or address (ignoring a trailing
    slash and letter case)."""
    return [
        *_same(sources.values(), lambda s: s.doi.lower() if s.doi else None, "DOI"),
        *_same(sources.values(), lambda s: s.pmid, "PMID"),
        *_same(sources.values(), lambda s: s.pmcid, "PMCID"),
        *_same(sources.values(), lambda s: _URL_TAIL.sub("", s.url.lower()), "address"),
    ]


def _normalised(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9%]+", text.lower()))


def duplicate_claims(claims: Iterable[SeedClaim]) -> list[str]:
    """The same claim entered twice, under any id."""
    seen: dict[str, str] = {}
    problems: list[str] = []
    for claim in claims:
        key = _normalised(claim.claim)
        if key in seen:
            problems.append(f"seed claims {seen[key]} and {claim.id} make the same claim")
        else:
            seen[key] = claim.id
    return problems


def registry_problems(sources: Mapping[str, Source], claims: Iterable[SeedClaim]) -> list[str]:
    """Duplicates and non-primary sources, one line per problem (unknown references are
    refused when the registry loads)."""
    return [
        *duplicate_sources(sources),
        *duplicate_claims(claims),
        *source_policy_problems(sources.values()),
    ]
