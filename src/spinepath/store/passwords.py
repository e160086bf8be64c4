"""Password hashing (argon2 via pwdlib) and hashing of bearer secrets (link and API tokens)."""

from __future__ import annotations

import hashlib
import secrets
from functools import cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

MINIMUM_PASSWORD_LENGTH = 12


@cache
def _hasher() -> PasswordHash:
    return PasswordHash((Argon2Hasher(),))


@cache
def _dummy_hash() -> str:
    return _hasher().hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    if len(password) < MINIMUM_PASSWORD_LENGTH:
        raise ValueError(f"password: at least {MINIMUM_PASSWORD_LENGTH} characters")
    return _hasher().hash(password)


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
