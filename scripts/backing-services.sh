#!/usr/bin/env bash
# Installs (if missing) and starts the backing services the fleet and the tests need, all on
# 127.0.0.1 with fixed ports. Idempotent: a service that already answers its protocol is left alone.
#
#   scripts/backing-services.sh [up]    install what is missing, start what is down, wait until ready
#   scripts/backing-services.sh down    stop what this script started (no-op if nothing runs)
#   scripts/backing-services.sh status  up/down per service; exit 1 unless all are up
#   scripts/backing-services.sh install only install the binaries (nothing is started)
#
#   service      port(s) on 127.0.0.1                 installed from
#   NATS         4222 client, 8222 monitoring (http)  go install nats-server/v2@latest (>= 2.12.3), -js
#   PostgreSQL   5433 (FerretDB's backend; not 5432,  Debian postgresql (apt); a cluster of its own,
#                so as not to meet a system cluster)  run as the postgres user, fsync on
#   FerretDB     27017 MongoDB wire, 28088 debug http FerretDB v1.24.2 Go module (built, see below)
#   Redis        6379                                 Debian redis-server (apt), append-only file on
#   stripe-mock  12111 http, 12112 https              go install stripe-mock@latest
#   (nginx, the local ingress, is only installed here, from Debian's nginx-light; its users start it)
#
# FerretDB stores into that PostgreSQL (role and database `ferretdb`; each MongoDB database is a
# schema in it). FERRETDB_BACKEND=sqlite selects FerretDB's SQLite backend instead (no PostgreSQL
# then; measured here at 16 concurrent clients: inserts ~1.7x and reads by _id in a collection of
# 10,000 documents ~8x slower). The two keep separate data: switching does not carry documents over. A FerretDB that runs with another backend than the selected one (an older
# version of this script started SQLite ones) is restarted with the selected one.
# FerretDB reads with `_jsonb->'field' @> value`, which its own btree indexes cannot answer, so
# infra/local/postgres-gin-mirror.sql (an event trigger, installed on every `up`) gives each index
# it creates a GIN twin that can: lookups by an indexed field at 10,000 documents ~4-6x faster.
#
# State: $TICKETING_STATE_DIR (default <repo>/.run):
#   nats/       JetStream file store          redis/     appendonly.aof
#   postgres/   data/ (the cluster) and socket/, owned by the postgres user
#   ferretdb/   FerretDB's state; with sqlite, one SQLite file per database
#   logs/       <service>.log, install-<service>.log, postgres-setup.log
#   pids/       <service>.pid (what `down` stops), ferretdb.backend (what FerretDB was started with)
# Go binaries go to $(go env GOBIN), else $(go env GOPATH)/bin; that need not be on PATH.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
STATE_DIR=${TICKETING_STATE_DIR:-$ROOT/.run}
[[ $STATE_DIR == /* ]] || STATE_DIR=$ROOT/$STATE_DIR
LOGS=$STATE_DIR/logs
PIDS=$STATE_DIR/pids

NATS_PORT=4222 NATS_HTTP_PORT=8222
PG_PORT=5433
FERRETDB_PORT=27017 FERRETDB_DEBUG_PORT=28088
REDIS_PORT=6379
STRIPE_PORT=12111 STRIPE_HTTPS_PORT=12112

NATS_MIN_VERSION=2.12.3
FERRETDB_VERSION=v1.24.2
READY_TIMEOUT=30 # seconds, per service

FERRETDB_BACKEND=${FERRETDB_BACKEND:-postgresql}
PG_DIR=$STATE_DIR/postgres
PG_DATA=$PG_DIR/data
PG_SOCKET_DIR=$PG_DIR/socket
PG_ROLE=ferretdb PG_DATABASE=ferretdb
# FerretDB keeps one pool of connections per MongoDB user; the tests and the fleet connect without
# credentials, so all of them share this one (50 is FerretDB's default, pinned here because
# max_connections below is sized by it).
FERRETDB_PG_POOL=50
FERRETDB_PG_URL="postgres://$PG_ROLE@127.0.0.1:$PG_PORT/$PG_DATABASE?pool_max_conns=$FERRETDB_PG_POOL"

say() { printf '  %-12s %s\n' "$1" "$2"; }
die() { printf 'backing-services: %s\n' "$*" >&2; exit 1; }

case $FERRETDB_BACKEND in
  postgresql)
    SERVICES=(nats postgres ferretdb redis stripe-mock)
    FERRETDB_BACKEND_ARGS=(--handler=postgresql "--postgresql-url=$FERRETDB_PG_URL")
    ;;
  sqlite)
    SERVICES=(nats ferretdb redis stripe-mock)
    FERRETDB_BACKEND_ARGS=(--handler=sqlite "--sqlite-url=file:$STATE_DIR/ferretdb/")
    ;;
  *) die "FERRETDB_BACKEND is '$FERRETDB_BACKEND'; it must be postgresql (the default) or sqlite" ;;
esac

# --- PATH and Go ------------------------------------------------------------------------------
# nginx lands in /usr/sbin; the Go tarball in /usr/local/go. A non-login shell may lack either.
for dir in /usr/sbin /sbin /usr/local/go/bin; do
  [[ :$PATH: == *:$dir:* ]] || PATH=$PATH:$dir
done
if command -v go >/dev/null 2>&1; then
  GO_BIN_DIR=$(go env GOBIN)
  GO_BIN_DIR=${GO_BIN_DIR:-$(go env GOPATH)/bin}
else
  GO_BIN_DIR=${GOBIN:-${GOPATH:-$HOME/go}/bin}
fi
need_go() { command -v go >/dev/null 2>&1 || die "Go is needed to install $1 (no 'go' on PATH)"; }

# --- PostgreSQL binaries and user -----------------------------------------------------------------
# Debian's server binaries live in /usr/lib/postgresql/<major>/bin, off PATH. A cluster only runs
# under the major version that made it (PG_VERSION in it); a new cluster takes the newest installed.
pg_bin_dir() {
  local dir
  if [[ -f $PG_DATA/PG_VERSION ]]; then
    dir=/usr/lib/postgresql/$(<"$PG_DATA/PG_VERSION")/bin
  else
    dir=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n1)
  fi
  [[ -x $dir/postgres ]] && echo "$dir"
}

# PostgreSQL refuses to run as root, so as root its programs run as the postgres user that Debian's
# package creates. setpriv execs the program (its pid is the server's own); runuser would stay in
# between as the parent, and our pid file and signals would reach runuser instead.
AS_PG=()
((EUID != 0)) || AS_PG=(setpriv --reuid=postgres --regid=postgres --init-groups --)
as_pg() { "${AS_PG[@]}" "$@"; }

# --- probes: does the service really answer its protocol? --------------------------------------
tcp_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
http_ok() { curl -fsS --max-time 2 -o /dev/null "$1" 2>/dev/null; }

nats_up() { http_ok "http://127.0.0.1:$NATS_HTTP_PORT/healthz?js-enabled-only=true"; }
postgres_up() {
  local bin
  bin=$(pg_bin_dir) && "$bin/pg_isready" -q -t 2 -h 127.0.0.1 -p "$PG_PORT" -U "$PG_ROLE" -d "$PG_DATABASE"
}
ferretdb_up() { tcp_open "$FERRETDB_PORT" && http_ok "http://127.0.0.1:$FERRETDB_DEBUG_PORT/debug/readyz"; }
redis_up() {
  local reply
  reply=$(timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$REDIS_PORT; printf 'PING\r\n' >&3; head -c 5 <&3" 2>/dev/null) &&
    [[ $reply == +PONG ]]
}
stripe_up() {
  curl -sS --max-time 2 -o /dev/null -D - -u sk_test_123: "http://127.0.0.1:$STRIPE_PORT/v1/charges" 2>/dev/null |
    grep -qi '^stripe-mock-version:'
}

# is_up NAME: does NAME answer its protocol on its port?
is_up() {
  case $1 in
    nats) nats_up ;;
    postgres) postgres_up ;;
    ferretdb) ferretdb_up ;;
    redis) redis_up ;;
    stripe-mock) stripe_up ;;
  esac
}

ports_of() {
  case $1 in
    nats) echo "$NATS_PORT $NATS_HTTP_PORT" ;;
    postgres) echo "$PG_PORT" ;;
    ferretdb) echo "$FERRETDB_PORT $FERRETDB_DEBUG_PORT" ;;
    redis) echo "$REDIS_PORT" ;;
    stripe-mock) echo "$STRIPE_PORT $STRIPE_HTTPS_PORT" ;;
  esac
}

address_of() {
  case $1 in
    nats) echo "nats://127.0.0.1:$NATS_PORT (monitoring http://127.0.0.1:$NATS_HTTP_PORT)" ;;
    postgres) echo "postgres://$PG_ROLE@127.0.0.1:$PG_PORT/$PG_DATABASE (data $PG_DATA)" ;;
    ferretdb) echo "mongodb://127.0.0.1:$FERRETDB_PORT (debug http://127.0.0.1:$FERRETDB_DEBUG_PORT, $FERRETDB_BACKEND backend)" ;;
    redis) echo "redis://127.0.0.1:$REDIS_PORT" ;;
    stripe-mock) echo "http://127.0.0.1:$STRIPE_PORT (https 127.0.0.1:$STRIPE_HTTPS_PORT)" ;;
  esac
}

# The pid of whatever listens on a TCP port, if ss can tell.
port_pid() {
  local line
  line=$(ss -Hltnp "sport = :$1" 2>/dev/null | head -n1) || true
  [[ $line =~ \(\(\"[^\"]+\",pid=([0-9]+) ]] && echo "${BASH_REMATCH[1]}"
}

# "pid 123 (name)" of whatever listens on a TCP port, if ss can tell.
port_owner() {
  local line
  line=$(ss -Hltnp "sport = :$1" 2>/dev/null | head -n1) || true
  if [[ $line =~ \(\(\"([^\"]+)\",pid=([0-9]+) ]]; then
    echo "pid ${BASH_REMATCH[2]} (${BASH_REMATCH[1]})"
  else
    echo "an unknown process"
  fi
}

# Fails (with a message) if one of the service's ports is held while the service does not answer.
check_ports_free() {
  local name=$1 port
  for port in $(ports_of "$name"); do
    if tcp_open "$port"; then
      die "$name: port $port is in use by $(port_owner "$port"), which does not answer as $name; free the port and retry"
    fi
  done
}

# --- pid files ----------------------------------------------------------------------------------
# Is the process running? A zombie is not: our services are reparented to PID 1 when this script
# exits, and a PID 1 that reaps late would keep `kill -0` succeeding for seconds after they exit.
alive() {
  kill -0 "$1" 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# pid_runs PID TEXT: is PID alive, with TEXT in its command line?
pid_runs() {
  [[ $1 =~ ^[0-9]+$ ]] && alive "$1" && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$2"
}

# The pid from $name's pid file if that process is alive and still runs the expected binary.
# For PostgreSQL, its own postmaster.pid counts too (our pid file lost, a server started by hand):
# what matters is that the process serves our data directory.
live_pid() {
  local name=$1 binary=$1 pid_files=("$PIDS/$1.pid") pid_file pid
  [[ $name == nats ]] && binary=nats-server
  [[ $name == redis ]] && binary=redis-server
  [[ $name == postgres ]] && binary="-D $PG_DATA" pid_files+=("$PG_DATA/postmaster.pid")
  for pid_file in "${pid_files[@]}"; do
    pid=$(head -n1 "$pid_file" 2>/dev/null) || continue
    if pid_runs "$pid" "$binary"; then
      echo "$pid"
      return 0
    fi
  done
  return 1
}

# --- installs -----------------------------------------------------------------------------------
# run_step WHAT LOG DESCRIPTION COMMAND...: runs COMMAND with its output appended to LOG; on
# failure shows the end of LOG and dies naming WHAT, the step and the log.
run_step() {
  local what=$1 log=$2 step=$3
  shift 3
  printf '\n=== %s %s: %s\n' "$(date '+%F %T')" "$step" "$*" >>"$log"
  if ! "$@" >>"$log" 2>&1; then
    printf -- '--- last lines of %s:\n' "$log" >&2
    tail -n 30 "$log" >&2
    die "$what: $step failed (command: $*; full output: $log)"
  fi
}

# Runs an install step with its output in $LOGS/install-$what.log; on failure says which step and why.
install_step() {
  local what=$1 log=$LOGS/install-$1.log start
  shift
  start=$SECONDS
  say "$what" "installing: $*"
  : >"$log"
  run_step "$what" "$log" "installing" "$@"
  say "$what" "installed in $((SECONDS - start)) s"
}

version_at_least() { [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" == "$2" ]]; }
nats_version() { "$GO_BIN_DIR/nats-server" --version 2>/dev/null | sed -n 's/.*v\([0-9][0-9.]*\).*/\1/p'; }

install_nats() {
  local version
  if [[ -x $GO_BIN_DIR/nats-server ]] && version_at_least "$(nats_version)" "$NATS_MIN_VERSION"; then return; fi
  need_go nats-server
  install_step nats go install github.com/nats-io/nats-server/v2@latest
  version=$(nats_version)
  version_at_least "$version" "$NATS_MIN_VERSION" ||
    die "nats-server ${version:-(unknown version)} from @latest is older than the required $NATS_MIN_VERSION"
}

install_stripe_mock() {
  if [[ -x $GO_BIN_DIR/stripe-mock ]]; then return; fi
  need_go stripe-mock
  install_step stripe-mock go install github.com/stripe/stripe-mock@latest
}

# A plain `go install .../cmd/ferretdb@v1.24.2` builds a binary that panics at start
# ("Invalid build/version/version.txt"): that file is generated by FerretDB's own build and is
# not in the module. So build from a copy of the module source with the file written.
build_ferretdb() {
  local src work
  src=$(go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  [[ -d $src ]] || { echo "module source directory not found after go mod download"; return 1; }
  work=$(mktemp -d)
  cp -r "$src/." "$work" && chmod -R u+w "$work"
  echo "$FERRETDB_VERSION" >"$work/build/version/version.txt"
  if ! (cd "$work" && go build -o "$GO_BIN_DIR/ferretdb" ./cmd/ferretdb); then
    rm -rf "$work"
    return 1
  fi
  rm -rf "$work"
  "$GO_BIN_DIR/ferretdb" --version
}

# (Not `ferretdb --version | grep -q`: grep quits at the match, FerretDB's next line then dies of
# SIGPIPE, pipefail fails the test about one time in three, and FerretDB was rebuilt for nothing.)
install_ferretdb() {
  if grep -qx "version: $FERRETDB_VERSION" <<<"$("$GO_BIN_DIR/ferretdb" --version 2>/dev/null)"; then return; fi
  need_go FerretDB
  mkdir -p "$GO_BIN_DIR"
  install_step ferretdb build_ferretdb
}

# apt_install PACKAGE: apt-get update only when needed: apt does not know the package yet (fresh
# image, empty lists), or the install fails (lists too old for the mirror); then once, and retry.
apt_install() {
  local apt=(apt-get -o DPkg::Lock::Timeout=120 -y)
  apt-cache show "$1" >/dev/null 2>&1 || "${apt[@]}" update
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install --no-install-recommends "$1" && return
  echo "--- install failed; running apt-get update and retrying"
  "${apt[@]}" update
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install --no-install-recommends "$1"
}

# install_deb NAME COMMAND PACKAGE: installs PACKAGE with apt unless COMMAND is already there.
install_deb() {
  if command -v "$2" >/dev/null 2>&1; then return; fi
  [[ $EUID -eq 0 ]] || die "$2 is missing; install it with: sudo apt-get install -y $3"
  install_step "$1" apt_install "$3"
}

install_redis() { install_deb redis redis-server redis-server; }

# nginx is the fleet's local ingress and the end-to-end tests' too: installed here, started by them.
install_nginx() { install_deb nginx nginx nginx-light; }

# Debian's postgresql (the newest major version it ships). Its package also creates and starts a
# cluster of its own on 5432; that one is the system's, not used or touched here.
install_postgres() {
  local any
  any=$(printf '%s\n' /usr/lib/postgresql/*/bin/postgres | tail -n1)
  if [[ -x $any ]]; then return; fi
  [[ $EUID -eq 0 ]] || die "PostgreSQL is missing; install it with: sudo apt-get install -y postgresql"
  install_step postgres apt_install postgresql
}

install_all() {
  install_nats
  [[ $FERRETDB_BACKEND == postgresql ]] && install_postgres
  install_ferretdb
  install_redis
  install_stripe_mock
  install_nginx
}

# --- start --------------------------------------------------------------------------------------
# Starts "$@" in its own session (it outlives this shell), logging to $LOGS/$name.log.
launch() {
  local name=$1
  shift
  printf '\n=== %s starting: %s\n' "$(date '+%F %T')" "$*" >>"$LOGS/$name.log"
  setsid nohup "$@" >>"$LOGS/$name.log" 2>&1 </dev/null 9>&- &
  echo $! >"$PIDS/$name.pid"
}

# Waits for the service's probe; fails early if the process died, with the end of its log.
wait_ready() {
  local name=$1 pid deadline=$((SECONDS + READY_TIMEOUT))
  pid=$(<"$PIDS/$name.pid")
  until is_up "$name"; do
    if ! alive "$pid"; then
      fail_start "$name" "exited during start-up"
    fi
    ((SECONDS < deadline)) || fail_start "$name" "did not become ready within $READY_TIMEOUT s"
    sleep 0.2
  done
}

fail_start() {
  printf -- '--- last lines of %s:\n' "$LOGS/$1.log" >&2
  tail -n 25 "$LOGS/$1.log" >&2 || true
  die "$1 $2 (log: $LOGS/$1.log)"
}

run_nats() {
  mkdir -p "$STATE_DIR/nats"
  launch nats "$GO_BIN_DIR/nats-server" -a 127.0.0.1 -p "$NATS_PORT" -m "$NATS_HTTP_PORT" \
    -js -sd "$STATE_DIR/nats" -n ticketing-local
}

# The cluster's directory belongs to the server's user, and every directory above it must let that
# user through: a state dir under /root, say, does not.
prepare_postgres_dir() {
  local log=$1
  mkdir -p "$PG_DIR"
  if ((EUID == 0)); then
    id -u postgres >/dev/null 2>&1 || die "postgres: no 'postgres' user (Debian's postgresql package creates it); reinstall postgresql-common"
    chown postgres:postgres "$PG_DIR"
  fi
  as_pg test -w "$PG_DIR" -a -x "$PG_DIR" ||
    die "postgres: the postgres user cannot write to $PG_DIR (is a directory above it closed to other users?); set TICKETING_STATE_DIR to a place it can reach"
  # A Unix socket's path is limited to 107 bytes.
  ((${#PG_SOCKET_DIR} + 14 <= 107)) ||
    die "postgres: the socket path under $PG_SOCKET_DIR would be longer than 107 bytes; set a shorter TICKETING_STATE_DIR"
  as_pg mkdir -p -m 0700 "$PG_SOCKET_DIR" || die "postgres: creating $PG_SOCKET_DIR as the postgres user failed"
  [[ -f $PG_DATA/PG_VERSION ]] && return
  # initdb into a side directory renamed when complete: an interrupted one is simply redone.
  # FerretDB needs UTF8 and a C (or en_US.UTF8) locale. Local logins are the OS user's own role.
  say postgres "creating the cluster in $PG_DATA"
  as_pg rm -rf "$PG_DATA.initdb"
  run_step postgres "$log" "initialising the cluster (initdb)" as_pg "$2/initdb" -D "$PG_DATA.initdb" \
    --encoding=UTF8 --locale=C --auth-local=peer --auth-host=reject
  run_step postgres "$log" "moving the new cluster into place" as_pg mv "$PG_DATA.initdb" "$PG_DATA"
}

# Written at every start, so that it follows this script: the server's own user over the socket
# (the directory is closed to others); FerretDB's role, and only it, over TCP from 127.0.0.1
# without a password, like FerretDB itself on 27017.
write_pg_hba() {
  as_pg tee "$PG_DATA/pg_hba.conf" >/dev/null <<EOF
# Written by scripts/backing-services.sh at every start; edits are lost.
local all  all          peer
host  $PG_DATABASE $PG_ROLE 127.0.0.1/32 trust
EOF
}

# Settings (on the command line, so a restart applies what this script says):
# - fsync, synchronous_commit and full_page_writes on: a write FerretDB acknowledged is on disk,
#   so a crash (of PostgreSQL or the machine) loses nothing acknowledged. synchronous_commit=off
#   would be faster and lose the last fraction of a second of them. Concurrent commits can share
#   one WAL flush (group commit), so parallel tests need not pay one flush each.
# - max_connections 100: FerretDB's pool holds at most $FERRETDB_PG_POOL; every test database is a
#   schema in the one database `ferretdb`, so parallel tests share that pool rather than add
#   connections. The rest leaves room for psql or a second FerretDB; more would only add processes
#   competing for a few cores.
# - shared_buffers 256MB (default 128MB): the catalogue and the hot tables of many small test
#   databases stay in memory, at a cost a development machine can afford.
# - jit off: compiling a plan with LLVM takes longer than the queries FerretDB sends; it would only
#   kick in on scans of large collections, adding tens of milliseconds to them.
run_postgres() {
  local bin version old
  if ! bin=$(pg_bin_dir); then
    version=$(cat "$PG_DATA/PG_VERSION" 2>/dev/null) || die "postgres: no PostgreSQL server binaries in /usr/lib/postgresql/*/bin"
    die "postgres: the cluster in $PG_DATA was made by PostgreSQL $version, which is not installed; apt-get install postgresql-$version, or move $PG_DATA away to start an empty one"
  fi
  prepare_postgres_dir "$LOGS/postgres-setup.log" "$bin"
  write_pg_hba || die "postgres: writing $PG_DATA/pg_hba.conf failed"
  # A server that was killed stays a zombie until PID 1 reaps it, and PostgreSQL will not start
  # while the pid in postmaster.pid exists (nor may that file be deleted: it also guards against
  # orphaned server processes). So wait for the old pid to go.
  old=$(head -n1 "$PG_DATA/postmaster.pid" 2>/dev/null) || true
  if [[ $old =~ ^[0-9]+$ ]]; then
    for _ in $(seq 1 150); do
      kill -0 "$old" 2>/dev/null || break
      sleep 0.2
    done
  fi
  launch postgres "${AS_PG[@]}" "$bin/postgres" -D "$PG_DATA" \
    -c listen_addresses=127.0.0.1 -c port="$PG_PORT" -c unix_socket_directories="$PG_SOCKET_DIR" \
    -c fsync=on -c synchronous_commit=on -c full_page_writes=on \
    -c max_connections=100 -c shared_buffers=256MB -c jit=off
}

# psql as the server's own user over its socket, stopping at the first error.
pg_admin() {
  as_pg "$(pg_bin_dir)/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$PG_PORT" -d postgres "$@"
}

# Idempotent: the role and the database FerretDB uses, then a login as FerretDB makes one.
setup_postgres() {
  local log=$LOGS/postgres-setup.log
  run_step postgres "$log" "creating role and database $PG_DATABASE" pg_admin <<EOF
SELECT 'CREATE ROLE $PG_ROLE LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_ROLE')
\gexec
SELECT 'CREATE DATABASE $PG_DATABASE OWNER $PG_ROLE' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$PG_DATABASE')
\gexec
EOF
  run_step postgres "$log" "logging in as FerretDB does ($PG_ROLE@127.0.0.1:$PG_PORT/$PG_DATABASE)" ferretdb_login
  setup_gin_mirror
}

# Idempotent: the event trigger that gives FerretDB's indexes a twin its queries can use.
setup_gin_mirror() {
  run_step postgres "$LOGS/postgres-setup.log" "indexes FerretDB can read with (infra/local/postgres-gin-mirror.sql)" \
    pg_admin -d "$PG_DATABASE" -f - <"$ROOT/infra/local/postgres-gin-mirror.sql"
}

# A login as FerretDB makes one: TCP, role and database ferretdb, no password.
ferretdb_login() {
  "$(pg_bin_dir)/psql" -X -q -tA -v ON_ERROR_STOP=1 -c 'SELECT 1' \
    "host=127.0.0.1 port=$PG_PORT user=$PG_ROLE dbname=$PG_DATABASE connect_timeout=5"
}

# A PostgreSQL answers on our port. Ours: make sure FerretDB can log in (a run interrupted before
# setup_postgres finished left no role). Another one: usable only if it lets FerretDB in.
check_running_postgres() {
  local log=$LOGS/postgres-setup.log
  if ferretdb_login >/dev/null 2>&1; then
    if live_pid postgres >/dev/null; then setup_gin_mirror; fi
    return
  fi
  if live_pid postgres >/dev/null; then
    setup_postgres
  elif ! ferretdb_login >>"$log" 2>&1; then
    die "postgres: the PostgreSQL on :$PG_PORT ($(port_owner "$PG_PORT")) is not this script's cluster and does not let role $PG_ROLE into database $PG_DATABASE; stop it and retry (details: $log)"
  fi
}

# The backend flags are recorded next to the pid file: `up` restarts a FerretDB started with others.
run_ferretdb() {
  mkdir -p "$STATE_DIR/ferretdb"
  launch ferretdb "$GO_BIN_DIR/ferretdb" "${FERRETDB_BACKEND_ARGS[@]}" \
    --state-dir="$STATE_DIR/ferretdb" --listen-addr="127.0.0.1:$FERRETDB_PORT" \
    --debug-addr="127.0.0.1:$FERRETDB_DEBUG_PORT" --telemetry=disable --log-level=warn
  echo "${FERRETDB_BACKEND_ARGS[*]}" >"$PIDS/ferretdb.backend"
}

# The backend of the FerretDB answering on our port, from its metrics: each backend exports its
# own (ferretdb_postgresql_*, ferretdb_sqlite_*). Empty if they do not say.
ferretdb_metrics_backend() {
  local metrics
  metrics=$(curl -fsS --max-time 2 "http://127.0.0.1:$FERRETDB_DEBUG_PORT/debug/metrics" 2>/dev/null) || return 0
  if [[ $metrics =~ (^|$'\n')ferretdb_(postgresql|sqlite)_ ]]; then echo "${BASH_REMATCH[2]}"; fi
}

# A FerretDB is up: is it started with what this script would start it with? If not, it is
# stopped (and 1 returned) so that the configured one starts in its place.
keep_running_ferretdb() {
  local pid recorded backend
  if pid=$(live_pid ferretdb); then
    recorded=$(cat "$PIDS/ferretdb.backend" 2>/dev/null) || true
    [[ $recorded == "${FERRETDB_BACKEND_ARGS[*]}" ]] && return 0
    backend=$(ferretdb_metrics_backend)
    say ferretdb "runs on the ${backend:-unknown} backend (pid $pid, ${recorded:+started with }${recorded:-started by an older version of this script}); restarting it on $FERRETDB_BACKEND"
    stop ferretdb
    return 1
  fi
  backend=$(ferretdb_metrics_backend)
  if [[ $backend == "$FERRETDB_BACKEND" ]]; then
    say ferretdb "already up ($backend backend; not started by this script, so its settings are not checked)"
    return 0
  fi
  if ! pid=$(port_pid "$FERRETDB_PORT") || ! pid_runs "$pid" ferretdb; then
    die "ferretdb: the FerretDB on :$FERRETDB_PORT runs on the ${backend:-unknown} backend, not $FERRETDB_BACKEND, and was not started by this script; stop $(port_owner "$FERRETDB_PORT") and retry"
  fi
  say ferretdb "a FerretDB not started by this script (pid $pid) runs on the ${backend:-unknown} backend; stopping it to start one on $FERRETDB_BACKEND"
  stop_pid ferretdb "$pid" TERM 50 KILL
  return 1
}

run_redis() {
  mkdir -p "$STATE_DIR/redis"
  launch redis redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$STATE_DIR/redis" \
    --appendonly yes --save '' --daemonize no
}

run_stripe_mock() {
  # Given only an HTTP address it still opens HTTPS on *:12112, so pin that to loopback too.
  launch stripe-mock "$GO_BIN_DIR/stripe-mock" -http-addr "127.0.0.1:$STRIPE_PORT" \
    -https-addr "127.0.0.1:$STRIPE_HTTPS_PORT"
}

# A NATS that answers but is older than required (e.g. Debian's 2.9) is not good enough.
check_running_nats_version() {
  local version
  version=$(curl -fsS --max-time 2 "http://127.0.0.1:$NATS_HTTP_PORT/varz" 2>/dev/null |
    sed -n 's/^[[:space:]]*"version": "\([0-9.]*\)".*/\1/p' | head -n1)
  [[ -z $version ]] || version_at_least "$version" "$NATS_MIN_VERSION" ||
    die "nats: the server on :$NATS_PORT is version $version, older than the required $NATS_MIN_VERSION; stop it and retry"
}

start() {
  local name=$1 start=$SECONDS pid
  if is_up "$name"; then
    case $name in
      nats) check_running_nats_version ;;
      postgres) check_running_postgres ;;
    esac
    if [[ $name != ferretdb ]]; then
      say "$name" "already up"
      return
    fi
    if keep_running_ferretdb; then
      if live_pid ferretdb >/dev/null; then
        say ferretdb "already up ($FERRETDB_BACKEND backend)"
      fi
      return 0
    fi
  fi
  case $name in
    nats) install_nats ;;
    postgres) install_postgres ;;
    ferretdb) install_ferretdb ;;
    redis) install_redis ;;
    stripe-mock) install_stripe_mock ;;
  esac
  # A package install may have started its own instance (Debian's redis-server does, with init).
  if is_up "$name"; then
    say "$name" "already up (started by its package, not by this script)"
    return
  fi
  if [[ $name == postgres ]] && pid=$(live_pid postgres); then
    # Ours, not yet accepting connections (starting up, replaying the WAL after a crash): wait.
    say postgres "starting up (pid $pid); waiting"
    echo "$pid" >"$PIDS/postgres.pid"
  else
    check_ports_free "$name"
    case $name in
      nats) run_nats ;;
      postgres) run_postgres ;;
      ferretdb) run_ferretdb ;;
      redis) run_redis ;;
      stripe-mock) run_stripe_mock ;;
    esac
  fi
  wait_ready "$name"
  [[ $name == postgres ]] && setup_postgres
  say "$name" "started, pid $(<"$PIDS/$name.pid"), ready in $((SECONDS - start)) s"
}

