# The internal model server (`python -m trendreel.modelserver`, docs/modelserver.md) on port 8601.
# Two variants, chosen with --target:
#   cpu  (the default, last stage): python slim, job kind render:compositor
#   gpu  NVIDIA's CUDA base with the `gpu` extra, job kinds render:ltx2 and render:compositor;
#        the LTX-2 weights come from a volume at /models/LTX-2 (never downloaded at run time)
#
#   docker buildx build --platform linux/amd64,linux/arm64 -f deploy/docker/modelserver.Dockerfile \
#     --target cpu -t registry.example.org/trendreel/modelserver:0.1.0 --push .
#   docker buildx build --platform linux/amd64,linux/arm64 -f deploy/docker/modelserver.Dockerfile \
#     --target gpu -t registry.example.org/trendreel/modelserver-gpu:0.1.0 --push .
# The token is a file (a mounted secret): --token-file /run/secrets/modelserver_token.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG CUDA_IMAGE=nvidia/cuda:13.0.1-base-ubuntu24.04

# ---- gpu builder and runtime
FROM ${CUDA_IMAGE} AS gpu-builder
ARG PYTHON=python3
ARG TORCH_INDEX_URL=
ARG PIP_INDEX_URL
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends ${PYTHON} ${PYTHON}-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
# pip behind a TLS-inspecting proxy: its CA bundle as a build secret, never in a layer
# (--secret id=ca,src=/path/to/ca-bundle.pem), and a PyPI mirror with --build-arg PIP_INDEX_URL=...
RUN --mount=type=secret,id=ca,required=false --mount=type=cache,target=/root/.cache/pip \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi \
 && ${PYTHON} -m venv /opt/venv \
 && if [ -n "${TORCH_INDEX_URL}" ]; then /opt/venv/bin/pip install --index-url "${TORCH_INDEX_URL}" torch; fi \
 && /opt/venv/bin/pip wheel --wheel-dir /wheels ".[gpu]" \
 && /opt/venv/bin/pip install --no-index --find-links /wheels "trendreel[gpu]" \
 && /opt/venv/bin/python -c "import trendreel.modelserver"

FROM ${CUDA_IMAGE} AS gpu
ARG PYTHON=python3
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends ${PYTHON} ffmpeg fonts-nanum espeak-ng tini ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 trendreel \
 && useradd --system --uid 10001 --gid trendreel --home-dir /var/lib/trendreel --create-home --shell /usr/sbin/nologin trendreel
COPY --from=gpu-builder /opt/venv /opt/venv
COPY deploy/docker/entrypoint.sh /usr/local/bin/trendreel-entrypoint
# The work folder, owned by the server's user: a volume mounted there starts with this owner (a folder
# Docker made for the mount would be root's, and the server could not write its jobs). A RUN of its own
# keeps the layer above the same as the gateway's and the workers'.
RUN install -d -o trendreel -g trendreel /var/lib/trendreel/modelserver
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    TRENDREEL_HOME=/var/lib/trendreel \
    TRENDREEL_RENDER__LTX2__MODEL_PATH=/models/LTX-2 \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility,video
WORKDIR /var/lib/trendreel
USER 10001:10001
EXPOSE 8601
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8601/healthz', timeout=4)"]
ENTRYPOINT ["tini", "--", "trendreel-entrypoint"]
CMD ["python", "-m", "trendreel.modelserver", "--host", "0.0.0.0", "--port", "8601", "--token-file", "/run/secrets/modelserver_token", "--kinds", "render:ltx2,render:compositor", "--work-dir", "/var/lib/trendreel/modelserver"]

# ---- cpu builder and runtime (the default target)
FROM ${PYTHON_IMAGE} AS cpu-builder
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
 && /opt/venv/bin/pip wheel --wheel-dir /wheels . \
 && /opt/venv/bin/pip install --no-index --find-links /wheels trendreel \
 && /opt/venv/bin/python -c "import trendreel.modelserver"

FROM ${PYTHON_IMAGE} AS cpu
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg fonts-nanum espeak-ng tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 trendreel \
 && useradd --system --uid 10001 --gid trendreel --home-dir /var/lib/trendreel --create-home --shell /usr/sbin/nologin trendreel
COPY --from=cpu-builder /opt/venv /opt/venv
COPY deploy/docker/entrypoint.sh /usr/local/bin/trendreel-entrypoint
# The work folder, owned by the server's user: a volume mounted there starts with this owner (a folder
# Docker made for the mount would be root's, and the server could not write its jobs). A RUN of its own
# keeps the layer above the same as the gateway's and the workers'.
RUN install -d -o trendreel -g trendreel /var/lib/trendreel/modelserver
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    TRENDREEL_HOME=/var/lib/trendreel
WORKDIR /var/lib/trendreel
USER 10001:10001
EXPOSE 8601
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8601/healthz', timeout=4)"]
ENTRYPOINT ["tini", "--", "trendreel-entrypoint"]
CMD ["python", "-m", "trendreel.modelserver", "--host", "0.0.0.0", "--port", "8601", "--token-file", "/run/secrets/modelserver_token", "--kinds", "render:compositor", "--work-dir", "/var/lib/trendreel/modelserver"]
