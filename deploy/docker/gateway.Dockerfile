# The gateway: `trendreel serve` (HTTP API and web workspace) on port 8600, behind nginx or an Ingress.
# It also runs the stages in process when no engine is configured (the embedded default), so it
# carries ffmpeg, the fonts and espeak-ng like the CPU worker.
#
# From the repository root (multi-arch; nothing here is architecture-specific):
#   docker buildx build --platform linux/amd64,linux/arm64 -f deploy/docker/gateway.Dockerfile \
#     -t registry.example.org/trendreel/gateway:0.1.0 --push .
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- builder: every dependency as a wheel, then a virtual environment from those wheels only
FROM ${PYTHON_IMAGE} AS builder
ARG EXTRAS=qdrant,engine
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

# ---- runtime: Debian slim, the Debian tools the stages call, the venv, a non-root user
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
EXPOSE 8600
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8600/healthz', timeout=4)"]
ENTRYPOINT ["tini", "--", "trendreel-entrypoint"]
CMD ["trendreel", "serve", "--host", "0.0.0.0", "--port", "8600"]
