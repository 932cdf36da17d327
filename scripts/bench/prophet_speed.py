#!/usr/bin/env python3
"""Prophet-style baseline vs Python Prophet 1.5.0 on an anchor panel: accuracy and speed.

For each mode (additive, multiplicative) fits Python Prophet per series (its defaults, US federal
holidays by name, MAP, uncertainty_samples=0 since only point forecasts are scored; one process,
one series at a time) on all but the last --horizon days, times fit + predict, then runs our
model through the anchor_forecasts example (--threads 1, the same split and holidays), scores
both forecast files with /work/shared/anchors/score_forecasts.py and prints MASE, wall times and
the speed ratio as JSON.

    cargo build --release -p fusecast-baselines --examples
    scripts/bench/.venv/bin/python scripts/bench/prophet_speed.py --panel /tmp/panels/flights.parquet

Pinned: prophet 1.5.0 (cmdstan 2.37.0), pandas 2.3.3, numpy 2.4.6 (scripts/bench/.venv).
"""
import argparse
import json
import logging
import os
import subprocess
import sys
import time

import pandas as pd

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts/golden"))
from baselines_prophet import us_federal_holidays  # noqa: E402

SCORE = "/work/shared/anchors/score_forecasts.py"
LABEL = {"additive": "ProphetAdditive", "multiplicative": "ProphetMultiplicative"}


def python_prophet(panel, mode, horizon, max_series, out_csv):
    from prophet import Prophet

    logging.getLogger("cmdstanpy").setLevel(logging.WARNING)
    logging.getLogger("prophet").setLevel(logging.WARNING)
    df = pd.read_parquet(panel)
    df["ds"] = pd.to_datetime(df["ds"])
    ids = sorted(df.unique_id.unique())[:max_series]
    years = range(df.ds.min().year, df.ds.max().year + 2)
    hol = [(d, n) for y in years for d, n in us_federal_holidays(y)]
    holidays = pd.DataFrame({"holiday": [n for _, n in hol], "ds": pd.to_datetime([d for d, _ in hol])})
    rows = []
    started = time.perf_counter()
    for uid in ids:
        s = df[df.unique_id == uid].sort_values("ds")
        train = s.iloc[:-horizon][["ds", "y"]]
        m = Prophet(seasonality_mode=mode, holidays=holidays, uncertainty_samples=0)
        m.fit(train)
        fc = m.predict(m.make_future_dataframe(periods=horizon, include_history=False))
        rows.append(pd.DataFrame({"unique_id": uid, "ds": fc.ds.dt.strftime("%Y-%m-%d"), LABEL[mode]: fc.yhat}))
    wall = time.perf_counter() - started
    pd.concat(rows).to_csv(out_csv, index=False)
    return wall, len(ids)


def score(panel, csv, horizon, max_series):
    cmd = [sys.executable, SCORE, "--panel", panel, "--forecasts", csv, "--horizon", str(horizon)]
    if max_series:
        cmd += ["--max-series", str(max_series)]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--panel", required=True)
    ap.add_argument("--modes", nargs="+", default=["additive", "multiplicative"])
    ap.add_argument("--horizon", type=int, default=14)
    ap.add_argument("--max-series", type=int, default=None)
    ap.add_argument("--binary", default="/var/tmp/fusecast-target/release/examples/anchor_forecasts")
    ap.add_argument("--out-dir", default="/tmp/prophet_speed")
    a = ap.parse_args()
    os.makedirs(a.out_dir, exist_ok=True)
    name = os.path.splitext(os.path.basename(a.panel))[0]
    report = {"panel": name}
    for mode in a.modes:
        py_csv = os.path.join(a.out_dir, f"{name}_{mode}_python.csv")
        py_wall, n = python_prophet(a.panel, mode, a.horizon, a.max_series, py_csv)
        rs_csv = os.path.join(a.out_dir, f"{name}_{mode}_rust.csv")
        cmd = [a.binary, a.panel, rs_csv, "--horizon", str(a.horizon), "--threads", "1"]
        if a.max_series:
            cmd += ["--max-series", str(a.max_series)]
        out = subprocess.run(cmd + [f"prophet_{mode}"], check=True, capture_output=True, text=True).stdout
        rs = json.loads(out.strip().splitlines()[-1])[LABEL[mode]]
        py_score = score(a.panel, py_csv, a.horizon, a.max_series)[LABEL[mode]]
        rs_score = score(a.panel, rs_csv, a.horizon, a.max_series)[LABEL[mode]]
        report[mode] = {
            "n_series": n,
            "python_wall_s": round(py_wall, 3),
            "rust_wall_s": round(rs["wall_s"], 4),
            "speedup": round(py_wall / rs["wall_s"], 1),
            "rust_failures": rs["failures"],
            "python_mase": py_score["mase_mean"],
            "rust_mase": rs_score["mase_mean"],
            "python_metrics": py_score,
            "rust_metrics": rs_score,
        }
        print(json.dumps({mode: {k: v for k, v in report[mode].items() if not k.endswith("metrics")}}), file=sys.stderr)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
