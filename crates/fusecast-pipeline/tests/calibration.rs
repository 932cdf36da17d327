//! Conformal calibration: the shifts fitted on the validation windows give every quantile level
//! its nominal coverage there, step by step, leave the median alone, are saved in the artifact,
//! dropped and refitted when the config changes, and refused with too few windows; rolling
//! shifts are refitted at each backtest cutoff on the windows whose actuals are known there.

use fusecast_data::window::{Part, Window, WindowDataset};
use fusecast_data::{Forecast, Panel};
use fusecast_model::burn::module::Module;
use fusecast_model::burn::tensor::Device;
use fusecast_model::Tft;
use fusecast_pipeline::events::{Event, Recorder};
use fusecast_pipeline::stages::{backtest, predict, prepare, train};
use fusecast_pipeline::{Config, LoadedConfig, ModelArtifact, RunDir};
use fusecast_train::calibration::{recent_windows, ConformalShifts, Refit};
use fusecast_train::config::Calibration;
use fusecast_train::predict::forecast_windows;
use fusecast_train::trainer::Control;

/// Each level's share of the actuals of `windows` at or below its forecast, per step (7), with
/// the forecasts.
fn coverage_on(
    model: &Tft,
    calibration: Option<&ConformalShifts>,
    ds: &WindowDataset,
    windows: &[Window],
    panel: &Panel,
    n_levels: usize,
) -> (Forecast, Vec<Vec<f64>>) {
    let (f, _) =
        forecast_windows(model, calibration, ds, windows, 32, &Device::flex(), false).unwrap();
    let n = f.rows.len() as f64;
    let mut cov = vec![vec![0.0; n_levels]; 7];
    for (row, w) in f.rows.iter().zip(windows) {
        for (k, step) in cov.iter_mut().enumerate() {
            let y = panel.values(w.series)[w.decoder_start + k];
            for (q, c) in step.iter_mut().enumerate() {
                // As the backtest clamps count forecasts.
                if y <= row.quantiles[q][k].max(0.0) {
                    *c += 1.0 / n;
                }
            }
        }
    }
    (f, cov)
}

/// In sample, each level but the median holds its nominal share of the actuals at every step,
/// to within the conformal rank's rounding (1/n) and one tie.
fn assert_nominal(cov: &[Vec<f64>], raw_cov: &[Vec<f64>], levels: &[f64], n: f64) {
    for (k, step) in cov.iter().enumerate() {
        for (q, &c) in step.iter().enumerate() {
            if (levels[q] - 0.5).abs() > 1e-9 {
                assert!(
                    (c - levels[q]).abs() <= 2.0 / n + 1e-9,
                    "step {k} level {}: coverage {c}, uncalibrated {}",
                    levels[q],
                    raw_cov[k][q]
                );
            }
        }
    }
}

fn with_validation(validation_periods: usize) -> LoadedConfig {
    let text = format!(
        "[data]\nstart = \"2022-01-01\"\nend = \"2022-08-31\"\n[data.synthetic]\nzones = 12\n\
        [windows]\nencoder_length = 21\nhorizon = 7\nvalidation_periods = {validation_periods}\ntest_periods = 14\n\
        [model]\nhidden_size = 16\nattention_heads = 2\nhidden_continuous_size = 8\n\
        [train]\nbatch_size = 32\nmax_epochs = 2\nbatches_per_epoch = 3\ncalibration = \"conformal\"\n"
    );
    LoadedConfig {
        config: Config::parse(&text).unwrap(),
        path: "test.toml".into(),
        base: ".".into(),
    }
}

/// `loaded`'s data prepared and a model trained on it into a run directory under the returned
/// temporary folder, with the events it sent.
fn trained(
    loaded: &LoadedConfig,
) -> (
    tempfile::TempDir,
    RunDir,
    fusecast_data::prepare::Prepared,
    Recorder,
    train::Trained,
) {
    let events = Recorder::default();
    let prepared = prepare::prepare(loaded, &events).unwrap();
    let (ds, _) = train::dataset_and_model(&loaded.config, &prepared.panel).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = RunDir::new(tmp.path().join("run"));
    let trained = train::train(
        Some(&dir),
        &loaded.config,
        &ds,
        false,
        &events,
        &mut |_, _| Control::Continue,
    )
    .unwrap();
    (tmp, dir, prepared, events, trained)
}

