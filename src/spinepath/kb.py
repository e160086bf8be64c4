"""Load and validate the clinical knowledge base (YAML files under ``spinepath/knowledge``)."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, Literal

import polars as pl
import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from spinepath.assessment import CandidacyStatus, Level
from spinepath.conditions import Condition, ConditionError, parse
from spinepath.facts import fact_schema, known_facts
from spinepath.intake import Intake, RegionPain


class KnowledgeError(ValueError):
    """The knowledge base cannot be loaded; the message names the file and entry."""


def _condition(value: object) -> Condition:
    if isinstance(value, Condition):
        return value
    return parse(value)


Cond = Annotated[Condition, BeforeValidator(_condition)]
SourceRefs = Annotated[list[str], Field(min_length=1)]


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class Source(Entry):
    id: str = Field(pattern=r"^[A-Z0-9][A-Z0-9-]*$")
    citation: str
    url: str
    kind: Literal[
        "guideline",
        "trial",
        "review",
        "cohort",
        "registry",
        "patient_information",
        "quality_measure",
        "other",
    ]
    verification: Literal["verified", "secondary", "unverified"]
    note: str | None = None


class Referral(Entry):
    id: str
    label: str
    sources: SourceRefs


class ConcernDef(Entry):
    code: str
    label: str
    summary: str
    referral: str
    sources: SourceRefs


class Derived(Entry):
    id: str
    when: Cond
    sources: SourceRefs


AnswerKind = Literal["yes_no", "choice", "whole_number"]


@dataclass(frozen=True)
class AnswerFormat:
    """How a question is answered, read from the intake model so that YAML never restates it."""

    kind: AnswerKind
    values: tuple[str, ...] = ()
    """The answers a choice allows, in the intake model's order."""
    minimum: int | None = None
    maximum: int | None = None


class QuestionDef(Entry):
    """A red-flag question as the web questionnaire and the interview ask it, in asking order.

    The answer format comes from the intake model (``answer``); the YAML adds only what a person
    reads: the question, a hint, the words for each choice, the unit of a number.
    """

    fact: str
    screen: Literal["emergency", "red_flag"]
    group: str = Field(min_length=1, description="Heading over consecutive questions.")
    question: str
    hint: str | None = None
    choices: dict[str, str] | None = Field(
        default=None, description="Words shown for each answer; the keys are the intake's values."
    )
    unit: str | None = Field(default=None, description="The unit of a whole-number answer.")
    ask_if: Cond | None = Field(
        default=None,
        description="Asked only when this is not no for the answers so far (unknown asks).",
    )

    @property
    def answer(self) -> AnswerFormat:
        found = answer_format(self.fact)
        if found is None:
            raise KnowledgeError(f"Q:{self.fact}: not an answer of the intake")
        return found


def _intake_property(fact: str) -> dict[str, Any] | None:
    """The JSON schema of the intake field a fact comes from (``pain.*``: every pain region's)."""
    section, _, name = fact.partition(".")
    model: type[BaseModel] | None = RegionPain if section == "pain" else None
    field = Intake.model_fields.get(section)
    if model is None and field is not None and isinstance(field.annotation, type):
        model = field.annotation if issubclass(field.annotation, BaseModel) else None
    if model is None:
        return None
    prop = _properties(model).get(name)
    if prop is None:
        return None
    options = [o for o in prop.get("anyOf", [prop]) if o.get("type") != "null"]
    return options[0] if len(options) == 1 else None


@cache
def _properties(model: type[BaseModel]) -> dict[str, Any]:
    properties: dict[str, Any] = model.model_json_schema()["properties"]
    return properties


@cache
def answer_format(fact: str) -> AnswerFormat | None:
    """The answer format of a fact a person gives, or None when no question can ask it."""
    dtype = fact_schema().get(fact)
    if dtype is None:
        return None
    if dtype == pl.Boolean:
        # Includes facts flattened from another shape, such as pain.sudden_onset from onsets.
        return AnswerFormat("yes_no")
    prop = _intake_property(fact)
    if prop is None:
        return None
    if "enum" in prop:
        return AnswerFormat("choice", values=tuple(str(v) for v in prop["enum"]))
    if prop.get("type") == "integer":
        return AnswerFormat(
            "whole_number", minimum=prop.get("minimum"), maximum=prop.get("maximum")
        )
    return None


