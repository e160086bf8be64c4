"""Commands of the web app: serve, db upgrade/backup/restore, clinics, users, tokens, audit."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from spinepath.validation import error_lines

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from spinepath.settings import Settings
    from spinepath.store.db import Database
    from spinepath.store.models import User

console = Console(stderr=True)

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="Clinician and administrator accounts.", no_args_is_help=True)
clinics_app = typer.Typer(help="Clinics (each sees only its own patients).", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens for integrations.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log of access to patient data.", no_args_is_help=True)


def _settings(**overrides: object) -> Settings:
    from spinepath.settings import Settings  # needs the [web] extra (pydantic-settings)

    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    except ValidationError as error:
        messages = "; ".join(error_lines(error, default="settings"))
        console.print(f"[red]error:[/red] {messages}")
        raise typer.Exit(2) from error


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(1)


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes.")] = None,
) -> None:
    """Start the web app (patient questionnaire, clinician workspace, REST API)."""
    import uvicorn

    from spinepath.store.db import Database

    settings = _settings(host=host, port=port, workers=workers)
    # Workers are separate processes that read their settings from the environment.
    for name, value in (
        ("HOST", settings.host),
        ("PORT", settings.port),
        ("WORKERS", settings.workers),
    ):
        os.environ[f"SPINEPATH_{name}"] = str(value)
    settings.secret_key_value()  # makes the development key once, before workers race for it
    database = Database.from_settings(settings)
    try:
        schema_ready(database)
    finally:
        database.dispose()
    console.print(
        f"spinepath {settings.environment} on [bold]http://{settings.host}:{settings.port}/[/bold]"
        f" ({settings.workers} worker{'s' if settings.workers > 1 else ''}; API docs at /docs)"
    )
    delivery = _start_delivery_worker() if settings.worker else None
    try:
        _run_uvicorn(uvicorn, settings)
    finally:
        if delivery is not None:
            delivery.terminate()
            delivery.join(timeout=10)


def schema_ready(database: Database) -> None:
    """SQLite is brought up to date; PostgreSQL must have been (by its owner, `db upgrade`)."""
    from sqlalchemy.exc import OperationalError

    from spinepath.store import migrate

    try:
        if database.is_sqlite:
            migrate.upgrade(database)
        elif not migrate.is_up_to_date(database):
            raise _fail("the database schema is not up to date: run `spinepath db upgrade` first")
    except OperationalError as error:
        # A read-only or full disk, a database server that is down: say so, not a traceback.
        raise _fail(f"the database is not available ({error.orig or error})") from None


def _start_delivery_worker() -> multiprocessing.process.BaseProcess:
    """The alert and reminder worker, in its own process beside the web workers (it ends with
    `serve`; turn it off with SPINEPATH_WORKER=false when `spinepath worker` runs separately)."""
    from spinepath.cli.delivery import worker_process

    process = multiprocessing.get_context("spawn").Process(
        target=worker_process, name="spinepath-worker", daemon=True
    )
    process.start()
    console.print("delivery worker started (alerts, reminders)")
    return process


def _run_uvicorn(uvicorn: Any, settings: Settings) -> None:
    uvicorn.run(
        # Its workers end when this process does, however it ends (spinepath.web.workers).
        "spinepath.web.workers:create_worker_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level="info",
        # The access log would hold patients' private links (/p/<token>), so it stays off.
        access_log=False,
        # X-Forwarded-For decides the client address the rate limits count by: believe it only
        # from the proxies the operator names, never from whoever can reach the port.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
    )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema up to date (Alembic migrations)."""
    from spinepath.store import migrate
    from spinepath.store.db import Database

    settings = _settings()
    database = Database.from_settings(settings)
    try:
        migrate.upgrade(database)
        console.print(f"database at revision {migrate.current_revision(database)}")
        if settings.database_runtime_role:
            from spinepath.store import roles

            try:
                roles.grant_runtime_role(database, settings.database_runtime_role)
            except ValueError as error:
                raise _fail(str(error)) from error
            console.print(
                f"granted {settings.database_runtime_role}: read and write, but only add to the "
                "audit log"
            )
    finally:
        database.dispose()


