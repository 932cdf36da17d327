//! MSTL against statsforecast 2.1.1 / statsmodels 0.15.0 (fixtures made by
//! scripts/golden/baselines_ets.py), plus persistence, multiple periods and bad input.

use fusecast_baselines::mstl::{decompose, mstl, MstlSpec};
use fusecast_baselines::{BaselineError, Fitted, FittedModel, SeriesInput};
use serde_json::Value;

mod common;
use common::floats;

fn fixture() -> Value {
    common::fixture("mstl/statsforecast_mstl.json")
}

#[test]
fn stl_decomposition_matches_statsmodels() {
    for case in fixture()["cases"].as_array().unwrap() {
        let name = format!("{} {}", case["panel"], case["unique_id"]);
        let y = floats(&case["y"]);
        let (seas, trend) = decompose(&y, &[7], &MstlSpec::default());
        let scale = y.iter().map(|v| v.abs()).fold(0.0, f64::max);
        for (ours, theirs, what) in [
            (&seas[0], floats(&case["seasonal"]), "seasonal"),
            (&trend, floats(&case["trend"]), "trend"),
        ] {
            let worst = ours
                .iter()
                .zip(&theirs)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(worst < 1e-9 * scale, "{name} {what}: off by {worst}");
        }
    }
}

#[test]
fn forecasts_match_statsforecast() {
    for case in fixture()["cases"].as_array().unwrap() {
        let name = format!("{} {}", case["panel"], case["unique_id"]);
        let y = floats(&case["y"]);
        let fit = mstl(&SeriesInput::daily(&y), &MstlSpec::default()).unwrap();
        assert_eq!(
            fit.trend.describe(),
            case["trend_method"].as_str().unwrap(),
            "{name}"
        );
        let p = fit.forecast(14, &[0.1, 0.9]);
        for (ours, key) in [
            (&p.mean, "mean"),
            (&p.quantiles[0], "lo80"),
            (&p.quantiles[1], "hi80"),
        ] {
            let theirs = floats(&case[key]);
            let worst = ours
                .iter()
                .zip(&theirs)
                .map(|(a, b)| (a - b).abs() / b.abs())
                .fold(0.0, f64::max);
            assert!(worst < 0.01, "{name} {key}: relative difference {worst}");
        }
    }
}

#[test]
fn two_periods_are_both_extracted_and_saved_fits_forecast_the_same() {
    // Daily series with weekly and (30-day) monthly cycles on a slow trend.
    let y: Vec<f64> = (0..600)
        .map(|t| {
            let t = t as f64;
            50.0 + 0.02 * t
                + 6.0 * (2.0 * std::f64::consts::PI * t / 7.0).sin()
                + 3.0 * (2.0 * std::f64::consts::PI * t / 30.0).cos()
                + 0.3 * ((t * 12.9898).sin() * 43758.5453).fract()
        })
        .collect();
    let input = SeriesInput {
        seasonal_periods: vec![30, 7],
        ..SeriesInput::daily(&y)
    };
    let fit = mstl(&input, &MstlSpec::default()).unwrap();
    assert_eq!(fit.periods, vec![7, 30]);
    assert!(fit.describe().starts_with("MSTL[7,30]+ETS("));
    let amp = |c: &[f64]| {
        c.iter().cloned().fold(f64::MIN, f64::max) - c.iter().cloned().fold(f64::MAX, f64::min)
    };
    assert!(
        (amp(&fit.last_cycles[0]) - 12.0).abs() < 1.5,
        "{:?}",
        fit.last_cycles[0]
    );
    assert!(
        (amp(&fit.last_cycles[1]) - 6.0).abs() < 1.5,
        "{:?}",
        fit.last_cycles[1]
    );
    let p = fit.forecast(60, &[0.1, 0.9]);
    for (i, m) in p.mean.iter().enumerate() {
        let t = (600 + i) as f64;
        let truth = 50.0
            + 0.02 * t
            + 6.0 * (2.0 * std::f64::consts::PI * t / 7.0).sin()
            + 3.0 * (2.0 * std::f64::consts::PI * t / 30.0).cos();
        assert!((m - truth).abs() < 1.5, "step {i}: {m} vs {truth}");
    }
    let json = serde_json::to_string(&FittedModel::Mstl(fit.clone())).unwrap();
    let back: FittedModel = serde_json::from_str(&json).unwrap();
    let q = back.forecast(60, &[0.1, 0.9]);
    for (a, b) in p
        .mean
        .iter()
        .chain(p.quantiles.iter().flatten())
        .zip(q.mean.iter().chain(q.quantiles.iter().flatten()))
    {
        assert!((a - b).abs() <= 1e-9 * a.abs().max(1.0));
    }
}

#[test]
fn short_series_drop_periods_and_bad_input_is_reported() {
    let y: Vec<f64> = (0..40).map(|t| 10.0 + (t % 7) as f64).collect();
    let input = SeriesInput {
        seasonal_periods: vec![7, 30],
        ..SeriesInput::daily(&y)
    };
    let fit = mstl(&input, &MstlSpec::default()).unwrap();
    assert_eq!(fit.periods, vec![7]);
    assert!(fit.notes.iter().any(|n| n.contains("period 30 dropped")));

    // No seasonal periods listed: the main period is used.
    let main_only = SeriesInput {
        seasonal_periods: vec![],
        ..SeriesInput::daily(&y)
    };
    assert_eq!(
        mstl(&main_only, &MstlSpec::default()).unwrap().periods,
        vec![7]
    );

    let mut bad = y.clone();
    bad[3] = f64::INFINITY;
    assert!(matches!(
        mstl(&SeriesInput::daily(&bad), &MstlSpec::default()),
        Err(BaselineError::NonFinite { position: 3, .. })
    ));
    assert!(matches!(
        mstl(&SeriesInput::daily(&y[..5]), &MstlSpec::default()),
        Err(BaselineError::TooShort { .. })
    ));
    let seasonal_trend = MstlSpec {
        trend: fusecast_baselines::ets::EtsSpec::default(),
        ..MstlSpec::default()
    };
    assert!(matches!(
        mstl(&SeriesInput::daily(&y), &seasonal_trend),
        Err(BaselineError::FitFailed { .. })
    ));
    let even_window = MstlSpec {
        seasonal_windows: vec![10],
        ..MstlSpec::default()
    };
    assert!(matches!(
        mstl(&SeriesInput::daily(&y), &even_window),
        Err(BaselineError::FitFailed { .. })
    ));
    // A constant series decomposes into nothing and forecasts itself.
    let flat = vec![3.0; 50];
    let p = mstl(&SeriesInput::daily(&flat), &MstlSpec::default())
        .unwrap()
        .forecast(10, &[0.5]);
    assert!(
        p.mean.iter().all(|v| (v - 3.0).abs() < 1e-9),
        "{:?}",
        p.mean
    );
}