class Evidence(Entry):
    """Why a red flag raises the level: its diagnostic value, or the guideline that says so."""

    strength: Literal["strong", "combination"] = Field(
        description="strong: acts alone; combination: weak flags that act only together."
    )
    kind: Literal["post_test_probability", "likelihood_ratio", "guideline"]
    source: str
    summary: str = Field(min_length=20)


class RedFlagRule(Entry):
    id: str
    version: int = Field(ge=1)
    concern: str | None
    level: Level
    finding: str
    when: Cond
    evidence: Evidence
    sources: SourceRefs
    referral: str | None = Field(
        default=None, description="Where to go when this rule fires; defaults to the concern's."
    )


class LevelText(Entry):
    headline: str
    instructions: list[str]
    safety_net: list[str]


class LevelRule(Entry):
    id: str
    version: int = Field(ge=1)
    level: Level
    finding: str
    when: Cond
    sources: SourceRefs


class UnansweredFloor(Entry):
    emergency: Level
    red_flag: Level
    sources: SourceRefs


class Levels(Entry):
    texts: dict[Level, LevelText]
    unanswered_floor: UnansweredFloor
    rules: list[LevelRule]


class PatternDef(Entry):
    id: Literal[
        "myelopathic", "neurogenic_claudication", "radicular", "thoracic_referred", "non_specific"
    ]
    version: int = Field(ge=1)
    description: str
    when: Cond
    sources: SourceRefs


class DurationDef(Entry):
    definition: str
    acute_below_weeks: int
    chronic_above_weeks: int
    sources: SourceRefs


class Patterns(Entry):
    duration: DurationDef
    types: list[PatternDef]


class CareItem(Entry):
    id: str
    version: int = Field(ge=1)
    text: str
    when: Cond
    sources: SourceRefs


class NextStepRule(CareItem):
    review_after_weeks: int = Field(ge=0)


class NotRecommendedItem(Entry):
    id: str
    version: int = Field(ge=1)
    item: str
    reason: str
    when: Cond
    sources: SourceRefs


class Care(Entry):
    now: list[CareItem]
    self_management: list[CareItem]
    prevention: list[CareItem]
    next_step: list[NextStepRule]
    not_recommended: list[NotRecommendedItem]


class ImagingRule(Entry):
    id: str
    version: int = Field(ge=1)
    when: Cond
    indicated: bool
    timing: Literal["none", "immediate", "within_24_hours", "within_1_week", "after_trial_of_care"]
    modality: str | None
    reason: str
    sources: SourceRefs


class CriterionDef(Entry):
    code: str
    version: int = Field(ge=1)
    label: str
    detail: str
    when: Cond
    sources: SourceRefs


class StatusRule(Entry):
    id: str
    version: int = Field(ge=1)
    status: CandidacyStatus
    referral: str | None
    summary: str
    when: Cond
    sources: SourceRefs


class Surgery(Entry):
    criteria: list[CriterionDef]
    statuses: list[StatusRule]


class SeedClaim(Entry):
    id: str
    version: int = Field(ge=1)
    claim: str
    seed: str
    verdict: Literal["contradicted", "overstated", "supported", "unverified"]
    evidence: str
    sources: SourceRefs


class Meta(Entry):
    version: str
    reviewed: str
    review_policy: str


