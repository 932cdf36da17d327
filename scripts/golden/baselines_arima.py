#!/usr/bin/env python3
"""Golden fixtures for crates/fusecast-baselines/src/arima (AutoARIMA) from statsforecast.

Pinned: statsforecast 2.1.1, statsmodels (as installed with it), numpy 2.4.6, pandas 2.3.3,
pyarrow 26.0.1 (scripts/bench/.venv). Panels: /tmp/panels/{flights,synth256}.parquet, made by
../shared/anchors/make_{flights_,}panel.py (the anchor panels; daily, complete).

For a few real series (training part = all but the last 14 days) it records
  - the unit-root pieces: KPSS statistic (statsmodels, nlags = floor(3 sqrt(n) / 13)), the STL
    seasonal strength of statsforecast's seas_heuristic, ndiffs, nsdiffs;
  - fixed-order fits by CSS-ML (statsforecast.arima.Arima): coefficients, sigma2, loglik,
    14-step forecasts and standard errors;
  - AutoARIMA(season_length=7): the chosen orders, whether it has a constant, its forecasts.

  scripts/bench/.venv/bin/python scripts/golden/baselines_arima.py
writes crates/fusecast-baselines/tests/fixtures/arima/golden.json.
"""
import json
import math
import os
import warnings

import numpy as np
import pandas as pd
import statsforecast
import statsmodels
from statsforecast.arima import Arima, auto_arima_f, forecast_arima, ndiffs, nsdiffs, seas_heuristic
from statsmodels.tsa.stattools import kpss

warnings.filterwarnings("ignore")
H = 14
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "crates/fusecast-baselines/tests/fixtures/arima/golden.json")

PICK = {"flights": ["0", "5", "17", "40"], "synth256": ["1", "50", "161"]}
FIXED = [
    ((1, 0, 1), (0, 1, 1), False),
    ((2, 1, 1), (0, 0, 0), True),
    ((1, 0, 0), (1, 0, 1), True),
    ((0, 1, 2), (0, 0, 2), False),
]


def series(panel, uid):
    df = pd.read_parquet(f"/tmp/panels/{panel}.parquet")
    df["unique_id"] = df["unique_id"].astype(str)
    y = df[df.unique_id == uid].sort_values("ds")["y"].to_numpy(dtype=np.float64)
    return y[:-H]


def constant_of(model):
    return any(k in model["coef"] for k in ("intercept", "drift"))


def main():
    out = {
        "versions": {"statsforecast": statsforecast.__version__, "statsmodels": statsmodels.__version__,
                     "numpy": np.__version__, "pandas": pd.__version__},
        "horizon": H,
        "series": [],
    }
    for panel, uids in PICK.items():
        for uid in uids:
            y = series(panel, uid)
            n = len(y)
            rec = {"panel": panel, "unique_id": uid, "y": y.tolist()}
            lags = math.floor(3 * math.sqrt(n) / 13)
            rec["kpss_lags"] = lags
            rec["kpss_stat"] = float(kpss(y, "c", nlags=lags)[0])
            rec["seasonal_strength"] = float(seas_heuristic(y, 7))
            rec["nsdiffs"] = int(nsdiffs(y, period=7))
            rec["ndiffs"] = int(ndiffs(y))
            fixed = []
            for order, seas, const in FIXED:
                fit = Arima(y, order=order, seasonal={"order": seas, "period": 7},
                            include_constant=const, method="CSS-ML")
                fc = forecast_arima(fit, h=H, level=(80,))
                z = 1.2815515655446004
                se = (fc["upper"]["80%"].to_numpy() - fc["mean"]) / z
                fixed.append({
                    "order": list(order), "seasonal_order": list(seas), "constant": const,
                    "coef": {k: float(v) for k, v in fit["coef"].items()},
                    "sigma2": float(fit["sigma2"]), "loglik": float(fit["loglik"]),
                    "mean": fc["mean"].tolist(), "se": se.tolist(),
                })
            rec["fixed"] = fixed
            auto = auto_arima_f(y, period=7)
            a = auto["arma"]
            fc = forecast_arima(auto, h=H)
            rec["auto"] = {
                "order": [a[0], a[5], a[1]], "seasonal_order": [a[2], a[6], a[3]],
                "constant": constant_of(auto),
                "coef": {k: float(v) for k, v in auto["coef"].items()},
                "mean": fc["mean"].tolist(),
            }
            out["series"].append(rec)
            print(panel, uid, rec["auto"]["order"], rec["auto"]["seasonal_order"], rec["auto"]["constant"])
    with open(OUT, "w") as f:
        json.dump(out, f)
    print("wrote", OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
