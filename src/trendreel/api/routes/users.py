"""Users (admins) and API tokens (everyone their own; admins anyone's)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from starlette.concurrency import run_in_threadpool

from trendreel.services import users
from trendreel.api.auth import CurrentUser, current_user, get_app, require_role
from trendreel.api.errors import ApiError
from trendreel.api.schemas import ERRORS, ID_PATTERN, RoleChange, TokenCreate, TokenCreated, TokenOut, UserCreate, UserOut

router = APIRouter(tags=["users"], responses=ERRORS)
Admin = Annotated[CurrentUser, Depends(require_role("admin"))]
Anyone = Annotated[CurrentUser, Depends(current_user)]
Username = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")]


@router.get("/users", response_model=list[UserOut], summary="List users")
async def list_users(request: Request, _: Admin):
    return await run_in_threadpool(users.list_users, get_app(request))


@router.post("/users", response_model=UserOut, status_code=201, summary="Add a user (or set their password and role)")
async def add_user(body: UserCreate, request: Request, _: Admin):
    return await run_in_threadpool(lambda: users.add_user(get_app(request), username=body.username,
                                                          password=body.password, role=body.role))


@router.put("/users/{username}/role", response_model=UserOut, summary="Change a user's role")
async def set_role(username: Username, body: RoleChange, request: Request, _: Admin):
    return await run_in_threadpool(lambda: users.set_role(get_app(request), username=username, role=body.role))


@router.delete("/users/{username}", response_model=UserOut, summary="Remove a user and their tokens")
async def remove_user(username: Username, request: Request, admin: Admin):
    if username.lower() == admin.username.lower():
        raise ApiError(400, "invalid_request", "you cannot remove yourself; ask another admin")
    return await run_in_threadpool(lambda: users.remove_user(get_app(request), username=username))


@router.get("/tokens", response_model=list[TokenOut], summary="Your API tokens (admins: everyone's)")
async def list_tokens(request: Request, user: Anyone, include_revoked: bool = False):
    name = None if user.can("admin") else user.username
    return await run_in_threadpool(lambda: users.list_tokens(get_app(request), username=name, include_revoked=include_revoked))


@router.post("/tokens", response_model=TokenCreated, status_code=201, summary="Create an API token (shown once)")
async def create_token(body: TokenCreate, request: Request, user: Anyone):
    owner = body.username or user.username
    if owner.lower() != user.username.lower() and not user.can("admin"):
        raise ApiError(403, "forbidden", "only an admin can create tokens for another user")
    return await run_in_threadpool(lambda: users.create_token(get_app(request), username=owner, name=body.name,
                                                              expires_days=body.expires_days))


@router.delete("/tokens/{token_id}", response_model=TokenOut, summary="Revoke an API token")
async def revoke_token(token_id: Annotated[str, Path(pattern=ID_PATTERN)], request: Request, user: Anyone):
    only = None if user.can("admin") else user.username
    return await run_in_threadpool(lambda: users.revoke_token(get_app(request), token_id=token_id, username=only))