class KnowledgeBase(Entry):
    meta: Meta
    content_hash: str
    sources: dict[str, Source]
    referrals: dict[str, Referral]
    concerns: dict[str, ConcernDef]
    derived: list[Derived]
    questions: list[QuestionDef]
    red_flags: list[RedFlagRule]
    levels: Levels
    patterns: Patterns
    care: Care
    imaging: list[ImagingRule]
    surgery: Surgery
    seed_claims: list[SeedClaim]

    @property
    def version(self) -> str:
        return f"{self.meta.version}+{self.content_hash[:12]}"

    def entries(self) -> Iterator[tuple[str, str, Entry]]:
        """Every entry as (kind, id, entry), for lookup, display and validation."""
        for source in self.sources.values():
            yield "source", source.id, source
        for referral in self.referrals.values():
            yield "referral", referral.id, referral
        for concern in self.concerns.values():
            yield "concern", concern.code, concern
        for derived in self.derived:
            yield "derived", derived.id, derived
        for question in self.questions:
            yield "question", f"Q:{question.fact}", question
        for rule in self.red_flags:
            yield "red_flag", rule.id, rule
        for level_rule in self.levels.rules:
            yield "level", level_rule.id, level_rule
        for pattern in self.patterns.types:
            yield "pattern", f"PT-{pattern.id}", pattern
        for section in ("now", "self_management", "prevention", "next_step", "not_recommended"):
            for item in getattr(self.care, section):
                yield f"care.{section}", item.id, item
        for imaging in self.imaging:
            yield "imaging", imaging.id, imaging
        for criterion in self.surgery.criteria:
            yield "surgical_criterion", f"SC-{criterion.code}", criterion
        for status in self.surgery.statuses:
            yield "surgical_status", status.id, status
        for claim in self.seed_claims:
            yield "seed_claim", claim.id, claim

    def find(self, entry_id: str) -> tuple[str, Entry] | None:
        for kind, key, entry in self.entries():
            if key == entry_id:
                return kind, entry
        return None


# Facts the engine adds while it works; rules may read them.
ENGINE_FACTS = frozenset(
    {
        "triage.rank",
        "imaging.indicated",
        "surgical.referral_due",
        "surgical.status",
    }
)


def knowledge_dir() -> Path:
    return Path(str(files("spinepath") / "knowledge"))


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise KnowledgeError(f"{path.name}: not valid YAML: {exc}") from exc