@db_app.command("backup")
def db_backup(
    file: Annotated[Path, typer.Argument(help="Backup file to write (replaced all or nothing).")],
) -> None:
    """Back up the database to FILE while the app may be running.

    SQLite: one consistent copy through SQLite's backup API. PostgreSQL: pg_dump in its custom
    format, the password passed in PGPASSWORD, never on the command line.
    """
    from spinepath.store import backup

    settings = _settings()
    with _backup_errors():
        if settings.is_sqlite:
            database = backup.sqlite_file(settings.database_url)
            revision = backup.backup_sqlite(database, file, progress=_progress("backing up"))
            source = str(database)
        else:
            source = _announce(f"pg_dump --format=custom --file {file}", settings.database_url)
            revision = backup.backup_postgres(settings.database_url, file)
    console.print(
        f"backed up {source} to {file} (schema revision {revision or 'none'})", markup=False
    )


@db_app.command("restore")
def db_restore(
    file: Annotated[Path, typer.Argument(help="A backup made by `spinepath db backup`.")],
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Replace a database that already holds data (stop spinepath serve first).",
        ),
    ] = False,
) -> None:
    """Replace the database with the backup FILE, all or nothing.

    The backup must be spinepath's at a schema revision this version knows. An existing
    database is replaced only with --force: stop `spinepath serve` first.
    """
    from spinepath.store import backup, migrate

    settings = _settings()
    with _backup_errors():
        if settings.is_sqlite:
            database = backup.sqlite_file(settings.database_url)
            revision = backup.restore_sqlite(file, database, force=force)
            target = str(database)
        else:
            target = _announce(
                f"pg_restore --clean --if-exists --no-owner --single-transaction {file}",
                settings.database_url,
            )
            revision = backup.restore_postgres(settings.database_url, file, force=force)
    console.print(f"restored {file} into {target} (schema revision {revision})", markup=False)
    if revision != migrate.head_revision():
        console.print("its schema is behind this version: run `spinepath db upgrade`")


