"""Every setting of spinepath, declared once. Read from ``SPINEPATH_*`` environment variables.

Outside development the secret key is required (fail closed); in development a random key is
generated once and kept in ``data_dir`` so that restarts and several workers share it.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "test", "production"]

SECRET_KEY_FILE = "secret_key"  # noqa: S105 - the name of the file that holds the key
SQLITE_FILE = "spinepath.db"
MINIMUM_SECRET_LENGTH = 32


class SecretKeyMissingError(ValueError):
    """Raised outside development when no secret key is configured."""


class CdsClient(BaseModel):
    """An EHR trusted to call the CDS Hooks service (see ``cds_clients``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    iss: str = Field(min_length=1, description="The JWT issuer, exactly as the EHR sends it.")
    jwks_url: str = Field(
        pattern=r"^https?://", description="Where the issuer publishes its public keys (JWKS)."
    )
    clinic: str = Field(min_length=1, description="The spinepath clinic this EHR serves.")
    origins: list[Annotated[str, Field(pattern=r"^https?://[^/\s?#]+$")]] = Field(
        default=[],
        description="Web origins (scheme://host[:port]) of this EHR's browser client, allowed "
        "to call the CDS services cross-origin (CORS). Empty: no browser calls.",
    )


SMART_DEFAULT_SCOPE = (
    "launch openid fhirUser patient/Patient.r patient/Condition.rs "
    "patient/MedicationRequest.rs patient/MedicationStatement.rs patient/Procedure.rs "
    "patient/Observation.rs patient/ImagingStudy.rs patient/DiagnosticReport.rs"
)
"""SMART v2 scopes: read-only, and only the resource types the workspace shows."""


class SmartEhr(BaseModel):
    """An EHR that may launch the clinician workspace with SMART App Launch (``smart_ehrs``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    iss: str = Field(
        pattern=r"^https?://[^\s?#]+$",
        description="The EHR's FHIR base URL, exactly as it sends it in `iss`.",
    )
    client_id: str = Field(min_length=1, description="spinepath's client id at this EHR.")
    clinic: str = Field(min_length=1, description="The spinepath clinic this EHR serves.")
    client_secret: SecretStr | None = Field(
        default=None,
        description="Set for a confidential client (client_secret_basic); empty: a public client.",
    )
    scope: str = Field(
        default=SMART_DEFAULT_SCOPE,
        min_length=1,
        description="Scopes to ask for; `launch` is added if missing. Use SMART v1 scopes "
        "(patient/*.read) for an EHR that does not support v2.",
    )

    @model_validator(mode="after")
    def _https_unless_loopback(self) -> SmartEhr:
        # Tokens and patient data travel to this address: only loopback may go without TLS.
        if not self.iss.startswith("https://") and not is_loopback_url(self.iss):
            raise ValueError(f"iss must be an https:// URL (or loopback): {self.iss}")
        return self


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in ("localhost", "127.0.0.1", "::1")


class Settings(BaseSettings):
    """Configuration of the web app, the store and the CLI."""

    model_config = SettingsConfigDict(env_prefix="SPINEPATH_", extra="forbid")

    environment: Environment = Field(
        default="development",
        description="development, test or production. Outside development the secret key is "
        "required and cookies are Secure.",
    )
    data_dir: Path = Field(
        default=Path("var"),
        description="Directory for the SQLite database and the development secret key.",
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL. Empty means a SQLite file `spinepath.db` in data_dir. "
        "PostgreSQL: postgresql+psycopg://user:password@host/dbname.",
    )
    trusted_proxies: str = Field(
        default="",
        description="Addresses of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are "
        "believed (comma-separated IPs or networks). Empty: no forwarded header is believed.",
    )
    database_runtime_role: str = Field(
        default="",
        description="PostgreSQL: the role the app connects as when it is not the owner. "
        "`spinepath db upgrade`, run as the owner, grants it what the app needs: no UPDATE, "
        "DELETE or TRUNCATE on the audit log, and nothing it could use to unlock it.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description=f"Signs session cookies; at least {MINIMUM_SECRET_LENGTH} characters. "
        "Required outside development.",
    )
    host: str = Field(default="127.0.0.1", description="Address `spinepath serve` listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `spinepath serve` uses.")
    workers: int = Field(default=1, ge=1, le=64, description="Worker processes for `serve`.")
    cookie_secure: bool | None = Field(
        default=None,
        description="Send cookies only over HTTPS. Empty means: yes outside development.",
    )
    session_max_age_seconds: int = Field(
        default=8 * 3600,
        ge=60,
        le=30 * 24 * 3600,
        description="Clinician session lifetime from sign-in, however active (absolute timeout).",
    )
    session_idle_seconds: int = Field(
        default=30 * 60,
        ge=60,
        le=24 * 3600,
        description="A clinician session ends after this long without a request (idle timeout).",
    )
    login_rate_limit: int = Field(
        default=5,
        ge=1,
        le=1000,
        description="Failed sign-ins allowed per e-mail address or client address per window.",
    )
    login_rate_window_seconds: int = Field(
        default=900, ge=1, le=86400, description="Window of the sign-in rate limit."
    )
    start_rate_limit: int = Field(
        default=30,
        ge=1,
        le=100_000,
        description="New patients one client address may start per start window.",
    )
    start_rate_limit_total: int = Field(
        default=2000,
        ge=1,
        le=10_000_000,
        description="New patients all addresses together may start per start window.",
    )
    start_rate_window_seconds: int = Field(
        default=3600, ge=1, le=86400, description="Window of the new-patient rate limits."
    )
    max_body_bytes: int = Field(
        default=256 * 1024, ge=1024, le=64 * 1024 * 1024, description="Largest request body."
    )
    follow_up_weeks: list[int] = Field(
        default=[6, 12, 26],
        description="Weeks after an assessment when follow-up questionnaires fall due. An "
        "operational default, not a clinical figure (about 6 weeks, 3 and 6 months).",
    )
    instrument_wording_dir: Path | None = Field(
        default=None,
        description="Directory of site questionnaire wording files (licensed text, or a "
        "replacement for bundled wording). Empty: the `wording` directory in data_dir.",
    )
    public_url: str = Field(
        default="",
        description="Base URL used in invitation links, e.g. https://spine.example.org. "
        "Empty means the URL of the request.",
    )

    smtp_host: str = Field(
        default="",
        description="SMTP server for alert and reminder e-mails. Empty: no e-mail is sent (the "
        "messages wait in the outbox until a server is set).",
    )
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP port.")
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        default="starttls",
        description="starttls (upgrade a plain connection, port 587), tls (TLS from the start, "
        "port 465) or none (only for a relay on the same machine). Certificates are verified.",
    )
    smtp_username: str = Field(default="", description="SMTP user name; empty: no login.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_from: str = Field(
        default="", description="From address of e-mails, e.g. spinepath@clinic.example.org."
    )
    smtp_ca_file: Path | None = Field(
        default=None,
        description="Extra CA certificate(s) to trust for the SMTP server (PEM), for a private CA.",
    )
    smtp_timeout_seconds: float = Field(default=30, gt=0, le=300, description="SMTP timeout.")
    worker: bool = Field(
        default=True,
        description="`spinepath serve` also runs the delivery worker (alerts, reminders). Turn "
        "off when `spinepath worker` runs as its own service.",
    )
    worker_poll_seconds: float = Field(
        default=2.0, gt=0, le=3600, description="How often the worker looks for work."
    )
    delivery_max_attempts: int = Field(
        default=12,
        ge=1,
        le=100,
        description="Attempts before a message is marked failed (backoff doubles from 30 s to "
        "at most an hour between attempts, about 8 hours in all).",
    )
    delivery_claim_seconds: int = Field(
        default=120,
        ge=5,
        le=3600,
        description="How long a worker holds a message it is sending; if the worker dies, "
        "another sends the message after this.",
    )
    webhook_timeout_seconds: float = Field(
        default=10, gt=0, le=120, description="Timeout of one webhook request."
    )
    abandoned_stop_alert_minutes: int = Field(
        default=10,
        ge=1,
        le=24 * 60,
        description="A questionnaire left this long at an emergency red flag, before saying when "
        "it began, raises an alert as if it had stopped there (unknown counts as recent).",
    )
    reminder_repeat_days: int = Field(
        default=7,
        ge=1,
        le=90,
        description="Days after a first reminder when a second is sent if the questionnaire is "
        "still not done. No more than two reminders per due date.",
    )

    cds_clients: list[CdsClient] = Field(
        default=[],
        description="EHRs allowed to call the CDS Hooks service, as JSON: "
        '[{"iss": "https://ehr.example.org", "jwks_url": "https://ehr.example.org/jwks", '
        '"clinic": "Riverside Spine Clinic"}]. A call is accepted only with a JWT signed by a '
        "key from its issuer's JWKS; the clinic is whose patients the EHR's calls concern.",
    )

    smart_ehrs: list[SmartEhr] = Field(
        default=[],
        description="EHRs allowed to launch the clinician workspace (SMART App Launch), as "
        'JSON: [{"iss": "https://ehr.example.org/fhir", "client_id": "spinepath", '
        '"clinic": "Riverside Spine Clinic"}]. A launch from any other iss is refused.',
    )

    @model_validator(mode="after")
    def _fill_defaults_and_fail_closed(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+pysqlite:///{self.data_dir / SQLITE_FILE}"
        if self.environment != "development" and self.secret_key is None:
            raise SecretKeyMissingError(
                "SPINEPATH_SECRET_KEY is required outside development "
                f"(environment={self.environment}); generate one with: "
                'python -c "import secrets; print(secrets.token_urlsafe(48))"'
            )
        if self.secret_key is not None and (
            len(self.secret_key.get_secret_value()) < MINIMUM_SECRET_LENGTH
        ):
            raise ValueError(f"secret_key must be at least {MINIMUM_SECRET_LENGTH} characters")
        return self

    @property
    def is_development(self) -> bool:
        return self.environment == "development"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def secure_cookies(self) -> bool:
        return (not self.is_development) if self.cookie_secure is None else self.cookie_secure

    def secret_key_value(self) -> str:
        """The configured key, or in development the key kept in data_dir (made on first use)."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        return _development_secret(self.data_dir)


def _development_secret(data_dir: Path) -> str:
    path = data_dir / SECRET_KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            # O_EXCL: when several workers start at once, exactly one writes the key.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
    key = path.read_text().strip()
    if len(key) < MINIMUM_SECRET_LENGTH:
        raise SecretKeyMissingError(f"{path} holds no usable key; delete it to make a new one")
    return key
