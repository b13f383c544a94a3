#!/usr/bin/env bash
# Installs (if missing) and starts the backing services the fleet and the tests need, on
# 127.0.0.1 with fixed ports. Idempotent: what already answers is left alone.
#
#   scripts/backing-services.sh up       install what is missing, start what is down, wait
#   scripts/backing-services.sh down     stop what this script started
#   scripts/backing-services.sh status   up/down per service; exit 1 if any is down
#
#   service      port(s)                     from
#   NATS         4222 (client), 8222 (http)  go install nats-server/v2 (>= 2.12.3), -js
#   FerretDB     27017 (MongoDB wire)        FerretDB v1.24.2 built from the Go module, SQLite
#   Redis        6379                        Debian redis-server, append-only file on
#   stripe-mock  12111 (http), 12112         go install stripe-mock
#   (nginx, the local ingress, is installed here from Debian's nginx-light, started by its users)
#
# State (data, logs, pids) lives in $TICKETING_STATE_DIR, default <repo>/.run.
set -euo pipefail
cd "$(dirname "$0")/.."
STATE_DIR=${TICKETING_STATE_DIR:-$(pwd)/.run}
LOGS=$STATE_DIR/logs
PIDS=$STATE_DIR/pids
GOBIN_DIR=$(go env GOBIN)
GOBIN_DIR=${GOBIN_DIR:-$(go env GOPATH)/bin}

NATS_PORT=4222 NATS_HTTP_PORT=8222
FERRETDB_PORT=27017 FERRETDB_DEBUG_PORT=28088
REDIS_PORT=6379
STRIPE_PORT=12111 STRIPE_HTTPS_PORT=12112

FERRETDB_VERSION=v1.24.2
NATS_MIN_VERSION=2.12.3

say() { printf '  %-12s %s\n' "$1" "$2"; }
die() { printf 'backing-services: %s\n' "$*" >&2; exit 1; }

# Runs an install step; on failure says which step and shows why.
install_step() {
  local what=$1; shift
  local log=$LOGS/install-$what.log
  say "$what" "installing: $*"
  if ! "$@" >"$log" 2>&1; then
    tail -n 25 "$log" >&2
    die "installing $what failed at: $* (full output: $log)"
  fi
}

