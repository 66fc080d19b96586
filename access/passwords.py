"""Password hashing with argon2id (memory-hard), off the event loop: one hash costs tens of
milliseconds of CPU on purpose."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from agenttrace.errors import InvalidArgument

MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 256  # argon2 takes any length; this bounds the work one request buys

_hasher = PasswordHasher()  # the library's defaults follow RFC 9106's recommendations
# Verifying against this when an account does not exist makes a failed login take as long
# whether or not the email is known.
_DUMMY_HASH = _hasher.hash("agenttrace-no-such-account")


def check_password_rules(password: str) -> str:
    """The password, or InvalidArgument saying which rule it breaks."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidArgument(f"the password must be at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise InvalidArgument(f"the password must be at most {MAX_PASSWORD_CHARS} characters")
    if "\x00" in password:
        raise InvalidArgument("the password must not contain the NUL character")
    return password


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; ``password_hash`` None (no such account) costs the
    same time and answers False."""
    return await asyncio.to_thread(_verify, password_hash, password)
