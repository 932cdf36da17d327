#!/usr/bin/env bash
# Training throughput (issue 4): fusecast's TFT against PyTorch Forecasting's (the anchor
# ../shared/anchors/tft_bench.py) on the anchor's 256-series x 730-day synthetic daily panel, same
# size (hidden 32, 4 heads, hidden_continuous 16, encoder 56, horizon 14, batch 128, 7 quantiles,
# lr 3e-3, clip 0.1), same machine, same thread count, 100 training batches each.
#
#   scripts/bench/tft_throughput.sh [THREADS]
#
# Needs a venv with the anchor's pins (scripts/golden/.venv from scripts/golden/README.md, plus
# pyarrow). Prints samples/s and peak RSS of both and their ratio. Run it on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS=${1:-2}
OUT=scripts/bench/out/tft
source scripts/bench/lib.sh
PY=scripts/golden/.venv/bin/python
mkdir -p "$OUT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/fusecast-target}"
cargo build --release --quiet --workspace
BIN="$CARGO_TARGET_DIR/release/fusecast"
"$PY" -c "import pyarrow" 2>/dev/null || scripts/golden/.venv/bin/pip install --quiet pyarrow==26.0.1
[ -f "$OUT/panel.parquet" ] || "$PY" "$ANCHORS/make_panel.py" --out "$OUT/panel" >/dev/null
ls "$OUT"/panel* >/dev/null

anchor_tft_config tft_throughput panel.csv 14 0 log1p 1 42 "$THREADS" > "$OUT/fusecast.toml"

echo "== PyTorch Forecasting ($THREADS threads)"
theirs=$("$PY" "$ANCHORS/tft_bench.py" --panel "$OUT/panel.parquet" --threads "$THREADS" --mode throughput --batches 100 | tail -n 1)
echo "$theirs"
echo "== fusecast ($THREADS CPU replicas, one thread each)"
( cd "$OUT" && RAYON_NUM_THREADS=$THREADS /usr/bin/time -f 'peak RSS %M KB' "$BIN" --quiet run fusecast.toml ) 2>"$OUT/time.txt" | tail -n 2
ours=$(tail -n 1 "$OUT/runs/tft_throughput/metrics.jsonl")
echo "$ours"
cat "$OUT/time.txt"
"$PY" - "$theirs" "$ours" "$OUT/time.txt" <<'PYEOF'
import json, sys
theirs, ours = json.loads(sys.argv[1]), json.loads(sys.argv[2])
rss = int(open(sys.argv[3]).read().split()[-2]) / 1024
t = theirs["samples_per_s_median"]
print(f"samples/s: fusecast {ours['samples_per_s']:.0f} vs PF {t:.0f} -> {ours['samples_per_s'] / t:.2f}x")
print(f"peak RSS: fusecast {rss:.0f} MiB vs PF {theirs.get('peak_rss_mib', float('nan')):.0f} MiB")
PYEOF
echo "load: $(uptime)"
