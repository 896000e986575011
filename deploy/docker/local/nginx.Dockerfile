# nginx from Debian's packages, run as a non-root user on port 8080 like nginxinc/nginx-unprivileged, for
# hosts that cannot pull that image. The site comes from /etc/nginx/conf.d/default.conf (the compose
# file mounts deploy/compose/nginx.conf there).
ARG BASE_IMAGE=trendreel-local/debian-python:bookworm
FROM ${BASE_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends nginx curl \
 && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/* \
 && mkdir -p /var/cache/nginx \
 && chown -R www-data:www-data /var/cache/nginx /var/lib/nginx /var/log/nginx
COPY nginx-main.conf /etc/nginx/nginx.conf
USER www-data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD ["curl", "-fsS", "http://127.0.0.1:8080/nginx-health"]
ENTRYPOINT ["nginx", "-g", "daemon off;"]
