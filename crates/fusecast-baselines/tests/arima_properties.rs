//! AutoARIMA properties: parameter recovery on simulated series, the differencing choices,
//! persistence of the fit, and what bad input gives.

use std::time::{Duration, Instant};

use fusecast_baselines::arima::{auto_arima, ArimaFit, ArimaSpec};
use fusecast_baselines::{BaselineError, Fitted, SeriesInput};

/// Deterministic standard normal draws (xorshift + Box-Muller).
struct Noise(u64);

impl Noise {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

fn fixed(order: [usize; 3], seasonal: [usize; 3], constant: bool) -> ArimaSpec {
    ArimaSpec {
        order: Some(order),
        seasonal_order: Some(seasonal),
        include_constant: Some(constant),
        ..ArimaSpec::default()
    }
}

#[test]
fn recovers_an_ar1_with_mean() {
    let mut e = Noise(42);
    let (phi, mu) = (0.6, 10.0);
    let mut y = vec![];
    let mut x = 0.0;
    for t in 0..1600 {
        x = phi * x + e.normal();
        if t >= 100 {
            y.push(mu + x);
        }
    }
    let fit = auto_arima(&SeriesInput::daily(&y), &fixed([1, 0, 0], [0, 0, 0], true)).unwrap();
    assert!((fit.ar[0] - phi).abs() < 0.05, "ar {:?}", fit.ar);
    assert!((fit.mean.unwrap() - mu).abs() < 0.25, "mean {:?}", fit.mean);
    assert!((fit.sigma2 - 1.0).abs() < 0.1, "sigma2 {}", fit.sigma2);
    assert_eq!(fit.describe(), "ARIMA(1,0,0) with non-zero mean");
    // The forecast decays to the mean at rate phi, the variance to the AR(1) variance.
    let p = fit.forecast(60, &[0.1, 0.9]);
    let last = y[y.len() - 1] - fit.mean.unwrap();
    assert!((p.mean[0] - fit.mean.unwrap() - fit.ar[0] * last).abs() < 1e-9);
    assert!((p.mean[59] - fit.mean.unwrap()).abs() < 1e-6);
    let sd_inf = (fit.sigma2 / (1.0 - fit.ar[0].powi(2))).sqrt();
    let sd59 = (p.quantiles[1][59] - p.mean[59]) / 1.281_551_565_544_600_4;
    assert!((sd59 - sd_inf).abs() < 1e-6, "{sd59} vs {sd_inf}");
}

#[test]
fn recovers_a_seasonal_airline_type_model() {
    // (1 - B^7) y_t = (1 + 0.4 B)(1 - 0.6 B^7) e_t
    let mut e = Noise(7);
    let n = 1400;
    let eps: Vec<f64> = (0..n + 20).map(|_| e.normal()).collect();
    let mut y = vec![0.0; n + 20];
    for t in 8..n + 20 {
        y[t] = y[t - 7] + eps[t] + 0.4 * eps[t - 1] - 0.6 * eps[t - 7] - 0.24 * eps[t - 8];
    }
    let y = &y[20..];
    let fit = auto_arima(&SeriesInput::daily(y), &fixed([0, 0, 1], [0, 1, 1], false)).unwrap();
    assert!((fit.ma[0] - 0.4).abs() < 0.06, "ma {:?}", fit.ma);
    assert!((fit.sma[0] + 0.6).abs() < 0.06, "sma {:?}", fit.sma);
    assert_eq!(fit.describe(), "ARIMA(0,0,1)(0,1,1)[7]");
    // The automatic search finds the seasonal difference by the seasonal-strength test.
    let auto = auto_arima(&SeriesInput::daily(y), &ArimaSpec::default()).unwrap();
    assert_eq!(auto.seasonal_order[1], 1, "{}", auto.describe());
}

#[test]
fn random_walk_with_drift_is_differenced_once() {
    let mut e = Noise(3);
    let mut y = vec![50.0];
    for _ in 0..400 {
        let last = *y.last().unwrap();
        y.push(last + 0.5 + e.normal());
    }
    let fit = auto_arima(
        &SeriesInput::daily(&y).with_period(1),
        &ArimaSpec::default(),
    )
    .unwrap();
    assert_eq!(fit.order[1], 1, "{}", fit.describe());
    assert_eq!(fit.seasonal_order, [0, 0, 0]);
    let drift = fit.drift.expect("a drift");
    assert!((drift - 0.5).abs() < 0.15, "drift {drift}");
    // Forecast intervals of an integrated model keep widening.
    let p = fit.forecast(20, &[0.05, 0.95]);
    let width: Vec<f64> = (0..20)
        .map(|i| p.quantiles[1][i] - p.quantiles[0][i])
        .collect();
    assert!(width.windows(2).all(|w| w[1] > w[0]));
}

#[test]
fn the_saved_fit_forecasts_the_same() {
    let y: Vec<f64> = (0..200)
        .map(|t| 20.0 + 5.0 * ((t % 7) as f64) + ((t * 37 % 11) as f64))
        .collect();
    let fit = auto_arima(&SeriesInput::daily(&y), &ArimaSpec::default()).unwrap();
    let json = serde_json::to_string(&fit).unwrap();
    let back: ArimaFit = serde_json::from_str(&json).unwrap();
    assert_eq!(back.describe(), fit.describe());
    // serde_json parses floats to within an ulp (its `float_roundtrip` feature is off).
    let levels = [0.1, 0.5, 0.9];
    let (a, b) = (back.forecast(21, &levels), fit.forecast(21, &levels));
    let close = |x: &[f64], y: &[f64]| {
        x.iter()
            .zip(y)
            .all(|(u, v)| (u - v).abs() <= 1e-12 * v.abs().max(1.0))
    };
    assert!(close(&a.mean, &b.mean));
    for k in 0..levels.len() {
        assert!(close(&a.quantiles[k], &b.quantiles[k]));
    }
}

#[test]
fn spec_reads_statsforecast_names_and_refuses_unknown_keys() {
    let spec: ArimaSpec =
        serde_json::from_str(r#"{"max_P": 1, "max_D": 0, "stepwise": false}"#).unwrap();
    assert_eq!(spec.max_seasonal_p, 1);
    assert_eq!(spec.max_seasonal_d, 0);
    assert!(!spec.stepwise);
    assert_eq!(spec.max_p, 5);
    assert!(serde_json::from_str::<ArimaSpec>(r#"{"max_r": 1}"#).is_err());
}

#[test]
fn exhaustive_search_agrees_on_a_clear_case() {
    let mut e = Noise(11);
    let mut y = vec![];
    let mut x = 0.0;
    for _ in 0..300 {
        x = 0.7 * x + e.normal();
        y.push(x + 3.0);
    }
    let spec = ArimaSpec {
        stepwise: false,
        max_order: 3,
        ..ArimaSpec::default()
    };
    let input = SeriesInput::daily(&y).with_period(1);
    let full = auto_arima(&input, &spec).unwrap();
    assert_eq!(full.order[1], 0);
    assert!(full.mean.is_some());
    let ar_sum: f64 = full.ar.iter().sum();
    assert!(full.order[0] >= 1 && ar_sum > 0.5, "{}", full.describe());
}

#[test]
fn bad_input_is_reported() {
    let nan = [1.0, 2.0, f64::NAN, 3.0, 4.0];
    assert!(matches!(
        auto_arima(&SeriesInput::daily(&nan), &ArimaSpec::default()),
        Err(BaselineError::NonFinite { position: 2, .. })
    ));
    assert!(matches!(
        auto_arima(&SeriesInput::daily(&[1.0, 2.0]), &ArimaSpec::default()),
        Err(BaselineError::TooShort { got: 2, .. })
    ));
    let short = [1.0, 2.0, 3.0, 5.0, 4.0];
    assert!(matches!(
        auto_arima(
            &SeriesInput::daily(&short),
            &fixed([2, 1, 0], [0, 1, 0], false)
        ),
        Err(BaselineError::TooShort { .. })
    ));
    let y: Vec<f64> = (0..100)
        .map(|t| (t % 7) as f64 + (t as f64 * 0.37).sin())
        .collect();
    let mut input = SeriesInput::daily(&y);
    input.deadline = Some(Instant::now() - Duration::from_secs(1));
    assert!(matches!(
        auto_arima(&input, &ArimaSpec::default()),
        Err(BaselineError::Timeout { .. })
    ));
}

#[test]
fn constant_and_all_zero_series_forecast_themselves() {
    for v in [0.0, 7.5] {
        let y = vec![v; 60];
        let fit = auto_arima(&SeriesInput::daily(&y), &ArimaSpec::default()).unwrap();
        let p = fit.forecast(10, &[0.1, 0.9]);
        assert!(p.mean.iter().all(|m| (m - v).abs() < 1e-12), "{:?}", p.mean);
        assert!(p.quantiles.iter().flatten().all(|q| (q - v).abs() < 1e-12));
        assert_eq!(fit.describe(), "ARIMA(0,0,0) with non-zero mean");
    }
    // A pure weekly pattern repeats exactly (its seasonal difference is constant).
    let y: Vec<f64> = (0..70)
        .map(|t| [3.0, 5.0, 8.0, 1.0, 0.0, 2.0, 9.0][t % 7])
        .collect();
    let fit = auto_arima(&SeriesInput::daily(&y), &ArimaSpec::default()).unwrap();
    let p = fit.forecast(14, &[]);
    for (i, m) in p.mean.iter().enumerate() {
        assert!((m - y[(70 + i) % 7]).abs() < 1e-9, "step {i}: {m}");
    }
}