#[test]
fn conformal_shifts_give_each_level_its_coverage_on_validation() {
    let loaded = with_validation(14);
    let c = &loaded.config;
    let (tmp, dir, prepared, events, trained) = trained(&loaded);
    let panel = &prepared.panel;
    let notes: Vec<_> = events
        .events()
        .into_iter()
        .filter(|e| matches!(e, Event::Note { .. }))
        .collect();
    assert!(
        notes.iter().any(
            |e| matches!(e, Event::Note { message } if message.contains("96 validation windows"))
        ),
        "{notes:?}"
    );
    let (artifact, model) = ModelArtifact::load(&dir.best()).unwrap();
    assert_eq!(artifact, trained.artifact);
    let shifts = artifact.calibration.clone().expect("calibrated");
    // 12 series x (14 - 7 + 1) windows.
    assert_eq!(shifts.windows, 96);
    let levels = artifact.model.quantiles.clone();
    let median = levels.iter().position(|l| (l - 0.5).abs() < 1e-9).unwrap();
    assert!(shifts.shifts.iter().all(|s| s[median] == 0.0));
    assert!(shifts.shifts.iter().flatten().any(|d| d.abs() > 1e-3));

    // In sample, each level's share of validation actuals at or below it is its nominal level,
    // at every step, to within the conformal rank's rounding (1/n) and one tie.
    let (vds, _) = artifact.dataset(panel).unwrap();
    let windows: Vec<_> = {
        let w = vds.windows(Part::ValidationRolling).unwrap();
        (0..w.len()).map(|i| w.get(i)).collect()
    };
    let device = Device::flex();
    let coverage = |calibration: Option<&ConformalShifts>| {
        coverage_on(&model, calibration, &vds, &windows, panel, levels.len())
    };
    let (raw, raw_cov) = coverage(None);
    let (calibrated, cov) = coverage(Some(&shifts));
    let n = windows.len() as f64;
    assert_nominal(&cov, &raw_cov, &levels, n);
    // The shifts moved something the raw model got wrong, and never the median.
    let worst_raw = (0..7)
        .flat_map(|k| (0..levels.len()).map(move |q| (k, q)))
        .filter(|&(_, q)| q != median)
        .map(|(k, q)| (raw_cov[k][q] - levels[q]).abs())
        .fold(0.0, f64::max);
    assert!(
        worst_raw > 2.0 / n,
        "the raw model is already calibrated: {worst_raw}"
    );
    for (a, b) in raw.rows.iter().zip(&calibrated.rows) {
        assert_eq!(a.quantiles[median], b.quantiles[median]);
        assert_eq!(a.mean, b.mean);
        for q in 1..levels.len() {
            assert!((0..7).all(|k| b.quantiles[q - 1][k] <= b.quantiles[q][k]));
        }
    }

    // The backtest applies the saved shifts.
    let cutoffs = backtest::cutoffs(c, panel, true).unwrap();
    let plain = predict::predict(&model, None, &vds, &cutoffs, 16).unwrap();
    let shifted = predict::predict(&model, Some(&shifts), &vds, &cutoffs, 16).unwrap();
    assert_ne!(plain, shifted);

    // `none` drops the shifts from the saved artifact; `conformal` fits the same ones again.
    let (none, _) =
        ModelArtifact::load_calibrated(&dir.best(), Calibration::None, panel, 32).unwrap();
    assert!(none.calibration.is_none());
    assert!(ModelArtifact::load(&dir.best())
        .unwrap()
        .0
        .calibration
        .is_none());
    let (again, _) =
        ModelArtifact::load_calibrated(&dir.best(), Calibration::Conformal, panel, 7).unwrap();
    assert_eq!(again.calibration.as_ref(), Some(&shifts));
    assert_eq!(ModelArtifact::load(&dir.best()).unwrap().0, again);

    // A split with too few validation windows is refused, naming the key.
    let short = with_validation(7);
    let (sds, _) = train::dataset_and_model(&short.config, panel).unwrap();
    let err = ConformalShifts::fit(&trained.model.valid(), &sds, 32, &device)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("train.calibration") && err.contains("12"),
        "{err}"
    );
    // `auto` (the default) leaves such a model as trained, and says so.
    assert!(!ConformalShifts::enough_windows(&sds).unwrap());
    let mut auto = short.config.clone();
    auto.train.calibration = Calibration::Auto;
    let short_dir = RunDir::new(tmp.path().join("short"));
    let notes = Recorder::default();
    let t = train::train(Some(&short_dir), &auto, &sds, false, &notes, &mut |_, _| {
        Control::Continue
    })
    .unwrap();
    assert!(t.artifact.calibration.is_none());
    assert!(notes
        .events()
        .iter()
        .any(|e| matches!(e, Event::Note { message } if message.starts_with("calibration: none"))));
    assert_eq!(Calibration::default(), Calibration::Auto);
}

