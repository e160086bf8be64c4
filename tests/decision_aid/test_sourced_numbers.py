"""Every number an aid shows equals the published figure, typed here from the publications.

The tables below are written from the published sources (named in the comments), not from the
decision-aid data files, so a typo in either place fails a test.
"""

from __future__ import annotations

from typing import Any

import pytest

from spinepath.decision_aid.catalogue import load_catalogue
from spinepath.decision_aid.ipdas import all_numbers
from spinepath.decision_aid.models import DecisionAid, ScaleEffect
from spinepath.decision_aid.numbers import fmt

from .helpers import EXAMPLES, example_aid

# people per 100, with the time horizon the source reports
PUBLISHED: dict[str, tuple[float, str]] = {
    # Peul 2007 / 2008
    "peul-recovered-1y-early-surgery": (95, "the first year"),
    "peul-recovered-1y-conservative": (95, "the first year"),
    "peul-conservative-no-surgery-1y": (61, "1 year"),  # 87 of 142 (55 of 142 operated)
    "peul-conservative-surgery-1y": (39, "1 year"),
    "peul-conservative-surgery-2y": (44, "2 years"),
    "peul-unsatisfactory-2y": (20, "2 years"),
    "peul-surgical-complications": (1.6, "around the operation"),
    # Lequin 2013 (Peul trial, 5 years)
    "lequin-conservative-surgery-5y": (46, "5 years"),
    "lequin-unsatisfactory-5y": (21, "5 years"),  # 49 of 231
    # Delitto 2015
    "delitto-pt-crossed-to-surgery": (57, "2 years"),
    # Radhakrishnan 1994
    "radhakrishnan-no-or-mild-symptoms": (90, "a median of 4.9 years"),
    # SPORT disc herniation
    "sport-idh-working-4y-surgery": (84.4, "4 years"),
    "sport-idh-working-4y-nonsurgical": (78.4, "4 years"),
    "sport-idh-reoperation-8y": (15, "8 years"),
    # Bombieri 2020: MD and FED columns
    "bombieri-md-recurrent-herniation": (5.1, "follow-up of the included studies (varied)"),
    "bombieri-md-reoperation": (7.5, "follow-up of the included studies (varied)"),
    "bombieri-md-wound": (3.5, "around the operation"),
    "bombieri-md-durotomy": (2.3, "during the operation"),
    "bombieri-md-neurological": (2.8, "around the operation"),
    "bombieri-md-nerve-root-injury": (0.3, "during the operation"),
    "bombieri-fed-recurrent-herniation": (3.5, "follow-up of the included studies (varied)"),
    "bombieri-fed-reoperation": (4.0, "follow-up of the included studies (varied)"),
    "bombieri-fed-wound": (2.0, "around the operation"),
    "bombieri-fed-durotomy": (1.1, "during the operation"),
    "bombieri-fed-neurological": (4.9, "around the operation"),
    # NICE IPG141
    "ipg141-success-automated": (29, "trial follow-up"),
    "ipg141-success-microdiscectomy": (80, "trial follow-up"),
    # VTE meta-analysis
    "vte-spinal-surgery": (0.35, "after surgery (as reported by the studies)"),
    # SPORT stenosis; 8-year reoperation verified in Gerling 2016 (SPORT)
    "sport-ss-nonsurgical-had-surgery-2y": (43, "2 years"),
    "sport-ss-reoperation-8y": (18, "8 years"),
    # Deyo 2010 and Deyo/Martin Medicare cohort
    "deyo-life-threatening-decompression": (2.3, "shortly after surgery"),
    "deyo-life-threatening-complex-fusion": (5.6, "shortly after surgery"),
    "deyo-rehospitalisation-decompression": (7.8, "30 days"),
    "deyo-rehospitalisation-complex-fusion": (13.0, "30 days"),
    "medicare-reoperation-4y-decompression": (10.7, "4 years"),
    "medicare-reoperation-4y-complex-fusion": (13.5, "4 years"),
    # Umekawa 2019 medical complications by age
    "umekawa-medical-20-64": (8, "after surgery (hospital stay)"),
    "umekawa-medical-65-74": (11, "after surgery (hospital stay)"),
    "umekawa-medical-75-84": (27, "after surgery (hospital stay)"),
    "umekawa-medical-85-plus": (45, "after surgery (hospital stay)"),
    # SPORT DS; Martin 2007
    "sport-ds-nonsurgical-had-surgery-4y": (54, "4 years"),
    "martin-reoperation-11y-ds-fusion": (17.1, "11 years"),
    "martin-reoperation-11y-ds-decompression": (28.0, "11 years"),
    # in-hospital mortality after posterior lumbar fusion
    "nis-fusion-in-hospital-death": (0.2, "hospital stay"),
    # Brox 9-year: "one-third"
    "brox-rehab-crossed-to-surgery": (33, "9 years"),
    "brox-fusion-reoperated": (33, "9 years"),
    # VAPOUR and Rosenthal/Dickman
    "vapour-pain-low-2w-vertebroplasty": (44, "2 weeks"),
    "vapour-pain-low-2w-sham": (21, "2 weeks"),
    "rosenthal-intercostal-neuralgia-thoracoscopic": (16, "after surgery"),
    "rosenthal-pulmonary-thoracoscopic": (7, "after surgery"),
    "rosenthal-myelopathy-full-recovery": (61, "after surgery"),  # 22 of 36
    # Yee 2020 review (journal's full-text page)
    "yee-dysphagia": (5.3, "after surgery"),
    "yee-rln-palsy": (1.3, "after surgery"),
    "yee-infection": (1.2, "after surgery"),
    "yee-oesophageal-perforation": (0.2, "after surgery"),
    "yee-csf-leak": (0.5, "after surgery"),
    "yee-c5-palsy": (3.0, "after surgery"),
    "yee-neuro-deficit": (0.5, "after surgery"),
    "yee-adjacent-segment": (8.1, "follow-up of the included studies (varied)"),
}

