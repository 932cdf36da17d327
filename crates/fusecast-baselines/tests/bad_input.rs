//! Every model's defined behaviour on the inputs the issue names: constant and all-zero series,
//! too-short series, negative values for multiplicative models, and non-finite values. Through the
//! runner, so the behaviour checked is the one `fusecast baselines` has: never a silent drop.

use fusecast_baselines::runner::fit_or_fall_back;
use fusecast_baselines::{BaselinesConfig, Fitted, ModelSpec, SeriesInput, MODEL_NAMES};
use fusecast_data::RowNoteKind;

fn all_models() -> Vec<ModelSpec> {
    let config = BaselinesConfig {
        models: MODEL_NAMES.iter().map(|n| n.to_string()).collect(),
        ..BaselinesConfig::default()
    };
    config.specs().unwrap()
}

fn weekly(n: usize, level: f64) -> Vec<f64> {
    (0..n)
        .map(|t| {
            level + [3.0, 5.0, 4.0, 6.0, 8.0, -4.0, -7.0][t % 7] + ((t * 7919) % 13) as f64 * 0.3
        })
        .collect()
}

#[test]
fn constant_and_all_zero_series_forecast_the_constant_for_every_model() {
    for value in [0.0, 42.0] {
        let y = vec![value; 60];
        for spec in all_models() {
            let (fit, note) = fit_or_fall_back(&spec, &SeriesInput::daily(&y));
            let p = fit.forecast(14, &[0.1, 0.9]);
            assert!(
                p.mean.iter().all(|&v| v == value),
                "{}: {:?}",
                spec.label(),
                p.mean
            );
            assert!(p.quantiles.iter().flatten().all(|&v| v == value));
            assert_eq!(note.unwrap().kind, RowNoteKind::Constant);
        }
    }
}

#[test]
fn too_short_series_fall_back_and_say_why() {
    let y = [3.0, 5.0, 4.0];
    for spec in all_models() {
        let (fit, note) = fit_or_fall_back(&spec, &SeriesInput::daily(&y));
        let p = fit.forecast(7, &[0.5]);
        assert_eq!(p.mean.len(), 7);
        assert!(p.mean.iter().all(|v| v.is_finite()), "{}", spec.label());
        match spec {
            // Too short for a weekly season: the naive model, named as the fallback.
            ModelSpec::SeasonalNaive => assert_eq!(
                note.unwrap().kind,
                RowNoteKind::Fallback { to: "Naive".into() }
            ),
            ModelSpec::Naive => assert!(note.is_none()),
            _ => {
                // A model may fit 3 points in its own reduced form (e.g. non-seasonal); if it does
                // not, the fallback is marked with the model's own error.
                if let Some(n) = note {
                    assert_eq!(
                        n.kind,
                        RowNoteKind::Fallback { to: "Naive".into() },
                        "{}: {n}",
                        spec.label()
                    );
                    assert!(n.reason.contains(spec.label()), "{n}");
                }
            }
        }
    }
}

#[test]
fn negative_values_never_reach_a_multiplicative_fit() {
    let y = weekly(120, 2.0); // dips below zero on two days a week
    assert!(y.iter().any(|&v| v < 0.0));
    for spec in all_models() {
        let (fit, note) = fit_or_fall_back(&spec, &SeriesInput::daily(&y));
        let p = fit.forecast(14, &[0.1, 0.5, 0.9]);
        assert!(
            p.mean
                .iter()
                .chain(p.quantiles.iter().flatten())
                .all(|v| v.is_finite()),
            "{}",
            spec.label()
        );
        if let ModelSpec::Prophet(s) = &spec {
            if s.mode == fusecast_baselines::prophet::SeasonalityMode::Multiplicative {
                // Either a defined multiplicative fit on the data as given or a marked fallback;
                // never a silent switch to another model.
                if let Some(n) = &note {
                    let to = "SeasonalNaive".into();
                    assert_eq!(n.kind, RowNoteKind::Fallback { to }, "{n}");
                }
            }
        }
        if let ModelSpec::Ets(_) = &spec {
            // Multiplicative ETS forms are skipped for non-positive data: the chosen form has
            // additive error and season.
            let d = fit.describe();
            assert!(!d.starts_with("ETS(M") && !d.ends_with(",M)"), "{d}");
        }
    }
}

#[test]
fn non_finite_values_give_a_marked_missing_forecast() {
    let mut y = weekly(60, 50.0);
    y[30] = f64::NAN;
    for spec in all_models() {
        let (fit, note) = fit_or_fall_back(&spec, &SeriesInput::daily(&y));
        let note = note.unwrap_or_else(|| panic!("{} accepted a NaN silently", spec.label()));
        assert!(
            note.kind == RowNoteKind::NoForecast && note.reason.contains("non-finite"),
            "{note}"
        );
        assert!(fit.forecast(3, &[]).mean.iter().all(|v| v.is_nan()));
    }
}
