"""The synthetic cohort: valid intakes, reproducible, in the configured proportions, and triaged
by the engine as its subgroups should be."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from spinepath.pathway.engine import assess
from spinepath.pathway.intake import Intake
from spinepath.population.generate import (
    NON_SPECIFIC,
    SERIOUS,
    CohortError,
    expected_shares,
    has_red_flag,
    labelled_people,
    load_cohort,
    ndjson_chunks,
)

COHORT = 20_000
DOCS = Path(__file__).parents[2] / "docs" / "population.md"


def _text(count: int, seed: int, chunk: int = 10_000) -> str:
    return "".join(text for _, text in ndjson_chunks(count, seed, chunk=chunk))


def test_every_line_is_a_valid_intake() -> None:
    lines = _text(3_000, 11).splitlines()
    assert len(lines) == 3_000
    for line in lines:
        Intake.model_validate_json(line)


def test_every_subgroup_gives_valid_intakes() -> None:
    for subgroup in (*SERIOUS, "axial_spa", "radiculopathy", "stenosis", *NON_SPECIFIC):
        for _, person in labelled_people(200, 5, subgroup=subgroup):
            Intake.model_validate(person)


def test_the_same_seed_gives_the_same_bytes_whatever_the_chunk_size() -> None:
    assert _text(2_000, 7) == _text(2_000, 7, chunk=333)


def test_different_seeds_give_different_cohorts() -> None:
    assert _text(200, 1) != _text(200, 2)


def test_observed_shares_match_the_configured_figures() -> None:
    figures = load_cohort().figures
    drawn = list(labelled_people(COHORT, 3))
    subgroups = Counter(name for name, _ in drawn)
    serious = sum(subgroups[name] for name in SERIOUS) / COHORT
    flagged = sum(has_red_flag(person) for _, person in drawn) / COHORT
    no_startback = sum("startback" not in person for _, person in drawn) / COHORT
    expected = expected_shares()
    # Binomial spread at n=20,000: about 0.07 points for 0.9%, 0.3 points for 80%.
    assert abs(serious - figures["serious_pathology_share"].share()) < 0.003, serious
    assert abs(flagged - figures["red_flag_share"].share()) < 0.015, flagged
    assert abs(no_startback - figures["startback_unanswered_share"].share()) < 0.01
    for name in ("radiculopathy", "neck", "upper_back", "stenosis", "low_back"):
        assert abs(subgroups[name] / COHORT - expected[name]) < 0.01, name


def test_some_questions_are_left_unanswered_at_about_the_configured_rate() -> None:
    figures = load_cohort().figures
    drawn = [person for _, person in labelled_people(COHORT, 4)]
    partial = sum(len(person["cauda_equina"]) + len(person["systemic"]) < 10 for person in drawn)
    # A person who leaves questions blank leaves at least one of these ten with this chance.
    unanswered = figures["unanswered_question_share"].share()
    chance = figures["partial_answers_share"].share() * (1 - (1 - unanswered) ** 10)
    assert abs(partial / COHORT - chance) < 0.015, partial / COHORT


def _levels(subgroup: str, count: int) -> Counter[str]:
    return Counter(
        assess(Intake.model_validate(person)).triage.level.value
        for _, person in labelled_people(count, 9, subgroup=subgroup)
    )


@pytest.mark.parametrize("subgroup", ["cancer", "cauda_equina", "infection"])
def test_the_engine_triages_serious_pathology_as_urgent_or_emergency(subgroup: str) -> None:
    levels = _levels(subgroup, 200)
    urgent = levels["urgent"] + levels["emergency"]
    # A person who leaves every strong flag unanswered can fall to a lower level; that is the
    # engine's handling of unknowns, so the bar is 95%, not all.
    assert urgent / 200 >= 0.95, f"{subgroup}: {dict(levels)}"


def test_the_engine_escalates_fragility_fractures() -> None:
    # The knowledge base rates a fragility fracture after a slip or strain as `soon`
    # (RF-FRAGILITY-FRACTURE), not urgent; what matters is that none is left at routine.
    levels = _levels("fracture", 200)
    escalated = levels["soon"] + levels["urgent"] + levels["emergency"]
    assert escalated / 200 >= 0.95, f"fracture: {dict(levels)}"


def test_the_engine_gives_most_non_specific_pain_self_care_or_routine() -> None:
    confusion = {subgroup: _levels(subgroup, 200) for subgroup in NON_SPECIFIC}
    expected = expected_shares()
    weight = sum(expected[name] for name in NON_SPECIFIC)
    # Weighted by the cohort's mix: upper-back pain over 50 is `soon` by design
    # (RF-THORACIC-PERSISTENT), and it is the smallest of the three.
    low = sum(
        expected[name] * (levels["self_care"] + levels["routine"]) / levels.total()
        for name, levels in confusion.items()
    )
    report = "; ".join(f"{name}: {dict(levels)}" for name, levels in confusion.items())
    assert low / weight >= 0.55, f"self_care/routine {low / weight:.0%} — {report}"
    emergencies = sum(levels["emergency"] for levels in confusion.values())
    assert emergencies / 600 < 0.02, report


def test_the_docs_list_every_figure() -> None:
    text = DOCS.read_text(encoding="utf-8")
    missing = [name for name in load_cohort().figures if f"`{name}`" not in text]
    assert not missing


def test_every_figure_says_where_it_comes_from() -> None:
    for name, figure in load_cohort().figures.items():
        if figure.source == "reference":
            assert figure.reference is not None, name
            assert figure.reference.startswith("reference.md"), name
        elif figure.source == "literature":
            # The paper or the measure's steward, where it can be read again.
            assert figure.primary is not None, name
            assert "https://" in figure.primary, name
            assert figure.seen, name
        else:
            assert figure.reason, name


# The command's own module mounted as `spinepath` mounts it, so these tests do not depend on the
# other commands of the `population` group.
_RUN = (
    "import typer; import spinepath.cli.population_generate; "
    "from spinepath.cli.population_group import population; "
    "app = typer.Typer(); app.add_typer(population); app()"
)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", _RUN]
    return subprocess.run([*command, *args], capture_output=True, text=True, check=False)


def test_the_command_writes_the_cohort(tmp_path: Path) -> None:
    out = tmp_path / "cohort.ndjson"
    result = _cli("population", "generate", "--people", "500", "--seed", "2", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_text(encoding="utf-8") == _text(500, 2)
    assert "rows/s" in result.stderr


@pytest.mark.parametrize("people", ["0", "-3"])
def test_too_few_people_exits_2_naming_the_option(tmp_path: Path, people: str) -> None:
    result = _cli("population", "generate", "--people", people, "--out", str(tmp_path / "x"))
    assert result.returncode == 2
    assert "--people" in result.stderr


def test_an_unwritable_path_exits_2_naming_the_option(tmp_path: Path) -> None:
    for out in (tmp_path / "missing" / "x.ndjson", tmp_path):
        result = _cli("population", "generate", "--people", "5", "--out", str(out))
        assert result.returncode == 2
        assert "--out" in result.stderr


@pytest.mark.parametrize(
    ("figure", "missing"),
    [
        ({"value": 0.1, "source": "literature", "seen": "x", "reason": "y"}, "primary"),
        ({"value": 0.1, "source": "literature", "primary": "https://x", "reason": "y"}, "seen"),
        ({"value": 0.1, "source": "reference", "primary": "https://x"}, "reference"),
        ({"value": 0.1, "source": "assumption"}, "reason"),
    ],
)
def test_a_figure_without_its_source_is_refused(
    tmp_path: Path, figure: dict[str, object], missing: str
) -> None:
    path = tmp_path / "cohort.yaml"
    path.write_text(json.dumps({"version": 1, "figures": {"share": figure}}), encoding="utf-8")
    with pytest.raises(CohortError, match=missing):
        load_cohort(path)
