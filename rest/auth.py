"""People's sessions over REST: ``/api/v1/auth/login``, ``refresh``, ``logout``,
``password`` and ``me`` (the dashboard's login page uses these)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from access.accounts import Accounts, Session
from access.api_keys import api_key_from
from access.authenticator import Authenticator
from resolvers.projects import projects_by_ids
from storage.users import organizations_by_ids

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class Login(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class Refresh(BaseModel):
    refresh_token: str = Field(max_length=200)


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


class Tokens(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires")
    refresh_token: str = Field(description="Gets a new pair once; log in again after")
    must_change_password: bool = Field(
        description="True after a one-time password: nothing but a password change works"
    )


def _tokens(session: Session) -> Tokens:
    return Tokens(
        access_token=session.access_token,
        expires_in=max(0, int(session.expires_at - time.time())),
        refresh_token=session.refresh_token,
        must_change_password=session.must_change_password,
    )


def _accounts(request: Request) -> Accounts:
    accounts: Accounts = request.app.state.accounts
    return accounts


@router.post("/login", summary="Log in with email and password", response_model=Tokens)
async def login(body: Login, request: Request) -> Tokens:
    client = request.client.host if request.client is not None else "unknown"
    return _tokens(await _accounts(request).login(body.email, body.password, client))


@router.post("/refresh", summary="A new token pair for a refresh token", response_model=Tokens)
async def refresh(body: Refresh, request: Request) -> Tokens:
    return _tokens(await _accounts(request).refresh(body.refresh_token))


@router.post("/logout", summary="End the session of this refresh token", status_code=204)
async def logout(body: Refresh, request: Request) -> Response:
    await _accounts(request).logout(body.refresh_token)
    return Response(status_code=204)


@router.post(
    "/password",
    summary="Change your password (ends your other sessions)",
    response_model=Tokens,
)
async def change_password(body: PasswordChange, request: Request) -> Tokens:
    auth: Authenticator = request.app.state.auth
    viewer = await auth.viewer(api_key_from(request))
    session = await _accounts(request).change_password(
        viewer, body.current_password, body.new_password
    )
    if viewer.user_id is not None:
        auth.forget_user(viewer.user_id)
    return _tokens(session)


@router.get("/me", summary="Who is calling, and what it may see")
async def me(request: Request) -> dict[str, Any]:
    auth: Authenticator = request.app.state.auth
    viewer = await auth.viewer(api_key_from(request))
    engine = request.app.state.query_engine
    organizations = await organizations_by_ids(engine, sorted(viewer.organizations))
    projects = await projects_by_ids(engine, sorted(viewer.project_ids))
    return {
        "principal": viewer.principal,
        "email": viewer.email,
        "is_admin": viewer.is_admin,
        "must_change_password": viewer.must_change_password,
        "organizations": [
            {"id": str(org), "name": name, "permissions": sorted(viewer.organizations[org])}
            for org, name in sorted(organizations.items(), key=lambda item: item[1])
        ],
        "projects": [
            {"id": str(p.id), "name": p.name, "permissions": sorted(viewer.projects[p.id])}
            for p in sorted(projects.values(), key=lambda p: p.name)
        ],
    }
