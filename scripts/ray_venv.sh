#!/usr/bin/env bash
# The Python the Ray bridge's tests run with: a venv with this repository's python/ package and
# the Ray it pins (ray[tune]==2.60.0, ~630 MB, ~80 s to install from PyPI). Prints the venv's
# python on the last line of stdout. A Ray that cannot be installed fails (it is not skipped).
#   FUSECAST_RAY_PYTHON=$(bash scripts/ray_venv.sh | tail -1) cargo test --release --workspace --test ray_bridge
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${FUSECAST_RAY_VENV:-/var/tmp/fusecast-ray-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >&2
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check ./python >&2
"$venv/bin/python" -c 'import ray, fusecast_ray; assert ray.__version__ == "2.60.0", ray.__version__' >&2
echo "$venv/bin/python"