#[test]
fn rolling_shifts_are_refitted_on_the_windows_known_at_each_cutoff() {
    let mut loaded = with_validation(14);
    loaded.config.train.calibration = Calibration::ConformalRolling;
    let c = &loaded.config;
    let (_tmp, dir, prepared, events, _) = trained(&loaded);
    let panel = &prepared.panel;
    assert!(events.events().iter().any(|e| matches!(e, Event::Note { message }
        if message.contains("refitted at each forecast origin on the windows of the 8 latest origins"))));
    let (artifact, model) = ModelArtifact::load(&dir.best()).unwrap();
    let rolling = artifact.calibration.clone().expect("calibrated");
    // As many origins as the validation part: 14 - 7 + 1.
    assert_eq!(rolling.refit, Refit::Rolling { origins: 8 });
    let (vds, _) = artifact.dataset(panel).unwrap();
    let device = Device::flex();
    let levels = artifact.model.quantiles.clone();
    let cutoffs = backtest::cutoffs(c, panel, true).unwrap();
    assert_eq!(cutoffs.len(), 2);
    let fixed = ModelArtifact::load_calibrated(&dir.best(), Calibration::Conformal, panel, 32)
        .unwrap()
        .0
        .calibration
        .unwrap();
    assert_eq!(fixed.refit, Refit::Never);
    let mut at = Vec::new();
    for &cut in &cutoffs {
        let windows = recent_windows(&vds, cut, 8);
        assert_eq!(windows.len(), 12 * 8);
        // Only actuals known at the cutoff: every horizon ends by it, the latest at it.
        assert!(windows.iter().all(|w| w.decoder_start + 6 <= cut));
        assert!(windows.iter().any(|w| w.decoder_start + 6 == cut));
        let shifts = rolling
            .at_cutoff(&model, &vds, cut, 32, &device)
            .unwrap()
            .into_owned();
        assert_eq!(shifts.refit, rolling.refit);
        assert_eq!(shifts.windows, 96);
        let (_, raw_cov) = coverage_on(&model, None, &vds, &windows, panel, levels.len());
        let (_, cov) = coverage_on(&model, Some(&shifts), &vds, &windows, panel, levels.len());
        assert_nominal(&cov, &raw_cov, &levels, 96.0);
        at.push(shifts);
    }
    // At the first test cutoff the latest known windows are the validation windows; a week on,
    // half of them are test windows already scored.
    assert_eq!(at[0].shifts, fixed.shifts);
    assert_ne!(at[1].shifts, fixed.shifts);

    // The backtest forecasts each cutoff with that cutoff's shifts.
    let f = predict::predict(&model, Some(&rolling), &vds, &cutoffs, 16).unwrap();
    for (cut, shifts) in cutoffs.iter().zip(&at) {
        let windows: Vec<Window> = (0..panel.n_series())
            .map(|s| vds.window_at(s, *cut).unwrap())
            .collect();
        let (want, _) =
            forecast_windows(&model, Some(shifts), &vds, &windows, 32, &device, false).unwrap();
        let got: Vec<_> = f.rows.iter().filter(|r| r.cutoff == *cut).collect();
        assert_eq!(got.len(), want.rows.len());
        // The backtest clamps count forecasts at 0.
        let clamped = |q: &[Vec<f64>]| -> Vec<Vec<f64>> {
            q.iter()
                .map(|p| p.iter().map(|v| v.max(0.0)).collect())
                .collect()
        };
        for (g, w) in got.iter().zip(&want.rows) {
            assert_eq!(g.series, w.series);
            assert_eq!(g.quantiles, clamped(&w.quantiles));
        }
    }
    let fixed_f = predict::predict(&model, Some(&fixed), &vds, &cutoffs, 16).unwrap();
    assert_ne!(f, fixed_f);
}
