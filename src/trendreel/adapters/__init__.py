"""Adapters: the one place where trendreel talks to an outside program or service.

- `adapters.ffmpeg`: finding ffmpeg and ffprobe, running ffmpeg with a time limit, probing media files.
- `adapters.openai_http`: an OpenAI-compatible HTTP server (chat completions, embeddings, speech).
- `adapters.youtube`: the YouTube Data API through Google's client (credentials, service, retrying calls).
- `adapters.modelserver`: the client of trendreel's own model server (submit, poll, fetch), its errors and job ids.

Stages (render, edit, index, story, publish, metrics, the demo site) use adapters; adapters never use
a stage. An adapter imports only `trendreel.errors`, `trendreel.settings`, `trendreel.logs` and
third-party packages (`trendreel.db` only if it ever needs the database). What it needs from a stage
(how to load stored credentials, which error class a stage reports) is passed in by the caller, so
each outside program or service is spoken to by code written once.
"""
