# A GPU worker: the engine's `gpu` task queue (LTX-2 renders in process, GPU embedders), with the
# `gpu` extra (torch, diffusers, transformers, accelerate). Most clusters keep LTX-2 in the model
# server instead (modelserver.Dockerfile, target gpu) and run CPU workers only.
#
# The base is NVIDIA's CUDA image, published for linux/amd64 and linux/arm64 (SBSA: Grace, GH200,
# and Jetson Thor with JetPack 7). torch's wheels bring their own CUDA libraries; the base gives the
# container toolkit's settings and a matching userland. Pick the CUDA tag your driver supports.
#   docker buildx build --platform linux/amd64,linux/arm64 -f deploy/docker/worker-gpu.Dockerfile \
#     -t registry.example.org/trendreel/worker-gpu:0.1.0 --push .
# Jetson Orin (JetPack 6, L4T r36) is not SBSA: build on the L4T base with NVIDIA's Jetson torch
# wheels (docs/arm64.md):
#   docker buildx build --platform linux/arm64 -f deploy/docker/worker-gpu.Dockerfile \
#     --build-arg CUDA_IMAGE=nvcr.io/nvidia/l4t-jetpack:r36.4.0 --build-arg PYTHON=python3.11 \
#     --build-arg TORCH_INDEX_URL=<the Jetson wheel index for your JetPack> -t .../worker-gpu:0.1.0-l4t .
ARG CUDA_IMAGE=nvidia/cuda:13.0.1-base-ubuntu24.04

FROM ${CUDA_IMAGE} AS builder
ARG PYTHON=python3
ARG EXTRAS=gpu,qdrant,engine
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
 && /opt/venv/bin/pip wheel --wheel-dir /wheels ".[${EXTRAS}]" \
 && /opt/venv/bin/pip install --no-index --find-links /wheels "trendreel[${EXTRAS}]" \
 && /opt/venv/bin/trendreel --help >/dev/null

FROM ${CUDA_IMAGE} AS runtime
ARG PYTHON=python3
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends ${PYTHON} ffmpeg fonts-nanum espeak-ng tini ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 trendreel \
 && useradd --system --uid 10001 --gid trendreel --home-dir /var/lib/trendreel --create-home --shell /usr/sbin/nologin trendreel
COPY --from=builder /opt/venv /opt/venv
COPY deploy/docker/entrypoint.sh /usr/local/bin/trendreel-entrypoint
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    TRENDREEL_HOME=/var/lib/trendreel \
    TRENDREEL_LOG_JSON=true \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility,video
WORKDIR /var/lib/trendreel
USER 10001:10001
# No HTTP port: the engine's heartbeats tell a stuck worker (see worker-cpu.Dockerfile).
HEALTHCHECK NONE
ENTRYPOINT ["tini", "--", "trendreel-entrypoint"]
CMD ["trendreel", "worker", "--queue", "gpu"]
