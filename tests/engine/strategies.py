"""Hypothesis strategies for valid intakes, built from the intake model's own field types."""

from __future__ import annotations

from typing import Any, Literal, get_args, get_origin

from hypothesis import strategies as st
from pydantic import BaseModel

from spinepath.pathway.intake import (
    CaudaEquina,
    History,
    ImagingFinding,
    Inflammatory,
    Mimics,
    Neurology,
    Radiation,
    Systemic,
    TreatmentType,
)

SECTIONS: dict[str, type[BaseModel]] = {
    "radiation": Radiation,
    "neurology": Neurology,
    "cauda_equina": CaudaEquina,
    "systemic": Systemic,
    "history": History,
    "mimics": Mimics,
    "inflammatory": Inflammatory,
}
REGIONS = ("neck", "upper_back", "low_back")
REGION_FLAGS = ("worse_with_movement", "not_eased_by_rest", "worse_at_night", "worse_on_straining")
RED_FLAG_REGION_FLAGS = ("not_eased_by_rest", "worse_at_night", "worse_on_straining")

tri = st.sampled_from([True, False, None])


def literal_values(annotation: object) -> tuple[str, ...]:
    """The string values a ``Literal[...] | None`` field allows (empty for other fields)."""
    out: list[str] = []
    for arg in get_args(annotation):
        if get_origin(arg) is Literal:
            out.extend(get_args(arg))
        elif isinstance(arg, str):
            out.append(arg)
    return tuple(out)


def field_strategy(section: str, name: str, annotation: object) -> st.SearchStrategy[Any]:
    if (section, name) in {("cauda_equina", "onset_days"), ("radiation", "both_legs_since_days")}:
        return st.one_of(st.none(), st.integers(0, 60))
    values = literal_values(annotation)
    if values:
        return st.sampled_from([*values, None])
    return tri


def section_strategy(section: str, model: type[BaseModel]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            name: field_strategy(section, name, field.annotation)
            for name, field in model.model_fields.items()
        }
    )


@st.composite
def region_strategy(draw: st.DrawFn, name: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "region": name,
        "onset": draw(st.sampled_from(["sudden", "gradual", None])),
        "duration_weeks": draw(st.integers(0, 60)),
        "intensity": draw(st.integers(0, 10)),
    }
    for flag in REGION_FLAGS:
        out[flag] = draw(tri)
    return out


startback_strategy = st.fixed_dictionaries(
    {
        **{f"q{n}": st.booleans() for n in range(1, 9)},
        "q9": st.sampled_from(["not_at_all", "slightly", "moderately", "very_much", "extremely"]),
    }
)
treatment_strategy = st.fixed_dictionaries(
    {
        "type": st.sampled_from(get_args(TreatmentType)),
        "weeks": st.integers(0, 20),
        "response": st.sampled_from(["worse", "none", "partial", "good", None]),
    }
)
imaging_strategy = st.fixed_dictionaries(
    {
        "modality": st.sampled_from(["xray", "mri", "ct"]),
        "finding": st.sampled_from(get_args(ImagingFinding)),
        "matches_symptoms": tri,
    }
)


@st.composite
def intake_data(draw: st.DrawFn) -> dict[str, Any]:
    """A valid intake as JSON-like data: adult age, 1-3 regions, random tri-state answers."""
    regions = draw(st.lists(st.sampled_from(REGIONS), min_size=1, max_size=3, unique=True))
    data: dict[str, Any] = {
        "age": draw(st.integers(16, 100)),
        "sex": draw(st.sampled_from(["female", "male", "other", None])),
        "regions": [draw(region_strategy(name)) for name in regions],
    }
    for section, model in SECTIONS.items():
        data[section] = draw(section_strategy(section, model))
    data["startback"] = draw(st.one_of(st.none(), startback_strategy))
    data["treatments_tried"] = draw(st.lists(treatment_strategy, max_size=3))
    data["imaging"] = draw(st.lists(imaging_strategy, max_size=2))
    data["health"] = draw(
        st.fixed_dictionaries(
            {
                "smoking": st.sampled_from(["never", "former", "current", None]),
                "bmi": st.one_of(st.none(), st.floats(15, 45)),
                "anticoagulants": tri,
                "kidney_disease": tri,
                "pregnant": tri,
            }
        )
    )
    data["work_status"] = draw(
        st.sampled_from(["working", "off_work_due_to_pain", "retired", None])
    )
    data["outcomes"] = {"odi_percent": draw(st.one_of(st.none(), st.integers(0, 100)))}
    return data
