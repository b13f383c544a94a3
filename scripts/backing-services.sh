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
#   FerretDB     27017 MongoDB wire, 28088 debug http FerretDB v1.24.2 Go module (built, see below), SQLite
#   Redis        6379                                 Debian redis-server (apt), append-only file on
#   stripe-mock  12111 http, 12112 https              go install stripe-mock@latest
#   (nginx, the local ingress, is only installed here, from Debian's nginx-light; its users start it)
#
# State: $TICKETING_STATE_DIR (default <repo>/.run):
#   nats/       JetStream file store          redis/     appendonly.aof
#   ferretdb/   one SQLite file per database  logs/      <service>.log, install-<service>.log
#   pids/       <service>.pid (what `down` stops)
# Go binaries go to $(go env GOBIN), else $(go env GOPATH)/bin; that need not be on PATH.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
STATE_DIR=${TICKETING_STATE_DIR:-$ROOT/.run}
[[ $STATE_DIR == /* ]] || STATE_DIR=$ROOT/$STATE_DIR
LOGS=$STATE_DIR/logs
PIDS=$STATE_DIR/pids

NATS_PORT=4222 NATS_HTTP_PORT=8222
FERRETDB_PORT=27017 FERRETDB_DEBUG_PORT=28088
REDIS_PORT=6379
STRIPE_PORT=12111 STRIPE_HTTPS_PORT=12112

NATS_MIN_VERSION=2.12.3
FERRETDB_VERSION=v1.24.2
READY_TIMEOUT=30 # seconds, per service

SERVICES=(nats ferretdb redis stripe-mock)

say() { printf '  %-12s %s\n' "$1" "$2"; }
die() { printf 'backing-services: %s\n' "$*" >&2; exit 1; }

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

# --- probes: does the service really answer its protocol? --------------------------------------
tcp_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
http_ok() { curl -fsS --max-time 2 -o /dev/null "$1" 2>/dev/null; }

nats_up() { http_ok "http://127.0.0.1:$NATS_HTTP_PORT/healthz?js-enabled-only=true"; }
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
    ferretdb) ferretdb_up ;;
    redis) redis_up ;;
    stripe-mock) stripe_up ;;
  esac
}

ports_of() {
  case $1 in
    nats) echo "$NATS_PORT $NATS_HTTP_PORT" ;;
    ferretdb) echo "$FERRETDB_PORT $FERRETDB_DEBUG_PORT" ;;
    redis) echo "$REDIS_PORT" ;;
    stripe-mock) echo "$STRIPE_PORT $STRIPE_HTTPS_PORT" ;;
  esac
}

address_of() {
  case $1 in
    nats) echo "nats://127.0.0.1:$NATS_PORT (monitoring http://127.0.0.1:$NATS_HTTP_PORT)" ;;
    ferretdb) echo "mongodb://127.0.0.1:$FERRETDB_PORT (debug http://127.0.0.1:$FERRETDB_DEBUG_PORT)" ;;
    redis) echo "redis://127.0.0.1:$REDIS_PORT" ;;
    stripe-mock) echo "http://127.0.0.1:$STRIPE_PORT (https 127.0.0.1:$STRIPE_HTTPS_PORT)" ;;
  esac
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

# The pid from $name's pid file if that process is alive and still runs the expected binary.
live_pid() {
  local name=$1 binary=$1 pid_file=$PIDS/$1.pid pid
  [[ $name == nats ]] && binary=nats-server
  [[ $name == redis ]] && binary=redis-server
  [[ -f $pid_file ]] || return 1
  pid=$(<"$pid_file")
  [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" &&
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$binary" || return 1
  echo "$pid"
}

# --- installs -----------------------------------------------------------------------------------
# Runs an install step with its output in $LOGS/install-$what.log; on failure says which step and why.
install_step() {
  local what=$1 log=$LOGS/install-$1.log start
  shift
  start=$SECONDS
  say "$what" "installing: $*"
  if ! "$@" >"$log" 2>&1; then
    printf -- '--- last lines of %s:\n' "$log" >&2
    tail -n 30 "$log" >&2
    die "installing $what failed at step: $* (full output: $log)"
  fi
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

install_ferretdb() {
  if "$GO_BIN_DIR/ferretdb" --version 2>/dev/null | grep -q "^version: $FERRETDB_VERSION$"; then return; fi
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

install_all() {
  install_nats
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

run_ferretdb() {
  mkdir -p "$STATE_DIR/ferretdb"
  launch ferretdb "$GO_BIN_DIR/ferretdb" --handler=sqlite --sqlite-url="file:$STATE_DIR/ferretdb/" \
    --state-dir="$STATE_DIR/ferretdb" --listen-addr="127.0.0.1:$FERRETDB_PORT" \
    --debug-addr="127.0.0.1:$FERRETDB_DEBUG_PORT" --telemetry=disable --log-level=warn
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
  local name=$1 start=$SECONDS
  if is_up "$name"; then
    [[ $name == nats ]] && check_running_nats_version
    say "$name" "already up"
    return
  fi
  case $name in
    nats) install_nats ;;
    ferretdb) install_ferretdb ;;
    redis) install_redis ;;
    stripe-mock) install_stripe_mock ;;
  esac
  # A package install may have started its own instance (Debian's redis-server does, with init).
  if is_up "$name"; then
    say "$name" "already up (started by its package, not by this script)"
    return
  fi
  check_ports_free "$name"
  case $name in
    nats) run_nats ;;
    ferretdb) run_ferretdb ;;
    redis) run_redis ;;
    stripe-mock) run_stripe_mock ;;
  esac
  wait_ready "$name"
  say "$name" "started, pid $(<"$PIDS/$name.pid"), ready in $((SECONDS - start)) s"
}

# --- stop ---------------------------------------------------------------------------------------
stop() {
  local name=$1 pid
  if pid=$(live_pid "$name"); then
    say "$name" "stopping (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      alive "$pid" || break
      sleep 0.2
    done
    if alive "$pid"; then
      say "$name" "did not stop within 10 s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  elif [[ $name == redis ]] && redis_is_ours; then
    # Our redis without a (valid) pid file: it keeps its data in our state dir.
    say redis "stopping (via redis-cli shutdown)"
    redis-cli -p "$REDIS_PORT" shutdown >/dev/null 2>&1 || redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  fi
  rm -f "$PIDS/$name.pid"
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

cmd_down() {
  local name
  take_lock
  for name in stripe-mock redis ferretdb nats; do stop "$name"; done
}

cmd_install() {
  take_lock
  install_all
  say nats "$("$GO_BIN_DIR/nats-server" --version)"
  say ferretdb "$("$GO_BIN_DIR/ferretdb" --version | head -n1)"
  say redis "$(redis-server --version)"
  say stripe-mock "$("$GO_BIN_DIR/stripe-mock" -version 2>&1)"
  say nginx "$(nginx -v 2>&1)"
}

cmd_status() {
  local name port p taken rc=0 pid owner
  for name in "${SERVICES[@]}"; do
    port=$(ports_of "$name" | cut -d' ' -f1)
    if is_up "$name"; then
      if pid=$(live_pid "$name"); then owner="pid $pid"; else owner="not started by this script"; fi
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
