#!/usr/bin/env bash
# Benchmarks the fleet: release binaries behind nginx on free local ports, bounded load
# (a few thousand requests), prints a markdown table. BENCHMARKS.md keeps the last results.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/backing-services.sh up
echo "==> building release binaries (about 9 minutes cold on 2 cores)"
cargo build --release --workspace --bins --locked
TICKETING_BIN_DIR=${CARGO_TARGET_DIR:-$(pwd)/target}/release \
  cargo run -q --release -p ticketing-e2e --bin bench --locked
