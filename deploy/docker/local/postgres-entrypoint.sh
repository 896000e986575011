#!/bin/sh
# First start on an empty data folder: a cluster whose superuser is $POSTGRES_USER with the password in
# $POSTGRES_PASSWORD_FILE, the database $POSTGRES_DB, password logins from the network. Then the server.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD_FILE:?set POSTGRES_PASSWORD_FILE to a file holding the password (a mounted secret)}"
  user=${POSTGRES_USER:-postgres}
  initdb --pgdata="$PGDATA" --username="$user" --pwfile="$POSTGRES_PASSWORD_FILE" --encoding=UTF8 \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  pg_ctl --pgdata="$PGDATA" --options="-c listen_addresses=''" --wait --silent start
  if [ "${POSTGRES_DB:-$user}" != postgres ]; then
    createdb --username="$user" "${POSTGRES_DB:-$user}"
  fi
  pg_ctl --pgdata="$PGDATA" --mode=fast --wait --silent stop
  echo "postgres: made the cluster in $PGDATA (user $user, database ${POSTGRES_DB:-$user})"
fi
exec postgres -D "$PGDATA" -c listen_addresses='*'
