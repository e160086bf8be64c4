"""Each correction from the review of the aid against the primary papers, pinned number by number:
value, uncertainty, horizon, who it was measured in, the source, and how it was measured.

Figures are typed from the papers' abstracts (named per case), not from the data files.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from spinepath.decision_aid.catalogue import load_catalogue
from spinepath.evidence.models import Design

from .helpers import example_aid


@dataclass(frozen=True)
class Published:
    number_id: str
    value: float
    ci: tuple[float, float] | None
    horizon: str
    population_mentions: str
    source: str
    design: Design


EFFECTS = [
    # Liu et al., BMJ 2023;381:e070730: leg pain 0-100, discectomy v non-surgical care; horizons
    # immediate (<=6 weeks), short (>6 weeks-3 months), medium (>3-<12 months), long (12 months).
    Published(
        "discectomy-meta-leg-pain-immediate",
        -12.1,
        (-23.6, -0.5),
        "the immediate term (6 weeks or less)",
        "1,711 people",
        "DISCECTOMY-META-BMJ-2023",
        "meta_analysis_of_trials",
    ),
    Published(
        "discectomy-meta-leg-pain-short",
        -11.7,
        (-18.6, -4.7),
        "the short term (over 6 weeks to 3 months)",
        "12 trials",
        "DISCECTOMY-META-BMJ-2023",
        "meta_analysis_of_trials",
    ),
    Published(
        "discectomy-meta-leg-pain-medium",
        -6.5,
        (-11.0, -2.1),
        "the medium term (over 3 to under 12 months)",
        "12 trials",
        "DISCECTOMY-META-BMJ-2023",
        "meta_analysis_of_trials",
    ),
    Published(
        "discectomy-meta-leg-pain-long",
        -2.3,
        (-4.5, -0.2),
        "the long term (12 months)",
        "12 trials",
        "DISCECTOMY-META-BMJ-2023",
        "meta_analysis_of_trials",
    ),
    # Int Orthop 2014;38:1225-34: 16 RCTs, 2,139 patients, recurrence RR 1.95 (1.19-3.19).
    Published(
        "mi-discectomy-recurrence",
        1.95,
        (1.19, 3.19),
        "follow-up of the included trials",
        "16 randomised trials, 2,139 people",
        "MI-DISCECTOMY-META",
        "meta_analysis_of_trials",
    ),
    # Delitto, Ann Intern Med 2015: SF-36 PF at 24 months as randomised, 0.9 (-7.9 to 9.6).
    Published(
        "delitto-pf-2y",
        0.9,
        (-7.9, 9.6),
        "2 years",
        "169 surgical candidates",
        "DELITTO-2015",
        "randomised",
    ),
    # Ghogawala, NEJM 2016: SF-36 PCS gain 15.2 v 9.5, difference 5.7 (0.1 to 11.3).
    Published(
        "ghogawala-pcs-2y", 5.7, (0.1, 11.3), "2 years", "66 people", "GHOGAWALA-2016", "randomised"
    ),
    # Austevoll, NEJM 2021: ODI change -20.6 v -21.3, mean difference 0.7 (-2.8 to 4.3).
    Published(
        "austevoll-odi-change-2y",
        0.7,
        (-2.8, 4.3),
        "2 years",
        "267 people",
        "AUSTEVOLL-2021",
        "randomised",
    ),
    # VERTOS IV, BMJ 2018;361:k1551: 0.41 (-0.33 to 1.15) at 1 month, 0.45 (-0.37 to 1.24) at 12.
    Published(
        "vertos4-pain-1m",
        0.41,
        (-0.33, 1.15),
        "1 month",
        "180 people",
        "VERTOS-IV-2018",
        "randomised",
    ),
    Published(
        "vertos4-pain-12m",
        0.45,
        (-0.37, 1.24),
        "12 months",
        "180 people",
        "VERTOS-IV-2018",
        "randomised",
    ),
    # Buchbinder, NEJM 2009: 3-month pain difference 0.6 (-0.7 to 1.8), 78 participants.
    Published(
        "buchbinder-pain-3m",
        0.6,
        (-0.7, 1.8),
        "3 months",
        "78 people",
        "BUCHBINDER-2009",
        "randomised",
    ),
    # SPORT 4- and 8-year figures are as-treated comparisons, not as randomised.
    Published(
        "sport-idh-bp-4y",
        15.0,
        (11.8, 18.1),
        "4 years",
        "as treated",
        "SPORT-IDH-4Y",
        "randomised_as_treated",
    ),
    Published(
        "sport-idh-bp-8y",
        10.9,
        (7.7, 14.0),
        "8 years",
        "as treated",
        "SPORT-IDH-8Y",
        "randomised_as_treated",
    ),
    Published(
        "sport-ss-bp-2y-itt",
        7.8,
        (1.5, 14.1),
        "2 years",
        "as randomised",
        "SPORT-STENOSIS-2008",
        "randomised",
    ),
]

PROPORTIONS = [
    # Peul 2007: 55 of 142 operated in the first year, so 87 of 142 were not.
    Published(
        "peul-conservative-no-surgery-1y",
        61,
        None,
        "1 year",
        "142 adults",
        "PEUL-2007",
        "randomised",
    ),
    # Lequin, BMJ Open 2013: 46% of the conservative group operated by 5 years; 49 (21%) of 231
    # unsatisfactory, both groups together.
    Published(
        "lequin-conservative-surgery-5y",
        46,
        None,
        "5 years",
        "231 followed up",
        "LEQUIN-2013",
        "randomised",
    ),
    Published(
        "lequin-unsatisfactory-5y",
        21,
        None,
        "5 years",
        "groups together",
        "LEQUIN-2013",
        "randomised",
    ),
    # Delitto 2015: 57% crossed from physical therapy to surgery.
    Published(
        "delitto-pt-crossed-to-surgery",
        57,
        None,
        "2 years",
        "82 surgical candidates",
        "DELITTO-2015",
        "randomised",
    ),
    # SPORT disc herniation 8 years: 15% reoperation among people who had discectomy.
    Published(
        "sport-idh-reoperation-8y",
        15,
        None,
        "8 years",
        "had discectomy",
        "SPORT-IDH-8Y",
        "observational",
    ),
    Published(
        "sport-idh-working-4y-surgery",
        84.4,
        None,
        "4 years",
        "as treated",
        "SPORT-IDH-4Y",
        "randomised_as_treated",
    ),
]


@pytest.mark.parametrize("published", EFFECTS, ids=lambda p: p.number_id)
def test_each_corrected_effect_is_as_published(published: Published) -> None:
    effect = load_catalogue().effects[published.number_id]
    assert (effect.effect, effect.ci) == (published.value, published.ci)
    assert effect.horizon == published.horizon
    assert published.population_mentions in effect.population
    assert (effect.source, effect.design) == (published.source, published.design)


@pytest.mark.parametrize("published", PROPORTIONS, ids=lambda p: p.number_id)
def test_each_corrected_proportion_is_as_published(published: Published) -> None:
    number = load_catalogue().proportions[published.number_id]
    assert number.value == published.value
    assert number.horizon == published.horizon
    assert published.population_mentions in number.population
    assert (number.source, number.design) == (published.source, published.design)


def test_the_sciatica_aid_shows_every_horizon_of_the_bmj_review_with_its_uncertainty() -> None:
    _, _, aid, html = example_aid("sciatica-refer-surgical-opinion.json")
    shown = {
        e.id: (e.ci_low, e.ci_high)
        for c in aid.conditions
        for o in c.options
        for b in o.benefits
        for e in b.effects
    }
    for horizon, ci in (
        ("immediate", (-23.6, -0.5)),
        ("short", (-18.6, -4.7)),
        ("medium", (-11.0, -2.1)),
        ("long", (-4.5, -0.2)),
    ):
        assert shown[f"discectomy-meta-leg-pain-{horizon}"] == ci
    assert "-2.3" in html or "−2.3" in html


def test_randomised_results_lead_and_as_treated_ones_come_after() -> None:
    order = {
        "randomised": 0,
        "meta_analysis_of_trials": 0,
        "randomised_as_treated": 1,
        "observational": 1,
        "review_of_mixed_studies": 1,
        "case_series": 1,
    }
    cat = load_catalogue()
    for option in cat.options.values():
        for benefit in option.benefits:
            ranks = [order[cat.effects[e].design] for e in benefit.effects]
            assert ranks == sorted(ranks), f"{option.id}.{benefit.id}: {benefit.effects}"


def test_no_sport_oswestry_result_is_read_against_the_usual_oswestry() -> None:
    cat = load_catalogue()
    for effect in cat.effects.values():
        if effect.source.startswith("SPORT") and "ODI" in effect.measure:
            assert effect.measure == "modified ODI (AAOS/MODEMS)", effect.id
            assert "10 points most people notice" not in effect.meaning
            assert "10-point change is the smallest" not in effect.meaning


def test_the_sport_oswestry_cut_off_is_never_applied_to_a_persons_own_score() -> None:
    stenosis = load_catalogue().conditions["lumbar_spinal_stenosis"]
    cut_off = next(w for w in stenosis.who_benefits if "56" in w.text)
    assert cut_off.when is None
    assert "cannot be applied to your own score" in cut_off.text


def test_endoscopic_discectomy_does_not_claim_a_benefit_from_cross_study_rates() -> None:
    endoscopic = load_catalogue().options["endoscopic_discectomy"]
    for benefit in endoscopic.benefits:
        assert not any(n.startswith("bombieri-fed") for n in benefit.numbers), benefit.id
    reoperation = next(h for h in endoscopic.harms if h.category == "reoperation")
    assert reoperation.effects == ["mi-discectomy-recurrence"]
