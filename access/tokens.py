"""Access tokens: short-lived JWTs naming a user, signed HS256 (a shared secret) or RS256
(a key pair: replicas that only verify need only the public key).

Without a configured secret the server generates one the first time and keeps it in the
database (``server_secrets``), so every replica signs and verifies with the same secret
and a fresh install needs no setup. Setting ``AGENTTRACE_JWT_SECRET`` (or deleting that
row) rotates it: every access token signed with the old one stops working.
"""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from agenttrace.errors import Unauthorized
from agenttrace.settings import Settings

ISSUER = "agenttrace"
AUDIENCE = "agenttrace-api"
GENERATED_SECRET = "jwt_hs256_secret"
LEEWAY_S = 5  # clock skew between replicas


def looks_like_jwt(token: str) -> bool:
    """API keys start with ``at_``; a JWT is three base64url parts, the first a JSON
    object (``eyJ``)."""
    return token.startswith("eyJ") and token.count(".") == 2


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: uuid.UUID
    expires_at: float
    must_change_password: bool


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: float


class TokenCodec:
    """Signs and verifies access tokens with one algorithm and its keys."""

    def __init__(
        self,
        algorithm: str,
        signing_key: Any,
        verifying_key: Any,
        ttl_s: int,
    ) -> None:
        self.algorithm = algorithm
        self._signing_key = signing_key
        self._verifying_key = verifying_key
        self.ttl_s = ttl_s

    def issue(self, user_id: uuid.UUID, *, must_change_password: bool = False) -> IssuedToken:
        if self._signing_key is None:
            raise RuntimeError("this server has no private key to sign access tokens with")
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": str(user_id),
            "iat": now,
            "nbf": now,
            "exp": now + self.ttl_s,
            "jti": secrets.token_urlsafe(12),
            "pwc": must_change_password,
        }
        token = jwt.encode(claims, self._signing_key, algorithm=self.algorithm)
        return IssuedToken(token, float(now + self.ttl_s))

    def verify(self, token: str) -> AccessClaims:
        """The token's claims; Unauthorized when it is expired, not ours or malformed."""
        try:
            claims = jwt.decode(
                token,
                self._verifying_key,
                algorithms=[self.algorithm],  # never "none", never another algorithm
                audience=AUDIENCE,
                issuer=ISSUER,
                leeway=LEEWAY_S,
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            )
            user_id = uuid.UUID(str(claims["sub"]))
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the access token has expired; refresh it or log in again") from None
        except (jwt.InvalidTokenError, ValueError):
            raise Unauthorized("invalid access token") from None
        return AccessClaims(user_id, float(claims["exp"]), bool(claims.get("pwc", False)))


async def _generated_secret(engine: AsyncEngine) -> bytes:
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO server_secrets (name, value) VALUES (:name, :value)"
                " ON CONFLICT (name) DO NOTHING"
            ),
            {"name": GENERATED_SECRET, "value": secrets.token_bytes(32)},
        )
        value = await conn.scalar(
            text("SELECT value FROM server_secrets WHERE name = :name"),
            {"name": GENERATED_SECRET},
        )
    return bytes(value)


async def token_codec(settings: Settings, engine: AsyncEngine) -> TokenCodec:
    """The codec the settings describe; ValueError naming the setting that is missing."""
    ttl = settings.access_token_ttl_s
    if settings.jwt_algorithm == "RS256":
        private = settings.jwt_private_key_file
        public = settings.jwt_public_key_file
        if public is None and private is None:
            raise ValueError(
                "AGENTTRACE_JWT_ALGORITHM=RS256 needs AGENTTRACE_JWT_PUBLIC_KEY_FILE"
                " (and AGENTTRACE_JWT_PRIVATE_KEY_FILE where people log in)"
            )
        signing = private.expanduser().read_bytes() if private is not None else None
        if public is not None:
            verifying = public.expanduser().read_bytes()
        else:
            from cryptography.hazmat.primitives import serialization

            assert signing is not None
            loaded = serialization.load_pem_private_key(signing, password=None)
            verifying = loaded.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        return TokenCodec("RS256", signing, verifying, ttl)
    if settings.jwt_secret is not None:
        secret: bytes = settings.jwt_secret.get_secret_value().encode()
        if len(secret) < 32:
            raise ValueError("AGENTTRACE_JWT_SECRET must be at least 32 characters")
    else:
        secret = await _generated_secret(engine)
    return TokenCodec("HS256", secret, secret, ttl)