def _announce(command: str, url: str) -> str:
    """Says which command runs on which database, the password hidden; returns the latter."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    where = parsed.render_as_string(hide_password=True)
    secret = " (its password goes in PGPASSWORD, not the command line)" if parsed.password else ""
    console.print(f"running {command} on {where}{secret}", markup=False, highlight=False)
    return where


@contextmanager
def _backup_errors() -> Iterator[None]:
    from spinepath.store import backup

    try:
        yield
    except backup.BackupError as error:
        console.print(f"[red]error:[/red] {escape(str(error))}", highlight=False)
        # A missing program is the machine's setup, not this database: a distinct status.
        raise typer.Exit(2 if isinstance(error, backup.ToolMissingError) else 1) from None


def _progress(doing: str) -> Callable[[int, int], None]:
    """Prints how far a long copy has gone, every tenth; a copy done in one step prints nothing."""
    shown = -1

    def show(done: int, total: int) -> None:
        nonlocal shown
        tenth = done * 10 // max(total, 1)
        if (shown >= 0 or done < total) and tenth != shown:
            shown = tenth
            console.print(f"{doing}: {tenth * 10}% ({done:,} of {total:,} pages)")

    return show


@clinics_app.command("add")
def clinics_add(name: Annotated[str, typer.Argument(help="Clinic name.")]) -> None:
    """Create a clinic."""
    from spinepath.store import repository

    with _database_session() as session:
        try:
            clinic = repository.create_clinic(session, name)
        except ValueError as error:
            raise _fail(str(error)) from error
        console.print(f"clinic {clinic.name!r} created (id {clinic.id})")


@clinics_app.command("list")
def clinics_list() -> None:
    """List the clinics: id, name and when each was added."""
    from spinepath.store import repository

    with _database_session() as session:
        for clinic in repository.list_clinics(session):
            typer.echo(f"{clinic.id}\t{clinic.name}\t{clinic.created_at:%Y-%m-%d}")


@users_app.command("list")
def users_list(
    clinic: Annotated[str | None, typer.Option(help="Only this clinic's accounts.")] = None,
) -> None:
    """List accounts: e-mail, name, role, clinic, state, last sign-in, open sessions."""
    import datetime as dt

    from spinepath.store import accounts, repository

    settings = _settings()
    with _database_session() as session:
        try:
            clinic_id = repository.clinic_by_name(session, clinic).id if clinic else None
        except LookupError as error:
            raise _fail(str(error)) from error
        idle = dt.timedelta(seconds=settings.session_idle_seconds)
        for row in accounts.list_users(session, clinic_id, idle=idle):
            user = row.user
            fields = (
                user.email,
                user.name or "-",
                user.role,
                user.clinic.name if user.clinic else "(all clinics)",
                "active" if user.active else "disabled",
                f"{row.last_sign_in:%Y-%m-%d %H:%M} UTC" if row.last_sign_in else "never",
                f"{row.open_sessions} open session{'' if row.open_sessions == 1 else 's'}",
            )
            typer.echo("\t".join(fields))


@users_app.command("end-sessions")
def users_end_sessions(
    email: Annotated[str, typer.Argument(help="Sign-in e-mail address.")],
) -> None:
    """End every session the account has open now (it can sign in again)."""
    from spinepath.store import repository, sessions

    with _database_session() as session:
        user = _account(session, email)
        ended = sessions.end_user_sessions(session, user.id)
        repository.record_audit(
            session, actor_kind="system", actor_id=None, action="end_sessions", route=user.email
        )
        console.print(f"{ended} session{'' if ended == 1 else 's'} of {user.email} ended")


@users_app.command("add")
def users_add(
    email: Annotated[str, typer.Argument(help="Sign-in e-mail address.")],
    clinic: Annotated[
        str | None, typer.Option(help="Clinic name (required for clinicians).")
    ] = None,
    role: Annotated[str, typer.Option(help="clinician or admin.")] = "clinician",
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    password: Annotated[
        str | None,
        typer.Option(
            envvar="SPINEPATH_NEW_USER_PASSWORD",
            help="Password (prompted when not given; or set SPINEPATH_NEW_USER_PASSWORD).",
        ),
    ] = None,
) -> None:
    """Create a clinician or administrator account (argon2-hashed password)."""
    from spinepath.store import repository

    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _database_session() as session:
        try:
            clinic_id = repository.clinic_by_name(session, clinic).id if clinic else None
            user = repository.create_user(
                session, email=email, password=password, role=role, clinic_id=clinic_id, name=name
            )
        except (ValueError, LookupError) as error:
            raise _fail(str(error)) from error
        console.print(f"{user.role} {user.email} created" + (f" in {clinic!r}" if clinic else ""))


def _account(session: Session, email: str) -> User:
    from spinepath.store import repository

    try:
        return repository.user_by_email(session, email)
    except LookupError as error:
        raise _fail(str(error)) from error


@users_app.command("disable")
def users_disable(email: Annotated[str, typer.Argument(help="Sign-in e-mail address.")]) -> None:
    """Stop an account signing in, and end every session it has open now."""
    from spinepath.store import repository

    with _database_session() as session:
        user = _account(session, email)
        repository.set_user_active(session, user, False)
        repository.record_audit(
            session, actor_kind="system", actor_id=None, action="disable_user", route=user.email
        )
        console.print(f"{user.email} disabled; its sessions have ended")


@users_app.command("enable")
def users_enable(email: Annotated[str, typer.Argument(help="Sign-in e-mail address.")]) -> None:
    """Let a disabled account sign in again (its old sessions stay ended)."""
    from spinepath.store import repository

    with _database_session() as session:
        user = _account(session, email)
        repository.set_user_active(session, user, True)
        repository.record_audit(
            session, actor_kind="system", actor_id=None, action="enable_user", route=user.email
        )
        console.print(f"{user.email} enabled")


@users_app.command("set-password")
def users_set_password(
    email: Annotated[str, typer.Argument(help="Sign-in e-mail address.")],
    password: Annotated[
        str | None,
        typer.Option(
            envvar="SPINEPATH_NEW_USER_PASSWORD",
            help="New password (prompted when not given; or set SPINEPATH_NEW_USER_PASSWORD).",
        ),
    ] = None,
) -> None:
    """Set a new password; every session signed in with the old one ends."""
    from spinepath.store import repository

    if password is None:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    with _database_session() as session:
        user = _account(session, email)
        repository.set_password(session, user, password)
        repository.record_audit(
            session, actor_kind="system", actor_id=None, action="set_password", route=user.email
        )
        console.print(f"new password set for {user.email}; its sessions have ended")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit log's hash chain: exit 1 naming each row changed, deleted or moved."""
    from spinepath.store import audit_chain

    with _database_session() as session:
        result = audit_chain.verify(session)
    if not result.intact:
        err = Console(stderr=True)
        err.print(
            f"[red]the audit log has been tampered with ({len(result.problems)} problems):[/]"
        )
        for problem in result.problems:
            err.print(f"  {problem}", markup=False, highlight=False)
        raise typer.Exit(1)
    console.print(
        f"audit log intact: {result.rows:,} rows; head {result.head} "
        "(record it elsewhere to detect rows cut from the end)"
    )


