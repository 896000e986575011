"""Logging in and out (browser sessions) and who am I."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from trendreel.api import auth
from trendreel.api.schemas import ERRORS, LoginRequest, LoginResponse, Me, Message

router = APIRouter(prefix="/auth", tags=["auth"], responses=ERRORS)


@router.post("/login", response_model=LoginResponse, summary="Start a browser session (sets the session cookie)")
async def login(body: LoginRequest, request: Request) -> LoginResponse:
    data = await auth.login(request, body.username, body.password)
    return LoginResponse(user=Me(**data["user"], via="session"), csrf_token=data["csrf_token"])


@router.post("/logout", response_model=Message, summary="End the browser session")
async def logout(request: Request) -> Message:
    await auth.logout_session(request)
    return Message(message="logged out")


@router.get("/me", response_model=Me, summary="The user this request is made for")
async def me(user: auth.CurrentUser = Depends(auth.current_user)) -> Me:
    return Me(**user.model_dump())
