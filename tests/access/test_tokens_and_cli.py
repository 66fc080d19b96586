"""Access tokens signed RS256 (a key pair), the algorithm pinned; and ``agenttrace user
create`` making a person who can log in."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import uuid
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from access.tokens import token_codec
from agenttrace.apps import Roles, build_app
from agenttrace.errors import Unauthorized
from agenttrace.settings import Settings
from devservices import DevServices
from tests.databases import fresh_database
from tests.log_audit import Kind, record_output
from tests.processes import AGENTTRACE, ROOT
from tests.secrets_registry import remember_secret


def _key_pair(directory: Path) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = directory / "jwt.pem"
    public = directory / "jwt.pub.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


async def test_rs256_tokens_verify_with_the_public_key_alone_and_hs256_forgeries_fail(
    tmp_path: Path,
) -> None:
    private, public = _key_pair(tmp_path)
    signer = await token_codec(
        Settings(jwt_algorithm="RS256", jwt_private_key_file=private),
        engine=None,  # type: ignore[arg-type]
    )
    verifier = await token_codec(
        Settings(jwt_algorithm="RS256", jwt_public_key_file=public),
        engine=None,  # type: ignore[arg-type]
    )
    user = uuid.uuid4()
    issued = signer.issue(user)
    assert verifier.verify(issued.token).user_id == user
    with pytest.raises(RuntimeError, match="no private key"):
        verifier.issue(user)
    # The verifier takes RS256 only: the same claims signed HS256 (the algorithm-confusion
    # attack signs with the public key as an HMAC secret) are refused.
    claims = jwt.decode(issued.token, options={"verify_signature": False})
    hs256 = jwt.encode(claims, b"k" * 32, algorithm="HS256")
    with pytest.raises(Unauthorized, match="invalid access token"):
        verifier.verify(hs256)


async def test_rs256_needs_a_key_file() -> None:
    with pytest.raises(ValueError, match="AGENTTRACE_JWT_PUBLIC_KEY_FILE"):
        await token_codec(Settings(jwt_algorithm="RS256"), engine=None)  # type: ignore[arg-type]


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*AGENTTRACE, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )


async def test_user_create_on_the_command_line_makes_a_person_who_can_log_in(
    services: DevServices,
) -> None:
    url = await fresh_database(services, "cli_user")
    env = {"PATH": os.environ["PATH"], "AGENTTRACE_DATABASE_URL": url}
    email = f"cli-{uuid.uuid4().hex[:6]}@example.com"
    done = await asyncio.to_thread(
        _cli, ["user", "create", email, "--organization", "Default", "--role", "viewer"], env
    )
    record_output("agenttrace user create (stderr)", done.stderr, Kind.LOG)
    record_output("agenttrace user create (stdout)", done.stdout, Kind.TERMINAL)
    assert done.returncode == 0, done.stderr
    match = re.search(r"One-time password \(shown once; .*\): (\S+)", done.stdout)
    assert match is not None, done.stdout
    again = await asyncio.to_thread(_cli, ["user", "create", email.upper()], env)
    record_output("agenttrace user create again (stderr)", again.stderr, Kind.LOG)
    assert again.returncode != 0
    assert "already exists" in again.stderr

    app = build_app(Settings(database_url=url), url, Roles(query=True))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            password = remember_secret(match.group(1))
            response = await http.post(
                "/api/v1/auth/login", json={"email": email, "password": password}
            )
            assert response.status_code == 200, response.text
            assert response.json()["must_change_password"] is True