# effect, 95% CI (or None), from the trials and reviews named by each evidence id
PUBLISHED_EFFECTS: dict[str, tuple[float, tuple[float, float] | None]] = {
    "sport-idh-bp-4y": (15.0, (11.8, 18.1)),
    "sport-idh-odi-4y": (-13.2, (-15.6, -10.9)),
    "sport-idh-bp-8y": (10.9, (7.7, 14.0)),
    "bailey-leg-pain-6m": (-2.4, (-3.4, -1.4)),
    # Liu, BMJ 2023: leg pain 0-100 at each horizon the review reports
    "discectomy-meta-leg-pain-immediate": (-12.1, (-23.6, -0.5)),
    "discectomy-meta-leg-pain-short": (-11.7, (-18.6, -4.7)),
    "discectomy-meta-leg-pain-medium": (-6.5, (-11.0, -2.1)),
    "discectomy-meta-leg-pain-long": (-2.3, (-4.5, -0.2)),
    "mi-discectomy-recurrence": (1.95, (1.19, 3.19)),  # Int Orthop 2014, risk ratio
    "delitto-pf-2y": (0.9, (-7.9, 9.6)),
    "ghogawala-pcs-2y": (5.7, (0.1, 11.3)),
    "austevoll-odi-change-2y": (0.7, (-2.8, 4.3)),
    "vertos4-pain-1m": (0.41, (-0.33, 1.15)),
    "vertos4-pain-12m": (0.45, (-0.37, 1.24)),
    "buchbinder-pain-3m": (0.6, (-0.7, 1.8)),
    "sport-ss-odi-4y": (-9.4, (-12.6, -6.2)),
    "sport-ss-bp-4y": (12.6, (8.5, 16.7)),
    "sport-ss-bp-2y-itt": (7.8, (1.5, 14.1)),
    "pearson-odi-nonsmokers": (-11.7, None),
    "pearson-odi-smokers": (-1.6, None),
    "pearson-odi-baseline-56-or-less": (-15.0, None),
    "pearson-odi-baseline-over-56": (-4.4, None),
    "pearson-odi-leg-predominant": (-11.5, None),
    "pearson-odi-back-predominant": (-7.3, None),
    "sport-ds-bp-4y": (15.3, (11.0, 19.7)),
    "sport-ds-pf-4y": (18.9, (14.8, 23.0)),
    "mrc-fusion-odi-2y": (-4.1, (-8.1, -0.1)),
    "brox-fusion-odi-9y": (1.9, (-7.8, 11.6)),
    "invest-pain-difference": (0.7, (-0.3, 1.7)),
}


def _effects(aid: DecisionAid) -> list[ScaleEffect]:
    found: list[ScaleEffect] = []
    for c in aid.conditions:
        for o in c.options:
            for b in o.benefits:
                found += b.effects
            for h in o.harms:
                found += h.effects
        for w in c.who_benefits:
            found += w.effects
        for n in c.not_recommended:
            found += n.evidence
    return found


