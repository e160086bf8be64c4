"""One way to turn pydantic validation errors into messages that name the field.

Every place that shows a ``ValidationError`` to a person (the CLI, the JSON API, the pages,
the knowledge and wording loaders) formats it with these functions; the parameters cover the
few ways the callers differ (the name for the root, whether pydantic's "Value error, " prefix
stays, FastAPI's leading ``body``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

_M = TypeVar("_M", bound=BaseModel)

VALUE_ERROR_PREFIX = "Value error, "


def _is_branch(part: int | str) -> bool:
    """A location part naming a union branch or a validator (``str``, ``function-after[...]``)."""
    return isinstance(part, str) and ("[" in part or part.startswith("function-"))


def field_path(
    loc: Sequence[int | str],
    default: str = "input",
    *,
    root: str | None = None,
    skip_branches: bool = False,
) -> str:
    """``("regions", 0, "intensity")`` → ``"regions.0.intensity"``; ``default`` for the root.

    ``root``: a first location part to leave out (FastAPI starts body errors with ``"body"``).
    ``skip_branches``: leave out the parts pydantic adds for union branches and validators.
    """
    parts = list(loc)
    if root is not None and parts and parts[0] == root:
        parts = parts[1:]
    if skip_branches:
        parts = [part for part in parts if not _is_branch(part)]
    return ".".join(str(part) for part in parts) or default


def error_message(error: Mapping[str, Any], *, strip_value_error: bool = True) -> str:
    """What is wrong, in plain words: the error's message without "Value error, " in front."""
    message = str(error.get("msg", "invalid"))
    return message.removeprefix(VALUE_ERROR_PREFIX) if strip_value_error else message


def error_lines(
    exc: ValidationError, default: str = "input", *, strip_value_error: bool = True
) -> list[str]:
    """One line per problem: the field path, then what is wrong with it, in plain words."""
    return [
        f"{field_path(error['loc'], default)}: "
        f"{error_message(error, strip_value_error=strip_value_error)}"
        for error in exc.errors()
    ]


def entry_name(data: object, loc: Sequence[int | str], keys: Sequence[str]) -> str | None:
    """The name (the first of ``keys`` it has) of the first named entry on the error's path.

    For a document such as ``{"rules": [{"id": "cauda_equina", ...}]}`` and the location
    ``("rules", 0, "when")`` that is ``"cauda_equina"``; ``None`` when no entry on the path has one.
    """
    node: Any = data
    for part in loc:
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if not (in_dict or in_list):
            break
        node = node[part]
        if isinstance(node, dict):
            name = next((node.get(key) for key in keys if node.get(key)), None)
            if name:
                return str(name)
    return None


def validate_entry(
    model: type[_M],
    data: object,
    where: str,
    error: type[Exception],
    *,
    name_keys: Sequence[str] = ("id",),
    strip_value_error: bool = True,
) -> _M:
    """``model.model_validate(data)``, or ``error`` naming the file, the entry and the field.

    For the data files (knowledge base, evidence registry): one message for the first problem,
    ``WHERE [ENTRY]: FIELD.PATH: what is wrong``.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = entry_name(data, first["loc"], name_keys)
        entry = f" [{name}]" if name else ""
        loc = field_path(first["loc"], default="")
        message = error_message(first, strip_value_error=strip_value_error)
        raise error(f"{where}{entry}: {loc}: {message}") from exc