# --- stop ---------------------------------------------------------------------------------------
# stop_pid NAME PID SIGNAL STEPS LAST_SIGNAL: sends SIGNAL and waits up to STEPS x 0.2 s for PID to
# exit; then sends LAST_SIGNAL and waits up to 10 s more.
stop_pid() {
  local name=$1 pid=$2 signal=$3 patience=$4 last=$5
  kill -"$signal" "$pid" 2>/dev/null || true
  for _ in $(seq 1 "$patience"); do
    alive "$pid" || return 0
    sleep 0.2
  done
  say "$name" "did not stop within $((patience / 5)) s; sending SIG$last"
  kill -"$last" "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    alive "$pid" || return 0
    sleep 0.2
  done
}

stop() {
  local name=$1 pid
  if pid=$(live_pid "$name"); then
    say "$name" "stopping (pid $pid)"
    if [[ $name == postgres ]]; then
      # SIGINT is PostgreSQL's fast shutdown: it ends the sessions, writes a checkpoint and exits
      # (SIGTERM would wait for every client to leave). Its last resort is SIGQUIT, not SIGKILL:
      # the next start then replays the WAL, and with fsync on nothing committed is lost.
      stop_pid postgres "$pid" INT 300 QUIT
    else
      stop_pid "$name" "$pid" TERM 50 KILL
    fi
  elif [[ $name == redis ]] && redis_is_ours; then
    # Our redis without a (valid) pid file: it keeps its data in our state dir.
    say redis "stopping (via redis-cli shutdown)"
    redis-cli -p "$REDIS_PORT" shutdown >/dev/null 2>&1 || redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  fi
  rm -f "$PIDS/$name.pid"
  [[ $name == ferretdb ]] && rm -f "$PIDS/ferretdb.backend"
  if is_up "$name"; then
    say "$name" "still up on :$(ports_of "$name" | cut -d' ' -f1) (not started by this script; left alone)"
  else
    say "$name" "down"
  fi
}

