# PostgreSQL 15 from Debian's packages, for hosts that cannot pull postgres:16-bookworm (deploy/local-images
# builds it FROM the local Debian base). It reads the same variables as the official image's first start:
# POSTGRES_USER, POSTGRES_DB and POSTGRES_PASSWORD_FILE (a mounted secret).
ARG BASE_IMAGE=trendreel-local/debian-python:bookworm
FROM ${BASE_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/postgresql/data /run/postgresql \
 && chown -R postgres:postgres /var/lib/postgresql /run/postgresql
COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
USER postgres
EXPOSE 5432
HEALTHCHECK --interval=10s --timeout=5s --retries=10 CMD ["pg_isready", "-h", "/run/postgresql"]
ENTRYPOINT ["postgres-entrypoint"]
