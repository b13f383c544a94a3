#!/usr/bin/env bash
# Runs every check the project has: formatting, clippy, and all tests against real backing
# services (NATS JetStream, Redis, FerretDB, stripe-mock), which it installs and starts first.
# Extra arguments go to `cargo test` (e.g. `scripts/test.sh -p auth`). The end-to-end tests
# (e2e/) start their own copies of the services, NATS and nginx on free ports.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "backing services"
scripts/backing-services.sh up

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo build (the end-to-end tests run the service binaries)"
cargo build --workspace --bins --locked

step "Kubernetes manifests, Dockerfiles, workflows: kubeconform, hadolint, actionlint"
scripts/k8s-checks.sh

step "forget earlier test runs' databases and streams"
cargo run -q -p ticketing-e2e --bin prune-test-data --locked

step "cargo test"
cargo test --workspace --locked "$@"

step "web client: type check, unit tests, browser test through the ingress"
scripts/fleet.sh up
scripts/client.sh test