redis_is_ours() {
  command -v redis-cli >/dev/null 2>&1 && redis_up &&
    [[ "$(redis-cli -p "$REDIS_PORT" config get dir 2>/dev/null | tail -n1)" == "$STATE_DIR/redis" ]]
}

# --- commands -----------------------------------------------------------------------------------
# up and down hold a lock so that two concurrent callers (fleet + tests) do not start twice.
take_lock() {
  mkdir -p "$LOGS" "$PIDS"
  exec 9>"$STATE_DIR/.backing-services.lock"
  if ! flock -n 9; then
    echo "backing-services: waiting for another run of this script to finish..."
    flock -w 600 9 || die "gave up waiting for the lock $STATE_DIR/.backing-services.lock"
  fi
}

cmd_up() {
  local name
  take_lock
  echo "backing services (state: $STATE_DIR)"
  for name in "${SERVICES[@]}"; do start "$name"; done
  install_nginx
  echo "ready:"
  for name in "${SERVICES[@]}"; do say "$name" "$(address_of "$name")"; done
}

# Stops PostgreSQL too when the SQLite backend is selected: nothing of ours uses it then.
cmd_down() {
  local name
  take_lock
  for name in stripe-mock redis ferretdb postgres nats; do stop "$name"; done
}

cmd_install() {
  take_lock
  install_all
  say nats "$("$GO_BIN_DIR/nats-server" --version)"
  [[ $FERRETDB_BACKEND == postgresql ]] && say postgres "$("$(pg_bin_dir)/postgres" --version)"
  say ferretdb "$("$GO_BIN_DIR/ferretdb" --version | head -n1)"
  say redis "$(redis-server --version)"
  say stripe-mock "$("$GO_BIN_DIR/stripe-mock" -version 2>&1)"
  say nginx "$(nginx -v 2>&1)"
}

