"""The shipped definitions load, cite known sources and carry the published figures."""

from __future__ import annotations

import pytest

from spinepath.instruments import catalogue
from spinepath.instruments.errors import UnknownInstrumentError
from spinepath.instruments.models import InstrumentDefinition

from .answers import NDI_ITEMS, ODI_SECTIONS

REQUIRED = {
    *("odi", "ndi", "rmdq", "startback", "peg3"),
    *("nrs_back", "nrs_leg", "nrs_neck", "nrs_arm", "global_change"),
}
LICENSED = {"odi", "ndi", "rmdq", "startback", "peg3"}
"""Questionnaires whose wording belongs to someone else (or was never verified): none shipped."""


def test_every_required_instrument_is_defined() -> None:
    assert set(catalogue.definitions()) >= REQUIRED


@pytest.mark.parametrize("code", sorted(REQUIRED))
def test_every_definition_cites_only_known_sources(code: str) -> None:
    definition = catalogue.get(code)
    assert definition.all_source_ids() <= catalogue.sources().keys()


@pytest.mark.parametrize("code", sorted(REQUIRED))
def test_every_definition_has_a_licence_notice(code: str) -> None:
    assert len(catalogue.get(code).licence.notice) > 80


@pytest.mark.parametrize("code", sorted(REQUIRED))
def test_only_the_generic_measures_ship_wording(code: str) -> None:
    assert catalogue.get(code).licence.wording_shipped is (code not in LICENSED)


def test_odi_has_the_ten_published_sections_in_order() -> None:
    odi = catalogue.get("odi")
    assert odi.item_codes == ODI_SECTIONS
    assert [i.name for i in odi.items][7] == "Sex life (if applicable)"


def test_ndi_has_the_ten_published_items_in_order() -> None:
    assert catalogue.get("ndi").item_codes == NDI_ITEMS


def test_rmdq_has_24_statements_and_startback_9_items() -> None:
    assert len(catalogue.get("rmdq").items) == 24
    assert catalogue.get("startback").item_codes == tuple(f"q{n}" for n in range(1, 10))


# Published MCIDs: Ostelo 2008; Vernon; Cleland 2008; Reed 2023.
@pytest.mark.parametrize(
    ("code", "absolute", "relative", "source"),
    [
        ("odi", 10, 0.30, "OSTELO-2008"),
        ("rmdq", 5, 0.30, "OSTELO-2008"),
        ("nrs_back", 2, 0.30, "OSTELO-2008"),
        ("ndi", 5, None, "VERNON-NDI-NOTE"),
        ("nrs_neck", 1.3, None, "CLELAND-2008"),
        ("peg3", 1.0, 0.30, "REED-2023"),
    ],
)
def test_mcid_matches_the_published_figure(
    code: str, absolute: float, relative: float | None, source: str
) -> None:
    mcid = catalogue.get(code).mcid
    assert mcid is not None
    assert (mcid.absolute, mcid.relative) == (absolute, relative)
    assert source in mcid.sources


def test_thresholds_applied_outside_their_population_are_marked_unverified() -> None:
    for code in ("nrs_leg", "nrs_arm"):
        mcid = catalogue.get(code).mcid
        assert mcid is not None
        assert mcid.verification == "U"


def test_startback_has_no_mcid_because_it_is_a_screening_tool() -> None:
    assert catalogue.get("startback").mcid is None


def test_it_rejects_an_unknown_instrument_by_name() -> None:
    with pytest.raises(UnknownInstrumentError, match="'sf36'"):
        catalogue.get("sf36")


def test_instrument_codes_are_matched_case_insensitively() -> None:
    assert catalogue.get("ODI").code == "odi"
    assert catalogue.get("nrs-back").code == "nrs_back"


def test_a_definition_with_descending_bands_is_refused() -> None:
    data = catalogue.get("odi").model_dump()
    data["bands"]["bands"] = list(reversed(data["bands"]["bands"]))
    with pytest.raises(ValueError, match="ascending"):
        InstrumentDefinition.model_validate(data)


def test_a_definition_with_duplicate_item_codes_is_refused() -> None:
    data = catalogue.get("odi").model_dump()
    data["items"] = [data["items"][0], data["items"][0]]
    with pytest.raises(ValueError, match="unique"):
        InstrumentDefinition.model_validate(data)
