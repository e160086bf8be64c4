"""Commands of the care loop: `spinepath worker` (deliver alerts and reminders) and `spinepath
alerts` (where a clinic's alerts go, and what happened to the messages)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from spinepath.cli.delivery import report, run_until_signalled
from spinepath.cli.web import _database_session, _fail, _settings, schema_ready

if TYPE_CHECKING:
    from spinepath.care.channels import Kind

    pass

console = Console(stderr=True)
alerts_app = typer.Typer(
    help="Where a clinic's alerts go (e-mail, signed webhooks) and the delivery outbox.",
    no_args_is_help=True,
)
WEBHOOK_SECRET_BYTES = 32


def worker(
    once: Annotated[
        bool, typer.Option("--once", help="Run one round (queue reminders, send) and exit.")
    ] = False,
) -> None:
    """Deliver alerts and follow-up reminders from the outbox (runs until stopped)."""
    from spinepath.care.worker import Worker
    from spinepath.store.db import Database
    from spinepath.web.pages.clinical import stop_reasons

    settings = _settings()
    database = Database.from_settings(settings)
    try:
        schema_ready(database)

        runner = Worker(database, settings, stop_reasons=stop_reasons)
        if once:
            stats = runner.run_once()
            report(stats)
            for error in stats.errors:
                console.print(f"[yellow]not delivered:[/yellow] {escape(error)}")
            return
        if not settings.smtp_host:
            console.print("no SMTP server set: e-mails wait in the outbox (SPINEPATH_SMTP_HOST)")
        console.print(f"worker {runner.worker_id} started; Ctrl-C to stop")
        run_until_signalled(runner, report)
    finally:
        database.dispose()


def _clinic_id(name: str) -> int:
    from spinepath.store import repository

    with _database_session() as session:
        try:
            return repository.clinic_by_name(session, name).id
        except LookupError as error:
            raise _fail(str(error)) from error


def _add(clinic: str, kind: Kind, target: str, include_reference: bool, allow_http: bool) -> None:
    from spinepath.care import channels

    clinic_id = _clinic_id(clinic)
    with _database_session() as session:
        try:
            channel, secret = channels.add_channel(
                session,
                clinic_id,
                kind,
                target,
                include_reference=include_reference,
                allow_http=allow_http,
            )
        except channels.ChannelError as error:
            raise _fail(str(error)) from error
        console.print(f"alert channel {channel.id}: {kind} to {escape(channel.target)}")
    if secret is not None:
        console.print("signing secret (shown once; see docs/alerts.md to verify signatures):")
        typer.echo(secret)


@alerts_app.command("add-email")
def add_email(
    clinic: Annotated[str, typer.Argument(help="Clinic name.")],
    address: Annotated[str, typer.Argument(help="E-mail address (a team inbox).")],
    include_reference: Annotated[
        bool,
        typer.Option(help="Put the clinic's label for the patient in the e-mail (off: none)."),
    ] = False,
) -> None:
    """Send the clinic's alerts to an e-mail address."""
    _add(clinic, "email", address, include_reference, allow_http=False)


@alerts_app.command("add-webhook")
def add_webhook(
    clinic: Annotated[str, typer.Argument(help="Clinic name.")],
    url: Annotated[str, typer.Argument(help="HTTPS URL that receives a signed POST.")],
    include_reference: Annotated[
        bool, typer.Option(help="Put the clinic's label for the patient in the body.")
    ] = False,
    allow_http: Annotated[
        bool, typer.Option(help="Allow plain http:// to this machine (a local gateway).")
    ] = False,
) -> None:
    """Post the clinic's alerts to a webhook, signed with a new secret (printed once)."""
    _add(clinic, "webhook", url, include_reference, allow_http)


@alerts_app.command("list")
def list_channels(clinic: Annotated[str, typer.Argument(help="Clinic name.")]) -> None:
    """The clinic's alert channels."""
    from sqlalchemy import select

    from spinepath.store.models import AlertChannel

    clinic_id = _clinic_id(clinic)
    with _database_session() as session:
        channels = session.scalars(
            select(AlertChannel)
            .where(AlertChannel.clinic_id == clinic_id)
            .order_by(AlertChannel.id)
        ).all()
        for c in channels:
            state = "active" if c.active else "disabled"
            reference = ", with the patient's label" if c.include_reference else ""
            typer.echo(f"{c.id}\t{c.kind}\t{c.target}\t{state}{reference}")


@alerts_app.command("disable")
def disable_channel(channel_id: Annotated[int, typer.Argument(help="Channel id.")]) -> None:
    """Stop sending alerts to a channel (messages already queued for it are still sent)."""
    from spinepath.store.models import AlertChannel

    with _database_session() as session:
        channel = session.get(AlertChannel, channel_id)
        if channel is None:
            raise _fail(f"no alert channel {channel_id}")
        channel.active = False
    console.print(f"alert channel {channel_id} disabled")


@alerts_app.command("outbox")
def outbox_status(
    status: Annotated[
        str, typer.Option(help="pending, sent, failed, skipped, or all.")
    ] = "pending",
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
) -> None:
    """Messages in the outbox: when, what, to where, attempts and the last error."""
    from sqlalchemy import select

    from spinepath.store.models import OutboxMessage

    if status not in ("pending", "sent", "failed", "skipped", "all"):
        raise _fail("status: choose pending, sent, failed, skipped or all")
    with _database_session() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
        if status != "all":
            query = query.where(OutboxMessage.status == status)
        for m in session.scalars(query):
            error = f"\t{m.last_error}" if m.last_error else ""
            typer.echo(
                f"{m.id}\t{m.created_at:%Y-%m-%d %H:%M}\t{m.event}\t{m.channel}\t{m.status}"
                f"\tattempts {m.attempts}{error}"
            )


app = typer.Typer()
app.command("worker")(worker)
app.add_typer(alerts_app, name="alerts")
