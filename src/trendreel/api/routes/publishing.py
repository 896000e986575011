"""Review (approve, reject), publications, accounts, metrics, storage and gc."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from trendreel.api.auth import get_app
from trendreel.api.errors import ApiError
from trendreel import services
from trendreel.api.routes._common import Admin, Editor, PublicationId, VideoId, Viewer, call, start_run
from trendreel.api.schemas import ERRORS, Open, ReviewRequest, RunAccepted, Strict

router = APIRouter(responses=ERRORS)
# Whitespace spelled out: Python's \s also takes U+0085 and the schema's (ECMA) \s does not, so they would disagree.
_ACCOUNT_NAME = r":[^ \t\n\r\f\v:][^\n]{0,199}$"
TARGET_PATTERN = r"^(youtube|tiktok|instagram|folder)" + _ACCOUNT_NAME
ACCOUNT_PATTERN = r"^[a-z]+" + _ACCOUNT_NAME  # any platform's PLATFORM:NAME, for filters
Target = Annotated[str, Field(pattern=TARGET_PATTERN, description="PLATFORM:NAME of an account.")]


class PublishRequest(Strict):
    to: Target
    privacy: Literal["private", "unlisted", "public"] | None = None
    allow_similar: bool = False
    allow_copied: bool = Field(False, description="Publish publicly even if the story is mostly its sources' own words.")


AccountName = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")]
Filled = Annotated[str, Field(min_length=1, max_length=4000)]


class AuthorizedUser(BaseModel):
    """An authorized-user JSON as google-auth writes it (other fields are kept)."""

    model_config = ConfigDict(extra="allow", strict=True)

    type: Literal["authorized_user"] | None = None
    token: Filled
    refresh_token: Filled
    token_uri: Filled
    client_id: Filled
    client_secret: Filled


class FolderAccountIn(Strict):
    platform: Literal["folder"]
    name: AccountName
    path: str = Field(min_length=1, max_length=1000, description="The directory to write to.")


class YoutubeAccountIn(Strict):
    platform: Literal["youtube"]
    name: AccountName
    credentials: AuthorizedUser


class InstagramCredentials(BaseModel):
    """A long-lived access token and the ig-user-id it publishes to (other fields are kept)."""

    model_config = ConfigDict(extra="allow", strict=True)

    access_token: Filled
    ig_user_id: Filled
    expires_at: str | None = None
    app_id: str | None = None
    app_secret: str | None = None


class InstagramAccountIn(Strict):
    platform: Literal["instagram"]
    name: AccountName
    credentials: InstagramCredentials


# What each platform needs is the schema's (one of three shapes), not a 422 after it.
AccountIn = Annotated[FolderAccountIn | YoutubeAccountIn | InstagramAccountIn, Field(discriminator="platform")]


class AccountOut(Open):
    id: str
    platform: str
    name: str


class PublicationOut(Open):
    id: str
    video_id: str
    account_id: str
    platform: str
    status: str


class MetricsRequest(Strict):
    all: bool = False


class GcRequest(Strict):
    dry_run: bool = False


# ---- review -------------------------------------------------------------------------------

@router.post("/videos/{video_id}/approve", tags=["videos"], summary="Approve a video for publishing")
async def approve(video_id: VideoId, request: Request, user: Editor) -> dict[str, Any]:
    return await call(services.approve_video, get_app(request), video_id, by=user.username)


@router.post("/videos/{video_id}/reject", tags=["videos"], summary="Reject a video (approving later overrides it)")
async def reject(video_id: VideoId, body: ReviewRequest, request: Request, user: Editor) -> dict[str, Any]:
    return await call(services.reject_video, get_app(request), video_id, by=user.username, reason=body.reason)


@router.post("/videos/{video_id}/publish", response_model=RunAccepted, status_code=202, tags=["publications"],
             summary="Publish an approved video to an account (a background run)")
async def publish(video_id: VideoId, body: PublishRequest, request: Request, user: Editor):
    app = get_app(request)
    await call(services.resolve_target, app, body.to)  # an unknown account is refused now
    await call(services.get_video, app, video_id)
    return await start_run(request, user, "publish", {"video_id": video_id, **body.model_dump(exclude_none=True)})


# ---- publications and accounts ------------------------------------------------------------

@router.get("/publications", response_model=list[PublicationOut], tags=["publications"], summary="Publications, newest first")
async def list_publications(request: Request, _: Viewer, video_id: Annotated[str | None, Query(pattern=r"^v[0-9a-f]{23}$")] = None,
                            account: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
                            limit: Annotated[int, Query(ge=1, le=1000)] = 50):
    return await call(services.list_publications, get_app(request), video_id=video_id, account=account, limit=limit)


@router.get("/publications/{publication_id}", response_model=PublicationOut, tags=["publications"], summary="One publication")
async def get_publication(publication_id: PublicationId, request: Request, _: Viewer):
    return await call(services.get_publication, get_app(request), publication_id)


@router.get("/accounts", response_model=list[AccountOut], tags=["accounts"], summary="Accounts (never their credentials)")
async def list_accounts(request: Request, _: Viewer, platform: Literal["youtube", "tiktok", "instagram", "folder"] | None = None,
                        include_removed: bool = False):
    return await call(services.list_accounts, get_app(request), platform=platform, include_removed=include_removed)


def _add_account(app, body: FolderAccountIn | YoutubeAccountIn | InstagramAccountIn) -> dict:
    if isinstance(body, FolderAccountIn):
        return services.add_account(app, platform="folder", name=body.name, path=Path(body.path))
    if isinstance(body, InstagramAccountIn):
        return services.add_account(app, platform="instagram", name=body.name,
                                    credentials=body.credentials.model_dump(exclude_none=True))
    return services.add_account(app, platform="youtube", name=body.name,
                                credentials=body.credentials.model_dump(exclude_none=True))


@router.post("/accounts", response_model=AccountOut, status_code=201, tags=["accounts"],
             summary="Add an account or replace its credentials (stored encrypted)")
async def add_account(body: AccountIn, request: Request, _: Admin):
    return await call(_add_account, get_app(request), body)


@router.delete("/accounts/{platform}/{name}", response_model=AccountOut, tags=["accounts"], summary="Remove an account")
async def remove_account(platform: Literal["youtube", "tiktok", "instagram", "folder"],
                         name: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")],
                         request: Request, _: Admin):
    return await call(services.remove_account, get_app(request), platform=platform, name=name)


# ---- metrics, storage ---------------------------------------------------------------------

@router.get("/metrics", tags=["metrics"], summary="Publications with their latest counts and when they are next due")
async def list_metrics(request: Request, _: Viewer) -> list[dict[str, Any]]:
    return await call(services.list_metrics, get_app(request))


@router.get("/metrics/{publication_id}", tags=["metrics"], summary="One publication's samples over time")
async def publication_metrics(publication_id: PublicationId, request: Request, _: Viewer) -> list[dict[str, Any]]:
    return await call(services.list_metrics, get_app(request), publication_id)


@router.post("/metrics/collect", response_model=RunAccepted, status_code=202, tags=["metrics"],
             summary="Poll the publications that are due (a background run)")
async def collect(body: MetricsRequest, request: Request, user: Editor):
    return await start_run(request, user, "metrics", body.model_dump())


@router.get("/storage", tags=["storage"], summary="Storage used vs the budget, by kind")
async def storage(request: Request, user: Viewer) -> dict[str, Any]:
    status = await call(services.storage_status, get_app(request))
    if not user.can("admin"):
        status.pop("files_url", None)  # where the files are is the operators' business
    return status


@router.post("/storage/gc", response_model=RunAccepted, status_code=202, tags=["storage"],
             summary="Free space down to the budget (a background run; dry_run plans only)")
async def gc(body: GcRequest, request: Request, user: Admin):
    return await start_run(request, user, "gc", body.model_dump())


# ---- reports ------------------------------------------------------------------------------

REPORT_FILES = {"report.html": "text/html; charset=utf-8", "samples.csv": "text/csv; charset=utf-8",
                "publications.csv": "text/csv; charset=utf-8", "forecasts.csv": "text/csv; charset=utf-8"}


@router.post("/reports", response_model=RunAccepted, status_code=202, tags=["reports"],
             summary="Build the report (HTML with charts, and CSVs) in the background")
async def build_report(request: Request, user: Editor):
    return await start_run(request, user, "report", {})


@router.get("/reports/{name}", tags=["reports"], summary="The last built report or one of its CSV files",
            response_class=Response, responses={200: {"content": {"text/html": {}, "text/csv": {}}}})
async def get_report(name: Literal["report.html", "samples.csv", "publications.csv", "forecasts.csv"], request: Request,
                     _: Viewer):
    path = get_app(request).settings.home / "report" / name
    if not path.is_file():
        raise ApiError(404, "not_found", "no report built yet: POST /api/v1/reports first")
    data = await call(path.read_bytes)
    # The report is self-contained (inline SVG); nothing in it may run script or load from elsewhere.
    return Response(data, media_type=REPORT_FILES[name],
                    headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
                             "X-Content-Type-Options": "nosniff"})
