"""Outcome questionnaire commands: `instruments list|show|export|wording`, `score`,
`progress`."""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import BaseModel, ConfigDict, ValidationError

from spinepath import clock
from spinepath.cli.files import (
    input_name,
    read_text_input,
    refuse_overwriting_inputs,
    write_output_atomically,
)
from spinepath.cli.options import OutputFormat
from spinepath.instruments import catalogue
from spinepath.instruments.errors import InstrumentError
from spinepath.instruments.models import InstrumentDefinition
from spinepath.instruments.progress import (
    DEFAULT_SCHEDULE,
    DEFAULT_TOLERANCE_DAYS,
    SERIES_ADAPTER,
    ProgressReport,
    parse_schedule,
    progress,
)
from spinepath.instruments.scoring import ScoreResult, score
from spinepath.instruments.site_wording import CheckedWording
from spinepath.instruments.wording import (
    WORDING_DIR_ENV,
    Wording,
    find_wording,
    wording_required_message,
)
from spinepath.validation import error_lines


class ScoreFormat(StrEnum):
    text = "text"
    json = "json"
    fhir = "fhir"


class ScoreInput(BaseModel):
    """The ``score`` input file: ``{"answers": {"item_code": value, ...}}``."""

    model_config = ConfigDict(extra="forbid")

    answers: dict[str, Any]


WordingDir = Annotated[
    Path | None,
    typer.Option(
        "--wording-dir",
        envvar=WORDING_DIR_ENV,
        help="Directory of site wording files (<instrument>.yaml) holding the licensed text.",
    ),
]

instruments_app = typer.Typer(
    help="Outcome questionnaires: definitions, licences and FHIR export.", no_args_is_help=True
)


wording_app = typer.Typer(
    help="Site wording files: check one, or install it for the web app.", no_args_is_help=True
)
instruments_app.add_typer(wording_app, name="wording")


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def _read_json(source: str, what: str) -> Any:
    text = read_text_input(source, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        _fail(
            f"{input_name(source)}: not valid JSON "
            f"(line {exc.lineno}, column {exc.colno}: {exc.msg})"
        )


def _validation_message(name: str, exc: ValidationError) -> str:
    return f"{name}: {error_lines(exc)[0]}"


def _definition(code: str) -> InstrumentDefinition:
    try:
        return catalogue.get(code)
    except InstrumentError as exc:
        _fail(str(exc))


def _wording(definition: InstrumentDefinition, directory: Path | None) -> Wording | None:
    try:
        return find_wording(definition, directory)
    except InstrumentError as exc:
        _fail(str(exc))


def _number(value: float) -> str:
    return f"{value:.1f}" if value != int(value) else f"{int(value)}"


@instruments_app.command("list")
def list_instruments(
    output: Annotated[
        OutputFormat, typer.Option("--format", help="text or json")
    ] = OutputFormat.TEXT,
) -> None:
    """List the instruments, their scoring, MCID and licence notice."""
    definitions = list(catalogue.definitions().values())
    if output is OutputFormat.JSON:
        payload = [
            {
                "code": d.code,
                "name": d.name,
                "short_name": d.short_name,
                "version": d.version,
                "items": list(d.item_codes),
                "score_unit": d.scoring.unit,
                "mcid": d.mcid.model_dump() if d.mcid else None,
                "wording_shipped": d.licence.wording_shipped,
                "licence_notice": d.licence.notice,
            }
            for d in definitions
        ]
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    for d in definitions:
        mcid = f"MCID {d.mcid.absolute:g} ({d.mcid.scale})" if d.mcid else "no MCID"
        typer.echo(f"{d.code:<10} {d.name} ({d.version})")
        typer.echo(f"{'':<10} {len(d.items)} item(s); score {d.scoring.unit}; {mcid}")
        typer.echo(f"{'':<10} Licence: {d.licence.notice}")
        typer.echo("")


@instruments_app.command("show")
def show_instrument(
    instrument: Annotated[str, typer.Argument(help="Instrument code, e.g. odi")],
    wording_dir: WordingDir = None,
) -> None:
    """Show an instrument's items (with the site wording when supplied) and its licence."""
    definition = _definition(instrument)
    wording = _wording(definition, wording_dir)
    typer.echo(f"{definition.name} ({definition.version})")
    typer.echo(f"Licence: {definition.licence.notice}")
    if definition.recall_period.text:
        typer.echo(f"Recall period: {definition.recall_period.text}")
    if wording is None:
        typer.echo(wording_required_message(definition))
    elif wording.instructions:
        typer.echo(wording.instructions)
    typer.echo("")
    for n, item in enumerate(definition.items, 1):
        if wording is None:
            typer.echo(f"{n:>2}. [{item.code}] {item.name}")
            continue
        words = wording.items[item.code]
        typer.echo(f"{n:>2}. [{item.code}] {words.text}")
        for code, text in words.options.items():
            typer.echo(f"      {code}: {text}")
    typer.echo("")
    typer.echo(f"Scoring: {definition.scoring.rule}")
    typer.echo(f"Missing items: {definition.scoring.missing_rule}")


@instruments_app.command("export")
def export_instruments(
    fhir: Annotated[bool, typer.Option("--fhir", help="Export FHIR R4 Questionnaires.")] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write Questionnaire-<code>.json files here (else stdout)."),
    ] = None,
    wording_dir: WordingDir = None,
) -> None:
    """Export every instrument; --fhir gives a FHIR Bundle of the Questionnaires and the
    CodeSystems their codes come from (--out writes the Questionnaires only)."""
    from spinepath.interop import fhir as fhir_export

    if not fhir:
        _fail("choose an export format: --fhir")
    wordings = {}
    for code, definition in catalogue.definitions().items():
        found = _wording(definition, wording_dir)
        if found is not None:
            wordings[code] = found
    if out is None:
        bundle = fhir_export.questionnaire_bundle(wordings)
        typer.echo(bundle.model_dump_json(indent=2, exclude_none=True))
        return
    out.mkdir(parents=True, exist_ok=True)
    for code, definition in catalogue.definitions().items():
        resource = fhir_export.questionnaire(definition, wordings.get(code))
        path = out / f"Questionnaire-{fhir_export.resource_id(definition)}.json"
        data = resource.model_dump_json(indent=2, exclude_none=True) + "\n"
        write_output_atomically(path, data.encode())
        typer.echo(str(path))


