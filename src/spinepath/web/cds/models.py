"""CDS Hooks 2.0 payloads, written from the specification text (cds-hooks/docs,
``docs/specification/current.md``): discovery, the hook request, cards and feedback.

The specification forbids null and empty values ("``null``, ``""``, ``[]``, or ``{}`` are
prohibited"; an optional field without a value is omitted), so every string here has a minimum
length, optional fields default to None and are left out when serialised
(``model_dump(exclude_none=True)``), and lists that may be absent are None rather than empty. The
one exception the specification names, an empty ``cards`` array for "no guidance", is kept.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    AnyHttpUrl,
    AnyUrl,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

SUMMARY_MAX_CHARS = 139
"""A card's summary is a "one-sentence, <140-character summary"."""

Text = Field(min_length=1)


class _Response(BaseModel):
    """What spinepath sends: exactly the specification's fields."""

    model_config = ConfigDict(extra="forbid")


class _Request(BaseModel):
    """What a CDS client sends: the specification's fields, plus ``extension`` and any
    hook-specific context the service does not read."""

    model_config = ConfigDict(extra="allow")


class Coding(_Response):
    code: str = Text
    system: str | None = Field(default=None, min_length=1)
    display: str | None = Field(default=None, min_length=1)


class Source(_Response):
    label: str = Text
    url: AnyHttpUrl | None = None
    icon: AnyHttpUrl | None = None
    topic: Coding | None = None


class Action(_Response):
    type: Literal["create", "update", "delete"]
    description: str = Text
    resource: dict[str, Any] | None = None
    resourceId: str | None = Field(default=None, min_length=1)  # noqa: N815 - the spec's name

    @model_validator(mode="after")
    def _target(self) -> Action:
        if self.type in ("create", "update") and not self.resource:
            raise ValueError(f"a {self.type} action carries the resource")
        if self.type == "delete" and not self.resourceId:
            raise ValueError("a delete action names the resource (resourceId)")
        return self


class Suggestion(_Response):
    label: str = Text
    uuid: str | None = Field(default=None, min_length=1)
    isRecommended: bool | None = None  # noqa: N815
    actions: list[Action] | None = Field(default=None, min_length=1)


class Link(_Response):
    label: str = Text
    url: AnyUrl
    type: Literal["absolute", "smart"]
    appContext: str | None = Field(default=None, min_length=1)  # noqa: N815

    @model_validator(mode="after")
    def _app_context_for_smart_only(self) -> Link:
        if self.appContext is not None and self.type != "smart":
            raise ValueError("appContext is valid only on a smart link")
        return self


class Card(_Response):
    uuid: str | None = Field(default=None, min_length=1)
    summary: str = Field(min_length=1, max_length=SUMMARY_MAX_CHARS)
    detail: str | None = Field(default=None, min_length=1)
    indicator: Literal["info", "warning", "critical"]
    source: Source
    suggestions: list[Suggestion] | None = Field(default=None, min_length=1)
    selectionBehavior: Literal["at-most-one", "any"] | None = None  # noqa: N815
    overrideReasons: list[Coding] | None = Field(default=None, min_length=1)  # noqa: N815
    links: list[Link] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _conditional_fields(self) -> Card:
        if self.suggestions and self.selectionBehavior is None:
            raise ValueError("suggestions need a selectionBehavior")
        if self.overrideReasons and any(r.display is None for r in self.overrideReasons):
            raise ValueError("every override reason needs a display")
        return self


class CdsResponse(_Response):
    cards: list[Card]
    systemActions: list[Action] | None = Field(default=None, min_length=1)  # noqa: N815


class ServiceDescription(_Response):
    hook: str = Text
    title: str | None = Field(default=None, min_length=1)
    description: str = Text
    id: str = Text
    prefetch: dict[str, str] | None = Field(default=None, min_length=1)


class Discovery(_Response):
    services: list[ServiceDescription]


class FhirAuthorization(_Request):
    access_token: str = Text
    token_type: Literal["Bearer"]
    expires_in: int = Field(ge=0)
    scope: str = Text
    subject: str = Text


class HookRequest(_Request):
    hook: str = Text
    hookInstance: str = Text  # noqa: N815
    fhirServer: AnyHttpUrl | None = None  # noqa: N815
    fhirAuthorization: FhirAuthorization | None = None  # noqa: N815
    context: dict[str, Any]
    prefetch: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _server_with_authorization(self) -> HookRequest:
        if self.fhirAuthorization is not None and self.fhirServer is None:
            raise ValueError("fhirServer is required when fhirAuthorization is given")
        return self


class AcceptedSuggestion(_Request):
    id: str = Text


class OverrideReason(_Request):
    reason: Coding | None = None
    userComment: str | None = Field(default=None, min_length=1)  # noqa: N815


class FeedbackItem(_Request):
    card: str = Text
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[AcceptedSuggestion] | None = Field(  # noqa: N815
        default=None, min_length=1
    )
    overrideReason: OverrideReason | None = None  # noqa: N815
    outcomeTimestamp: AwareDatetime  # noqa: N815 - ISO time in UTC, so with its offset

    @model_validator(mode="after")
    def _accepted_names_its_suggestions(self) -> FeedbackItem:
        if self.outcome == "accepted" and not self.acceptedSuggestions:
            raise ValueError("an accepted outcome lists the accepted suggestions")
        return self


class Feedback(_Request):
    feedback: list[FeedbackItem] = Field(min_length=1)
