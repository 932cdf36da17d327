//! The jobs a user asks for, each a function over a loaded config that returns what it made:
//! `run` (data, training, backtest, evaluation), `baselines`, `evaluate`, `prepare_to`. The
//! CLI, the tuner and the service call these; none of them re-implements a stage.

use std::path::Path;

use fusecast_data::prepare::Prepared;
use fusecast_data::window::WindowDataset;
use fusecast_data::Forecast;
use fusecast_eval::Comparison;
use fusecast_model::Tft;
use fusecast_train::trainer::Control;

use crate::artifact::ModelArtifact;
use crate::config::{Config, LoadedConfig};
use crate::error::{Error, Result};
use crate::events::{stage, Event, Sink, Stage};
use crate::run_dir::RunDir;
use crate::stages::backtest;
use crate::stages::evaluate::evaluate as score;
use crate::stages::predict::tft_forecasts;
use crate::stages::prepare::{prepare, window_counts, write_run_dir};
use crate::stages::train::{dataset_and_model, describe_model, train, Trained};

/// What `run` made.
pub struct RunOutcome {
    pub dir: RunDir,
    pub prepared: Prepared,
    /// None with `train.max_epochs = 0`.
    pub trained: Option<Trained>,
    /// Every model's backtest forecasts (none with `windows.test_periods = 0`).
    pub forecasts: Vec<Forecast>,
    pub comparison: Option<Comparison>,
}

/// The job a config describes: the data stage, the TFT trained (or, with `resume`, continued
/// from its last checkpoint), the per-series baselines and the TFT on the same backtest
/// windows, and the evaluation of all of them, in the run directory.
pub fn run(loaded: &LoadedConfig, resume: bool, sink: &dyn Sink) -> Result<RunOutcome> {
    let c = &loaded.config;
    let prepared = prepare(loaded, sink)?;
    let dir = c.run_dir();
    let (trained, forecasts, comparison) =
        train_and_backtest(loaded, &prepared, &dir, resume, sink)?;
    Ok(RunOutcome {
        dir,
        prepared,
        trained,
        forecasts,
        comparison,
    })
}

type Backtested = (Option<Trained>, Vec<Forecast>, Option<Comparison>);

fn train_and_backtest(
    loaded: &LoadedConfig,
    prepared: &Prepared,
    dir: &RunDir,
    resume: bool,
    sink: &dyn Sink,
) -> Result<Backtested> {
    let c = &loaded.config;
    let panel = &prepared.panel;
    let (dataset, model_config) = dataset_and_model(c, panel)?;
    // Checked before training so a backtest that cannot work fails in seconds, not after an hour.
    let cutoffs = match c.windows.test_periods {
        0 => None,
        _ => {
            let cutoffs = backtest::cutoffs(c, panel, true)?;
            backtest::selection_cutoffs(c, panel, &cutoffs)?;
            Some(cutoffs)
        }
    };
    let counts = window_counts(&dataset)?;
    sink.emit(Event::Windows {
        train: counts[0],
        validation: counts[1],
        test: counts[2],
        encoder_length: dataset.spec.encoder_length,
        horizon: dataset.spec.horizon,
        stride: dataset.spec.stride,
    });
    sink.emit(describe_model(&model_config, &dataset)?);
    if resume && !dir.checkpoints().exists() {
        return Err(Error::Invalid(format!(
            "--resume: {} has no checkpoints to resume from",
            dir.root().display()
        )));
    }
    stage(sink, Stage::WriteRunDirectory, || {
        write_run_dir(dir, c, prepared, &dataset, counts)
    })?;
    sink.emit(Event::RunDirectory {
        path: dir.root().to_path_buf(),
    });
    if c.train.max_epochs == 0 {
        sink.emit(Event::Skipped {
            reason: "train.max_epochs = 0: stopping after data preparation and the model check."
                .into(),
        });
        return Ok((None, Vec::new(), None));
    }
    let trained = train(Some(dir), c, &dataset, resume, sink, &mut |_| {
        Control::Continue
    })?;
    let Some(cutoffs) = cutoffs else {
        sink.emit(Event::Skipped {
            reason: "windows.test_periods = 0: no held-out periods, so no backtest of the TFT (`fusecast baselines` scores the baselines alone).".into(),
        });
        return Ok((Some(trained), Vec::new(), None));
    };
    let mut forecasts = backtest::baselines(dir, c, prepared, &cutoffs, sink)?;
    // The saved model, not the in-memory one: `evaluate` and prediction load that artifact,
    // and the autodiff backend's kernels differ from the plain one's in the last digits.
    let (artifact, best) = ModelArtifact::load(&dir.best())?;
    let ds = artifact_dataset(&artifact, &prepared.panel, sink)?;
    forecasts.push(stage(sink, Stage::TftForecasts, || {
        tft_forecasts(dir, &best, &ds, &cutoffs, c.train.batch_size)
    })?);
    let notes = vec![format!(
        "TFT: best model of the run ({}), trained on the first {} periods",
        crate::artifact::weights_path(&dir.best()).display(),
        dataset.split.train_end
    )];
    let comparison = score(dir, loaded, prepared, forecasts.clone(), notes, sink)?;
    Ok((Some(trained), forecasts, Some(comparison)))
}

