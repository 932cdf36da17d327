#!/usr/bin/env bash
# The same grid under both engines on this machine, one after the other: `fusecast tune` (the
# built-in tuner) and `fusecast-ray tune` (Ray Tune on a local Ray cluster started by the
# bridge): experiment wall time, the sum of the trials' own training time, and the overhead per
# trial (wall x concurrency - training time, over the trials). Grid: configs/tune.toml
# (3 learning rates x clusters.k in {1, 2}, a TFT per cluster, 9 trials), FIFO, MAX_EPOCHS epochs.
#   scripts/bench/ray.sh [MAX_EPOCHS] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/fusecast-target}"
cargo build --release --workspace --quiet
BIN="$CARGO_TARGET_DIR/release/fusecast"
PY="$(bash scripts/ray_venv.sh | tail -1)"
OUT="$PWD/scripts/bench/out/ray"
mkdir -p "$OUT"
EPOCHS="${1:-3}"
RUNS="${2:-2}"
export RAY_USAGE_STATS_ENABLED=0
summary() {
  python3 - "$1" "$2" "$3" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
wall, engine = float(sys.argv[2]), sys.argv[3]
train = sum(float(r["wall_s"]) for r in rows)
conc = 2
print(f"{engine:>12}: wall {wall:6.1f} s, {len(rows)} trials, training {train:6.1f} s, "
      f"overhead per trial {(wall * conc - train) / len(rows):5.2f} s "
      f"(best {min(float(r['best_val_loss']) for r in rows if r['best_val_loss']):.5f})")
PY
}
for run in $(seq 1 "$RUNS"); do
  for engine in fusecast ray; do
    sed -e 's/^scheduler = .*/scheduler = "fifo"/' -e "s/^max_epochs = .*/max_epochs = $EPOCHS/" \
        -e "s|^output_dir = .*|output_dir = \"$OUT\"|" -e "s/^name = \"tune\"/name = \"$engine\"/" \
        configs/tune.toml > "$OUT/$engine.toml"
    echo "== run $run, $engine (load $(cut -d' ' -f1-3 /proc/loadavg))"
    start=$(date +%s.%N)
    if [ "$engine" = fusecast ]; then
      "$BIN" --quiet tune "$OUT/$engine.toml" > /dev/null
    else
      PYTHONPATH=python "$PY" -m fusecast_ray tune "$OUT/$engine.toml" --binary "$BIN" > "$OUT/ray.log" 2>&1 \
        || { tail -n 30 "$OUT/ray.log"; exit 1; }
    fi
    end=$(date +%s.%N)
    summary "$OUT/$engine/trials.csv" "$(python3 -c "print($end - $start)")" "$engine"
  done
done
