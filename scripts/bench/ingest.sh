#!/usr/bin/env bash
# Ingestion benchmark (issue 2): trips/second from TLC-schema parquet to the daily and hourly panel,
# fusecast against the reference work's pyarrow + pandas path, same file, same machine.
#
#   scripts/bench/ingest.sh [TRIPS_PER_DAY] [RUNS]
#
# Generates 31 days of synthetic yellow trips (default 330,000/day: ~10.2M trips) once into
# scripts/bench/out/trips, builds the release binary, then times each path RUNS times (default 3)
# and prints the best trips/s and the peak RSS (GNU time) of each, and the ratio. Nothing else
# should run on the cores meanwhile: check `uptime` before trusting the numbers.
set -euo pipefail
cd "$(dirname "$0")/../.."
TRIPS_PER_DAY=${1:-330000}
RUNS=${2:-3}
OUT=scripts/bench/out
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/fusecast-target}"
cargo build --release --quiet --workspace
BIN="$CARGO_TARGET_DIR/release/fusecast"

if [ ! -f "$OUT/trips.$TRIPS_PER_DAY" ]; then
  rm -rf "$OUT/trips"; mkdir -p "$OUT"
  "$BIN" --quiet synth-trips --out "$OUT/trips" --start 2023-03-01 --end 2023-03-31 --trips-per-day "$TRIPS_PER_DAY"
  touch "$OUT/trips.$TRIPS_PER_DAY"
fi
ls -la "$OUT/trips"

VENV=scripts/bench/.venv
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet pandas==2.3.3 pyarrow==26.0.1 numpy==2.4.6
fi

best() { sort -g | tail -n 1; }
for freq in 1d 1h; do
  pfreq=$([ "$freq" = 1d ] && echo D || echo h)
  ours=(); ours_rss=(); theirs=(); theirs_rss=()
  for _ in $(seq "$RUNS"); do
    line=$(/usr/bin/time -f 'RSS %M' "$BIN" --quiet aggregate "$OUT/trips" --frequency "$freq" --start 2023-03-01 --end 2023-03-31 2>"$OUT/time.txt" | grep 'million trips/s')
    ours+=("$(echo "$line" | sed -E 's/.*: ([0-9.]+) million trips\/s/\1/')")
    ours_rss+=("$(grep RSS "$OUT/time.txt" | awk '{print $2}')")
    json=$("$VENV/bin/python" scripts/bench/ingest_pandas.py "$pfreq" "$OUT"/trips/*.parquet)
    theirs+=("$(echo "$json" | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["trips_per_s"]/1e6)')")
    theirs_rss+=("$(echo "$json" | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["peak_rss_mib"])')")
  done
  o=$(printf '%s\n' "${ours[@]}" | best); t=$(printf '%s\n' "${theirs[@]}" | best)
  orss=$(printf '%s\n' "${ours_rss[@]}" | sort -g | head -n 1); trss=$(printf '%s\n' "${theirs_rss[@]}" | sort -g | head -n 1)
  echo "$freq: fusecast ${o} M trips/s (peak RSS $((orss / 1024)) MiB) | pyarrow+pandas ${t} M trips/s (peak RSS ${trss%.*} MiB) | ratio $(python3 -c "print(f'{$o/$t:.2f}x')")"
done
echo "load during the run: $(uptime)"
