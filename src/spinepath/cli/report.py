"""Readable terminal reports (Rich) for assessments and knowledge-base entries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from spinepath.knowledge import KnowledgeBase
from spinepath.pathway.assessment import Assessment, Level
from spinepath.pathway.conditions import OTHERWISE, Condition

LEVEL_STYLE = {
    Level.EMERGENCY: "bold white on red",
    Level.URGENT: "bold black on dark_orange",
    Level.SOON: "bold black on yellow",
    Level.ROUTINE: "bold white on blue",
    Level.SELF_CARE: "bold black on green",
}
LEVEL_LABEL = {
    Level.EMERGENCY: "EMERGENCY",
    Level.URGENT: "URGENT (today)",
    Level.SOON: "SOON (within days)",
    Level.ROUTINE: "ROUTINE",
    Level.SELF_CARE: "SELF-CARE",
}


def _bullets(console: Console, lines: Sequence[str], *, style: str = "") -> None:
    for line in lines:
        console.print(f"  • {line}", style=style, markup=False, highlight=False)


def _refs(rule_ids: Sequence[str]) -> str:
    return f"[dim]({', '.join(rule_ids)})[/]" if rule_ids else ""


def print_assessment(a: Assessment, console: Console) -> None:
    _print_triage(a, console)
    _print_concerns(a, console)
    _print_pattern(a, console)
    _print_startback(a, console)
    _print_care_plan(a, console)
    _print_imaging(a, console)
    _print_surgical(a, console)
    console.print(
        f"\n[dim]{a.notice}\nengine {a.engine_version} · knowledge {a.knowledge_version}[/]",
        highlight=False,
    )


def _print_triage(a: Assessment, console: Console) -> None:
    t = a.triage
    console.print(
        Panel(
            f"[{LEVEL_STYLE[t.level]}] {LEVEL_LABEL[t.level]} [/]  [bold]{t.headline}[/]",
            title="spinepath assessment",
            expand=True,
        )
    )
    _bullets(console, t.instructions)
    if t.reasons:
        console.print("\n[bold]Why[/]")
        for reason in t.reasons:
            console.print(f"  • {reason.text} {_refs(reason.rule_ids)}", highlight=False)
    if t.still_to_ask:
        console.print("\n[bold]Still to ask[/] [dim](answers that would change the result)[/]")
        for q in t.still_to_ask:
            console.print(f"  • {q.question} [dim]→ {q.consequences()}[/]", highlight=False)


def _print_concerns(a: Assessment, console: Console) -> None:
    if a.concerns:
        console.print(
            "\n[bold]Concerns[/] [dim](what the findings can point to — not a diagnosis)[/]"
        )
        for c in a.concerns:
            console.print(
                f"  • [bold]{c.label}[/] — {c.level.value}; {c.referral_route} {_refs(c.rule_ids)}",
                highlight=False,
            )


def _print_pattern(a: Assessment, console: Console) -> None:
    p = a.pattern
    console.print(
        f"\n[bold]Pain pattern[/]: {p.primary.replace('_', ' ')} · {p.duration_class} "
        f"({p.duration_weeks} weeks) · regions: {', '.join(p.regions)}",
        highlight=False,
    )
    console.print(f"  [dim]{p.duration_definition}[/]", highlight=False)


def _print_startback(a: Assessment, console: Console) -> None:
    s = a.startback
    if s.risk_group is None:
        console.print(f"\n[bold]STarT Back[/]: {s.matched_care}", highlight=False)
    else:
        console.print(
            f"\n[bold]STarT Back[/]: total {s.total}/9, psychosocial {s.psychosocial}/5 → "
            f"[bold]{s.risk_group} risk[/]. {s.matched_care}",
            highlight=False,
        )


def _print_care_plan(a: Assessment, console: Console) -> None:
    plan = a.care_plan
    console.print("\n[bold]Care plan — now[/]")
    _bullets(console, [i.text for i in plan.now])
    console.print(
        f"[bold]Next step[/] (review after {plan.next_step.review_after_weeks} weeks): "
        f"{plan.next_step.text}",
        highlight=False,
    )
    if plan.self_management:
        console.print("[bold]Looking after yourself[/]")
        _bullets(console, [i.text for i in plan.self_management])
    if plan.prevention:
        console.print("[bold]Preventing it coming back[/]")
        _bullets(console, [i.text for i in plan.prevention])
    if plan.not_recommended:
        table = Table(title="Not recommended", show_lines=False, expand=True)
        table.add_column("What")
        table.add_column("Why")
        for item in plan.not_recommended:
            table.add_row(item.item, item.reason)
        console.print(table)


def _print_imaging(a: Assessment, console: Console) -> None:
    img = a.imaging
    verdict = "indicated" if img.indicated else "not indicated now"
    console.print(
        f"\n[bold]Imaging[/]: {verdict}"
        + (f" — {img.modality} ({img.timing.replace('_', ' ')})" if img.indicated else ""),
        highlight=False,
    )
    console.print(f"  {img.reason} {_refs(img.rule_ids)}", highlight=False)


def _print_surgical(a: Assessment, console: Console) -> None:
    sc = a.surgical
    console.print(
        f"\n[bold]Surgical candidacy[/]: {sc.status.value.replace('_', ' ')}", highlight=False
    )
    console.print(f"  {sc.summary}", highlight=False)
    table = Table(show_header=True, expand=True)
    table.add_column("Criterion")
    table.add_column("Met", justify="center")
    for criterion in sc.criteria:
        mark = {True: "[green]yes[/]", False: "[red]no[/]", None: "[yellow]not known[/]"}[
            criterion.met
        ]
        table.add_row(criterion.label, mark)
    console.print(table)
    if sc.referral_route:
        console.print(f"  Referral: {sc.referral_route}", highlight=False)


def print_emergency_stop(
    findings: Sequence[str], knowledge: KnowledgeBase, console: Console
) -> None:
    text = knowledge.levels.texts[Level.EMERGENCY]
    console.print(
        Panel(
            f"[{LEVEL_STYLE[Level.EMERGENCY]}] EMERGENCY [/]  [bold]{text.headline}[/]",
            title="stop here",
        )
    )
    _bullets(console, text.instructions)
    console.print("[bold]What your answers showed:[/]")
    _bullets(console, findings)
    _bullets(console, text.safety_net)


def describe_condition(condition: Condition) -> Any:
    """The condition as the knowledge files write it (the inverse of ``parse``)."""
    if condition.kind == "const":
        return OTHERWISE if condition.value else {"not": OTHERWISE}
    if condition.kind == "atom":
        if condition.op is None:
            text = condition.fact or ""
        elif condition.op == "unanswered":
            text = f"{condition.fact} is unanswered"
        elif condition.op == "in":
            if not isinstance(condition.value, tuple):
                raise TypeError(f"expected tuple, got {type(condition.value).__name__}")
            text = f"{condition.fact} in [{', '.join(map(str, condition.value))}]"
        else:
            value = condition.value
            shown = str(value).lower() if isinstance(value, bool) else value
            text = f"{condition.fact} {condition.op} {shown}"
        return f"not {text}" if condition.negate else text
    children = [describe_condition(c) for c in condition.children]
    if condition.kind == "not":
        return {"not": children[0]}
    if condition.kind == "at_least":
        return {"at_least": condition.threshold, "of": children}
    return {condition.kind: children}


def print_entry_list(rows: Sequence[tuple[str, str]], console: Console) -> None:
    table = Table("kind", "id")
    for kind, key in rows:
        table.add_row(kind, key)
    console.print(table)


def print_entry(
    entry_id: str, data: dict[str, Any], knowledge: KnowledgeBase, console: Console
) -> None:
    console.print(f"[bold]{entry_id}[/] [dim]({data.get('kind')})[/]", highlight=False)
    for key, value in data.items():
        if key in {"kind", "id", "sources"}:
            continue
        console.print(f"  [bold]{key}[/]: {value}", highlight=False)
    for ref in data.get("sources", []) or []:
        source_id, _, section = ref.partition(":")
        source = knowledge.sources.get(source_id)
        if source is None:
            continue
        where = f" — {section}" if section else ""
        console.print(
            f"  [bold]source[/]: {escape(source.citation)}{escape(where)} "
            f"\\[{source.verification}] {escape(source.url)}",
            highlight=False,
        )
