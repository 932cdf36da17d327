#!/usr/bin/env bash
# GPU check (issue 4), for the device machine: builds with wgpu (CUDA cannot be built here: burn's
# cuda feature downloads LLVM at build time), runs the PF parity test on the GPU, trains the same
# small config on `cpu` and on `wgpu` and compares their loss curves, then measures training
# samples/s of the reference-size model on one GPU.
#
#   scripts/bench/gpu.sh            (prints everything; exits non-zero on a failed check)
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/fusecast-target}"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
nvidia-smi --query-gpu=name,memory.total --format=csv || true
cargo build --release --quiet --workspace
FUSECAST_REQUIRE_WGPU=1 cargo test --release --workspace --test pf_parity -- --nocapture
BIN="$CARGO_TARGET_DIR/release/fusecast"
OUT=$(mktemp -d)
for dev in cpu wgpu; do
  cat > "$OUT/$dev.toml" <<TOML
[run]
name = "$dev"
output_dir = "$OUT/runs"
[data]
start = "2022-01-01"
end = "2023-06-30"
[features]
weather = "central_park"
[windows]
encoder_length = 56
horizon = 14
[model]
hidden_size = 32
attention_heads = 4
hidden_continuous_size = 16
dropout = 0.0
[train]
batch_size = 128
max_epochs = 3
batches_per_epoch = 20
devices = ["$dev"]
[baselines]
# Only the seasonal naive: device time is short, and the baselines run on the CPU anyway.
models = ["seasonal_naive"]
TOML
  /usr/bin/time -f "$dev wall %e s" "$BIN" --quiet run "$OUT/$dev.toml"
done
python3 - "$OUT/runs" <<'PY'
import json, sys
runs = sys.argv[1]
cpu = [json.loads(l) for l in open(f"{runs}/cpu/metrics.jsonl")]
gpu = [json.loads(l) for l in open(f"{runs}/wgpu/metrics.jsonl")]
worst = 0.0
for c, g in zip(cpu, gpu):
    for k in ("train_loss", "val_loss"):
        worst = max(worst, abs(c[k] - g[k]) / abs(c[k]))
    print(f"epoch {c['epoch']}: cpu {c['train_loss']:.5f}/{c['val_loss']:.5f}  wgpu {g['train_loss']:.5f}/{g['val_loss']:.5f}  "
          f"samples/s cpu {c['samples_per_s']:.0f} wgpu {g['samples_per_s']:.0f}")
print(f"largest relative difference of the loss curves: {worst:.2e}")
sys.exit(0 if worst < 1e-3 else 1)
PY
