"""Stateless scoring of validated questionnaires (ODI, NDI, RMDQ, STarT Back, NRS, PEG)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from spinepath.instruments import catalogue
from spinepath.instruments.errors import InvalidAnswerError, UnknownInstrumentError
from spinepath.instruments.scoring import Answer, ScoreResult, score

router = APIRouter(tags=["scores"])


class ScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    instrument: str = Field(max_length=40, examples=["odi"])
    answers: dict[str, Answer] = Field(
        max_length=100, description="Item code -> answer; null or absent means not answered."
    )


class InstrumentSummary(BaseModel):
    code: str
    name: str
    items: list[str]


def score_answers(instrument: str, answers: dict[str, Any], field_prefix: str = "") -> ScoreResult:
    """Scores, or raises an HTTP 422 whose detail names ``instrument`` or ``answers.ITEM``."""
    try:
        return score(instrument, answers)
    except UnknownInstrumentError as error:
        raise unprocessable(f"{field_prefix}instrument", str(error)) from error
    except InvalidAnswerError as error:
        raise unprocessable(f"{field_prefix}answers.{error.item}", error.reason) from error


def unprocessable(field: str, message: str) -> HTTPException:
    return HTTPException(status_code=422, detail={"field": field, "message": message})


@router.get("/instruments", response_model=list[InstrumentSummary], summary="List instruments")
def list_instruments() -> list[InstrumentSummary]:
    return [
        InstrumentSummary(code=d.code, name=d.name, items=list(d.item_codes))
        for d in catalogue.definitions().values()
    ]


@router.post(
    "/scores",
    response_model=ScoreResult,
    summary="Score a questionnaire (stateless)",
    description="Published scoring and missing-item rules. Too many missing items is not an "
    "error: the result says `valid: false` and why.",
)
def post_score(request: ScoreRequest) -> ScoreResult:
    return score_answers(request.instrument, request.answers)
