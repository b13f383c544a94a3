#!/usr/bin/env bash
# Benchmarks the fleet: release binaries behind nginx on free local ports, against the local
# FerretDB. Measures, in one run and with 16 requests in flight throughout, the database's own
# rates (the mongodb driver: insert_one, find_one by _id) and each endpoint's through the ingress,
# at two sizes (a fresh fleet, then 10,000 tickets), and prints them as ratios in markdown, with
# the replication lag, memory per service and the course's Node figures beside ours.
# Every request must succeed. BENCHMARKS.md keeps the last results.
#
#   scripts/bench.sh                    the full run: a few minutes after the build
#   BENCH_SCALE=0.02 scripts/bench.sh   every count × 0.02 (200 tickets seeded): to try it out
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/backing-services.sh up
echo "==> building release binaries (about 9 minutes cold on 2 cores)"
cargo build --release --workspace --bins --locked
TICKETING_BIN_DIR=${CARGO_TARGET_DIR:-$(pwd)/target}/release \
  cargo run -q --release -p ticketing-e2e --bin bench --locked
