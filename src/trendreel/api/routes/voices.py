"""Narration voices: the voice each language gets, the engines, and a short preview to listen to."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from trendreel import services
from trendreel.api.auth import get_app
from trendreel.api.routes._common import Editor, Viewer, call
from trendreel.api.schemas import ERRORS, VoicePreviewRequest

router = APIRouter(responses=ERRORS, tags=["voices"])


@router.get("/voices", summary="The voice per language (render.voices), the speech engines and the voices one may choose")
async def list_voices(request: Request, _: Viewer) -> dict:
    return await call(services.list_voices, get_app(request))


@router.post("/voices/preview", response_class=Response,
             responses={200: {"content": {"audio/wav": {}}, "description": "the text said in the voice"}},
             summary="Say a short text (at most 200 characters) in a voice: a WAV, cached by hash")
async def preview(body: VoicePreviewRequest, request: Request, _: Editor):
    got = await call(services.preview_voice, get_app(request), voice=body.voice, lang=body.lang, text=body.text)
    return Response(got["path"].read_bytes(), media_type="audio/wav",
                    headers={"Cache-Control": "no-store", "X-Voice": got["voice"].encode("ascii", "replace").decode(),
                             "X-Duration-S": f"{got['duration_s']:.3f}"})
