"""Questionnaire forms for validated instruments, built from the definition and its wording.

spinepath never ships or paraphrases licensed item text: a licensed questionnaire has a form
only when the site has installed its wording file (``SPINEPATH_INSTRUMENT_WORDING_DIR``, or
``wording`` in the data directory); otherwise the page says so. The generic measures (0-10 pain
ratings, global rating of change) use spinepath's bundled wording unless the site replaces it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from spinepath.instruments import catalogue
from spinepath.instruments.errors import InstrumentError, WordingFileError
from spinepath.instruments.models import (
    BooleanResponse,
    ChoiceResponse,
    InstrumentDefinition,
    NumericResponse,
    OrdinalResponse,
)
from spinepath.instruments.site_wording import directory_to_read
from spinepath.instruments.wording import Wording, find_wording, wording_required_message
from spinepath.settings import Settings
from spinepath.web.pages.forms import FormLike


@dataclass(frozen=True)
class ItemField:
    code: str
    name: str
    """Form field name."""
    text: str
    widget: Literal["radio", "checkbox"]
    options: tuple[tuple[str, str], ...]
    """(form value, label) pairs for radios."""


@dataclass(frozen=True)
class InstrumentForm:
    code: str
    title: str
    available: bool
    message: str | None
    instructions: str | None
    recall: str | None
    items: tuple[ItemField, ...]
    licence_notice: str
    wording_source: str | None


def _wording(definition: InstrumentDefinition, settings: Settings) -> tuple[Wording | None, str]:
    try:
        directory = directory_to_read(settings.instrument_wording_dir, settings.data_dir)
        wording = find_wording(definition, directory)
    except WordingFileError as exc:
        return None, f"The {definition.short_name} wording file could not be used: {exc}"
    return wording, wording_required_message(definition)


def _item_field(
    definition: InstrumentDefinition, wording: Wording, code: str, prefix: str
) -> ItemField:
    item = definition.item(code)
    words = wording.items[code]
    response = item.response
    name = f"{prefix}{code}"
    if isinstance(response, OrdinalResponse | NumericResponse):
        values = [str(v) for v in range(response.min, response.max + 1)]
        if isinstance(response, NumericResponse):
            labels = [f"{v} – {words.options[v]}" if v in words.options else v for v in values]
        else:
            labels = [words.options[v] for v in values]
        return ItemField(code, name, words.text, "radio", tuple(zip(values, labels, strict=True)))
    if isinstance(response, ChoiceResponse):
        options = tuple((o.code, words.options[o.code]) for o in response.options)
        return ItemField(code, name, words.text, "radio", options)
    if not isinstance(response, BooleanResponse):
        raise TypeError(f"expected BooleanResponse, got {type(response).__name__}")
    if "true" in words.options and "false" in words.options:
        options = (("true", words.options["true"]), ("false", words.options["false"]))
        return ItemField(code, name, words.text, "radio", options)
    return ItemField(code, name, words.text, "checkbox", (("true", words.text),))


def form_with_wording(
    definition: InstrumentDefinition, wording: Wording, prefix: str = "item."
) -> InstrumentForm:
    """The form as a person sees it in this wording (an administrator's preview uses it too)."""
    return InstrumentForm(
        code=definition.code,
        title=wording.title or definition.name,
        available=True,
        message=None,
        instructions=wording.instructions,
        recall=definition.recall_period.text,
        items=tuple(_item_field(definition, wording, c, prefix) for c in definition.item_codes),
        licence_notice=definition.licence.notice,
        wording_source=wording.source,
    )


def instrument_form(code: str, settings: Settings, prefix: str = "item.") -> InstrumentForm:
    definition = catalogue.get(code)
    wording, message = _wording(definition, settings)
    if wording is not None:
        return form_with_wording(definition, wording, prefix)
    return InstrumentForm(
        code=definition.code,
        title=definition.name,
        available=False,
        message=message,
        instructions=None,
        recall=definition.recall_period.text,
        items=(),
        licence_notice=definition.licence.notice,
        wording_source=None,
    )


def startback_form(settings: Settings) -> InstrumentForm:
    """The STarT Back step of the questionnaire; its fields are ``startback.q1``…``q9``."""
    return instrument_form("startback", settings, prefix="startback.")


def read_answers(form_def: InstrumentForm, form: FormLike) -> dict[str, Any]:
    """Item answers for scoring: whole numbers, option codes or booleans; ``None`` = unanswered."""
    definition = catalogue.get(form_def.code)
    answers: dict[str, Any] = {}
    for field in form_def.items:
        raw = form.get(field.name)
        value = raw.strip() if isinstance(raw, str) else ""
        response = definition.item(field.code).response
        if field.widget == "checkbox":
            answers[field.code] = value == "true"
        elif value == "":
            answers[field.code] = None
        elif isinstance(response, OrdinalResponse | NumericResponse):
            answers[field.code] = int(value) if value.lstrip("-").isdigit() else value
        elif isinstance(response, BooleanResponse):
            answers[field.code] = {"true": True, "false": False}.get(value, value)
        else:
            answers[field.code] = value
    return answers


def raw_values(form_def: InstrumentForm, form: FormLike) -> dict[str, str]:
    """What was submitted, to show again next to an error."""
    out: dict[str, str] = {}
    for field in form_def.items:
        raw = form.get(field.name)
        if isinstance(raw, str) and raw.strip():
            out[field.name] = raw.strip()
    return out


def score_errors(code: str, answers: Mapping[str, Any]) -> tuple[Any, dict[str, str]]:
    """The score, or errors keyed by form field name when the answers cannot be scored."""
    from spinepath.instruments.errors import InvalidAnswerError
    from spinepath.instruments.scoring import score

    try:
        result = score(code, answers)
    except InvalidAnswerError as exc:
        return None, {f"item.{exc.item}": "Choose one of the options."}
    except InstrumentError as exc:
        return None, {"": str(exc)}
    if not result.valid:
        missing = {f"item.{c}": "Please answer this question." for c in result.items_missing}
        return None, missing or {"": result.reason or "This response cannot be scored."}
    return result, {}
