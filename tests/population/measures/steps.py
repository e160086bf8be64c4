"""Small steps that build one case's person (see cases.py), combined with ``steps``."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from population.measures.builders import Dataset
from population.measures.cases import Build

D = date(2024, 6, 1)
"""The diagnosis date of most cases: 1 June 2024, in a 2024 measurement period."""
DAY = timedelta(days=1)


def steps(*parts: Build) -> Build:
    def build(ds: Dataset, pid: str) -> None:
        for part in parts:
            part(ds, pid)

    return build


def lbp(
    diagnosed: date = D,
    *,
    onset: date | None = None,
    setting: str = "outpatient",
    assessed: bool | str = False,
    **assessment: Any,
) -> Build:
    """A person with a low back pain episode; with ``assessed``, a pathway assessment of it on
    the diagnosis date (``assessed`` may name its pattern)."""

    person_options = {k: assessment.pop(k) for k in ("clinic", "sex", "birth") if k in assessment}

    def build(ds: Dataset, pid: str) -> None:
        ds.person(pid, **person_options)
        episode = ds.episode(pid, diagnosed, onset=onset, setting=setting, episode_id=f"{pid}-e")
        if assessed:
            pattern = assessed if isinstance(assessed, str) else "non_specific"
            ds.assessment(pid, diagnosed, episode_id=episode, pattern=pattern, **assessment)

    return build


def assessment(on: date, *, linked: bool = True, **options: Any) -> Build:
    """A further pathway assessment, recorded against the case's episode unless not ``linked``."""

    def build(ds: Dataset, pid: str) -> None:
        ds.assessment(pid, on, episode_id=f"{pid}-e" if linked else None, **options)

    return build


def image(on: date, modality: str = "mri", site: str = "lumbar", by: str = "primary_care") -> Build:
    return lambda ds, pid: ds.image(pid, on, modality=modality, body_site=site, ordered_by=by)


def condition(category: str, recorded: date, ended: date | None = None) -> Build:
    return lambda ds, pid: ds.condition(pid, category, recorded, ended)


def medicine(on: date, drug_class: str, days: int = 30) -> Build:
    return lambda ds, pid: ds.medication(pid, on, drug_class, days)


def procedure(on: date, kind: str) -> Build:
    return lambda ds, pid: ds.procedure(pid, on, kind)


def episode(on: date, region: str = "low_back") -> Build:
    return lambda ds, pid: ds.episode(pid, on, region=region)


def prom(timepoint: str, due: date, **options: Any) -> Build:
    return lambda ds, pid: ds.prom(pid, timepoint, due, **options)


def plan(*items: str) -> dict[str, Any]:
    return {"care_plan": items}