# --- probes: does the service really answer its protocol? ---------------------------------
tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
nats_up() { curl -fsS --max-time 2 "http://127.0.0.1:$NATS_HTTP_PORT/healthz?js-enabled-only=true" >/dev/null 2>&1; }
redis_up() { [[ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]; }
ferretdb_up() { tcp_open "$FERRETDB_PORT" && curl -fsS --max-time 2 "http://127.0.0.1:$FERRETDB_DEBUG_PORT/debug/readyz" >/dev/null 2>&1; }
ferretdb_port_taken() { tcp_open "$FERRETDB_PORT"; }
stripe_up() { curl -sS --max-time 2 -o /dev/null -u sk_test_123: "http://127.0.0.1:$STRIPE_PORT/v1/charges" 2>/dev/null; }

# --- installs ---------------------------------------------------------------------------------
version_at_least() { [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" == "$2" ]]; }

install_nats() {
  local bin=$GOBIN_DIR/nats-server
  if [[ -x $bin ]] && version_at_least "$("$bin" --version | sed 's/.*v//')" "$NATS_MIN_VERSION"; then return; fi
  install_step nats go install github.com/nats-io/nats-server/v2@latest
  local version
  version=$("$bin" --version | sed 's/.*v//')
  version_at_least "$version" "$NATS_MIN_VERSION" || die "nats-server $version is older than $NATS_MIN_VERSION"
}

install_stripe_mock() {
  [[ -x $GOBIN_DIR/stripe-mock ]] && return
  install_step stripe-mock go install github.com/stripe/stripe-mock@latest
}

# `go install` of FerretDB builds a binary that panics at start for want of
# build/version/version.txt, so build it from a copy of the module with that file written.
build_ferretdb() {
  local src work
  go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" >"$LOGS/install-ferretdb-download.json"
  src=$(sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p' "$LOGS/install-ferretdb-download.json")
  [[ -d $src ]] || { echo "module source not found after download"; return 1; }
  work=$(mktemp -d)
  cp -r "$src/." "$work" && chmod -R u+w "$work"
  echo "$FERRETDB_VERSION" > "$work/build/version/version.txt"
  (cd "$work" && go build -o "$GOBIN_DIR/ferretdb" ./cmd/ferretdb)
  rm -rf "$work"
}

install_ferretdb() {
  local bin=$GOBIN_DIR/ferretdb
  if [[ -x $bin ]] && "$bin" --version 2>/dev/null | grep -q "version: $FERRETDB_VERSION"; then return; fi
  install_step ferretdb build_ferretdb
}

# nginx is the fleet's local ingress and the end-to-end tests' too; installed here, started by them.
install_nginx() {
  command -v nginx >/dev/null 2>&1 && return
  install_step nginx apt_install nginx-light
}

install_redis() {
  command -v redis-server >/dev/null 2>&1 && return
  install_step redis apt_install redis-server
}

apt_install() {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

# --- start / stop -------------------------------------------------------------------------------
# Starts "$@" detached from this shell, logging to $LOGS/$name.log, pid in $PIDS/$name.pid.
launch() {
  local name=$1; shift
  setsid nohup "$@" >>"$LOGS/$name.log" 2>&1 < /dev/null &
  echo $! > "$PIDS/$name.pid"
}

wait_for() {
  local name=$1 probe=$2
  for _ in $(seq 1 60); do
    "$probe" && { say "$name" "up"; return; }
    sleep 0.5
  done
  tail -n 20 "$LOGS/$name.log" >&2 || true
  die "$name did not come up within 30 s (log: $LOGS/$name.log)"
}

start_nats() {
  if nats_up; then say nats "already up on :$NATS_PORT"; return; fi
  tcp_open "$NATS_PORT" && die "port $NATS_PORT is taken by something that is not NATS with JetStream"
  mkdir -p "$STATE_DIR/nats"
  launch nats "$GOBIN_DIR/nats-server" -a 127.0.0.1 -p "$NATS_PORT" -m "$NATS_HTTP_PORT" \
    -js -sd "$STATE_DIR/nats" -n ticketing-local
  wait_for nats nats_up
}

start_ferretdb() {
  if ferretdb_up; then say ferretdb "already up on :$FERRETDB_PORT"; return; fi
  ferretdb_port_taken && die "port $FERRETDB_PORT is taken by something that is not this FerretDB"
  mkdir -p "$STATE_DIR/ferretdb"
  launch ferretdb "$GOBIN_DIR/ferretdb" --handler=sqlite --sqlite-url="file:$STATE_DIR/ferretdb/" \
    --state-dir="$STATE_DIR/ferretdb" --listen-addr="127.0.0.1:$FERRETDB_PORT" \
    --debug-addr="127.0.0.1:$FERRETDB_DEBUG_PORT" --telemetry=disable --log-level=warn
  wait_for ferretdb ferretdb_up
}

start_redis() {
  if redis_up; then say redis "already up on :$REDIS_PORT"; return; fi
  tcp_open "$REDIS_PORT" && die "port $REDIS_PORT is taken by something that is not Redis"
  mkdir -p "$STATE_DIR/redis"
  launch redis redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$STATE_DIR/redis" \
    --appendonly yes --save '' --daemonize no
  wait_for redis redis_up
}

start_stripe_mock() {
  if stripe_up; then say stripe-mock "already up on :$STRIPE_PORT"; return; fi
  tcp_open "$STRIPE_PORT" && die "port $STRIPE_PORT is taken by something that is not stripe-mock"
  launch stripe-mock "$GOBIN_DIR/stripe-mock" -http-port "$STRIPE_PORT" -https-port "$STRIPE_HTTPS_PORT"
  wait_for stripe-mock stripe_up
}

stop() {
  local name=$1 pid_file=$PIDS/$1.pid pid
  [[ -f $pid_file ]] || return 0
  pid=$(cat "$pid_file")
  if kill -0 "$pid" 2>/dev/null; then
    say "$name" "stopping (pid $pid)"
    kill -TERM "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
  fi
  rm -f "$pid_file"
}

up() {
  mkdir -p "$LOGS" "$PIDS"
  command -v go >/dev/null 2>&1 || die "Go is needed to install NATS, FerretDB and stripe-mock"
  echo "backing services (state: $STATE_DIR)"
  install_nats
  install_ferretdb
  install_stripe_mock
  install_redis
  install_nginx
  start_nats
  start_ferretdb
  start_redis
  start_stripe_mock
}

down() {
  local name
  for name in stripe-mock redis ferretdb nats; do stop "$name"; done
}

status() {
  local down=0
  if nats_up; then say nats "up :$NATS_PORT"; else say nats down; down=1; fi
  if ferretdb_up; then say ferretdb "up :$FERRETDB_PORT"; else say ferretdb down; down=1; fi
  if redis_up; then say redis "up :$REDIS_PORT"; else say redis down; down=1; fi
  if stripe_up; then say stripe-mock "up :$STRIPE_PORT"; else say stripe-mock down; down=1; fi
  return $down
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) die "usage: scripts/backing-services.sh up|down|status" ;;
esac