def _checked_wording_file(file: Path) -> CheckedWording:
    from spinepath.instruments.site_wording import MAX_WORDING_BYTES, check_file

    try:
        with file.open("rb") as handle:
            # One byte over the limit is enough to refuse it; the rest is never read.
            data = handle.read(MAX_WORDING_BYTES + 1)
    except OSError as exc:
        _fail(f"{file}: cannot be read ({exc.strerror})")
    try:
        return check_file(data, file.name)
    except InstrumentError as exc:
        _fail(str(exc))


@wording_app.command("check")
def check_wording_file(
    file: Annotated[Path, typer.Argument(help="A wording file (.yaml, .yml or .json).")],
) -> None:
    """Check a wording file against its questionnaire; exit 2 naming the item at fault."""
    checked = _checked_wording_file(file)
    definition = checked.definition
    typer.echo(
        f"{file.name}: wording for {definition.name} ({definition.version}) is complete: "
        f"{len(definition.items)} item(s), every answer option worded"
    )


@wording_app.command("install")
def install_wording_file(
    file: Annotated[Path, typer.Argument(help="A wording file (.yaml, .yml or .json).")],
    wording_dir: WordingDir = None,
) -> None:
    """Check a wording file, then install it (all or nothing) where the web app reads it.

    The directory is --wording-dir, else SPINEPATH_INSTRUMENT_WORDING_DIR, else `wording` in
    SPINEPATH_DATA_DIR.
    """
    from spinepath.instruments.site_wording import install, site_directory

    checked = _checked_wording_file(file)
    if wording_dir is None:
        from spinepath.settings import Settings  # the web app's settings (the [web] extra)

        try:
            wording_dir = site_directory(None, Settings().data_dir)
        except ValidationError as exc:
            _fail(f"settings: {'; '.join(error_lines(exc))}")
    target = install(wording_dir, checked)
    typer.echo(f"installed {checked.definition.code} wording as {target}")


def _score_text(result: ScoreResult) -> str:
    definition = catalogue.get(result.instrument)
    lines = [f"{definition.name} ({definition.version})"]
    if not result.valid:
        lines.append(f"Not scorable: {result.reason}")
    else:
        if result.score is None:
            raise ValueError("result.score is missing")
        detail = f"{result.items_answered} of {result.items_expected} items answered"
        if definition.scoring.primary == "percent":
            if result.total is None:
                raise ValueError("result.total is missing")
            possible = (result.items_answered) * 5
            detail = f"{_number(result.total)} of {possible} points; {detail}"
            lines.append(f"Score: {result.score:.1f}% ({detail})")
        else:
            lines.append(f"Score: {_number(result.score)} {result.score_unit} ({detail})")
        if result.percent is not None and definition.scoring.primary != "percent":
            lines.append(f"Percent: {result.percent:.1f}%")
        for name, value in result.subscores.items():
            lines.append(f"{name.capitalize()} subscale: {value}")
        if result.band is not None:
            lines.append(f"Band: {result.band.label}")
        if result.items_missing:
            lines.append(f"Missing: {', '.join(result.items_missing)}")
    lines.append(f"Rule: {result.rule}")
    lines.append(f"Licence: {result.licence_notice}")
    return "\n".join(lines)


