"""Stored files: article media and video files, with HTTP range requests (206), ETags and 416."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from trendreel.api import files
from trendreel.api.auth import get_app
from trendreel.api.routes._common import MediaId, VideoId, Viewer, call
from trendreel.api.schemas import ERRORS

router = APIRouter(tags=["media"], responses={**ERRORS, 206: {"description": "Partial content"},
                                               416: {"description": "Range not satisfiable"}})
MEDIA_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4", "video/webm", "video/quicktime",
               "application/octet-stream")
FILE_RESPONSE = {"content": {t: {} for t in MEDIA_TYPES}, "description": "The file's bytes (or the range's)."}


@router.get("/media/{media_id}", summary="An article's stored image or video", response_class=Response,
            responses={200: FILE_RESPONSE})
async def media(media_id: MediaId, request: Request, _: Viewer):
    ref = await call(files.media_file, get_app(request), media_id)
    return await files.serve_file(request, get_app(request), ref)


VIDEO_FILES = {  # the path's last part: (what the file store calls it, its content type)
    "file": ("video", "video/mp4"), "thumbnail": ("thumbnail", "image/jpeg"), "subtitles": ("subtitles", "application/x-subrip"),
}


def _video_file_route(which: str) -> None:
    # One route per file (not /videos/{id}/{which}): a path such as /videos/{id}/edit must reach its own
    # route's 405, not a 422 about `which`.
    what, mime = VIDEO_FILES[which]

    async def video_file(video_id: VideoId, request: Request, _: Viewer):
        ref = await call(files.video_file, get_app(request), video_id, what)
        return await files.serve_file(request, get_app(request), ref)

    router.add_api_route(f"/videos/{{video_id}}/{which}", video_file, methods=["GET"], name=f"video_{which}",
                         response_class=Response,
                         summary=f"A video's {'file' if which == 'file' else which}",
                         responses={200: {"content": {mime: {}}, "description": "The file's bytes (or the range's)."}})


for _which in VIDEO_FILES:
    _video_file_route(_which)
