"""Password hashing (argon2 via pwdlib) and hashing of bearer secrets (link and API tokens)."""

from __future__ import annotations

import hashlib
import secrets
from functools import cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

MINIMUM_PASSWORD_LENGTH = 12
MINIMUM_STRENGTH = 3
"""zxcvbn's score (0-4) a new password needs: 3 is "safely unguessable: moderate protection
from an offline slow-hash scenario", which argon2 hashes are."""
MAXIMUM_PASSWORD_LENGTH = 1000


@cache
def _hasher() -> PasswordHash:
    return PasswordHash((Argon2Hasher(),))


@cache
def _dummy_hash() -> str:
    return _hasher().hash(secrets.token_urlsafe(16))


def password_problem(password: str, *, user_inputs: tuple[str, ...] = ()) -> str | None:
    """Why a new password is refused, in words for the person choosing it; None when it is fine.

    Length alone lets "            " or "password1234" through; zxcvbn estimates how guessable a
    password is against dictionaries of common passwords, names and keyboard patterns, and
    ``user_inputs`` (the e-mail address, the name) counts as known to an attacker.
    """
    if len(password) < MINIMUM_PASSWORD_LENGTH:
        return f"password: at least {MINIMUM_PASSWORD_LENGTH} characters"
    if len(password) > MAXIMUM_PASSWORD_LENGTH:
        return f"password: at most {MAXIMUM_PASSWORD_LENGTH} characters"
    from zxcvbn import zxcvbn

    # zxcvbn's cost grows with length; the first 100 characters decide the estimate.
    result = zxcvbn(password[:100], user_inputs=[u for u in user_inputs if u])
    if int(result["score"]) < MINIMUM_STRENGTH:
        hint = result["feedback"].get("warning") or "it is too easy to guess"
        return f"password: too easy to guess ({hint.rstrip('.')}); use a longer passphrase"
    return None


def hash_password(password: str, *, user_inputs: tuple[str, ...] = ()) -> str:
    """The argon2 hash of a new password, refusing one that is too short or too guessable."""
    problem = password_problem(password, user_inputs=user_inputs)
    if problem is not None:
        raise ValueError(problem)
    return _hasher().hash(password)


def valid_email(email: str) -> str:
    """The address in its normal form, or ValueError naming what is wrong with its syntax."""
    from email_validator import EmailNotValidError, validate_email

    try:
        checked = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"email: {exc}") from exc
    return checked.normalized.lower()


def verify_password(password: str, password_hash: str | None) -> bool:
    """Constant work whether or not the account exists (no user enumeration by timing)."""
    if password_hash is None:
        _hasher().verify(password, _dummy_hash())
        return False
    return _hasher().verify(password, password_hash)


def new_secret_token(prefix: str) -> str:
    return f"{prefix}{secrets.token_urlsafe(32)}"


def token_digest(raw_token: str) -> str:
    """Link and API tokens carry 256 random bits, so a plain SHA-256 is enough at rest."""
    return hashlib.sha256(raw_token.encode()).hexdigest()
