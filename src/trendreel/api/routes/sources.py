"""Sources added from the workspace or the API (admins), and a dry look at what one would crawl."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from pydantic import Field

from trendreel import services
from trendreel.api.auth import get_app
from trendreel.api.routes._common import Admin, Editor, call
from trendreel.api.schemas import ERRORS, SourceOut, Strict, whole

router = APIRouter(prefix="/sources", tags=["sources"], responses=ERRORS)
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
SourceName = Annotated[str, Path(pattern=NAME_PATTERN, description="A source's name.")]
# ASCII only (an address with Hangul in it is sent percent-encoded): every regex engine agrees on it
StartUrl = Annotated[str, Field(max_length=2000, pattern=r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[!-~]*)?$")]


class SourceIn(Strict):
    """A source, as under [[sources]] in the settings file."""

    name: str = Field(pattern=NAME_PATTERN, description="Unique name, used by `trendreel crawl --source NAME`.")
    kind: Literal["feed", "sitemap", "site", "urls"] = Field(
        description="feed: RSS/Atom; sitemap: sitemap.xml; site: follow links from start URLs; urls: just these pages.")
    urls: list[StartUrl] = Field(min_length=1, max_length=100, description="Feed, sitemap or start URLs.")
    max_depth: whole(0, 20) = Field(2, description="Link-following depth from the start URLs (kind=site).")
    max_pages: whole(1, 1_000_000) = Field(500, description="Stop after this many pages in one crawl.")
    allow_private: bool = Field(False, description="Allow private and loopback addresses for this source.")
    category: str | None = Field(None, min_length=1, max_length=80, pattern=r"^[a-z0-9][a-z0-9_-]*$",
                                 description="Category slug to give every article of this source.")


class SourceTest(Strict):
    """What a crawl of the source would find, from one fetch of its first URL."""

    source: str
    kind: str
    start_url: str
    robots: str = Field(description="The robots.txt verdict for the start URL.")
    robots_allowed: bool
    status: int | None = Field(description="HTTP status of the start URL (none when it was not fetched).")
    pages_found: int
    sitemaps_found: int
    first: list[dict[str, Any]] = Field(description="The first pages found; the first few with their titles.")
    problems: list[str]


@router.post("", response_model=SourceOut, status_code=201, summary="Add a source (admins)")
async def add_source(body: SourceIn, request: Request, user: Admin):
    return await call(services.save_source, get_app(request), body.model_dump(), by=user.username)


@router.put("/{name}", response_model=SourceOut, summary="Change a source added in the workspace (admins)")
async def change_source(name: SourceName, body: SourceIn, request: Request, user: Admin):
    return await call(services.save_source, get_app(request), body.model_dump(), by=user.username, replace=name)


@router.delete("/{name}", response_model=SourceOut, summary="Stop crawling a source added in the workspace (admins)")
async def remove_source(name: SourceName, request: Request, _: Admin):
    return await call(services.remove_source, get_app(request), name)


@router.post("/{name}/test", response_model=SourceTest, summary="Fetch a source's start URL once: what a crawl would find")
async def test_source(name: SourceName, request: Request, _: Editor):
    return await call(services.test_source, get_app(request), name)