/// The artifact's windows over `panel`, with what does not match reported.
fn artifact_dataset<'a>(
    artifact: &ModelArtifact,
    panel: &'a fusecast_data::Panel,
    sink: &dyn Sink,
) -> Result<WindowDataset<'a>> {
    let (ds, unknown) = artifact.dataset(panel)?;
    if !unknown.is_empty() {
        sink.emit(Event::UnknownCategories {
            categories: unknown,
        });
    }
    if artifact.features.data_fingerprint != panel.fingerprint() {
        sink.emit(Event::Warning {
            message: format!(
                "the data differ from those the model was trained on (fingerprint {} then, {} now)",
                artifact.features.data_fingerprint,
                panel.fingerprint()
            ),
        });
    }
    Ok(ds)
}

/// The data stage and every baseline on the backtest, with selection and the report.
pub fn baselines(loaded: &LoadedConfig, sink: &dyn Sink) -> Result<Comparison> {
    let c = &loaded.config;
    if c.baselines.models.is_empty() {
        return Err(Error::config(&loaded.path, "baselines.models is empty"));
    }
    let prepared = prepare(loaded, sink)?;
    let dir = c.run_dir();
    let cutoffs = backtest::cutoffs(c, &prepared.panel, false)?;
    let forecasts = backtest::baselines(&dir, c, &prepared, &cutoffs, sink)?;
    score(
        &dir,
        loaded,
        &prepared,
        forecasts,
        vec!["per-series baselines only".into()],
        sink,
    )
}

/// Scores what the run directory holds (saved baseline forecasts unless `refit`, the best TFT)
/// on the configured backtest, fitting the baselines if they have not been yet.
pub fn evaluate(loaded: &LoadedConfig, refit: bool, sink: &dyn Sink) -> Result<Comparison> {
    let c = &loaded.config;
    let dir = c.run_dir();
    let has_model = dir.best().exists();
    same_windows_as_the_run(&dir, c)?;
    let prepared = prepare(loaded, sink)?;
    let panel = &prepared.panel;
    let cutoffs = backtest::cutoffs(c, panel, has_model)?;
    let saved = match refit {
        true => None,
        false => backtest::saved_baselines(&dir, c, panel, &cutoffs)?,
    };
    let mut forecasts = match saved {
        Some(tables) => {
            sink.emit(Event::Note {
                message: format!("baselines: read {}", dir.baseline_forecasts().display()),
            });
            tables
        }
        None => backtest::baselines(&dir, c, &prepared, &cutoffs, sink)?,
    };
    let mut notes = Vec::new();
    if has_model {
        let (artifact, model): (ModelArtifact, Tft) = ModelArtifact::load(&dir.best())?;
        let ds = artifact_dataset(&artifact, panel, sink)?;
        forecasts.push(tft_forecasts(
            &dir,
            &model,
            &ds,
            &cutoffs,
            c.train.batch_size,
        )?);
        notes.push(format!("TFT: {}", dir.best().display()));
    } else {
        sink.emit(Event::Note {
            message: format!(
                "no trained model at {}: baselines only",
                dir.best().display()
            ),
        });
    }
    score(&dir, loaded, &prepared, forecasts, notes, sink)
}

/// The windows a run trained with (its `config.toml`) must be the configured ones: the scaler
/// and the held-out periods follow from them.
fn same_windows_as_the_run(dir: &RunDir, c: &Config) -> Result<()> {
    let path = dir.config_toml();
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(());
    };
    let saved: toml::Table = toml::from_str(&text).map_err(|e| Error::config(&path, e))?;
    let now =
        toml::Table::try_from(&c.windows).map_err(|e| Error::Invalid(format!("windows: {e}")))?;
    let then = saved
        .get("windows")
        .and_then(|w| w.as_table())
        .cloned()
        .unwrap_or_default();
    if let Some(key) = now
        .keys()
        .chain(then.keys())
        .find(|k| now.get(*k) != then.get(*k))
    {
        return Err(Error::Invalid(format!(
            "windows.{key} is {} in the config but was {} when {} was trained; evaluate with the run's windows",
            now.get(key).map_or("unset".into(), |v| v.to_string()),
            then.get(key).map_or("unset".into(), |v| v.to_string()),
            dir.root().display()
        )));
    }
    Ok(())
}

/// The data stage alone, written to `out` as a long table (parquet or CSV); returns the rows.
pub fn prepare_to(loaded: &LoadedConfig, out: &Path, sink: &dyn Sink) -> Result<usize> {
    let prepared = prepare(loaded, sink)?;
    stage(sink, Stage::WritePanel, || prepared.panel.write(out))?;
    let rows = prepared.panel.n_series() * prepared.panel.len();
    sink.emit(Event::PanelWritten {
        path: out.to_path_buf(),
        rows,
    });
    Ok(rows)
}
