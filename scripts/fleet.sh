#!/usr/bin/env bash
# Runs the whole Ticketing fleet on this machine:
#   backing services (scripts/backing-services.sh) -> the five services -> nginx on :8080
#   -> the web client (scripts/client.sh)
#
#   scripts/fleet.sh up       install what is missing, build, start everything, wait until ready
#   scripts/fleet.sh down     stop the services, nginx and the backing services
#   scripts/fleet.sh status   show what runs
#
# Every step is idempotent: `up` while the fleet runs only starts what is not running.
# Ports (127.0.0.1): ingress 8080; auth 3001, tickets 3002, orders 3003, payments 3004,
# expiration 3005 (health only); the web client 3000 (scripts/client.sh).
# Logs: $STATE_DIR/logs/<service>.log (STATE_DIR is .run/ unless TICKETING_STATE_DIR says).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
STATE_DIR=${TICKETING_STATE_DIR:-$ROOT/.run}
LOGS=$STATE_DIR/logs
PIDS=$STATE_DIR/pids
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
INGRESS_PORT=8080

# name:port
SERVICES=(auth:3001 tickets:3002 orders:3003 payments:3004 expiration:3005)

step() { printf '==> %s\n' "$*"; }
die() { printf 'fleet: %s\n' "$*" >&2; exit 1; }

# The services that exist in this checkout (the fleet grows one service at a time).
present_services() {
  local entry
  for entry in "${SERVICES[@]}"; do
    [[ -d services/${entry%%:*} ]] && printf '%s\n' "$entry"
  done
}

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

ready() { curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$1/readyz" 2>/dev/null; }

start_service() {
  local name=$1 port=$2
  if running "$name" && ready "$port"; then
    step "$name already up on :$port"
    return
  fi
  step "starting $name on :$port (log: $LOGS/$name.log)"
  (
    export PORT=$port HOST=127.0.0.1 JWT_KEY SECURE_COOKIES=false
    export MONGO_URI="mongodb://127.0.0.1:27017/$name"
    export NATS_URL=nats://127.0.0.1:4222 NATS_CLIENT_NAME="$name-local"
    export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
    export STRIPE_KEY=${STRIPE_KEY:-sk_test_local} STRIPE_API_BASE=${STRIPE_API_BASE:-http://127.0.0.1:12111}
    # The webhook's signing secret: card payments are on. Locally nothing but the tests and
    # scripts/stripe-webhook-event.sh sign with it (README.md, "Card payments").
    export STRIPE_WEBHOOK_SECRET=${STRIPE_WEBHOOK_SECRET:-whsec_local_fleet}
    export ORDER_EXPIRATION_SECONDS=${ORDER_EXPIRATION_SECONDS:-900}
    export RUST_LOG=${RUST_LOG:-info}
    setsid nohup "$TARGET_DIR/debug/$name" >>"$LOGS/$name.log" 2>&1 < /dev/null &
    echo $! > "$PIDS/$name.pid"
  )
}

wait_ready() {
  local name=$1 port=$2
  for _ in $(seq 1 120); do
    ready "$port" && { step "$name ready"; return; }
    running "$name" || break
    sleep 0.5
  done
  tail -n 20 "$LOGS/$name.log" >&2 || true
  die "$name did not become ready on :$port (full log: $LOGS/$name.log)"
}

ensure_nginx() {
  command -v nginx >/dev/null 2>&1 && return
  step "installing nginx (Debian package nginx-light)"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light; } >"$LOGS/nginx-install.log" 2>&1; then
    tail -n 20 "$LOGS/nginx-install.log" >&2
    die "installing nginx failed (see $LOGS/nginx-install.log)"
  fi
}

start_ingress() {
  ensure_nginx
  mkdir -p "$STATE_DIR/nginx"
  sed -e "s|@STATE@|$STATE_DIR|g" -e "s|@INGRESS_PORT@|$INGRESS_PORT|" -e "s|@CLIENT_PORT@|3000|" \
      -e "s|@AUTH_PORT@|3001|" -e "s|@TICKETS_PORT@|3002|" -e "s|@ORDERS_PORT@|3003|" -e "s|@PAYMENTS_PORT@|3004|" \
      infra/local/nginx.conf.template > "$STATE_DIR/nginx/nginx.conf"
  nginx -t -p "$STATE_DIR/nginx" -c "$STATE_DIR/nginx/nginx.conf" >"$LOGS/nginx-check.log" 2>&1 \
    || { cat "$LOGS/nginx-check.log" >&2; die "the nginx configuration is invalid"; }
  if [[ -f $STATE_DIR/nginx/nginx.pid ]] && kill -0 "$(cat "$STATE_DIR/nginx/nginx.pid")" 2>/dev/null; then
    nginx -p "$STATE_DIR/nginx" -c "$STATE_DIR/nginx/nginx.conf" -s reload
    step "ingress reloaded on :$INGRESS_PORT"
  else
    nginx -p "$STATE_DIR/nginx" -c "$STATE_DIR/nginx/nginx.conf"
    step "ingress (nginx) started on :$INGRESS_PORT"
  fi
}

stop_ingress() {
  local pid_file=$STATE_DIR/nginx/nginx.pid
  if [[ -f $pid_file ]] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
    step "stopping the ingress"
    nginx -p "$STATE_DIR/nginx" -c "$STATE_DIR/nginx/nginx.conf" -s quit || kill "$(cat "$pid_file")"
  fi
}

up() {
  scripts/backing-services.sh up
  mkdir -p "$LOGS" "$PIDS"
  JWT_KEY=$(jwt_key)
  step "building the services (debug; the first build takes a few minutes)"
  local entry packages=() present
  mapfile -t present < <(present_services)
  for entry in "${present[@]}"; do packages+=(-p "${entry%%:*}"); done
  cargo build "${packages[@]}"
  for entry in "${present[@]}"; do start_service "${entry%%:*}" "${entry##*:}"; done
  for entry in "${present[@]}"; do wait_ready "${entry%%:*}" "${entry##*:}"; done
  start_ingress
  scripts/client.sh up
  cat <<EOM

The fleet is up at http://127.0.0.1:$INGRESS_PORT  (point a browser or curl there)
  curl -i -c /tmp/jar -H 'content-type: application/json' \\
       -d '{"email":"me@example.com","password":"password123"}' http://127.0.0.1:$INGRESS_PORT/api/users/signup
  curl -b /tmp/jar http://127.0.0.1:$INGRESS_PORT/api/users/currentuser
Logs: $LOGS/<service>.log      Stop: scripts/fleet.sh down
EOM
}

stop_service() {
  local name=$1 pid_file=$PIDS/$1.pid
  if running "$name"; then
    step "stopping $name"
    local pid
    pid=$(cat "$pid_file")
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
  fi
  rm -f "$pid_file"
}

down() {
  scripts/client.sh down
  stop_ingress
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
  if curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$INGRESS_PORT/api/users/currentuser"; then
    echo "ingress: up (:$INGRESS_PORT)"
  else
    echo "ingress: down (:$INGRESS_PORT)"; all=1
  fi
  scripts/client.sh status || all=1
  scripts/backing-services.sh status || all=1
  return $all
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) die "usage: scripts/fleet.sh up|down|status" ;;
esac
