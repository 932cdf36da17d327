#!/usr/bin/env bash
# The forecast service under load, on loopback only: trains the quickstart model (263 zones,
# horizon 14) unless runs/quickstart exists, starts `fusecast serve` on a free port, and runs the
# bounded load test (crates/fusecast-serve/examples/load.rs): REQUESTS requests of all 263 zones x
# 14 steps, CONCURRENCY at a time, every tenth malformed. Prints p50/p90/p99 latency, requests/s
# and the service's own counters. Target: zero 5xx, every valid request 200, every malformed
# one 4xx; p50 under 50 ms per request on this CPU.
#   scripts/bench/serve.sh [REQUESTS] [CONCURRENCY]
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/fusecast-target}"
cargo build --release --quiet --workspace --examples --bins
BIN="$CARGO_TARGET_DIR/release/fusecast"
LOAD="$CARGO_TARGET_DIR/release/examples/load"
REQUESTS="${1:-10000}"
CONCURRENCY="${2:-64}"
RUN="${RUN:-runs/quickstart}"
if [ ! -f "$RUN/best/artifact.json" ]; then
  "$BIN" --quiet run configs/quickstart.toml
fi
OUT=scripts/bench/out/serve
mkdir -p "$OUT"
"$BIN" --quiet serve "$RUN" --addr 127.0.0.1:0 > "$OUT/serve.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  grep -q "^listening on " "$OUT/serve.log" && break
  sleep 0.1
done
ADDR=$(sed -n 's/^listening on //p' "$OUT/serve.log")
echo "== serve $RUN on $ADDR (load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores)"
# One request alone first: the latency of a lone request, without queueing behind others.
"$LOAD" "$ADDR" 50 1 | grep "valid requests"
"$LOAD" "$ADDR" "$REQUESTS" "$CONCURRENCY"
echo "server RSS $(ps -o rss= -p $PID | awk '{printf "%.0f MiB", $1/1024}')"
