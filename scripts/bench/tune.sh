#!/usr/bin/env bash
# The reference tuning experiment (configs/tune.toml: 3 learning rates x clusters.k in {1, 2}, a
# TFT per cluster, on the synthetic city) under FIFO and under ASHA, on this machine, one after
# the other: wall time, trial-epochs run, best validation metric, and the tuner's own overhead
# per trial (start of a trial to its first training step; the data stage is prepared once per
# experiment and not counted). Target: ASHA within 1% of FIFO's best metric in at most half of
# FIFO's trial-epochs; overhead under 1 s per trial.
#   scripts/bench/tune.sh [MAX_EPOCHS]     (SCHEDULERS="asha" runs one of them)
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/fusecast-target}"
cargo build --release --quiet --workspace
BIN="$CARGO_TARGET_DIR/release/fusecast"
OUT=scripts/bench/out/tune
mkdir -p "$OUT"
EPOCHS="${1:-9}"
for sched in ${SCHEDULERS:-fifo asha}; do
  sed -e "s/^scheduler = .*/scheduler = \"$sched\"/" -e "s/^max_epochs = .*/max_epochs = $EPOCHS/" \
      -e "s|^output_dir = .*|output_dir = \"$PWD/$OUT\"|" -e "s/^name = \"tune\"/name = \"$sched\"/" \
      configs/tune.toml > "$OUT/$sched.toml"
  echo "== $sched (load $(cut -d' ' -f1-3 /proc/loadavg))"
  start=$(date +%s.%N)
  "$BIN" --quiet tune "$OUT/$sched.toml" | tail -n 2
  end=$(date +%s.%N)
  python3 - "$OUT/$sched/trials.csv" "$(python3 -c "print($end - $start)")" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
epochs = sum(int(r["epochs"]) for r in rows)
best = min(float(r["best_val_loss"]) for r in rows if r["best_val_loss"])
setup = [float(r["setup_s"]) for r in rows if r["setup_s"]]
stopped = sum(r["status"] == "STOPPED" for r in rows)
print(f"wall {float(sys.argv[2]):.1f} s, {len(rows)} trials, {epochs} trial-epochs, {stopped} stopped, "
      f"best val_loss {best:.5f}, overhead per trial {sum(setup)/len(setup):.3f} s mean / {max(setup):.3f} s max")
PY
  grep -E "^\| TFT|^\| SeasonalNaive|^\| AutoETS" "$OUT/$sched/eval/report.md" | head -n 6 || true
done
