"""Every measure, in the order they are reported."""

from __future__ import annotations

from collections.abc import Mapping

from spinepath.population.measures import (
    first_contact,
    injections,
    lbp_imaging,
    medicines,
    programmes,
    proms,
    surgical_opinion,
)
from spinepath.population.measures.definitions import Measure

MEASURES: tuple[Measure, ...] = (
    lbp_imaging.MEASURE,
    first_contact.RISK_STRATIFICATION,
    first_contact.NON_SPECIALIST_IMAGING,
    first_contact.SELF_MANAGEMENT,
    medicines.ANTICONVULSANTS,
    medicines.ANTIDEPRESSANTS,
    medicines.PARACETAMOL_ALONE,
    medicines.OPIOIDS_WITHOUT_SCIATICA,
    injections.DENERVATION_CRITERIA,
    injections.NOT_RECOMMENDED,
    programmes.EXERCISE,
    programmes.PSYCHOLOGICAL,
    medicines.OPIOIDS_CHRONIC,
    surgical_opinion.MEASURE,
    *proms.COMPLETION,
    proms.MCID_RESPONDERS,
)

BY_ID: Mapping[str, Measure] = {measure.id: measure for measure in MEASURES}
