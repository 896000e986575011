"""Start a model server: python -m trendreel.modelserver --token-file FILE [--kinds render:ltx2] [--voice NAME=SPEC] ...

The server's own settings (render.ffmpeg, render.font_file, render.ltx2.model_path, ...) come from the
usual places: the settings file in TRENDREEL_HOME or TRENDREEL_CONFIG, and TRENDREEL_* variables.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import sys
from pathlib import Path

from trendreel.errors import TrendreelError
from trendreel.modelserver.app import create_app
from trendreel.modelserver.handlers import build_handlers
from trendreel.modelserver.voices import VoiceBank, parse_voices
from trendreel.settings import Settings

log = logging.getLogger("trendreel.modelserver")


def _token(args) -> str:
    if args.token_file:
        try:
            lines = Path(args.token_file).expanduser().read_text(encoding="utf-8").strip().splitlines()
        except OSError as exc:
            raise SystemExit(f"cannot read --token-file: {exc}") from None
        token = lines[0].strip() if lines else ""
    else:
        token = os.environ.get("TRENDREEL_MODELSERVER_TOKEN", "").strip()
    if len(token) < 16:
        raise SystemExit("the model server needs an internal token of at least 16 characters: --token-file FILE "
                         "(e.g. made with `python -c 'import secrets; print(secrets.token_urlsafe(32))'`) "
                         "or TRENDREEL_MODELSERVER_TOKEN")
    return token


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m trendreel.modelserver", description="A model server for long jobs (submit, poll, fetch).")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (an internal one; default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8601)
    p.add_argument("--token-file", help="file whose first line is the internal token (else TRENDREEL_MODELSERVER_TOKEN)")
    p.add_argument("--kinds", default="render:compositor", help="comma-separated job kinds, e.g. render:compositor,render:ltx2")
    p.add_argument("--voice", action="append", default=[], metavar="NAME=SPEC",
                   help="a voice for POST /v1/audio/speech (repeatable): NAME=/path/voice.onnx (a Piper voice file) "
                        "or NAME=ENGINE:VOICE (e.g. en=piper:en_US-joe-medium); the pipeline uses it as modelserver:NAME")
    p.add_argument("--work-dir", help="jobs and their files (default <home>/modelserver)")
    p.add_argument("--max-upload-mb", type=float, default=2048, help="largest upload accepted (413 beyond)")
    p.add_argument("--log-level", default="info")
    args = p.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    import uvicorn

    token = _token(args)
    try:
        settings = Settings()
        handlers = build_handlers([k.strip() for k in args.kinds.split(",") if k.strip()], settings)
        voices = VoiceBank(parse_voices(args.voice), settings.render) if args.voice else None
    except TrendreelError as exc:
        raise SystemExit(str(exc)) from None
    try:
        if not ipaddress.ip_address(args.host).is_loopback and not ipaddress.ip_address(args.host).is_private:
            log.warning("listening on %s, a public address: keep model servers on an internal network", args.host)
    except ValueError:
        pass
    work = Path(args.work_dir).expanduser() if args.work_dir else settings.home / "modelserver"
    app = create_app(work_dir=work, token=token, handlers=handlers, max_upload_bytes=int(args.max_upload_mb * 2**20),
                     voices=voices)
    if voices:
        log.info("voices: %s", ", ".join(f"{d['name']} ({d['spec']})" for d in voices.describe()))
    log.info("model server for %s on http://%s:%d, jobs in %s", ", ".join(sorted(handlers)), args.host, args.port, work)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level.lower(), access_log=False)


if __name__ == "__main__":
    sys.exit(main())
