#!/usr/bin/env bash
# One database and one role per subgraph, each role able to reach only its own database: a
# database per service holds at the privilege level, not by convention.
#
# Run once by the postgres image on an empty data directory (/docker-entrypoint-initdb.d), or by
# hand as the superuser: PGHOST=… PGUSER=postgres AUTH_DB_PASSWORD=… … ./init-databases.sh
# Each <NAME>_DB_PASSWORD must be set; the passwords reach SQL only as psql variables (quoted by
# psql), never pasted into the statement text.
set -euo pipefail

psql_super() { psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" "$@"; }

# Nobody but the superuser connects to the maintenance databases.
psql_super --dbname postgres <<'SQL'
REVOKE CONNECT ON DATABASE postgres FROM PUBLIC;
REVOKE CONNECT ON DATABASE template1 FROM PUBLIC;
SQL

for name in auth users products orders notifications; do
  var="$(echo "$name" | tr '[:lower:]' '[:upper:]')_DB_PASSWORD"
  password="${!var:-}"
  if [ -z "$password" ]; then
    echo "init-databases: $var is not set" >&2
    exit 1
  fi
  psql_super --dbname postgres -v name="$name" -v password="$password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'name', :'password')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'name') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'name', :'name')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'name') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'name') \gexec
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', :'name', :'name') \gexec
SQL
  # Inside its database the role owns the schema its migrations write to; nobody else may use it.
  psql_super --dbname "$name" -v name="$name" <<'SQL'
SELECT format('ALTER SCHEMA public OWNER TO %I', :'name') \gexec
REVOKE ALL ON SCHEMA public FROM PUBLIC;
SQL
  echo "init-databases: $name ready"
done
