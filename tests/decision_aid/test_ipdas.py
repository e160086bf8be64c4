"""The IPDAS checklist: each machine criterion fails when it is removed, readability is reported
truthfully, and items only a person can judge are never reported as met."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from spinepath.cli import decision_aid as cli_decision_aid
from spinepath.decision_aid import DecisionAid, render_html
from spinepath.decision_aid.ipdas import CRITERIA, HUMAN_REVIEW, failures, run_checklist
from spinepath.decision_aid.readability import overall_readability, section_readability
from support.cli import PLAIN_WIDE, cli_runner, command_app
from support.files import EXAMPLES_DIR, ROOT

from .helpers import EXAMPLES, example_aid


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_the_checklist_passes_for_every_example_except_where_the_text_is_too_hard(
    example: Path,
) -> None:
    _, _, aid, html = example_aid(example.name)
    too_hard = overall_readability(aid).above_target
    assert {r.code for r in failures(aid, html)} == ({"P1"} if too_hard else set())


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_items_for_human_review_are_never_reported_as_met(example: Path) -> None:
    _, _, aid, html = example_aid(example.name)
    results = {r.code: r for r in run_checklist(aid, html)}
    for item in HUMAN_REVIEW:
        result = results[item.code]
        assert result.status == "needs human review"
        assert not result.passed
        assert not result.checked_by_machine
    assert all(r.status != "needs human review" for r in failures(aid, html))
    assert {r.code for r in results.values() if r.checked_by_machine} == {c.code for c in CRITERIA}


def test_items_for_human_review_are_distinct_from_machine_criteria_and_documented() -> None:
    doc = (ROOT / "docs" / "decision-aid.md").read_text(encoding="utf-8")
    codes = [item.code for item in HUMAN_REVIEW]
    assert len(set(codes)) == len(codes)
    assert not set(codes) & {c.code for c in CRITERIA}
    for code in codes:
        assert f"| {code} |" in doc, code


def test_the_checklist_has_six_qualifying_and_at_least_six_certifying_criteria() -> None:
    categories = [c.category for c in CRITERIA]
    assert categories.count("qualifying") == 6
    assert categories.count("certifying") >= 6
    assert len({c.code for c in CRITERIA}) == len(CRITERIA)


def _update(model: Any, **changes: Any) -> Any:
    return model.model_copy(update=changes)


def _map_options(aid: DecisionAid, change: Callable[[Any], Any]) -> DecisionAid:
    conditions = [_update(c, options=[change(o) for o in c.options]) for c in aid.conditions]
    return aid.model_copy(update={"conditions": conditions})


def _map_conditions(aid: DecisionAid, change: Callable[[Any], Any]) -> DecisionAid:
    return aid.model_copy(update={"conditions": [change(c) for c in aid.conditions]})


def _surgical_harms_without_numbers(option: Any) -> Any:
    if option.kind == "non_surgical":
        return option
    harms = [
        _update(h, baseline=None, personal_value=None, personal_low=None, personal_high=None)
        for h in option.harms
    ]
    return _update(option, harms=harms)


def _no_probabilities(aid: DecisionAid) -> DecisionAid:
    aid = _map_options(aid, _surgical_harms_without_numbers)
    aid = _map_options(
        aid, lambda o: _update(o, benefits=[_update(b, numbers=[]) for b in o.benefits])
    )
    return _map_conditions(aid, lambda c: _update(c, comparisons=[]))


def _mixed_horizons(aid: DecisionAid) -> DecisionAid:
    def change(condition: Any) -> Any:
        if not condition.comparisons:
            return condition
        first = condition.comparisons[0]
        return _update(condition, comparisons=[_update(first, horizon="10 years")])

    return _map_conditions(aid, change)


def _harm_numbers_only(option: Any) -> Any:
    benefits = [_update(b, numbers=[], effects=[], durations=[]) for b in option.benefits]
    return _update(option, benefits=benefits)


def _uncited_reference(aid: DecisionAid) -> DecisionAid:
    return aid.model_copy(update={"references": [r for r in aid.references if r.id != "PEUL-2007"]})


def _meta(**changes: Any) -> Callable[[DecisionAid], DecisionAid]:
    return lambda aid: _update(aid, meta=_update(aid.meta, **changes))


def _hard_words(aid: DecisionAid) -> DecisionAid:
    jargon = (
        "Radiculopathic manifestations necessitate comprehensive multidisciplinary "
        "neurophysiological evaluation, considering intervertebral degenerative "
        "pathophysiology and contraindications to instrumentation."
    )
    return _map_options(aid, lambda o: _update(o, involves=jargon, experience=jargon))


def test_hard_words_fail_plain_language_and_name_the_hardest_sections(
    sciatica_aid: DecisionAid,
) -> None:
    aid = _hard_words(sciatica_aid)
    assert overall_readability(aid).above_target
    result = next(r for r in run_checklist(aid, render_html(aid)) if r.code == "P1")
    assert result.status == "not met"
    hardest = max(section_readability(aid), key=lambda s: s.grade)
    assert f"{hardest.title} {hardest.grade:.1f}" in result.detail


def _break_html(
    transform: Callable[[str], str],
) -> Callable[[DecisionAid], tuple[DecisionAid, str]]:
    def breaker(aid: DecisionAid) -> tuple[DecisionAid, str]:
        return aid, transform(render_html(aid))

    return breaker


def _as_is(
    change: Callable[[DecisionAid], DecisionAid],
) -> Callable[[DecisionAid], tuple[DecisionAid, str]]:
    def breaker(aid: DecisionAid) -> tuple[DecisionAid, str]:
        changed = change(aid)
        return changed, render_html(changed)

    return breaker


BREAKERS: dict[str, Callable[[DecisionAid], tuple[DecisionAid, str]]] = {
    "Q1": _as_is(lambda a: _map_conditions(a, lambda c: _update(c, description=" "))),
    "Q2": _as_is(lambda a: _update(a, decision="")),
    "Q3": _as_is(
        lambda a: _map_conditions(
            a, lambda c: _update(c, options=[o for o in c.options if o.kind != "non_surgical"])
        )
    ),
    "Q4": _as_is(lambda a: _map_options(a, lambda o: _update(o, benefits=[]))),
    "Q5": _as_is(lambda a: _map_options(a, lambda o: _update(o, harms=[]))),
    "Q6": _as_is(lambda a: _map_options(a, lambda o: _update(o, experience=""))),
    "C1": _as_is(lambda a: _map_conditions(a, lambda c: _update(c, natural_course=[]))),
    "C2": _as_is(_no_probabilities),
    "C3": _as_is(_mixed_horizons),
    "C4": _as_is(lambda a: _map_options(a, _harm_numbers_only)),
    "C5": _as_is(lambda a: _update(a, values_items=a.values_items[:1])),
    "C6": _as_is(_uncited_reference),
    "C7": _as_is(_meta(content_date="last spring")),
    "C8": _as_is(_meta(update_policy="")),
    "C9": _as_is(_meta(funding_and_conflicts="")),
    "C10": _as_is(lambda a: _update(a, what_numbers_cannot_know=[])),
    "P1": _as_is(_hard_words),
    "P2": _as_is(lambda a: _update(a, questions_for_surgeon=a.questions_for_surgeon[:2])),
    "P3": _as_is(lambda a: _update(a, second_opinion="")),
    "P4": _break_html(lambda h: h.replace('role="img" aria-labelledby', "aria-labelledby", 1)),
    "P5": _as_is(lambda a: _update(a, mode="not_yet", not_yet=None)),
    "P6": _break_html(
        lambda h: h.replace("</article>", '<img src="https://x.example/t.png"></article>')
    ),
}


def test_every_criterion_has_a_negative_test() -> None:
    assert set(BREAKERS) == {c.code for c in CRITERIA}


@pytest.mark.parametrize("code", [c.code for c in CRITERIA])
def test_the_checklist_fails_when_a_criterion_is_removed(
    code: str, sciatica_aid: DecisionAid
) -> None:
    assert failures(sciatica_aid, render_html(sciatica_aid)) == []
    aid, html = BREAKERS[code](sciatica_aid)
    failed = {r.code for r in run_checklist(aid, html) if not r.passed}
    assert code in failed


def test_an_emergency_notice_must_come_before_the_options() -> None:
    aid = example_aid("cauda-equina-emergency.json")[2]
    assert aid.mode == "emergency_first"
    html = render_html(aid)
    start = html.index('<section class="da-box da-notice')
    end = html.index("</section>", start) + len("</section>")
    moved = html[:start] + html[end:]
    moved = moved.replace("</article>", html[start:end] + "</article>")
    assert "P5" in {r.code for r in failures(aid, moved)}


def test_waiting_must_not_be_offered_as_an_ordinary_option_in_an_emergency() -> None:
    aid = example_aid("cauda-equina-emergency.json")[2]
    assert failures(aid, render_html(aid)) == []
    relaxed = _map_options(
        aid, lambda o: _update(o, shown_as="option") if o.kind == "non_surgical" else o
    )
    assert "P5" in {r.code for r in failures(relaxed, render_html(relaxed))}


def _table_rows(text: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip().strip("│").split("│")]
        for line in text.splitlines()
        if line.startswith("│")
    ]


@pytest.fixture
def wide_runner() -> CliRunner:
    return cli_runner(PLAIN_WIDE)


@pytest.fixture
def app() -> typer.Typer:
    return command_app(cli_decision_aid.app)


def test_the_checklist_command_shows_human_review_and_readability_by_section(
    app: typer.Typer, wide_runner: CliRunner
) -> None:
    example = EXAMPLES_DIR / "sciatica-refer-surgical-opinion.json"
    result = wide_runner.invoke(app, ["decision-aid", str(example), "--checklist"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    machine = out.index("IPDAS checklist: checked by machine")
    review = out.index("IPDAS checklist: needs human review")
    readability = out.index("Readability by section")
    assert machine < review < readability
    for item in HUMAN_REVIEW:
        assert item.title in out[review:readability]
        assert item.title not in out[machine:review]
    rows = _table_rows(out[readability:])
    aid = example_aid(example.name)[2]
    for s in [*section_readability(aid), overall_readability(aid)]:
        assert [s.title, str(s.words), f"{s.reading_ease:.0f}", f"{s.grade:.1f}"] in [
            row[:4] for row in rows
        ]
    assert rows[-1][:1] == ["All patient text"]


def test_the_checklist_command_fails_only_on_a_machine_criterion(
    app: typer.Typer, wide_runner: CliRunner
) -> None:
    for example in EXAMPLES:
        aid, html = example_aid(example.name)[2:]
        result = wide_runner.invoke(app, ["decision-aid", str(example), "--checklist"])
        expected = 1 if failures(aid, html) else 0
        assert result.exit_code == expected, (example.name, result.output)
        assert ("not met" in result.stdout) == bool(expected)
