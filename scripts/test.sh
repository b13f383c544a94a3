#!/usr/bin/env bash
# Runs every check the project has: formatting, clippy, and all tests against real backing
# services (NATS JetStream, Redis, FerretDB, stripe-mock), which it installs and starts first.
# Extra arguments go to `cargo test` (e.g. `scripts/test.sh -p auth`).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "backing services"
scripts/backing-services.sh up

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test"
cargo test --workspace --locked "$@"
