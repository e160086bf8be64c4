"""Optional features and the extras that install them.

The base install (``pip install spinepath``) is the engine and the command line. The web app,
PDF output, plots and PostgreSQL are extras (``pip install 'spinepath[web,pdf,plots]'``). A
feature whose extra is missing raises :class:`MissingExtraError`, which names the extra to
install, instead of a bare ``ModuleNotFoundError``::

    with needs_extra("pdf", "PDF output"):
        from weasyprint import HTML
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

EXTRA_OF_MODULE: dict[str, str] = {
    "fastapi": "web",
    "starlette": "web",
    "uvicorn": "web",
    "multipart": "web",
    "python_multipart": "web",
    "itsdangerous": "web",
    "pydantic_settings": "web",
    "sqlalchemy": "web",
    "alembic": "web",
    "pwdlib": "web",
    "weasyprint": "pdf",
    "altair": "plots",
    "vl_convert": "plots",
    "psycopg": "postgres",
    "pyspark": "spark",
}
"""Top-level module -> the extra that installs it (the extras are declared in pyproject.toml)."""


class MissingExtraError(ImportError):
    """A feature needs an optional dependency that is not installed; names the extra."""

    def __init__(self, feature: str, extra: str, module: str) -> None:
        self.feature = feature
        self.extra = extra
        super().__init__(
            f"{feature} needs the optional dependencies of spinepath[{extra}] "
            f"({module} is not installed): install spinepath[{extra}], "
            f"e.g. pip install 'spinepath[{extra}]'",
            name=module,
        )


def extra_for(error: ModuleNotFoundError) -> str | None:
    """The extra that installs the module ``error`` is about, or None if it is no extra's."""
    return EXTRA_OF_MODULE.get((error.name or "").partition(".")[0])


def missing_extra(error: ModuleNotFoundError, feature: str) -> MissingExtraError | None:
    """``error`` as a :class:`MissingExtraError` when an extra would install the module."""
    extra = extra_for(error)
    if extra is None:
        return None
    return MissingExtraError(feature, extra, (error.name or "").partition(".")[0])


@contextmanager
def needs_extra(extra: str, feature: str) -> Iterator[None]:
    """Turn a ``ModuleNotFoundError`` raised inside into a :class:`MissingExtraError`.

    The error names the extra of the missing module when it belongs to one, else ``extra``
    (a dependency of a dependency of the extra is missing: reinstalling the extra fixes it).
    """
    try:
        yield
    except MissingExtraError:
        raise
    except ModuleNotFoundError as error:
        module = (error.name or "").partition(".")[0]
        if not module or module == "spinepath":
            raise
        raise MissingExtraError(feature, extra_for(error) or extra, module) from error
