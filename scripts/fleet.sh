#!/usr/bin/env bash
# Runs the Ticketing fleet on this machine: backing services, then every service binary on its
# own port, each logging to .run/logs/<service>.log.
#
#   scripts/fleet.sh up       build and start everything (idempotent), wait until ready
#   scripts/fleet.sh down     stop the services and the backing services
#   scripts/fleet.sh status   show what runs
#
# Ports: auth 3001.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
STATE_DIR=${TICKETING_STATE_DIR:-$ROOT/.run}
LOGS=$STATE_DIR/logs
PIDS=$STATE_DIR/pids

# name:port
SERVICES=(auth:3001)

step() { printf '==> %s\n' "$*"; }
die() { printf 'fleet: %s\n' "$*" >&2; exit 1; }

jwt_key() {
  local file=$STATE_DIR/jwt_key
  if [[ -n "${JWT_KEY:-}" ]]; then printf '%s' "$JWT_KEY"; return; fi
  if [[ ! -s $file ]]; then
    mkdir -p "$STATE_DIR"
    head -c 48 /dev/urandom | base64 | tr -d '\n/+=' > "$file"
  fi
  cat "$file"
}

running() {
  local pid_file=$PIDS/$1.pid
  [[ -f $pid_file ]] && kill -0 "$(cat "$pid_file")" 2>/dev/null
}

ready() { curl -fsS -o /dev/null "http://127.0.0.1:$1/readyz" 2>/dev/null; }

start_service() {
  local name=$1 port=$2
  if running "$name" && ready "$port"; then
    step "$name already up on :$port"
    return
  fi
  step "starting $name on :$port (log: $LOGS/$name.log)"
  (
    export PORT=$port HOST=127.0.0.1
    export JWT_KEY SECURE_COOKIES=false
    export MONGO_URI="mongodb://127.0.0.1:27017/$name"
    export NATS_URL=nats://127.0.0.1:4222 NATS_CLIENT_NAME="$name-local"
    export REDIS_URL=redis://127.0.0.1:6379
    export STRIPE_KEY=${STRIPE_KEY:-sk_test_local} STRIPE_API_BASE=${STRIPE_API_BASE:-http://127.0.0.1:12111}
    setsid nohup "${CARGO_TARGET_DIR:-$ROOT/target}/debug/$name" >>"$LOGS/$name.log" 2>&1 &
    echo $! > "$PIDS/$name.pid"
  )
}

wait_ready() {
  local name=$1 port=$2
  for _ in $(seq 1 60); do
    ready "$port" && { step "$name ready: http://127.0.0.1:$port"; return; }
    running "$name" || break
    sleep 0.5
  done
  tail -n 20 "$LOGS/$name.log" >&2 || true
  die "$name did not become ready on :$port (full log: $LOGS/$name.log)"
}

up() {
  scripts/backing-services.sh up
  mkdir -p "$LOGS" "$PIDS"
  JWT_KEY=$(jwt_key)
  step "building the services (cargo build; the first build takes a few minutes)"
  cargo build --workspace --bins
  local entry
  for entry in "${SERVICES[@]}"; do start_service "${entry%%:*}" "${entry##*:}"; done
  for entry in "${SERVICES[@]}"; do wait_ready "${entry%%:*}" "${entry##*:}"; done
  cat <<EOM

The fleet is up. Try:
  curl -i -c /tmp/jar -H 'content-type: application/json' \\
       -d '{"email":"me@example.com","password":"password123"}' http://127.0.0.1:3001/api/users/signup
  curl -b /tmp/jar http://127.0.0.1:3001/api/users/currentuser
Logs: $LOGS/<service>.log   Stop: scripts/fleet.sh down
EOM
}

stop_service() {
  local name=$1 pid_file=$PIDS/$1.pid
  if running "$name"; then
    step "stopping $name"
    local pid
    pid=$(cat "$pid_file")
    kill -TERM "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$pid_file"
}

down() {
  local entry
  for entry in "${SERVICES[@]}"; do stop_service "${entry%%:*}"; done
  scripts/backing-services.sh down
}

status() {
  local entry name port all=0
  for entry in "${SERVICES[@]}"; do
    name=${entry%%:*} port=${entry##*:}
    if ready "$port"; then echo "$name: up (:$port)"; else echo "$name: down (:$port)"; all=1; fi
  done
  scripts/backing-services.sh status || all=1
  return $all
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) die "usage: scripts/fleet.sh up|down|status" ;;
esac
