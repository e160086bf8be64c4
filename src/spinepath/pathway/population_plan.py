"""The pathway's stages over a fact table, as one engine-neutral column plan.

This is the population twin of ``spinepath.pathway.engine``: the same compiled conditions in the
same order, with the same exact three-valued logic, giving each person's urgency level,
concerns, the questions still worth asking, pain pattern, STarT Back group, surgical status,
imaging advice, care-plan and not-recommended items and review interval, without the
per-person explanations. Each engine (Polars, DuckDB, Spark) runs this plan through its own
backend; tests check the result row for row against the per-person engine and across engines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import cast

from spinepath.pathway.assessment import Level
from spinepath.pathway.column_plan import (
    FALSE,
    Col,
    Lit,
    Names,
    Node,
    Only,
    Op,
    When,
    and_,
    exact,
    fill,
    fired,
    first_match,
    first_match_steps,
    is_null,
    or_,
)
from spinepath.pathway.compiled import CompiledKnowledge
from spinepath.pathway.engine import answer_options
from spinepath.pathway.exact import Exact

Columns = list[tuple[str, Node]]

CARE_PARTS = ("now", "self_management", "prevention")
"""The care-plan sections whose items make up the ``care_plan`` column, in the engine's order."""

OUTPUTS = (
    "level",
    "concerns",
    "pattern",
    "candidacy",
    "referral_due",
    "imaging_indicated",
    "startback_group",
    "still_to_ask",
    "care_plan",
    "not_recommended",
    "review_after_weeks",
)
"""The decision columns, in order."""


@dataclass(frozen=True)
class PopulationPlan:
    """Steps that each add columns (later steps read earlier ones), then the decision columns."""

    steps: list[Columns]
    outputs: Columns
    backend_cache: dict[str, object] = field(default_factory=dict)
    """Where a backend keeps what it builds from the plan (the same for every batch)."""


def population_plan(built: CompiledKnowledge) -> PopulationPlan:
    """The plan for a compiled knowledge base (built once per knowledge base)."""
    if built.population_plan is None:
        built.population_plan = _plan(built)
    return cast(PopulationPlan, built.population_plan)


def _plan(built: CompiledKnowledge) -> PopulationPlan:
    rules = built.triage_rules
    ranks = sorted({rule.entry.level.rank for rule in rules})
    steps: list[Columns] = [
        [
            *((d.entry, exact(d.check)) for d in built.derived),
            *((f"pattern.{p.entry}", exact(p.check)) for p in built.patterns),
            *((f"rule.{i}", fired(exact(r.check))) for i, r in enumerate(rules)),
        ],
        [*_concern_columns(built), *_rank_columns(built, ranks)],
    ]
    what_ifs = _what_ifs(built, ranks)
    steps.append([(f"what_if.{name}", bits) for name, bits, _ranks in what_ifs])
    steps.append(
        [
            ("triage.rank", Op("max", (Col("rule.rank"), _floor(built, what_ifs)))),
            ("still_to_ask", _still_to_ask(what_ifs)),
            *((f"criterion.{c.entry.code}", exact(c.check)) for c in built.criteria),
        ]
    )
    steps += first_match_steps(
        "surgical.status",
        [(exact(s.check), Lit(s.entry.status.value, "str")) for s in built.statuses],
        "str",
    )
    due = Op("==", (Col("surgical.status"), Lit("refer_surgical_opinion", "str")))
    steps.append([("surgical.referral_due", due)])
    steps += first_match_steps(
        "imaging.indicated",
        [(exact(r.check), Lit(r.entry.indicated, "bool")) for r in built.imaging],
        "bool",
    )
    plan = [(item.entry.id, item.check) for part in CARE_PARTS for item in built.care[part]]
    outputs: Columns = [
        ("level", _level_names(Col("triage.rank"))),
        (
            "concerns",
            Names(
                tuple(built.knowledge.concerns),
                tuple(Col(f"concern.{c}") for c in built.knowledge.concerns),
            ),
        ),
        ("pattern", _primary_pattern(built)),
        ("candidacy", Col("surgical.status")),
        ("referral_due", Col("surgical.referral_due")),
        ("imaging_indicated", Col("imaging.indicated")),
        ("startback_group", Col("startback.risk")),
        ("still_to_ask", Col("still_to_ask")),
        ("care_plan", _ids(plan)),
        ("not_recommended", _ids([(i.entry.id, i.check) for i in built.not_recommended])),
        (
            "review_after_weeks",
            first_match(
                [(exact(r.check), Lit(r.entry.review_after_weeks, "int")) for r in built.next_step],
                Lit(None, "int"),
            ),
        ),
    ]
    return PopulationPlan(steps=steps, outputs=outputs)


def _concern_columns(built: CompiledKnowledge) -> Columns:
    out: Columns = []
    for code in built.knowledge.concerns:
        ranks: list[Node] = [
            When(((Col(f"rule.{i}"), Lit(rule.entry.level.rank, "int")),), Lit(-1, "int"))
            for i, rule in enumerate(built.red_flags)
            if rule.entry.concern == code
        ]
        rank = Op("max", tuple(ranks)) if ranks else Lit(-1, "int")
        out += [
            (f"concern.{code}.rank", rank),
            (f"concern.{code}", Op(">=", (rank, Lit(0, "int")))),
        ]
    return out


