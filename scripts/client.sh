#!/usr/bin/env bash
# The web client (client/, Next.js, server-rendered) on this machine, served at / by the fleet's
# ingress (nginx on 127.0.0.1:8080 proxies / to 127.0.0.1:3000).
#
#   scripts/client.sh up       npm ci when node_modules is missing or the lockfile changed, next build
#                              when the sources changed, start `next start` on 127.0.0.1:3000, wait until it answers
#   scripts/client.sh down     stop it
#   scripts/client.sh status   say whether it runs (exit 1 when it does not)
#   scripts/client.sh test     unit tests, then the browser test through the ingress (needs the fleet up;
#                              brings the client up and installs chromium if missing)
#   scripts/client.sh browser  install Debian's chromium for the browser test, if missing
#
# Idempotent: `up` while the client runs on the current build does nothing; after a source change
# it stops the old server, builds and starts again.
# State: pid $STATE_DIR/pids/client.pid, log $STATE_DIR/logs/client.log (STATE_DIR: TICKETING_STATE_DIR or .run/).
# Environment: CLIENT_PORT (3000), INGRESS_URL (http://127.0.0.1:8080); passed to the server:
# API_BASE_URL (default INGRESS_URL), API_HOST, STRIPE_TEST_TOKEN, STRIPE_PUBLISHABLE_KEY (unset:
# test mode; see client/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
APP=$ROOT/client
STATE_DIR=${TICKETING_STATE_DIR:-$ROOT/.run}
LOGS=$STATE_DIR/logs
PIDS=$STATE_DIR/pids
PID_FILE=$PIDS/client.pid
LOG=$LOGS/client.log
CLIENT_PORT=${CLIENT_PORT:-3000}
INGRESS_URL=${INGRESS_URL:-http://127.0.0.1:8080}
CHROMIUM=${E2E_CHROMIUM:-/usr/bin/chromium}
DEPS_STAMP=$APP/node_modules/.ticketing-deps.sha256
BUILD_STAMP=$APP/.next/.ticketing-build.sha256
export NEXT_TELEMETRY_DISABLED=1

step() { printf '==> %s\n' "$*"; }
die() { printf 'client: %s\n' "$*" >&2; exit 1; }

check_node() {
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 \
    || die "Node.js 20 or newer and npm are needed (not found on PATH)"
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  (( major >= 20 )) || die "Node.js 20 or newer is needed (found $(node -v))"
}

deps_hash() { { node -v; sha256sum "$APP/package-lock.json"; } | sha256sum | cut -d' ' -f1; }

# Everything `next build` reads.
sources_hash() {
  (cd "$APP" && {
    find src public -type f -print0 2>/dev/null | sort -z | xargs -0 -r sha256sum
    sha256sum package.json package-lock.json next.config.mjs tsconfig.json
  } | sha256sum | cut -d' ' -f1)
}

deps_current() { [[ -d $APP/node_modules && -f $DEPS_STAMP && $(cat "$DEPS_STAMP") == "$(deps_hash)" ]]; }

ensure_deps() {
  check_node
  deps_current && return
  local want
  want=$(deps_hash)
  mkdir -p "$LOGS"
  step "installing the client's packages (npm ci; log: $LOGS/client-npm.log)"
  if ! (cd "$APP" && npm ci --no-audit --no-fund) >"$LOGS/client-npm.log" 2>&1; then
    tail -n 30 "$LOGS/client-npm.log" >&2
    die "npm ci failed (see $LOGS/client-npm.log)"
  fi
  printf '%s\n' "$want" > "$DEPS_STAMP"
}

build_current() { [[ -f $BUILD_STAMP && $(cat "$BUILD_STAMP") == "$(sources_hash)" ]]; }

build() {
  step "building the client (next build; log: $LOGS/client-build.log)"
  local want
  want=$(sources_hash)
  if ! (cd "$APP" && node_modules/.bin/next build) >"$LOGS/client-build.log" 2>&1; then
    tail -n 40 "$LOGS/client-build.log" >&2
    die "next build failed (see $LOGS/client-build.log)"
  fi
  printf '%s\n' "$want" > "$BUILD_STAMP"
}

running() { [[ -f $PID_FILE ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; }
answers() { curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$CLIENT_PORT/healthz" 2>/dev/null; }

start() {
  step "starting the client on 127.0.0.1:$CLIENT_PORT (API_BASE_URL=${API_BASE_URL:-$INGRESS_URL}; log: $LOG)"
  (
    cd "$APP"
    export NODE_ENV=production API_BASE_URL=${API_BASE_URL:-$INGRESS_URL}
    printf '\n--- %s: next start on 127.0.0.1:%s\n' "$(date -Is)" "$CLIENT_PORT" >>"$LOG"
    setsid nohup node node_modules/next/dist/bin/next start -H 127.0.0.1 -p "$CLIENT_PORT" \
      >>"$LOG" 2>&1 </dev/null &
    echo $! > "$PID_FILE"
  )
  for _ in $(seq 1 120); do
    answers && { step "client ready: http://127.0.0.1:$CLIENT_PORT (through the ingress: $INGRESS_URL/)"; return; }
    running || break
    sleep 0.5
  done
  tail -n 20 "$LOG" >&2 || true
  die "the client did not answer on :$CLIENT_PORT (full log: $LOG)"
}

stop() {
  if running; then
    local pid
    pid=$(cat "$PID_FILE")
    step "stopping the client (pid $pid)"
    # setsid made it a process-group leader: stop the group (next start and anything it spawned).
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$PID_FILE"
}

up() {
  mkdir -p "$LOGS" "$PIDS"
  check_node
  if ! deps_current; then
    stop   # a running server must not see node_modules/ replaced under it
    ensure_deps
  fi
  if running && answers && build_current; then
    step "client already up on :$CLIENT_PORT"
    return
  fi
  if ! running && answers; then
    die "something else answers on 127.0.0.1:$CLIENT_PORT (not started by this script); stop it first"
  fi
  if ! build_current; then
    stop   # a running server must not see .next/ rebuilt under it
    build
  fi
  running && answers || { stop; start; }
}

status() {
  if running && answers; then
    local note=''
    build_current || note=' (sources changed since its build: run `scripts/client.sh up`)'
    echo "client: up (:$CLIENT_PORT, pid $(cat "$PID_FILE"))$note"
  else
    echo "client: down (:$CLIENT_PORT)"
    return 1
  fi
}

ensure_browser() {
  [[ -x $CHROMIUM ]] && return
  mkdir -p "$LOGS"
  step "installing Debian's chromium for the browser test (log: $LOGS/chromium-install.log)"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
      >"$LOGS/chromium-install.log" 2>&1; then
    tail -n 20 "$LOGS/chromium-install.log" >&2
    die "installing chromium failed (see $LOGS/chromium-install.log)"
  fi
  [[ -x $CHROMIUM ]] || die "chromium installed but $CHROMIUM is missing (set E2E_CHROMIUM)"
}

run_tests() {
  ensure_deps
  ensure_browser
  step "client: type check"
  (cd "$APP" && node_modules/.bin/tsc --noEmit)
  step "client: unit tests"
  (cd "$APP" && npm test)
  up
  step "client: browser test through $INGRESS_URL (screenshots: client/test-artifacts/)"
  (cd "$APP" && E2E_BASE_URL=$INGRESS_URL E2E_CHROMIUM=$CHROMIUM npm run test:e2e)
}

case "${1:-up}" in
  up) up ;;
  down) stop ;;
  status) status ;;
  test) run_tests ;;
  browser) ensure_browser ;;
  *) die "usage: scripts/client.sh up|down|status|test|browser" ;;
esac