def score_command(
    instrument: Annotated[str, typer.Argument(help="Instrument code (see `instruments list`).")],
    file: Annotated[str, typer.Argument(help='JSON file {"answers": {...}}, or - for stdin.')],
    output: Annotated[
        ScoreFormat, typer.Option("--format", help="text, json, or fhir (Bundle)")
    ] = ScoreFormat.text,
    when: Annotated[
        str | None, typer.Option("--date", help="Response date for --format fhir (YYYY-MM-DD).")
    ] = None,
) -> None:
    """Score one questionnaire response."""
    definition = _definition(instrument)
    try:
        parsed = ScoreInput.model_validate(_read_json(file, "response"))
    except ValidationError as exc:
        _fail(_validation_message(input_name(file), exc))
    try:
        result = score(definition, parsed.answers)
    except InstrumentError as exc:
        _fail(str(exc))
    if output is ScoreFormat.json:
        typer.echo(result.model_dump_json(indent=2))
    elif output is ScoreFormat.fhir:
        from spinepath.interop import fhir as fhir_export

        effective = _parse_date("--date", when) if when else clock.today()
        bundle = fhir_export.scored_bundle(result, parsed.answers, effective=effective)
        typer.echo(bundle.model_dump_json(indent=2, exclude_none=True))
    else:
        typer.echo(_score_text(result))


def _parse_date(option: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"{option}: {value!r} is not a date (YYYY-MM-DD)")


def _flag(value: bool | None) -> str:
    return "n/a" if value is None else ("yes" if value else "no")


def _progress_text(report: ProgressReport) -> str:
    lines = [f"Progress as of {report.today.isoformat()}"]
    for series in report.series:
        lines += ["", f"{series.name} ({series.version}) — score {series.score_unit}"]
        if series.baseline_score is None:
            lines.append("No validly scored response yet: no baseline.")
        lines.append(series.mcid.responder_definition)
        for p in series.points:
            if not p.valid or p.score is None:
                lines.append(f"  {p.date}  not scorable: {p.reason}")
                continue
            band = f"  [{p.band.label}]" if p.band else ""
            if p.is_baseline:
                lines.append(f"  {p.date}  {_number(p.score):>6}  baseline{band}")
                continue
            if p.change is None:
                raise ValueError("p.change is missing")
            relative = (
                f"{p.relative_improvement:+.0%}" if p.relative_improvement is not None else "n/a"
            )
            lines.append(
                f"  {p.date}  {_number(p.score):>6}  change {p.change:+.1f} "
                f"(improvement {relative}); MCID absolute {_flag(p.absolute_mcid_met)}, "
                f"relative {_flag(p.relative_mcid_met)}; responder {_flag(p.responder)}; "
                f"deteriorated {_flag(p.deteriorated)}{band}"
            )
        if series.schedule:
            lines.append("  Follow-up schedule:")
            for visit in series.schedule:
                done = f" on {visit.completed_on}" if visit.completed_on else ""
                lines.append(
                    f"    {visit.label:<10} {visit.target}  {visit.status}{done} "
                    f"(window {visit.window_start} to {visit.window_end})"
                )
        lines.append(f"  Licence: {series.licence_notice}")
    return "\n".join(lines)


def progress_command(
    file: Annotated[str, typer.Argument(help="JSON list of dated responses, or - for stdin.")],
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Write a trajectory plot (.png or .svg).")
    ] = None,
    today: Annotated[
        str | None, typer.Option("--today", help="Date for due/overdue (default: today).")
    ] = None,
    schedule: Annotated[
        str, typer.Option("--schedule", help="Follow-up time points: d days, w weeks, m months.")
    ] = DEFAULT_SCHEDULE,
    tolerance_days: Annotated[
        int, typer.Option("--tolerance-days", min=0, help="A follow-up counts within ± days.")
    ] = DEFAULT_TOLERANCE_DAYS,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="text or json")
    ] = OutputFormat.TEXT,
) -> None:
    """Change from baseline, MCID responder status, follow-up schedule and a trajectory plot."""
    if plot is not None:
        refuse_overwriting_inputs(plot, [file])
    data = _read_json(file, "list of responses")
    try:
        entries = SERIES_ADAPTER.validate_json(json.dumps(data))
    except ValidationError as exc:
        _fail(_validation_message(input_name(file), exc))
    as_of = _parse_date("--today", today) if today else clock.today()
    try:
        offsets = parse_schedule(schedule)
        report = progress(entries, today=as_of, schedule=offsets, tolerance_days=tolerance_days)
        if plot is not None:
            from spinepath.instruments.plot import save_plot

            save_plot(report, plot)
    except InstrumentError as exc:
        _fail(str(exc))
    if output is OutputFormat.JSON:
        typer.echo(report.model_dump_json(indent=2))
    else:
        typer.echo(_progress_text(report))
    if plot is not None:
        typer.echo(f"Plot written to {plot}", err=True)


app = typer.Typer()
app.add_typer(instruments_app, name="instruments")
app.command("score")(score_command)
app.command("progress")(progress_command)
