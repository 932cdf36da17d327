//! AutoETS against statsforecast 2.1.1 on real anchor-panel series (fixtures made by
//! scripts/golden/baselines_ets.py): same model chosen, same likelihood optimum (AICc), same
//! forecasts and, for the analytic classes, the same intervals.

use fusecast_baselines::ets::{auto_ets, EtsSpec};
use fusecast_baselines::prediction::normal_quantile;
use fusecast_baselines::{Fitted, SeriesInput};
use serde_json::Value;

mod common;
use common::floats;

fn fixture() -> Value {
    common::fixture("ets/statsforecast_autoets.json")
}

fn max_rel_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / y.abs().max(1e-9))
        .fold(0.0, f64::max)
}

/// statsforecast reports 80% intervals; our quantile levels 0.1 / 0.9 are the same bounds.
const LEVELS: [f64; 2] = [0.1, 0.9];

#[test]
fn auto_selection_matches_statsforecast() {
    let fx = fixture();
    let h = fx["h"].as_u64().unwrap() as usize;
    for case in fx["cases"].as_array().unwrap() {
        let name = format!("{} {}", case["panel"], case["unique_id"]);
        let y = floats(&case["y"]);
        let fit = auto_ets(&SeriesInput::daily(&y), &EtsSpec::default()).unwrap();
        let sf = &case["auto"];
        assert_eq!(fit.describe(), sf["method"].as_str().unwrap(), "{name}");
        // Same optimum up to the optimizer's tolerance; our usual-region constraint (beta <=
        // alpha, which statsforecast's optimizer does not enforce) may cost a little.
        let sf_aicc = sf["aicc"].as_f64().unwrap();
        assert!(
            (fit.aicc - sf_aicc).abs() < 1.0,
            "{name}: AICc {} vs {sf_aicc}",
            fit.aicc
        );
        let p = fit.forecast(h, &LEVELS);
        let d = max_rel_diff(&p.mean, &floats(&sf["mean"]));
        assert!(d < 0.01, "{name}: mean differs by {d}");
        if fit.season != fusecast_baselines::ets::Component::Multiplicative {
            let lo = max_rel_diff(&p.quantiles[0], &floats(&sf["lo80"]));
            let hi = max_rel_diff(&p.quantiles[1], &floats(&sf["hi80"]));
            assert!(lo < 0.01 && hi < 0.01, "{name}: intervals differ {lo} {hi}");
        }
    }
}

#[test]
fn fixed_forms_reach_statsforecasts_likelihood() {
    let fx = fixture();
    for case in fx["cases"].as_array().unwrap() {
        let y = floats(&case["y"]);
        let input = SeriesInput::daily(&y);
        for fixed in case["fixed"].as_array().unwrap() {
            let model = fixed["model"].as_str().unwrap();
            let name = format!("{} {} {model}", case["panel"], case["unique_id"]);
            let spec = EtsSpec {
                model: model.into(),
                damped: fixed["damped"].as_bool(),
                ..EtsSpec::default()
            };
            let fit = auto_ets(&input, &spec).unwrap();
            let sf_aicc = fixed["aicc"].as_f64().unwrap();
            // Nelder-Mead stops on a flat simplex, so either side may stop a little short (within one
            // AICc unit, far less than what separates the candidate models).
            assert!(
                (fit.aicc - sf_aicc).abs() < 1.0,
                "{name}: AICc {} vs {sf_aicc}",
                fit.aicc
            );
            let p = fit.forecast(14, &LEVELS);
            let d = max_rel_diff(&p.mean, &floats(&fixed["mean"]));
            assert!(d < 0.01, "{name}: mean differs by {d}");
        }
    }
}

#[test]
fn additive_intervals_follow_the_closed_form_variance() {
    // ETS(A,N,N): var_h = sigma2 (1 + alpha^2 (h - 1)).
    let fx = fixture();
    let y = floats(&fx["cases"][0]["y"]);
    let spec = EtsSpec {
        model: "ANN".into(),
        ..EtsSpec::default()
    };
    let fit = auto_ets(&SeriesInput::daily(&y), &spec).unwrap();
    let p = fit.forecast(10, &[0.975]);
    let z = normal_quantile(0.975);
    for h in 1..=10 {
        let sd = (fit.sigma2 * (1.0 + fit.alpha.powi(2) * (h as f64 - 1.0))).sqrt();
        assert!((p.quantiles[0][h - 1] - p.mean[h - 1] - z * sd).abs() < 1e-9);
    }
}
