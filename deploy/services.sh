# PostgreSQL and Redis on loopback for the production stack (make prod) and CI (.ci/run), and the
# Chinese font of the PDFs (make setup).
# Source it from bash: it defines functions and defaults only. The services already listening on
# 127.0.0.1:5432 / 6379 are used; where they are absent they are installed from Debian packages
# and started.
: "${PG_HOST:=127.0.0.1}" "${PG_PORT:=5432}" "${REDIS_PORT:=6379}"
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)

log() { printf '\n== %s\n' "$*"; }

apt_install() {
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

ensure_postgres() {
  if pg_isready -q -h "$PG_HOST" -p "$PG_PORT" 2>/dev/null; then return; fi
  log "PostgreSQL not listening on $PG_HOST:$PG_PORT: installing/starting it"
  command -v pg_ctlcluster >/dev/null 2>&1 || apt_install postgresql postgresql-client
  local version; version=$(ls /etc/postgresql | sort -V | tail -1)
  local hba="/etc/postgresql/$version/main/pg_hba.conf"
  # Loopback trust, as on the development machines.
  grep -q "craneflow-ci" "$hba" || $SUDO sed -i "1i host all all 127.0.0.1/32 trust # craneflow-ci\nhost all all ::1/128 trust # craneflow-ci" "$hba"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start || $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  for _ in $(seq 1 30); do pg_isready -q -h "$PG_HOST" -p "$PG_PORT" && return; sleep 1; done
  echo "PostgreSQL did not start" >&2; exit 1
}

ensure_redis() {
  if redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; then return; fi
  log "Redis not listening on 127.0.0.1:$REDIS_PORT: installing/starting it"
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  $SUDO mkdir -p /var/lib/redis /var/log/redis
  $SUDO redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && return; sleep 1; done
  echo "Redis did not start" >&2; exit 1
}

# The client tools the two functions above probe with.
ensure_service_clients() {
  command -v pg_isready >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 || apt_install postgresql-client redis-tools
}

# The TrueType Chinese font the generated PDFs embed (engine/services/pdf_text.py). Not fatal when it
# cannot be installed (no apt, no sudo): the PDFs then use STSong-Light, not embedded, with a warning.
ensure_pdf_font() {
  if [ -n "${PDF_FONT_FILE:-}" ]; then
    [ -f "$PDF_FONT_FILE" ] || echo "warning: PDF_FONT_FILE $PDF_FONT_FILE not found: the PDFs will not embed their Chinese font" >&2
    return 0
  fi
  [ -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] && return
  if command -v apt-get >/dev/null 2>&1; then
    log "installing fonts-wqy-zenhei: the Chinese font embedded in the PDFs"
    (apt_install fonts-wqy-zenhei) && return
  fi
  echo "warning: fonts-wqy-zenhei could not be installed: the PDFs will not embed their Chinese font" >&2
}

pg_superuser() {
  for user in postgres root "$(id -un)"; do
    if psql -h "$PG_HOST" -p "$PG_PORT" -U "$user" -d postgres -Atc 'select 1' >/dev/null 2>&1; then
      echo "$user"; return
    fi
  done
  echo "no PostgreSQL role with trust access on $PG_HOST" >&2; exit 1
}
