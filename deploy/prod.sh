#!/usr/bin/env bash
# `make prod`: the production stack on this machine — PostgreSQL + Redis (installed and started
# from Debian packages if absent), the database prepared, then gunicorn + Celery worker + beat
# under honcho (deploy/Procfile). Ctrl-C stops all three.
#
# Environment: DATABASE_URL (default: database $PG_DB on 127.0.0.1:5432, created if absent),
# REDIS_URL (redis://127.0.0.1:6379/0), SECRET_KEY (default: var/secret_key, made once),
# DEMO=1 loads the demo accounts (default; DEMO=0 for a real deployment), HOST, PORT,
# WEB_CONCURRENCY, WEB_THREADS, CELERY_CONCURRENCY, CELERY_LOGLEVEL (warning; info logs every task).
set -euo pipefail
cd "$(dirname "$0")/.."
# The Procfile names gunicorn and celery: those of the project's virtualenv.
export PATH="$PWD/.venv/bin:$PATH"

. deploy/services.sh
PG_DB=${PG_DB:-craneflow}
HOST=${HOST:-127.0.0.1} PORT=${PORT:-8000}

ensure_service_clients
ensure_postgres
ensure_redis
ensure_pdf_font
if [ -z "${DATABASE_URL:-}" ]; then
  PG_USER=$(pg_superuser)
  if [ -z "$(psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" ]; then
    log "creating database $PG_DB"
    psql -q -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -c "CREATE DATABASE \"$PG_DB\""
  fi
  DATABASE_URL="postgresql://$PG_USER@$PG_HOST:$PG_PORT/$PG_DB"
fi
export DATABASE_URL HOST PORT
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:$REDIS_PORT/0}
export BACKGROUND=celery
export CRANEFLOW_VAR_DIR=${CRANEFLOW_VAR_DIR:-$PWD/var}
mkdir -p "$CRANEFLOW_VAR_DIR"

log "database: migrations, regions, BPMN catalog"
flask --app web craneflow setup-db
if [ "${DEMO:-1}" = 1 ]; then
  flask --app web craneflow seed-demo
fi
# One key for every process (a generated one would differ between the gunicorn workers).
if [ -z "${SECRET_KEY:-}" ]; then
  SECRET_KEY=$(cat "$CRANEFLOW_VAR_DIR/secret_key")
fi
export SECRET_KEY

cat <<INFO

  CraneFlow production stack: http://$HOST:$PORT/
    web     gunicorn, ${WEB_CONCURRENCY:-3} workers x ${WEB_THREADS:-2} threads (deploy/gunicorn.conf.py)
    worker  celery, ${CELERY_CONCURRENCY:-2} processes, queues craneflow + craneflow.sweep
    beat    celery beat: the sweep every second
    database ${DATABASE_URL}   broker ${REDIS_URL}
INFO
if [ "${DEMO:-1}" = 1 ]; then
  cat <<INFO
  demo accounts (password ${DEMO_PASSWORD:-CraneFlow-demo-2026}):
    owner_wuhan  installer_wuhan  contractor_wuhan  owner_yichang   (enterprises)
    reg_wuhan  reg_wuhan2  reg_yichang  reg_province   (regulators)
    admin_hubei  admin_wuhan   (account administrators)      admin   (BPMN studio)
INFO
fi
printf '  API docs: http://%s:%s/api/docs\n\n' "$HOST" "$PORT"
exec honcho -f deploy/Procfile start -p "$PORT"
