"""`spinepath questionnaire --fhir`: the intake as a FHIR R4 Questionnaire."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from spinepath.cli.files import fail
from spinepath.instruments.wording import WORDING_DIR_ENV

app = typer.Typer()
"""The commands of this module, added to `spinepath` as they are."""


@app.command("questionnaire")
def questionnaire_command(
    fhir: Annotated[
        bool, typer.Option("--fhir", help="Print the intake as a FHIR R4 Questionnaire (JSON).")
    ] = False,
    wording_dir: Annotated[
        Path | None,
        typer.Option(
            "--wording-dir",
            envvar=WORDING_DIR_ENV,
            help="Directory of site wording files; startback.yaml words the STarT Back items.",
        ),
    ] = None,
) -> None:
    """The questions an assessment answers, for another system to ask them.

    Answer them in a QuestionnaireResponse and `spinepath assess` reads it like an intake.
    """
    # Imported here so that other commands never load the FHIR models.
    from spinepath.instruments import catalogue
    from spinepath.instruments.errors import InstrumentError
    from spinepath.instruments.wording import find_wording
    from spinepath.interop import intake_questionnaire

    if not fhir:
        raise fail("error: choose an output format: --fhir")
    try:
        wording = find_wording(catalogue.get("startback"), wording_dir)
    except InstrumentError as exc:
        raise fail(f"error: {exc}") from None
    resource = intake_questionnaire.questionnaire(wording)
    typer.echo(resource.model_dump_json(indent=2, exclude_none=True))
