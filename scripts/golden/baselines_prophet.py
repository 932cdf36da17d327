#!/usr/bin/env python3
"""Golden values for the Prophet-style baseline (crates/fusecast-baselines/src/prophet/).

Fits Python Prophet (MAP, its defaults: 25 changepoints in the first 80 %, changepoint prior 0.05,
seasonality and holiday priors 10, auto seasonalities) on the training part (all but the last 14
days) of a few real series of the anchor panels, in both seasonality modes, with US federal
holidays (one holiday name per recurring holiday, which is how the Rust model groups the bare
dates it receives), and writes per case: the training values, the holiday dates and names, the MAP
parameters and the 14-day forecast components into
crates/fusecast-baselines/tests/fixtures/prophet/golden.json.

Pinned versions (the bench venv, scripts/bench/.venv): prophet 1.5.0 (cmdstan 2.37.0),
pandas 2.3.3, numpy 2.4.6, on panels made by /work/shared/anchors/make_panel.py and
make_flights_panel.py (/tmp/panels/*.parquet).

    scripts/bench/.venv/bin/python scripts/golden/baselines_prophet.py
"""
import calendar
import datetime as dt
import json
import logging
import os
import sys

import numpy as np
import pandas as pd
from prophet import Prophet

H = 14
CASES = [
    ("flights", 0, "additive"),
    ("flights", 3, "multiplicative"),
    ("flights", 40, "additive"),
    ("synth256", 0, "additive"),
    ("synth256", 2, "multiplicative"),
    ("synth256", 17, "additive"),
]


def nth_weekday(year, month, weekday, n):
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def last_weekday(year, month, weekday):
    last = dt.date(year, month, calendar.monthrange(year, month)[1])
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def us_federal_holidays(year):
    """Same rules as fusecast_data::calendar::us_federal_holidays (actual dates, not observed)."""
    out = [(dt.date(year, 1, 1), "New Year's Day")]
    if year >= 1986:
        out.append((nth_weekday(year, 1, 0, 3), "Martin Luther King Jr. Day"))
    out.append((nth_weekday(year, 2, 0, 3), "Washington's Birthday"))
    out.append((last_weekday(year, 5, 0), "Memorial Day"))
    if year >= 2021:
        out.append((dt.date(year, 6, 19), "Juneteenth"))
    out.append((dt.date(year, 7, 4), "Independence Day"))
    out.append((nth_weekday(year, 9, 0, 1), "Labor Day"))
    out.append((nth_weekday(year, 10, 0, 2), "Columbus Day"))
    out.append((dt.date(year, 11, 11), "Veterans Day"))
    out.append((nth_weekday(year, 11, 3, 4), "Thanksgiving Day"))
    out.append((dt.date(year, 12, 25), "Christmas Day"))
    return out


def seconds(d):
    return int((pd.Timestamp(d) - pd.Timestamp("1970-01-01")).total_seconds())


def neg_log_posterior(m):
    """Prophet's Stan objective (constants dropped, no Jacobian) at its MAP, to compare optima."""
    p = {k: np.asarray(v)[0] for k, v in m.params.items()}
    feats, prior_scales, _, modes = m.make_all_seasonality_features(m.history)
    X = feats.to_numpy()
    beta = np.asarray(p["beta"]).reshape(-1)
    t = m.history.t.to_numpy()
    y = m.history.y_scaled.to_numpy()
    delta = np.asarray(p["delta"]).reshape(-1)
    mm = float(np.reshape(p["m"], -1)[0])
    k = float(np.reshape(p["k"], -1)[0])
    sigma = float(np.reshape(p["sigma_obs"], -1)[0])
    trend = m.piecewise_linear(t, delta, k, mm, m.changepoints_t)
    s = X @ beta
    pred = trend * (1 + s) if m.seasonality_mode == "multiplicative" else trend + s
    r = y - pred
    return float((k * k + mm * mm) / 50 + np.abs(delta).sum() / m.changepoint_prior_scale
                 + 2 * sigma ** 2 + 0.5 * np.sum(beta ** 2 / np.asarray(prior_scales) ** 2)
                 + len(y) * np.log(sigma) + 0.5 * np.sum(r ** 2) / sigma ** 2)


def main():
    logging.getLogger("cmdstanpy").setLevel(logging.WARNING)
    logging.getLogger("prophet").setLevel(logging.WARNING)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out_dir = os.path.join(root, "crates/fusecast-baselines/tests/fixtures/prophet")
    os.makedirs(out_dir, exist_ok=True)
    cases = []
    for panel, uid, mode in CASES:
        df = pd.read_parquet(f"/tmp/panels/{panel}.parquet")
        df = df[df.unique_id == uid].sort_values("ds")
        df["ds"] = pd.to_datetime(df["ds"])
        train = df.iloc[:-H][["ds", "y"]].reset_index(drop=True)
        years = range(train.ds.min().year, train.ds.max().year + 2)
        hol = [(d, name) for y in years for d, name in us_federal_holidays(y)]
        holidays = pd.DataFrame({"holiday": [n for _, n in hol], "ds": pd.to_datetime([d for d, _ in hol])})
        np.random.seed(0)
        m = Prophet(seasonality_mode=mode, holidays=holidays)
        m.fit(train)
        future = m.make_future_dataframe(periods=H, include_history=False)
        fc = m.predict(future)
        p = m.params
        nlp = neg_log_posterior(m)
        # Weekly coefficients: the first 6 columns (no yearly: < 730 days of history).
        assert list(m.seasonalities) == ["weekly"], list(m.seasonalities)
        cases.append({
            "panel": panel,
            "unique_id": uid,
            "mode": mode,
            "start": seconds(train.ds.iloc[0]),
            "y": train.y.tolist(),
            "holidays": [{"ds": seconds(d), "name": n} for d, n in hol],
            "y_scale": float(m.y_scale),
            "changepoints_t": [float(c) for c in m.changepoints_t],
            "k": float(p["k"][0, 0]),
            "m": float(p["m"][0, 0]),
            "delta": [float(v) for v in p["delta"][0]],
            "sigma_obs": float(p["sigma_obs"][0, 0]),
            "beta_weekly": [float(v) for v in p["beta"][0][:6]],
            "neg_log_posterior": nlp,
            "yhat": fc.yhat.tolist(),
            "trend": fc.trend.tolist(),
            "weekly": fc.weekly.tolist(),
            "holidays_effect": fc.holidays.tolist(),
            "yhat_lower": fc.yhat_lower.tolist(),
            "yhat_upper": fc.yhat_upper.tolist(),
            "interval_width": 0.8,
        })
        print(panel, uid, mode, "k", cases[-1]["k"], "sigma", cases[-1]["sigma_obs"], file=sys.stderr)
    with open(os.path.join(out_dir, "golden.json"), "w") as f:
        json.dump({"prophet_version": "1.5.0", "horizon": H, "cases": cases}, f)


if __name__ == "__main__":
    main()
