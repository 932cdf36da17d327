#!/usr/bin/env bash
# Kill -9 campaign: `fusecast run` on a small synthetic config with a checkpoint after every step
# is killed at N random moments (many land inside checkpoint writes), resumed with --resume, and
# each resumed run must end bit-identical to an uninterrupted one: the same metrics.jsonl curve
# (loss text equal to the last digit) and the same final trainer state (step, learning rate,
# best loss, best epoch).
#   scripts/kill_campaign.sh [N=10] [SEED=1]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/fusecast-target}"
cargo build --release --quiet
BIN="$CARGO_TARGET_DIR/release/fusecast"
N="${1:-10}"
RANDOM="${2:-1}"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cat > "$WORK/k.toml" <<'TOML'
[data]
start = "2022-01-01"
end = "2022-09-30"
[data.synthetic]
zones = 16
[windows]
encoder_length = 21
horizon = 7
validation_periods = 14
test_periods = 14
[model]
hidden_size = 16
attention_heads = 2
hidden_continuous_size = 8
[train]
batch_size = 64
max_epochs = 4
batches_per_epoch = 16
learning_rate = 0.01
checkpoint_every_steps = 1
devices = ["cpu"]
[baselines]
models = ["seasonal_naive"]
selection_windows = 0
TOML
cd "$WORK"
start=$(date +%s%N)
"$BIN" --quiet run k.toml --name whole >/dev/null
whole_ms=$(( ($(date +%s%N) - start) / 1000000 ))
final() { python3 - "$1" <<'PY'
import json, sys, glob
run = sys.argv[1]
curve = [(m["epoch"], m["step"], m["train_loss"], m["val_loss"]) for m in map(json.loads, open(f"{run}/metrics.jsonl"))]
last = sorted(glob.glob(f"{run}/checkpoints/epoch-0004/state.json"))[-1]
s = json.load(open(last))
print(json.dumps([curve, s["step"], s["lr"], s["best"], s["best_epoch"]]))
PY
}
expected=$(final runs/whole)
landed=0; same=0
for i in $(seq "$N"); do
  # Anywhere from data loading to the last epoch's checkpoint.
  wait_ms=$(( 50 + RANDOM % (whole_ms * 9 / 10) ))
  "$BIN" --quiet run k.toml --name "k$i" >/dev/null 2>&1 &
  pid=$!
  sleep "$(python3 -c "print($wait_ms / 1000)")"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  # Landed: the run had not reached its last epoch's checkpoint.
  if [ ! -f "runs/k$i/checkpoints/epoch-0004/state.json" ]; then landed=$((landed + 1)); fi
  if [ -d "runs/k$i/checkpoints" ]; then
    "$BIN" --quiet run k.toml --name "k$i" --resume >/dev/null
  else
    "$BIN" --quiet run k.toml --name "k$i" >/dev/null
  fi
  got=$(final "runs/k$i")
  if [ "$got" = "$expected" ]; then same=$((same + 1)); verdict=identical; else verdict=DIFFERENT; fi
  echo "kill $i at ${wait_ms} ms of ~${whole_ms} ms: $verdict"
done
echo "$landed of $N kills landed before the run ended; $same of $N resumed runs identical to the uninterrupted run"
[ "$same" = "$N" ]