def _validate(model: type[BaseModel], data: object, where: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        entry = _entry_name(data, first["loc"])
        raise KnowledgeError(f"{where}{entry}: {loc}: {first['msg']}") from exc
    except ConditionError as exc:
        raise KnowledgeError(f"{where}: {exc}") from exc


def _entry_name(data: object, loc: tuple[int | str, ...]) -> str:
    node: Any = data
    for part in loc:
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if in_dict or in_list:
            node = node[part]
        else:
            break
        if isinstance(node, dict):
            name = node.get("id") or node.get("code") or node.get("fact")
            if name:
                return f" [{name}]"
    return ""


def load(directory: Path | None = None) -> KnowledgeBase:
    """Read every knowledge file; raise ``KnowledgeError`` naming the file and entry."""
    root = directory or knowledge_dir()
    if not root.is_dir():
        raise KnowledgeError(f"knowledge directory not found: {root}")
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.yaml")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())

    def read(name: str) -> Any:
        path = root / name
        if not path.is_file():
            raise KnowledgeError(f"missing knowledge file: {name}")
        return _read_yaml(path)

    sources: list[Source] = []
    for path in sorted((root / "sources").glob("*.yaml")):
        sources.extend(
            _validate(Source, item, f"sources/{path.name}") for item in _read_yaml(path) or []
        )
    duplicates = [sid for sid, n in Counter(s.id for s in sources).items() if n > 1]
    if duplicates:
        raise KnowledgeError(f"sources: duplicate source ids {sorted(duplicates)}")
    data = {
        "meta": read("meta.yaml"),
        "content_hash": digest.hexdigest(),
        "sources": {s.id: s for s in sources},
        "referrals": {r["id"]: r for r in read("referrals.yaml")},
        "concerns": {c["code"]: c for c in read("concerns.yaml")},
        "derived": read("derived.yaml"),
        "questions": read("questions.yaml"),
        "red_flags": read("red_flags.yaml"),
        "levels": read("levels.yaml"),
        "patterns": read("patterns.yaml"),
        "care": read("care.yaml"),
        "imaging": read("imaging.yaml"),
        "surgery": read("surgery.yaml"),
        "seed_claims": read("seed_claims.yaml"),
    }
    return _validate(KnowledgeBase, data, "knowledge")  # type: ignore[no-any-return]


@cache
def default() -> KnowledgeBase:
    """The packaged knowledge base, loaded once per process on first use."""
    kb = load()
    problems = check(kb)
    if problems:
        raise KnowledgeError("knowledge base failed its checks:\n" + "\n".join(problems))
    return kb


def _conditions(kb: KnowledgeBase) -> Iterator[tuple[str, Condition]]:
    for _kind, key, entry in kb.entries():
        for name in ("when", "ask_if"):
            condition = getattr(entry, name, None)
            if isinstance(condition, Condition):
                yield key, condition


def available_facts(kb: KnowledgeBase) -> frozenset[str]:
    names = set(known_facts()) | set(ENGINE_FACTS)
    names |= {d.id for d in kb.derived}
    names |= {f"pattern.{p.id}" for p in kb.patterns.types}
    for code in kb.concerns:
        names |= {f"concern.{code}", f"concern.{code}.rank"}
    names |= {f"criterion.{c.code}" for c in kb.surgery.criteria}
    return frozenset(names)


_EMERGENCY_ROUTES = frozenset(
    {"emergency_department", "spinal_emergency", "vascular_emergency", "emergency_mscc"}
)

# Answers a red-flag rule may read without a question of their own: they are always answered
# (age, pain regions and scores) or only matter once self-care is already ruled out (NG65 features
# apply to pain of more than 12 weeks).
_ALWAYS_ANSWERED_PREFIXES = (
    "age",
    "pain.",
    "inflammatory.",
    "spa.",
    "startback.",
    "imaging.",
    "conservative.",
)


def _unasked_red_flag_facts(kb: KnowledgeBase) -> list[str]:
    """Every answer a red-flag rule reads must be asked, or "unknown" could hide an emergency."""
    asked = {q.fact for q in kb.questions}
    derived = {d.id: d.when for d in kb.derived}

    def base(names: frozenset[str], seen: frozenset[str] = frozenset()) -> set[str]:
        out: set[str] = set()
        for name in names:
            if name in derived and name not in seen:
                out |= base(derived[name].facts(), seen | {name})
            else:
                out.add(name)
        return out

    problems = []
    for rule in kb.red_flags:
        for name in sorted(base(rule.when.facts())):
            if name in asked or name in derived or name.startswith(_ALWAYS_ANSWERED_PREFIXES):
                continue
            problems.append(f"red_flag {rule.id}: reads {name!r}, which no question asks")
    return problems


# Diagnostic figures come from studies; "the guideline says so" comes from a guideline or the
# public health service's own advice.
_EVIDENCE_SOURCE_KINDS = {
    "post_test_probability": {"review", "cohort", "trial"},
    "likelihood_ratio": {"review", "cohort", "trial"},
    "guideline": {"guideline", "quality_measure", "patient_information", "review"},
}


def _evidence_problems(kb: KnowledgeBase) -> list[str]:
    """Every red flag carries diagnostic evidence or a guideline source of the right kind."""
    problems = []
    for rule in kb.red_flags:
        source = kb.sources.get(rule.evidence.source)
        if source is None:
            problems.append(
                f"red_flag {rule.id}: evidence source {rule.evidence.source!r} is not registered"
            )
        elif source.kind not in _EVIDENCE_SOURCE_KINDS[rule.evidence.kind]:
            problems.append(
                f"red_flag {rule.id}: {rule.evidence.kind} evidence needs a source of kind "
                f"{sorted(_EVIDENCE_SOURCE_KINDS[rule.evidence.kind])}, not {source.kind!r}"
            )
    return problems


def check(kb: KnowledgeBase) -> list[str]:
    """Every problem that makes the knowledge base unsafe to use; empty when it is sound."""
    problems: list[str] = []
    ids = Counter(key for _kind, key, _entry in kb.entries())
    problems += [f"duplicate id {key!r} ({n} entries)" for key, n in ids.items() if n > 1]

    for kind, key, entry in kb.entries():
        for ref in getattr(entry, "sources", []) or []:
            source_id = ref.split(":", 1)[0]
            if source_id not in kb.sources:
                problems.append(f"{kind} {key}: source {source_id!r} is not in the registry")
        if kind == "source":
            continue
        if not getattr(entry, "sources", None) and kind not in {"question"}:
            problems.append(f"{kind} {key}: has no source")

    facts = available_facts(kb)
    for key, condition in _conditions(kb):
        unknown = sorted(condition.facts() - facts)
        if unknown:
            problems.append(f"{key}: condition reads unknown facts {unknown}")
    for question in kb.questions:
        if question.fact not in facts:
            problems.append(f"Q:{question.fact}: asks about an unknown fact")

    problems += _unasked_red_flag_facts(kb)
    problems += _question_problems(kb)
    problems += _evidence_problems(kb)
    for rule in kb.red_flags:
        if rule.concern is not None and rule.concern not in kb.concerns:
            problems.append(f"red_flag {rule.id}: unknown concern {rule.concern!r}")
        if rule.referral is not None and rule.referral not in kb.referrals:
            problems.append(f"red_flag {rule.id}: unknown referral {rule.referral!r}")
        if rule.level is Level.EMERGENCY and rule.concern is not None:
            route = rule.referral or kb.concerns[rule.concern].referral
            if route not in _EMERGENCY_ROUTES:
                problems.append(
                    f"red_flag {rule.id}: an emergency rule must send people to an emergency "
                    f"route, not {route!r}"
                )
    for concern in kb.concerns.values():
        if concern.referral not in kb.referrals:
            problems.append(f"concern {concern.code}: unknown referral {concern.referral!r}")
    for status in kb.surgery.statuses:
        if status.referral is not None and status.referral not in kb.referrals:
            problems.append(f"surgical_status {status.id}: unknown referral {status.referral!r}")
    missing_levels = set(Level) - set(kb.levels.texts)
    if missing_levels:
        problems.append(f"levels: no text for {sorted(missing_levels)}")
    if set(CandidacyStatus) - {s.status for s in kb.surgery.statuses}:
        problems.append("surgery: every candidacy status needs at least one rule")
    for name, rules in (("imaging", kb.imaging), ("surgery.statuses", kb.surgery.statuses)):
        if not rules or rules[-1].when.facts() != frozenset({"age"}):
            problems.append(f"{name}: the last rule must be the catch-all (`age >= 0`)")
    if not kb.care.next_step or kb.care.next_step[-1].when.facts() != frozenset({"triage.rank"}):
        problems.append("care.next_step: the last rule must be the catch-all on triage.rank")
    return problems


def answers_read(kb: KnowledgeBase, condition: Condition) -> frozenset[str]:
    """The facts a condition reads, each derived fact replaced by the facts it is built from."""
    derived = {d.id: d.when for d in kb.derived}
    out: set[str] = set()
    seen: set[str] = set()
    todo = list(condition.facts())
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in derived:
            todo.extend(derived[name].facts())
        else:
            out.add(name)
    return frozenset(out)


def _question_problems(kb: KnowledgeBase) -> list[str]:
    """Questions fit the intake, branch only on earlier answers, and screen for emergencies.

    The web and the interview stop on any emergency-level red flag, so every answer such a rule
    reads must be asked on the emergency screen, before anything else.
    """
    problems: list[str] = []
    order = {q.fact: i for i, q in enumerate(kb.questions)}
    screens = [q.screen for q in kb.questions]
    if "red_flag" in screens and "emergency" in screens[screens.index("red_flag") :]:
        problems.append("questions: every emergency-screen question must come before the others")
    for index, question in enumerate(kb.questions):
        key = f"Q:{question.fact}"
        answer = answer_format(question.fact)
        if answer is None:
            problems.append(f"{key}: is not an answer of the intake, so it cannot be asked")
            continue
        if answer.kind == "choice":
            if question.choices is None or set(question.choices) != set(answer.values):
                problems.append(f"{key}: choices must give words for exactly {list(answer.values)}")
        elif question.choices is not None:
            problems.append(f"{key}: choices are only for answers with fixed options")
        if question.unit is not None and answer.kind != "whole_number":
            problems.append(f"{key}: a unit is only for whole-number answers")
        if answer.kind == "whole_number" and None in (answer.minimum, answer.maximum):
            problems.append(f"{key}: the intake model must give this number a lowest and highest")
        if question.ask_if is not None:
            later = sorted(
                n for n in answers_read(kb, question.ask_if) if order.get(n, -1) >= index
            )
            if later:
                # The web shows a page at a time: branching on a later answer cannot work there.
                problems.append(
                    f"{key}: ask_if reads {later}, which are asked later; ask them first"
                )
    emergency = {q.fact for q in kb.questions if q.screen == "emergency"}
    for rule in kb.red_flags:
        if rule.level is not Level.EMERGENCY:
            continue
        for name in sorted(answers_read(kb, rule.when)):
            if name in order and name not in emergency:
                problems.append(
                    f"red_flag {rule.id}: reads {name!r}, which the emergency screen does not ask"
                )
    return problems
