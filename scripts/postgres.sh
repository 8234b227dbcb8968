#!/usr/bin/env bash
# Private, throw-away PostgreSQL cluster for Tessera's test suite.
#
#   bash scripts/postgres.sh start   # create (once) + start; prints the URL as the LAST stdout line
#   bash scripts/postgres.sh stop    # stop it if running
#   bash scripts/postgres.sh url     # print the URL
#   bash scripts/postgres.sh status  # exit 0 if our cluster is running
#
# Only the URL goes to stdout; all progress/diagnostics go to stderr, so callers
# can do `URL=$(bash scripts/postgres.sh start | tail -n1)`.
#
# Environment:
#   TESSERA_TEST_DATABASE_URL  if set and `pg_isready -d` accepts it, `start` just prints it.
#   TESSERA_PG_PORT            TCP port on 127.0.0.1 (default 54329).
#   TESSERA_PG_DIR             force the cluster root directory (data/, sock/, server.log inside).
#   TESSERA_PG_BINDIR          force the directory holding initdb/pg_ctl/postgres.
#   TESSERA_PG_USER            OS user that runs the server when we are root.
#
# Where the cluster lives (decided per port, deterministic):
#   1. $TESSERA_PG_DIR if set;
#   2. <repo>/.pg/<port>/ if a cluster already exists there, or if the repo is a
#      suitable home: the server's OS user can traverse to it, the path has no
#      whitespace/quote/comma characters (unix_socket_directories is a
#      comma-separated, quoted setting) and the socket path stays well under the
#      107-byte sun_path limit;
#   3. otherwise /tmp/tessera-pg-<port>/ (e.g. a clone under a 0700 home directory,
#      or a clone made with umask 077 -- the postgres user could not reach .pg).
#   The chosen location is reported on stderr. `stop` looks in both 2 and 3.
#
# Running as root: PostgreSQL refuses to run as root, so initdb/pg_ctl run via
# `runuser -u USER` where USER is $TESSERA_PG_USER, else `postgres` if it exists,
# else a system user `tessera-pg` that we create with useradd -r. The cluster root
# is chowned to that user. As a non-root user, everything runs as yourself.
#
# Auth is `trust` (the server only listens on 127.0.0.1 and on a private socket
# dir); role `tessera` is a LOGIN SUPERUSER without password (tests create/drop
# schemas). Durability is switched off for speed: fsync, synchronous_commit,
# full_page_writes. Never point this at data you care about.
set -euo pipefail

PORT="${TESSERA_PG_PORT:-54329}"
DB_NAME=tessera_test
DB_ROLE=tessera
SUPERUSER=postgres # bootstrap superuser name given to initdb
REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
URL="postgresql://${DB_ROLE}@127.0.0.1:${PORT}/${DB_NAME}"
READY_TIMEOUT=20

