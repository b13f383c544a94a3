#!/usr/bin/env bash
# Schemathesis (issue 16): property-based requests for every operation of the fleet's OpenAPI
# document (client/public/api/docs/openapi.json), signed-in ones included, through an ingress.
# Every check runs (scripts/schemathesis.toml says the few expectations set differently, and why);
# a server error or an answer the document does not describe fails the run.
#
#   scripts/schemathesis.sh                                    against a fleet of its own: the
#       end-to-end test e2e/tests/schemathesis.rs starts one (own databases, bus and nginx) and
#       runs this script against it; the test command runs that test with the others
#   INGRESS_URL=http://127.0.0.1:8080 scripts/schemathesis.sh  against a running fleet, such as
#       scripts/fleet.sh's (what it creates stays in that fleet's databases, and its failed
#       sign-ins count against that fleet's per-address sign-in throttle for 15 minutes)
#
# Environment:
#   SCHEMATHESIS_MAX_EXAMPLES  cases per operation and phase (default 25: about a minute on 2 cores)
#   SCHEMATHESIS_SEED          default 1616, so the test command makes the same cases every time;
#                              another seed explores others (`$RANDOM`: new ones each run)
#   TICKETING_CACHE_DIR        where Schemathesis is installed from PyPI the first time, into a
#                              virtualenv (default ~/.cache/ticketing)
# Reports (JUnit) and Schemathesis' own state go to .run/schemathesis/; each failure is printed
# with the curl command that reproduces it; the last line counts the cases ("N passed, N failed").
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

VERSION=4.32.5
CACHE=${TICKETING_CACHE_DIR:-$HOME/.cache/ticketing}
VENV=$CACHE/schemathesis-$VERSION
MAX_EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-25}
SEED=${SCHEMATHESIS_SEED:-1616}
REPORTS=${TICKETING_STATE_DIR:-$ROOT/.run}/schemathesis
# The document as the code describes it (api-docs' test holds the file to the code); the web
# client serves this file at /api/docs/openapi.json, but a fleet of its own has no web client.
DOCUMENT=$ROOT/client/public/api/docs/openapi.json

step() { printf '==> %s\n' "$*"; }
die() { printf 'schemathesis: %s\n' "$*" >&2; exit 1; }

install() {
  if "$VENV/bin/schemathesis" --version 2>/dev/null | grep -qF "$VERSION"; then
    return
  fi
  step "installing Schemathesis $VERSION into $VENV"
  command -v python3 >/dev/null || die "python3 is needed (not found on PATH)"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION"
}

# A fresh user's session token, from the cookie sign-up sets.
session_token() {
  local email="schemathesis-$(date +%s)-$RANDOM@example.com" headers
  headers=$(curl -fsS -o /dev/null -D - -H 'content-type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"schemathesis-password\"}" \
    "$INGRESS_URL/api/users/signup") || die "signing up at $INGRESS_URL failed"
  printf '%s\n' "$headers" | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: session=\([^;]*\).*/\1/p' | head -n 1
}

if [[ -z ${INGRESS_URL:-} ]]; then
  step "a fleet of its own: cargo test -p ticketing-e2e --test schemathesis"
  cargo build --workspace --bins --locked --quiet
  exec cargo test --locked --quiet -p ticketing-e2e --test schemathesis -- --nocapture
fi
INGRESS_URL=${INGRESS_URL%/}
install

TICKETING_SESSION=$(session_token)
[[ -n $TICKETING_SESSION ]] || die "sign-up set no session cookie"
export TICKETING_SESSION

mkdir -p "$REPORTS"
step "Schemathesis: every operation of the OpenAPI document at $INGRESS_URL, $MAX_EXAMPLES cases each, seed $SEED"
# From the reports' directory, where Schemathesis keeps its state between runs (.schemathesis/:
# the failures it found, replayed first next time), out of the work tree.
cd "$REPORTS"
# One worker: Python 3.11's parser is not safe to call from two threads at once (a
# "recursion depth mismatch" SystemError inside Hypothesis), and two cores are busy enough.
status=0
"$VENV/bin/schemathesis" --config-file "$ROOT/scripts/schemathesis.toml" run \
  "$DOCUMENT" \
  --url "$INGRESS_URL" \
  --max-examples "$MAX_EXAMPLES" \
  --seed "$SEED" \
  --workers 1 \
  --request-timeout 40 \
  --report junit --report-dir "$REPORTS" | tee "$REPORTS/last-run.log" || status=$?

# The count in the plain form every runner's closing line is read in ("N passed, N failed"):
# Schemathesis' own closing line looks like a test runner's that ran nothing.
cases=$(sed -n 's/^ *\([0-9][0-9]*\) generated, \(.*\)$/\1 \2/p' "$REPORTS/last-run.log" | tail -n 1)
generated=${cases%% *}
failed=$(printf '%s\n' "$cases" | sed -n 's/.* found \([0-9][0-9]*\) unique failure.*/\1/p')
failed=${failed:-0}
if [[ -n $generated ]]; then
  echo "schemathesis: $((generated - failed)) passed, $failed failed"
fi
exit "$status"