def _rank_columns(built: CompiledKnowledge, ranks: Sequence[int]) -> Columns:
    rules = built.triage_rules
    fired_ranks: list[Node] = [
        When(((Col(f"rule.{i}"), Lit(rule.entry.level.rank, "int")),), Lit(None, "int"))
        for i, rule in enumerate(rules)
    ]
    # How many rules fired at each rank, so that "the rules a question cannot change" is a
    # subtraction per rank rather than a pass over every rule for every question.
    counts: Columns = [
        (f"rule.count.{rank}", _fired_at(built, rank, range(len(rules)))) for rank in ranks
    ]
    return [
        ("rule.rank", fill(Op("max", tuple(fired_ranks)), Lit(Level.ROUTINE.rank, "int"))),
        *counts,
    ]


def _fired_at(built: CompiledKnowledge, rank: int, among: Iterable[int]) -> Node:
    rules = built.triage_rules
    chosen = tuple(Col(f"rule.{i}") for i in among if rules[i].entry.level.rank == rank)
    return Op("sum", chosen) if chosen else Lit(0, "int")


WhatIf = tuple[str, Node, frozenset[int]]
"""A red-flag question: its fact, then (where it is unanswered and would be asked; null
elsewhere) a number whose bit 0 says some answer would change the level the rules give and whose
bit ``1 + rank`` says some answer would fire a rule of that rank; and the ranks it can fire."""

_CHANGES_LEVEL = 0


def _what_ifs(built: CompiledKnowledge, ranks: Sequence[int]) -> list[WhatIf]:
    """As in the engine, each answer is tried with every other question left unanswered; a rule
    that does not read the question keeps its value."""
    rules = built.triage_rules
    out: list[WhatIf] = []
    for question, ask_if in built.questions:
        name = question.fact
        reading = set(built.triage_reading.get(name, []))
        if not reading:
            continue
        asked = is_null(Col(name))
        if ask_if is not None:
            asked = and_(asked, fill(exact(ask_if), Lit(True, "bool")))
        kept = [_kept_at(built, rank, reading) for rank in ranks]
        changes: list[Node] = []
        raises: dict[int, list[Node]] = {}
        for _answer, value in answer_options(built, name):
            tried = {i: fired(exact(rules[i].check, {name: value})) for i in sorted(reading)}
            levels = [*kept, *(_rank_if(f, rules[i].entry.level.rank) for i, f in tried.items())]
            level = fill(Op("max", tuple(levels)), Lit(Level.ROUTINE.rank, "int"))
            changes.append(Op("!=", (level, Col("rule.rank"))))
            for i, fires in tried.items():
                raises.setdefault(rules[i].entry.level.rank, []).append(fires)
        bits = [_bit_if(or_(*changes), _CHANGES_LEVEL)]
        bits += [_bit_if(or_(*f), 1 + rank) for rank, f in raises.items()]
        # Worked out only where the question is unanswered: elsewhere no answer can change it.
        out.append((name, Only(asked, Op("sum", tuple(bits)), "int"), frozenset(raises)))
    return out


def _kept_at(built: CompiledKnowledge, rank: int, reading: set[int]) -> Node:
    """``rank`` if a rule of that rank fired that does not read the question."""
    others = Op("-", (Col(f"rule.count.{rank}"), _fired_at(built, rank, reading)))
    return _rank_if(Op(">", (others, Lit(0, "int"))), rank)


def _rank_if(condition: Node, rank: int) -> Node:
    return When(((condition, Lit(rank, "int")),), Lit(None, "int"))


def _bit_if(condition: Node, bit: int) -> Node:
    return When(((fired(condition), Lit(1 << bit, "int")),), Lit(0, "int"))


def _has_bit(what_if: str, bit: int) -> Node:
    return fill(Op("has_bit", (Col(f"what_if.{what_if}"), Lit(1 << bit, "int"))), FALSE)


def _floor(built: CompiledKnowledge, what_ifs: list[WhatIf]) -> Node:
    """The engine's floor: an unanswered question one answer to which would raise the level."""
    raise_to: dict[int, list[Node]] = {}
    for name, _bits, ranks in what_ifs:
        for rank in ranks:
            raise_to.setdefault(rank, []).append(_has_bit(name, 1 + rank))
    floor = built.knowledge.levels.unanswered_floor
    emergency = Level.EMERGENCY.rank
    rule_rank = Col("rule.rank")
    could_emergency = or_(*raise_to.get(emergency, [FALSE]))
    could_raise = or_(
        *(
            and_(or_(*exprs), Op(">", (Lit(rank, "int"), rule_rank)))
            for rank, exprs in raise_to.items()
        ),
        FALSE,
    )
    return When(
        (
            (
                and_(could_emergency, Op(">", (Lit(emergency, "int"), rule_rank))),
                Lit(floor.emergency.rank, "int"),
            ),
            (could_raise, Lit(floor.red_flag.rank, "int")),
        ),
        Lit(None, "int"),
    )


def _still_to_ask(what_ifs: list[WhatIf]) -> Node:
    """Unanswered red-flag questions an answer to which would change the urgency level."""
    return Names(
        tuple(name for name, _bits, _ranks in what_ifs),
        tuple(_has_bit(name, _CHANGES_LEVEL) for name, _bits, _ranks in what_ifs),
    )


def _ids(items: Sequence[tuple[str, Exact]]) -> Node:
    """The ids of the items whose condition is a definite yes, in the knowledge base's order."""
    return Names(
        tuple(item for item, _check in items),
        tuple(fired(exact(check)) for _item, check in items),
    )


def _level_names(rank: Node) -> Node:
    return When(
        tuple(
            (Op("==", (rank, Lit(level.rank, "int"))), Lit(level.value, "str")) for level in Level
        ),
        Lit(None, "str"),
    )


def _primary_pattern(built: CompiledKnowledge) -> Node:
    return first_match(
        [(Col(f"pattern.{p.entry}"), Lit(p.entry, "str")) for p in built.patterns],
        Lit("non_specific", "str"),
    )