log() { printf '[postgres.sh] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ "$PORT" =~ ^[0-9]+$ ]] || die "TESSERA_PG_PORT must be a number, got '$PORT'"

# ---------------------------------------------------------------- binaries
find_bindir() {
  local d
  if [[ -n "${TESSERA_PG_BINDIR:-}" ]]; then
    [[ -x "$TESSERA_PG_BINDIR/initdb" ]] || die "TESSERA_PG_BINDIR=$TESSERA_PG_BINDIR has no initdb"
    echo "$TESSERA_PG_BINDIR"; return
  fi
  # pg_config may come from libpq-dev of a version without server binaries: check for initdb.
  if command -v pg_config >/dev/null 2>&1; then
    d="$(pg_config --bindir 2>/dev/null || true)"
    if [[ -n "$d" && -x "$d/initdb" && -x "$d/pg_ctl" ]]; then echo "$d"; return; fi
  fi
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
  if [[ -n "$d" && -x "$d/initdb" ]]; then echo "$d"; return; fi
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return; fi
  return 1
}

# ---------------------------------------------------------------- OS user
IS_ROOT=0
[[ "$(id -u)" == 0 ]] && IS_ROOT=1

pick_os_user() {
  if [[ $IS_ROOT == 0 ]]; then id -un; return; fi
  if [[ -n "${TESSERA_PG_USER:-}" ]]; then echo "$TESSERA_PG_USER"; return; fi
  if id -u postgres >/dev/null 2>&1; then echo postgres; return; fi
  echo tessera-pg
}
OS_USER="$(pick_os_user)"

ensure_os_user() {
  [[ $IS_ROOT == 1 ]] || return 0
  id -u "$OS_USER" >/dev/null 2>&1 && return 0
  log "creating system user $OS_USER"
  useradd -r -M -d /nonexistent -s /usr/sbin/nologin -c 'Tessera test PostgreSQL' "$OS_USER" \
    || useradd -r -M -d /nonexistent -s /bin/false "$OS_USER" \
    || die "could not create system user $OS_USER"
}

# Run a command as the cluster's OS user. fd 9 (our flock) is closed so that the
# postmaster started by pg_ctl does not inherit -- and hold forever -- the lock.
as_pg() {
  if [[ $IS_ROOT == 1 ]]; then runuser -u "$OS_USER" -- "$@"; else "$@"; fi
} 9>&-

# ---------------------------------------------------------------- location
LOCAL_ROOT="$REPO_DIR/.pg/$PORT"
TMP_ROOT="/tmp/tessera-pg-$PORT"

local_is_suitable() {
  # No characters that would need quoting inside unix_socket_directories.
  [[ "$REPO_DIR" =~ [[:space:]\'\",\\] ]] && return 1
  # sun_path is 107 bytes; keep a margin.
  local sock="$LOCAL_ROOT/sock/.s.PGSQL.$PORT"
  (( ${#sock} < 100 )) || return 1
  # The server's user must be able to traverse every ancestor of the repo.
  if [[ $IS_ROOT == 1 ]]; then
    id -u "$OS_USER" >/dev/null 2>&1 || return 0 # not created yet: decided again after creation
    as_pg test -x "$REPO_DIR" 2>/dev/null || return 1
  fi
  [[ -w "$REPO_DIR" ]] || return 1
  return 0
}

resolve_root() {
  if [[ -n "${TESSERA_PG_DIR:-}" ]]; then echo "$TESSERA_PG_DIR"; return; fi
  if [[ -f "$LOCAL_ROOT/data/PG_VERSION" ]] && local_is_suitable; then echo "$LOCAL_ROOT"; return; fi
  if [[ -f "$TMP_ROOT/data/PG_VERSION" ]]; then echo "$TMP_ROOT"; return; fi
  if local_is_suitable; then echo "$LOCAL_ROOT"; else echo "$TMP_ROOT"; fi
}

# ---------------------------------------------------------------- helpers
is_running() { # $1 = root
  [[ -f "$1/data/PG_VERSION" ]] || return 1
  as_pg "$BINDIR/pg_ctl" -D "$1/data" status >/dev/null 2>&1
}

port_accepting() {
  "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PORT" -t 2 >/dev/null 2>&1
}

wait_ready() { # $1 = root
  local i
  for ((i = 0; i < READY_TIMEOUT * 4; i++)); do
    "$BINDIR/pg_isready" -q -h "$1/sock" -p "$PORT" -t 1 >/dev/null 2>&1 && return 0
    sleep 0.25
  done
  return 1
}

psql_super() { # $1 = root, rest = psql args
  local root="$1"; shift
  PGCONNECT_TIMEOUT=5 "$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$root/sock" -p "$PORT" -U "$SUPERUSER" -d postgres "$@"
}

ensure_db() { # $1 = root
  local root="$1"
  psql_super "$root" <<SQL
SELECT 'CREATE ROLE ${DB_ROLE} LOGIN SUPERUSER'
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${DB_ROLE}')
\\gexec
SELECT 'CREATE DATABASE ${DB_NAME} OWNER ${DB_ROLE} ENCODING ''UTF8'' TEMPLATE template0'
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '${DB_NAME}')
\\gexec
SQL
}

init_cluster() { # $1 = root
  local root="$1" group
  log "initialising cluster in $root/data ($("$BINDIR/postgres" --version), OS user $OS_USER)"
  if [[ "$root" == "$LOCAL_ROOT" ]]; then
    install -d -m 0755 "$REPO_DIR/.pg" # must be traversable by $OS_USER whatever the umask
  fi
  mkdir -p "$root"
  chmod 0700 "$root"
  if [[ $IS_ROOT == 1 ]]; then
    group="$(id -gn "$OS_USER")"
    chown -R "$OS_USER:$group" "$root" || die "cannot chown $root to $OS_USER"
  fi
  as_pg mkdir -p "$root/sock"
  # Leftovers of a half-finished init: start over.
  if [[ -d "$root/data" && ! -f "$root/data/PG_VERSION" ]]; then rm -rf "$root/data"; fi
  as_pg "$BINDIR/initdb" -D "$root/data" -U "$SUPERUSER" --auth=trust -E UTF8 --locale=C --no-sync \
    >"$root/initdb.log" 2>&1 || { cat "$root/initdb.log" >&2; die "initdb failed"; }
  as_pg tee -a "$root/data/postgresql.conf" >/dev/null <<CONF

# ---- tessera test cluster (scripts/postgres.sh) ----
listen_addresses = '127.0.0.1'
port = ${PORT}
unix_socket_directories = '${root}/sock'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
log_min_error_statement = panic
CONF
}

# ---------------------------------------------------------------- commands
cmd_start() {
  if [[ -n "${TESSERA_TEST_DATABASE_URL:-}" ]]; then
    local isready bindir
    bindir="$(find_bindir 2>/dev/null)" || true
    if [[ -n "$bindir" && -x "$bindir/pg_isready" ]]; then isready="$bindir/pg_isready"; else isready="pg_isready"; fi
    if "$isready" -q -t 5 -d "$TESSERA_TEST_DATABASE_URL" >/dev/null 2>&1; then
      log "using TESSERA_TEST_DATABASE_URL (reachable)"
      echo "$TESSERA_TEST_DATABASE_URL"
      return 0
    fi
    log "TESSERA_TEST_DATABASE_URL is set but not reachable; starting the private cluster instead"
  fi

  BINDIR="$(find_bindir)" || die "PostgreSQL server binaries not found (looked at pg_config --bindir, /usr/lib/postgresql/*/bin, PATH); set TESSERA_PG_BINDIR"
  # Serialise concurrent `start`s (parallel test runs) on the same port. Best effort.
  local lock="/tmp/tessera-pg-$PORT.lock"
  if command -v flock >/dev/null 2>&1 && { exec 9>>"$lock"; } 2>/dev/null; then
    chmod 0666 "$lock" 2>/dev/null || true
    flock -w 60 9 || die "timed out waiting for $lock"
  fi

  ensure_os_user
  local root; root="$(resolve_root)"
  if [[ -z "${TESSERA_PG_DIR:-}" && "$root" == "$TMP_ROOT" ]]; then
    log "note: $REPO_DIR is not a usable home for the cluster (not traversable by $OS_USER, odd characters or too long a socket path); using $TMP_ROOT"
  fi

  if is_running "$root"; then
    log "already running ($root)"
  else
    if port_accepting; then
      # Someone else (another checkout's cluster, a system server) owns the port.
      if PGCONNECT_TIMEOUT=5 "$BINDIR/psql" -X -q -d "$URL" -c 'select 1' >/dev/null 2>&1; then
        log "port $PORT is served by another PostgreSQL that accepts $URL; reusing it"
        echo "$URL"; return 0
      fi
      die "port $PORT on 127.0.0.1 is in use by something else; set TESSERA_PG_PORT to a free port"
    fi
    [[ -f "$root/data/PG_VERSION" ]] || init_cluster "$root"
    log "starting cluster in $root on 127.0.0.1:$PORT"
    if ! as_pg "$BINDIR/pg_ctl" -D "$root/data" -l "$root/server.log" -w -t "$READY_TIMEOUT" start >/dev/null; then
      tail -n 30 "$root/server.log" >&2 || true
      die "pg_ctl start failed (log: $root/server.log)"
    fi
  fi
  wait_ready "$root" || { tail -n 30 "$root/server.log" >&2 || true; die "server not ready after ${READY_TIMEOUT}s"; }
  ensure_db "$root" || die "could not create role/database"
  echo "$URL"
}

cmd_stop() {
  BINDIR="$(find_bindir)" || die "PostgreSQL server binaries not found"
  local root stopped=0
  id -u "$OS_USER" >/dev/null 2>&1 || { log "not running"; return 0; }
  for root in ${TESSERA_PG_DIR:+"$TESSERA_PG_DIR"} "$LOCAL_ROOT" "$TMP_ROOT"; do
    if is_running "$root"; then
      log "stopping cluster in $root"
      as_pg "$BINDIR/pg_ctl" -D "$root/data" -m fast -w -t 30 stop >/dev/null
      stopped=1
    fi
  done
  [[ $stopped == 1 ]] || log "not running"
}

cmd_status() {
  BINDIR="$(find_bindir)" || die "PostgreSQL server binaries not found"
  id -u "$OS_USER" >/dev/null 2>&1 || { log "not running"; return 1; }
  local root; root="$(resolve_root)"
  if is_running "$root"; then log "running ($root) - $URL"; return 0; fi
  log "not running ($root)"; return 1
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  url) echo "$URL" ;;
  status) cmd_status ;;
  *) echo "usage: $0 start|stop|url|status" >&2; exit 2 ;;
esac
