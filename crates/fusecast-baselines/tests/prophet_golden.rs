//! The Prophet-style model against Python Prophet 1.5.0 on real series (fixtures made by
//! scripts/golden/baselines_prophet.py): same design, nearly the same MAP and forecasts.

use fusecast_baselines::prophet::{
    design, neg_log_posterior, prophet, ProphetSpec, SeasonalityMode,
};
use fusecast_baselines::{Fitted, SeriesInput};
use serde::Deserialize;

#[derive(Deserialize)]
struct Golden {
    horizon: usize,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Holiday {
    ds: i64,
    name: String,
}

#[derive(Deserialize)]
struct Case {
    panel: String,
    unique_id: i64,
    mode: String,
    start: i64,
    y: Vec<f64>,
    holidays: Vec<Holiday>,
    y_scale: f64,
    changepoints_t: Vec<f64>,
    k: f64,
    sigma_obs: f64,
    neg_log_posterior: f64,
    beta_weekly: Vec<f64>,
    yhat: Vec<f64>,
    trend: Vec<f64>,
    weekly: Vec<f64>,
    holidays_effect: Vec<f64>,
    yhat_lower: Vec<f64>,
    yhat_upper: Vec<f64>,
}

fn golden() -> Golden {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/prophet/golden.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn spec(c: &Case) -> ProphetSpec {
    let mode = if c.mode == "multiplicative" {
        SeasonalityMode::Multiplicative
    } else {
        SeasonalityMode::Additive
    };
    ProphetSpec {
        mode,
        ..ProphetSpec::default()
    }
}

fn input<'a>(c: &'a Case, dates: &'a [i64]) -> SeriesInput<'a> {
    SeriesInput {
        start: c.start,
        holidays: dates,
        ..SeriesInput::daily(&c.y)
    }
}

fn fit_case(c: &Case, dates: &[i64]) -> fusecast_baselines::prophet::ProphetFit {
    prophet(&input(c, dates), &spec(c)).unwrap()
}

#[test]
fn holiday_dates_group_like_prophet_names() {
    for c in golden().cases {
        let dates: Vec<i64> = c.holidays.iter().map(|h| h.ds).collect();
        let groups = design::group_holidays(&dates);
        for g in &groups {
            let names: std::collections::BTreeSet<&str> = c
                .holidays
                .iter()
                .filter(|h| g.contains(&design::day_number(h.ds)))
                .map(|h| h.name.as_str())
                .collect();
            assert_eq!(names.len(), 1, "{}/{}: {names:?}", c.panel, c.unique_id);
        }
        let distinct: std::collections::BTreeSet<&str> =
            c.holidays.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(groups.len(), distinct.len());
    }
}

#[test]
fn design_matches_prophet() {
    for c in golden().cases {
        let dates: Vec<i64> = c.holidays.iter().map(|h| h.ds).collect();
        let fit = fit_case(&c, &dates);
        assert_eq!(fit.y_scale, c.y_scale);
        assert_eq!(fit.changepoints_t.len(), c.changepoints_t.len());
        for (a, b) in fit.changepoints_t.iter().zip(&c.changepoints_t) {
            assert!((a - b).abs() < 1e-12);
        }
        let names: Vec<&str> = fit.seasonalities.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["weekly"]);
    }
}

/// Largest holiday-effect gap to Prophet: additive effects as a share of the series' scale,
/// multiplicative ones in the factor. The golden horizons hold one holiday each (Christmas, seen
/// once in training), where Stan stops farthest from the mode and our objective is lower
/// (asserted): measured 0.013 / 0.045 additive, 0.217 multiplicative.
const HOLIDAY_TOLERANCE_ADDITIVE: f64 = 0.06;
const HOLIDAY_TOLERANCE_MULTIPLICATIVE: f64 = 0.25;

#[test]
fn map_fit_and_forecast_match_python_prophet() {
    let g = golden();
    for c in &g.cases {
        let dates: Vec<i64> = c.holidays.iter().map(|h| h.ds).collect();
        let fit = fit_case(c, &dates);
        let label = format!("{}/{} {}", c.panel, c.unique_id, c.mode);
        let comp = fit.components(g.horizon);
        // Our optimum is at least as good as Stan's (whose parameters come rounded to 8 digits).
        let nlp = neg_log_posterior(&input(c, &dates), &spec(c), &fit);
        eprintln!(
            "{label}: -log posterior {nlp} (Prophet {})",
            c.neg_log_posterior
        );
        assert!(
            nlp <= c.neg_log_posterior + 1e-3,
            "{label}: {nlp} vs {}",
            c.neg_log_posterior
        );
        let scale = c.y_scale;
        let max_err = |a: &[f64], b: &[f64]| {
            a.iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0, f64::max)
                / scale
        };
        // Stan stops short of the mode (our objective is lower, asserted above); the farthest
        // gap is on holidays seen once in training (Christmas), so those days are compared by
        // the sign of their effect and every other day closely.
        let ordinary: Vec<usize> = (0..g.horizon)
            .filter(|&i| c.holidays_effect[i] == 0.0)
            .collect();
        let pick = |v: &[f64]| ordinary.iter().map(|&i| v[i]).collect::<Vec<_>>();
        let e_yhat = max_err(&pick(&comp.yhat), &pick(&c.yhat));
        let e_trend = max_err(&comp.trend, &c.trend);
        // Prophet reports the multiplicative parts as factors, the additive ones in y units.
        let unit = if c.mode == "multiplicative" {
            1.0
        } else {
            scale
        };
        let e_weekly = max_err(&comp.seasonal, &c.weekly) * scale / unit;
        eprintln!(
            "{label}: k {} sigma {} (Prophet {} {})",
            fit.k, fit.sigma_obs, c.k, c.sigma_obs
        );
        eprintln!(
            "{label}: iters {} yhat err {e_yhat:.2e} trend err {e_trend:.2e} weekly err {e_weekly:.2e}",
            fit.iterations
        );
        assert!(e_yhat < 0.01, "{label}: yhat off by {e_yhat} of the scale");
        assert!(
            e_trend < 0.01,
            "{label}: trend off by {e_trend} of the scale"
        );
        assert!(e_weekly < 0.01, "{label}: weekly off by {e_weekly}");
        // Holiday days: the effect itself, to a tolerance (Prophet reports multiplicative
        // effects as factors, additive ones in y units), and no effect where Prophet has none.
        let holidays: Vec<usize> = (0..g.horizon)
            .filter(|&i| c.holidays_effect[i] != 0.0 || comp.holidays[i] != 0.0)
            .collect();
        let e_holiday = holidays
            .iter()
            .map(|&i| (comp.holidays[i] - c.holidays_effect[i]).abs() / unit)
            .fold(0.0, f64::max);
        eprintln!(
            "{label}: {} holiday days, effect err {e_holiday:.3e}",
            holidays.len()
        );
        for &i in &holidays {
            assert!(
                c.holidays_effect[i] != 0.0 && comp.holidays[i] != 0.0,
                "{label} step {i}: holiday effect {} vs {}",
                comp.holidays[i],
                c.holidays_effect[i]
            );
        }
        let tolerance = if c.mode == "multiplicative" {
            HOLIDAY_TOLERANCE_MULTIPLICATIVE
        } else {
            HOLIDAY_TOLERANCE_ADDITIVE
        };
        assert!(
            e_holiday < tolerance,
            "{label}: holiday effect off by {e_holiday}"
        );
        assert!(
            (fit.sigma_obs / c.sigma_obs - 1.0).abs() < 0.02,
            "{label}: sigma {}",
            fit.sigma_obs
        );
        for (a, b) in fit.beta[..6].iter().zip(&c.beta_weekly) {
            assert!((a - b).abs() < 0.01, "{label}: weekly beta {a} vs {b}");
        }
        // 80 % interval from simulation: same width within Monte-Carlo error.
        let p = fit.forecast(g.horizon, &[0.1, 0.9]);
        for i in 0..g.horizon {
            let ours = p.quantiles[1][i] - p.quantiles[0][i];
            let theirs = c.yhat_upper[i] - c.yhat_lower[i];
            assert!(
                (ours / theirs - 1.0).abs() < 0.15,
                "{label} step {i}: width {ours} vs {theirs}"
            );
        }
    }
}
