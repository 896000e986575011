"""Stored files: article media and video files, with HTTP range requests (206), ETags and 416."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request

from trendreel.api import files
from trendreel.api.auth import get_app
from trendreel.api.routes._common import MediaId, VideoId, Viewer, call
from trendreel.api.schemas import ERRORS

router = APIRouter(tags=["media"], responses={**ERRORS, 206: {"description": "Partial content"},
                                               416: {"description": "Range not satisfiable"}})
FILE_RESPONSE = {"content": {"application/octet-stream": {}}, "description": "The file's bytes (or the range's)."}


@router.get("/media/{media_id}", summary="An article's stored image or video",
                  responses={200: FILE_RESPONSE})
async def media(media_id: MediaId, request: Request, _: Viewer):
    ref = await call(files.media_file, get_app(request), media_id)
    return await files.serve_file(request, get_app(request), ref)


@router.get("/videos/{video_id}/{which}", summary="A video's file, thumbnail or subtitles",
                  responses={200: FILE_RESPONSE})
async def video_file(video_id: VideoId, which: Literal["file", "thumbnail", "subtitles"], request: Request, _: Viewer):
    ref = await call(files.video_file, get_app(request), video_id, "video" if which == "file" else which)
    return await files.serve_file(request, get_app(request), ref)
