//! AutoETS properties: parameter recovery on simulated series, persistence, bad input.

use std::time::{Duration, Instant};

use fusecast_baselines::ets::{auto_ets, Component, EtsFit, EtsSpec};
use fusecast_baselines::{BaselineError, Fitted, FittedModel, SeriesInput};

/// Deterministic standard normal draws (splitmix64 + Box-Muller).
struct Rng(u64);
impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        (-2.0 * self.uniform().ln()).sqrt() * (2.0 * std::f64::consts::PI * self.uniform()).cos()
    }
}

fn spec(model: &str) -> EtsSpec {
    EtsSpec {
        model: model.into(),
        ..EtsSpec::default()
    }
}

#[test]
fn recovers_the_smoothing_parameter_of_a_local_level() {
    let mut rng = Rng(7);
    let alpha = 0.4;
    let mut level = 100.0;
    let y: Vec<f64> = (0..800)
        .map(|_| {
            let e = rng.normal();
            let v = level + e;
            level += alpha * e;
            v
        })
        .collect();
    let fit = auto_ets(&SeriesInput::daily(&y).with_period(1), &spec("ANN")).unwrap();
    assert!((fit.alpha - alpha).abs() < 0.06, "alpha {}", fit.alpha);
    assert!((fit.sigma2 - 1.0).abs() < 0.15, "sigma2 {}", fit.sigma2);
    // Selection among all forms keeps a level-only additive model.
    let auto = auto_ets(&SeriesInput::daily(&y).with_period(1), &EtsSpec::default()).unwrap();
    assert_eq!(auto.trend, Component::None, "{}", auto.describe());
}

#[test]
fn recovers_a_fixed_weekly_pattern_and_picks_a_seasonal_model() {
    let mut rng = Rng(11);
    let pattern = [8.0, -3.0, -2.0, -1.0, 0.0, 1.0, -3.0];
    let (alpha, gamma) = (0.2, 0.05);
    let mut level = 50.0;
    let mut season = pattern.to_vec();
    let y: Vec<f64> = (0..560)
        .map(|t| {
            let e = rng.normal();
            let s = season[t % 7];
            season[t % 7] = s + gamma * e;
            let v = level + s + e;
            level += alpha * e;
            v
        })
        .collect();
    let fit = auto_ets(&SeriesInput::daily(&y), &spec("ANA")).unwrap();
    assert!((fit.alpha - alpha).abs() < 0.07, "alpha {}", fit.alpha);
    assert!(fit.gamma < 0.15, "gamma {}", fit.gamma);
    let auto = auto_ets(&SeriesInput::daily(&y), &EtsSpec::default()).unwrap();
    assert_eq!(auto.season, Component::Additive, "{}", auto.describe());
    // The forecast repeats the weekly shape: Mondays (t % 7 == 0) stand out.
    let p = auto.forecast(7, &[]);
    let next = y.len() % 7;
    let monday = (7 - next) % 7;
    let top = (0..7)
        .max_by(|&a, &b| p.mean[a].total_cmp(&p.mean[b]))
        .unwrap();
    assert_eq!(top, monday);
}

#[test]
fn damped_trend_forecasts_flatten() {
    let mut rng = Rng(3);
    let y: Vec<f64> = (0..300)
        .map(|t| 20.0 + 0.5 * t as f64 + rng.normal())
        .collect();
    let fit = auto_ets(
        &SeriesInput::daily(&y).with_period(1),
        &EtsSpec {
            model: "AAN".into(),
            damped: Some(true),
            ..EtsSpec::default()
        },
    )
    .unwrap();
    assert!(fit.damped && fit.phi >= 0.8 && fit.phi <= 0.98);
    let p = fit.forecast(200, &[]);
    let first = p.mean[1] - p.mean[0];
    let last = p.mean[199] - p.mean[198];
    assert!(first > 0.0 && last < 0.05 * first, "{first} {last}");
}

#[test]
fn saved_fits_forecast_identically() {
    let mut rng = Rng(5);
    let y: Vec<f64> = (0..200)
        .map(|t| 40.0 * (1.0 + 0.3 * ((t % 7) as f64 - 3.0) / 3.0) + rng.normal())
        .collect();
    for model in ["ZZZ", "MNM", "MAN", "AAA"] {
        let fit = auto_ets(&SeriesInput::daily(&y), &spec(model)).unwrap();
        let json = serde_json::to_string(&FittedModel::Ets(fit.clone())).unwrap();
        let back: FittedModel = serde_json::from_str(&json).unwrap();
        // serde_json may round the last bit of a float, nothing more.
        let levels = [0.05, 0.5, 0.95];
        let (p, q) = (fit.forecast(21, &levels), back.forecast(21, &levels));
        assert_eq!(back.describe(), fit.describe());
        let close = |a: &[f64], b: &[f64]| {
            a.iter()
                .zip(b)
                .all(|(x, y)| (x - y).abs() <= 1e-9 * x.abs().max(1.0))
        };
        assert!(close(&p.mean, &q.mean), "{model}");
        for k in 0..3 {
            assert!(close(&p.quantiles[k], &q.quantiles[k]), "{model} level {k}");
        }
        for i in 0..21 {
            assert!(p.quantiles[0][i] < p.quantiles[2][i], "{model} step {i}");
        }
    }
}

