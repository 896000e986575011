#!/bin/sh
# Entry point of every trendreel image. Secrets come as files (Docker/Compose secrets, Kubernetes
# Secret volumes): for each variable FILE__TRENDREEL_<NAME>=/path, TRENDREEL_<NAME> is set to the
# file's first line before the command starts, so a database URL or S3 key never sits in the image
# or in `docker inspect`. (Settings that are paths themselves, such as TRENDREEL_SERVE__SECRET_KEY_FILE,
# need no help: point them at the mounted file.)
set -eu
for pair in $(env | grep -o '^FILE__TRENDREEL_[A-Z0-9_]*=' || true); do
  var=${pair%=}
  name=${var#FILE__}
  eval "path=\${$var}"
  if [ ! -r "$path" ]; then
    echo "trendreel: $var names $path, which is missing or unreadable: mount the secret there or unset $var" >&2
    exit 2
  fi
  IFS= read -r value < "$path" || true
  export "$name=$value"
  unset "$var"
done
exec "$@"