def test_every_catalogue_proportion_is_in_the_published_table() -> None:
    cat = load_catalogue()
    assert set(cat.proportions) == set(PUBLISHED)
    for evidence_id, spec in cat.proportions.items():
        assert (spec.value, spec.horizon) == PUBLISHED[evidence_id], evidence_id


def test_every_catalogue_effect_is_in_the_published_table() -> None:
    cat = load_catalogue()
    assert set(cat.effects) == set(PUBLISHED_EFFECTS)
    for effect_id, spec in cat.effects.items():
        assert (spec.effect, spec.ci) == PUBLISHED_EFFECTS[effect_id], effect_id


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_numbers_shown_equal_the_published_numbers(example: object) -> None:
    _, _, aid, html = example_aid(example.name)  # type: ignore[attr-defined]
    for number in all_numbers(aid):
        assert (number.value, number.horizon) == PUBLISHED[number.id], number.id
        assert number.denominator == 100
        assert f"{fmt(number.value)} in 100" in html, number.id
    for effect in _effects(aid):
        published, ci = PUBLISHED_EFFECTS[effect.id]
        assert effect.effect == published, effect.id
        assert (effect.ci_low, effect.ci_high) == (ci if ci else (None, None)), effect.id
        assert f"{fmt(effect.effect)} points" in html, effect.id


@pytest.mark.parametrize(
    ("example", "condition", "expected_ids"),
    [
        (
            "sciatica-refer-surgical-opinion.json",
            "lumbar_disc_herniation",
            {"peul-recovered-1y-early-surgery", "bombieri-md-durotomy", "sport-idh-reoperation-8y"},
        ),
        (
            "stenosis-refer-surgical-opinion.json",
            "lumbar_spinal_stenosis",
            {"deyo-life-threatening-decompression", "sport-ss-reoperation-8y"},
        ),
        (
            "spondylolisthesis-refer-surgical-opinion.json",
            "degenerative_spondylolisthesis",
            {"martin-reoperation-11y-ds-fusion", "martin-reoperation-11y-ds-decompression"},
        ),
        (
            "cervical-radiculopathy-refer-surgical-opinion.json",
            "cervical_radiculopathy",
            {"radhakrishnan-no-or-mild-symptoms", "yee-dysphagia"},
        ),
        (
            "vertebral-fracture-vertebroplasty-opinion.json",
            "osteoporotic_vertebral_fracture",
            {"vapour-pain-low-2w-vertebroplasty", "vapour-pain-low-2w-sham"},
        ),
    ],
)
def test_each_condition_shows_its_key_published_figures(
    example: str, condition: str, expected_ids: set[str]
) -> None:
    _, _, aid, _ = example_aid(example)
    assert condition in {c.id for c in aid.conditions}
    shown = {n.id for n in all_numbers(aid)}
    assert expected_ids <= shown


# factor -> outcome -> (measure, value, CI), from the sources of data/factors.yaml (VTE CIs
# verified in the source abstract, Zhang et al. Medicine 2020)
PUBLISHED_FACTORS: dict[tuple[str, str], tuple[str, float, tuple[float, float] | None]] = {
    ("diabetes", "infection"): ("RR", 2.19, (1.43, 3.36)),
    ("obesity", "infection"): ("RR", 2.87, (1.62, 5.09)),
    ("prior_spine_surgery", "infection"): ("RR", 2.06, None),
    ("current_smoker", "infection"): ("OR", 1.17, (1.03, 1.32)),
    ("diabetes", "blood_clot"): ("OR", 1.34, (1.29, 1.44)),
    ("kidney_disease", "blood_clot"): ("OR", 8.31, (1.98, 34.93)),
    ("obesity", "blood_clot"): ("OR", 3.15, None),
    ("obesity", "death"): ("OR", 2.6, None),
    ("obesity", "reoperation"): ("OR", 1.43, None),
    ("prior_spine_surgery", "reoperation"): ("RR_derived", 1.62, None),  # 17.2 / 10.6
    ("age_80_plus", "dural_tear"): ("OR", 1.43, (1.02, 2.02)),
}


def test_every_relative_risk_used_is_the_published_one() -> None:
    effects: dict[tuple[str, str], Any] = {
        (e.factor, str(e.outcome)): e for e in load_catalogue().factor_effects
    }
    assert set(effects) == set(PUBLISHED_FACTORS)
    for key, (measure, value, ci) in PUBLISHED_FACTORS.items():
        effect = effects[key]
        assert (effect.measure, effect.value, effect.ci) == (measure, value, ci), key
    assert round(17.2 / 10.6, 2) == 1.62