@tokens_app.command("create")
def tokens_create(
    clinic: Annotated[str, typer.Option(help="Clinic the token may read and write.")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "integration",
) -> None:
    """Create an API token; it is printed once (stdout) and stored only hashed."""
    from spinepath.store import repository

    with _database_session() as session:
        try:
            found = repository.clinic_by_name(session, clinic)
        except LookupError as error:
            raise _fail(str(error)) from error
        _token, raw = repository.create_api_token(session, clinic_id=found.id, name=name)
    console.print(f"API token {name!r} for clinic {clinic!r} (shown once):")
    typer.echo(raw)


@tokens_app.command("list")
def tokens_list(clinic: Annotated[str, typer.Option(help="Clinic name.")]) -> None:
    """List a clinic's API tokens (ids and names; the secrets are not stored)."""
    from spinepath.store import repository

    with _database_session() as session:
        try:
            found = repository.clinic_by_name(session, clinic)
        except LookupError as error:
            raise _fail(str(error)) from error
        for token in repository.list_api_tokens(session, found.id):
            state = "revoked" if token.revoked else "active"
            typer.echo(f"{token.id}\t{token.name}\t{state}\t{token.created_at:%Y-%m-%d}")


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[int, typer.Argument(help="Token id (see tokens list).")],
) -> None:
    """Revoke an API token: it is refused from the next request on."""
    from spinepath.store import repository

    with _database_session() as session:
        try:
            token = repository.revoke_api_token(session, token_id)
        except LookupError as error:
            raise _fail(str(error)) from error
        console.print(f"API token {token.id} ({token.name!r}) revoked")


@contextmanager
def _database_session() -> Iterator[Session]:
    """One transaction; on SQLite the schema is brought up to date first, as `serve` does."""
    from spinepath.store import migrate
    from spinepath.store.db import Database

    database = Database.from_settings(_settings())
    try:
        if database.is_sqlite:
            migrate.upgrade(database)
        with database.session() as session:
            yield session
    finally:
        database.dispose()


app = typer.Typer()
app.command("serve")(serve)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(clinics_app, name="clinics")
app.add_typer(tokens_app, name="tokens")
app.add_typer(audit_app, name="audit")