#[test]
fn multiplicative_season_intervals_come_from_simulation_and_widen() {
    let mut rng = Rng(9);
    let shape = [1.4, 0.8, 0.9, 1.0, 1.1, 1.2, 0.6];
    // A level that wanders (multiplicative random walk, alpha = 0.5) under a fixed weekly shape.
    let mut level = 100.0;
    let y: Vec<f64> = (0..350)
        .map(|t| {
            let e = 0.05 * rng.normal();
            let v = level * shape[t % 7] * (1.0 + e);
            level *= 1.0 + 0.5 * e;
            v
        })
        .collect();
    let fit = auto_ets(&SeriesInput::daily(&y), &spec("MNM")).unwrap();
    let p = fit.forecast(28, &[0.1, 0.9]);
    // Same weekday, four weeks apart: the later interval is wider.
    let w = |i: usize| p.quantiles[1][i] - p.quantiles[0][i];
    assert!(w(27) > w(6), "{} {}", w(27), w(6));
    // Relative errors of 5%: the first 80% interval is about +-1.28 * 5% of the forecast.
    let rel = w(0) / p.mean[0];
    assert!((rel - 2.0 * 1.2816 * 0.05).abs() < 0.04, "{rel}");
}

fn expect_err(y: &[f64], s: &EtsSpec) -> BaselineError {
    auto_ets(&SeriesInput::daily(y), s).unwrap_err()
}

#[test]
fn bad_input_is_reported() {
    let mut y: Vec<f64> = (0..60).map(|t| 10.0 + (t % 7) as f64).collect();
    y[17] = f64::NAN;
    assert!(matches!(
        expect_err(&y, &EtsSpec::default()),
        BaselineError::NonFinite { position: 17, .. }
    ));
    assert!(matches!(
        expect_err(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &EtsSpec::default()),
        BaselineError::TooShort {
            needed: 7,
            got: 6,
            ..
        }
    ));
    let signed: Vec<f64> = (0..60).map(|t| (t % 7) as f64 - 2.0).collect();
    assert!(matches!(
        expect_err(&signed, &spec("MNN")),
        BaselineError::NonPositive {
            position: 0,
            value: -2.0,
            ..
        }
    ));
    for bad in ["ZZ", "NNN", "AMN", "ZZX"] {
        assert!(
            matches!(
                expect_err(&signed, &spec(bad)),
                BaselineError::FitFailed { .. }
            ),
            "{bad}"
        );
    }
    let json = r#"{"model": "ZZZ", "bogus": 1}"#;
    assert!(serde_json::from_str::<EtsSpec>(json).is_err());
}

#[test]
fn non_positive_data_skip_multiplicative_models_and_say_so() {
    let mut rng = Rng(1);
    let y: Vec<f64> = (0..120)
        .map(|t| (3.0 + 2.0 * ((t % 7) as f64 - 3.0) + rng.normal()).max(0.0))
        .collect();
    assert!(y.contains(&0.0));
    let fit = auto_ets(&SeriesInput::daily(&y), &EtsSpec::default()).unwrap();
    assert_eq!(fit.error, Component::Additive);
    assert_ne!(fit.season, Component::Multiplicative);
    assert!(
        fit.notes.iter().any(|n| n.contains("multiplicative")),
        "{:?}",
        fit.notes
    );
}

#[test]
fn constant_and_all_zero_series_forecast_themselves() {
    for c in [0.0, 5.0] {
        let y = vec![c; 40];
        let fit: EtsFit = auto_ets(&SeriesInput::daily(&y), &EtsSpec::default()).unwrap();
        assert_eq!(fit.describe(), "ETS(A,N,N)");
        let p = fit.forecast(5, &[0.1, 0.9]);
        assert_eq!(p.mean, vec![c; 5]);
        assert_eq!(p.quantiles[0], vec![c; 5]);
        assert_eq!(p.quantiles[1], vec![c; 5]);
    }
}

#[test]
fn short_series_drop_the_season() {
    let y: Vec<f64> = (0..7).map(|t| 10.0 + t as f64).collect();
    let fit = auto_ets(&SeriesInput::daily(&y), &EtsSpec::default()).unwrap();
    assert_eq!(fit.season, Component::None);
    assert!(fit.notes.iter().any(|n| n.contains("seasonality dropped")));
    let hourly: Vec<f64> = (0..300).map(|t| 5.0 + ((t % 168) as f64).sin()).collect();
    let fit = auto_ets(
        &SeriesInput::daily(&hourly).with_period(168),
        &EtsSpec::default(),
    )
    .unwrap();
    assert_eq!(fit.season, Component::None);
}

#[test]
fn a_passed_deadline_times_out() {
    let y: Vec<f64> = (0..100).map(|t| 10.0 + (t % 7) as f64).collect();
    let input = SeriesInput {
        deadline: Some(Instant::now() - Duration::from_millis(1)),
        ..SeriesInput::daily(&y)
    };
    assert!(matches!(
        auto_ets(&input, &EtsSpec::default()),
        Err(BaselineError::Timeout { .. })
    ));
}