cmd_status() {
  local name port p taken rc=0 pid owner backend
  for name in "${SERVICES[@]}"; do
    port=$(ports_of "$name" | cut -d' ' -f1)
    if is_up "$name"; then
      if pid=$(live_pid "$name"); then owner="pid $pid"; else owner="not started by this script"; fi
      if [[ $name == ferretdb ]]; then
        backend=$(ferretdb_metrics_backend)
        owner="$owner, ${backend:-unknown} backend"
        if [[ $backend != "$FERRETDB_BACKEND" ]]; then
          rc=1
          owner="$owner, NOT the selected $FERRETDB_BACKEND: \`up\` restarts it"
        fi
      fi
      say "$name" "up    :$port  ($owner)"
    else
      rc=1
      taken=
      for p in $(ports_of "$name"); do
        if tcp_open "$p"; then taken=$p && break; fi
      done
      if [[ -n $taken ]]; then
        say "$name" "DOWN  :$taken is in use by $(port_owner "$taken"), which does not answer as $name"
      else
        say "$name" "down  :$port"
      fi
    fi
  done
  return $rc
}

case ${1:-up} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  install) cmd_install ;;
  -h | --help | help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}" ;;
  *) die "usage: scripts/backing-services.sh [up|down|status|install]" ;;
esac
