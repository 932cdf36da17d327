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
ANCHORS=../shared/anchors
PY=scripts/golden/.venv/bin/python
mkdir -p "$OUT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/fusecast-target}"
cargo build --release --quiet
BIN="$CARGO_TARGET_DIR/release/fusecast"
"$PY" -c "import pyarrow" 2>/dev/null || scripts/golden/.venv/bin/pip install --quiet pyarrow==26.0.1
[ -f "$OUT/panel.parquet" ] || "$PY" "$ANCHORS/make_panel.py" --out "$OUT/panel" >/dev/null
ls "$OUT"/panel* >/dev/null

cat > "$OUT/fusecast.toml" <<TOML
[run]
name = "tft_throughput"
output_dir = "runs"
[data]
source = "table"
paths = ["panel.csv"]
series_column = "unique_id"
timestamp_column = "ds"
target_column = "y"
frequency = "1d"
[features]
static = []
[windows]
encoder_length = 56
horizon = 14
validation_periods = 14
test_periods = 0
target_transform = "log1p"
[model]
hidden_size = 32
attention_heads = 4
hidden_continuous_size = 16
dropout = 0.1
[train]
learning_rate = 0.003
batch_size = 128
max_epochs = 1
batches_per_epoch = 100
grad_clip_norm = 0.1
TOML

echo "== PyTorch Forecasting ($THREADS threads)"
theirs=$("$PY" "$ANCHORS/tft_bench.py" --panel "$OUT/panel.parquet" --threads "$THREADS" --mode throughput --batches 100 | tail -n 1)
echo "$theirs"
echo "== fusecast (RAYON_NUM_THREADS=$THREADS)"
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
