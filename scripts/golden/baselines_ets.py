#!/usr/bin/env python3
"""Reference values for fusecast-baselines' AutoETS and MSTL (crates/fusecast-baselines/tests/fixtures/{ets,mstl}/).

Pinned versions (scripts/bench/.venv): statsforecast 2.1.1, statsmodels 0.15.0, numpy 2.4.6, pandas 2.3.3.

  scripts/bench/.venv/bin/python scripts/golden/baselines_ets.py fixtures   # writes the JSON fixtures
  scripts/bench/.venv/bin/python scripts/golden/baselines_ets.py bench PANEL OUT.json [--n-jobs 1]
      # statsforecast MSTL(season_length=7) on an anchor panel (last 14 days held out): forecasts CSV next
      # to OUT.json for score_forecasts.py, plus wall time (AutoETS is covered by baselines_bench.py)

Fixtures: a few series of the anchor panels (last 14 days dropped, as the anchor split), each with
statsforecast's AutoETS(season_length=7) choice, AICc, parameters, point forecast and 80/95% intervals for
h = 14; and statsmodels/statsforecast's MSTL decomposition (seasonal, trend) plus MSTL forecasts.
"""
import json
import os
import sys
import time

for _v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from statsforecast import StatsForecast  # noqa: E402
from statsforecast.ets import ets_f, forecast_ets  # noqa: E402
from statsforecast.models import MSTL  # noqa: E402
from statsforecast.mstl import mstl  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "crates", "fusecast-baselines", "tests", "fixtures")
H = 14
PANELS = {"flights": "/tmp/panels/flights.parquet", "synth256": "/tmp/panels/synth256.parquet"}
# (panel, unique_id): a positive weekly-seasonal count series, a flights series with zeros, synthetic ones.
SERIES = [("flights", None, "positive"), ("flights", None, "zeros"), ("synth256", 0, None), ("synth256", 7, None)]


def load(panel):
    df = pd.read_parquet(PANELS[panel]).sort_values(["unique_id", "ds"])
    return {uid: g["y"].to_numpy(np.float64) for uid, g in df.groupby("unique_id", sort=True)}


def pick(series, idx, kind):
    keys = sorted(series, key=lambda k: int(k) if str(k).isdigit() else str(k))
    if idx is not None:
        return keys[idx]
    for k in keys:
        y = series[k][:-H]
        if kind == "positive" and y.min() > 0 and y.mean() > 5:
            return k
        if kind == "zeros" and (y == 0).any() and y.mean() > 1:
            return k
    raise SystemExit(f"no series of kind {kind}")


def ets_case(y):
    fit = ets_f(y, m=7, model="ZZZ")
    fc = forecast_ets(fit, h=H, level=[80, 95])
    comps = fit["components"]
    return {
        "components": comps,
        "method": fit["method"],
        "aicc": float(fit["aicc"]),
        "par": [float(v) if np.isfinite(v) else None for v in fit["par"][:4]],
        "sigma2": float(fit["sigma2"]),
        "mean": fc["mean"].tolist(),
        "lo80": fc["lo-80"].tolist(), "hi80": fc["hi-80"].tolist(),
        "lo95": fc["lo-95"].tolist(), "hi95": fc["hi-95"].tolist(),
    }


def fixed_case(y, model, damped):
    """One model form (no selection): its likelihood criterion and forecast."""
    fit = ets_f(y, m=7, model=model, damped=damped)
    fc = forecast_ets(fit, h=H, level=[80])
    return {"model": model, "damped": damped, "aicc": float(fit["aicc"]), "loglik": float(fit["loglik"]),
            "mean": fc["mean"].tolist(), "lo80": fc["lo-80"].tolist(), "hi80": fc["hi-80"].tolist()}


def fixtures():
    os.makedirs(os.path.join(FIX, "ets"), exist_ok=True)
    os.makedirs(os.path.join(FIX, "mstl"), exist_ok=True)
    cache = {p: load(p) for p in PANELS}
    ets_cases, mstl_cases = [], []
    for panel, idx, kind in SERIES:
        uid = pick(cache[panel], idx, kind)
        y = cache[panel][uid][:-H]
        case = {"panel": panel, "unique_id": str(uid), "y": y.tolist(), "auto": ets_case(y)}
        case["fixed"] = [fixed_case(y, "AAA", False), fixed_case(y, "ANN", False), fixed_case(y, "AAN", True)]
        if y.min() > 0:
            case["fixed"].append(fixed_case(y, "MNM", False))
        ets_cases.append(case)
        dec = mstl(y, period=7)
        model = MSTL(season_length=7).fit(y)
        fc = model.predict(h=H, level=[80])
        mstl_cases.append({
            "panel": panel, "unique_id": str(uid), "y": y.tolist(),
            "seasonal": dec["seasonal"].tolist(), "trend": dec["trend"].tolist(),
            "trend_method": model.model_["trend_forecaster"].model_["method"]
            if isinstance(model.model_, dict) else model.trend_forecaster.model_["method"],
            "mean": fc["mean"].tolist(), "lo80": fc["lo-80"].tolist(), "hi80": fc["hi-80"].tolist(),
        })
    with open(os.path.join(FIX, "ets", "statsforecast_autoets.json"), "w") as f:
        json.dump({"versions": versions(), "h": H, "cases": ets_cases}, f)
    with open(os.path.join(FIX, "mstl", "statsforecast_mstl.json"), "w") as f:
        json.dump({"versions": versions(), "h": H, "cases": mstl_cases}, f)


def versions():
    import statsforecast
    import statsmodels
    return {"statsforecast": statsforecast.__version__, "statsmodels": statsmodels.__version__,
            "numpy": np.__version__, "pandas": pd.__version__}


def bench(panel_path, out_json, n_jobs):
    df = pd.read_parquet(panel_path)
    df["ds"] = pd.to_datetime(df["ds"])
    df = df.sort_values(["unique_id", "ds"])
    cutoff = df["ds"].max() - pd.Timedelta(days=H)
    train = df[df["ds"] <= cutoff]
    warm = train[train["unique_id"].isin(train["unique_id"].unique()[:2])]
    StatsForecast(models=[MSTL(season_length=7)], freq="D", n_jobs=1).forecast(df=warm, h=H)
    t0 = time.perf_counter()
    fc = StatsForecast(models=[MSTL(season_length=7)], freq="D", n_jobs=n_jobs).forecast(df=train, h=H)
    wall = time.perf_counter() - t0
    fc = fc.reset_index() if "unique_id" not in fc.columns else fc
    csv = os.path.splitext(out_json)[0] + ".csv"
    fc[["unique_id", "ds", "MSTL"]].to_csv(csv, index=False)
    with open(out_json, "w") as f:
        json.dump({"panel": panel_path, "n_jobs": n_jobs, "wall_s": wall, "forecasts": csv, **versions()}, f)
    print(json.dumps({"wall_s": wall, "forecasts": csv}))


if __name__ == "__main__":
    if sys.argv[1] == "fixtures":
        fixtures()
    elif sys.argv[1] == "bench":
        n_jobs = int(sys.argv[sys.argv.index("--n-jobs") + 1]) if "--n-jobs" in sys.argv else 1
        bench(sys.argv[2], sys.argv[3], n_jobs)
    else:
        raise SystemExit(__doc__)
