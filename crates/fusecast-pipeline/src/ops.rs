//! The jobs a user asks for, each a function over a loaded config that returns what it made:
//! `run` (data, training, backtest, evaluation), `baselines` (or sharded: `baselines_shard`
//! on each share of the series, then `baselines_merge`), `evaluate`, `prepare_to`,
//! `predict` (past the data, from a saved model). The
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
use crate::run_dir::{RunDir, ShardDir};
use crate::stages::backtest;
use crate::stages::evaluate::evaluate as score;
use crate::stages::future::{Forecaster, FutureForecast, PredictOptions};
use crate::stages::interpret::save_interpretation;
use crate::stages::predict::tft_forecasts;
use crate::stages::prepare::{prepare, window_counts, write_run_dir};
use crate::stages::report::write_report;
use crate::stages::shards::{self, Shard};
use crate::stages::train::{dataset_and_model, describe_model, train, Trained};
use fusecast_data::future::FutureInputs;

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
    ready_to_train(c, prepared, dir, &dataset, &model_config, resume, sink)?;
    if c.train.max_epochs == 0 {
        sink.emit(Event::Skipped {
            reason: "train.max_epochs = 0: stopping after data preparation and the model check."
                .into(),
        });
        return Ok((None, Vec::new(), None));
    }
    let trained = train(Some(dir), c, &dataset, resume, sink, &mut |_, _| {
        Control::Continue
    })?;
    let Some(cutoffs) = cutoffs else {
        sink.emit(Event::Skipped {
            reason: "windows.test_periods = 0: no held-out periods, so no backtest of the TFT (`fusecast baselines` scores the baselines alone).".into(),
        });
        write_report(dir, None, sink)?;
        return Ok((Some(trained), Vec::new(), None));
    };
    let mut forecasts = backtest::baselines(dir, c, prepared, &cutoffs, sink)?;
    // The saved model, not the in-memory one: `evaluate` and prediction load that artifact,
    // and the autodiff backend's kernels differ from the plain one's in the last digits.
    let (artifact, best) = load_calibrated(dir, c, &prepared.panel)?;
    let ds = artifact_dataset(&artifact, &prepared.panel, sink)?;
    forecasts.push(stage(sink, Stage::TftForecasts, || {
        tft_forecasts(
            dir,
            &best,
            artifact.calibration.as_ref(),
            &ds,
            &cutoffs,
            c.train.batch_size,
        )
    })?);
    save_interpretation(dir, &best, &ds, &cutoffs, c.train.batch_size)?;
    let notes = vec![format!(
        "TFT: best model of the run ({}), trained on the first {} periods",
        crate::artifact::weights_path(&dir.best()).display(),
        dataset.split.train_end
    )];
    let comparison = score(dir, loaded, prepared, forecasts.clone(), notes, sink)?;
    write_report(dir, None, sink)?;
    Ok((Some(trained), forecasts, Some(comparison)))
}

/// Announces the windows and the model, and writes the run directory (checking first that a
/// resume has checkpoints to resume from).
fn ready_to_train(
    c: &Config,
    prepared: &Prepared,
    dir: &RunDir,
    dataset: &WindowDataset,
    model_config: &fusecast_model::TftConfig,
    resume: bool,
    sink: &dyn Sink,
) -> Result<()> {
    let counts = window_counts(dataset)?;
    if let Some(warning) = crate::stages::train::left_out_warning(dataset) {
        sink.emit(warning);
    }
    if let Some(note) = crate::stages::train::untaught_note(dataset) {
        sink.emit(note);
    }
    sink.emit(Event::Windows {
        train: counts[0],
        validation: counts[1],
        test: counts[2],
        encoder_length: dataset.spec.encoder_length,
        horizon: dataset.spec.horizon,
        stride: dataset.spec.stride,
    });
    sink.emit(describe_model(model_config, dataset)?);
    if resume && !dir.checkpoints().exists() {
        return Err(Error::Invalid(format!(
            "--resume: {} has no checkpoints to resume from",
            dir.root().display()
        )));
    }
    stage(sink, Stage::WriteRunDirectory, || {
        write_run_dir(dir, c, prepared, dataset, counts)
    })?;
    sink.emit(Event::RunDirectory {
        path: dir.root().to_path_buf(),
    });
    Ok(())
}

/// Where a training run starts from.
#[derive(Clone, Debug, PartialEq)]
pub enum Start {
    /// A new run (the run directory's old checkpoints are cleared).
    Fresh,
    /// The run directory's last checkpoint.
    Resume,
    /// A checkpoint exported by [`crate::stages::train::export_checkpoint`] (one that an engine
    /// such as Ray Tune kept), copied into the run directory first.
    From(std::path::PathBuf),
}

/// The data stage and the TFT trained, nothing more: no baselines, no backtest (what a tuning
/// engine runs per trial). `control` sees every epoch (and whether it is the run's last) and may
/// stop the run after it.
pub fn train_only(
    loaded: &LoadedConfig,
    start: &Start,
    sink: &dyn Sink,
    control: &mut dyn FnMut(&RunDir, &fusecast_train::metrics::EpochMetrics, bool) -> Control,
) -> Result<(RunDir, Trained)> {
    let c = &loaded.config;
    let prepared = prepare(loaded, sink)?;
    let dir = c.run_dir();
    let (dataset, model_config) = dataset_and_model(c, &prepared.panel)?;
    if let Start::From(from) = start {
        crate::stages::train::restore_checkpoint(&dir, from)?;
    }
    let resume = *start != Start::Fresh;
    ready_to_train(c, &prepared, &dir, &dataset, &model_config, resume, sink)?;
    let trained = train(Some(&dir), c, &dataset, resume, sink, &mut |m, last| {
        control(&dir, m, last)
    })?;
    Ok((dir, trained))
}

/// The run's best model, calibrated as the config asks.
fn load_calibrated(
    dir: &RunDir,
    c: &Config,
    panel: &fusecast_data::Panel,
) -> Result<(ModelArtifact, Tft)> {
    ModelArtifact::load_calibrated(&dir.best(), c.train.calibration, panel, c.train.batch_size)
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
    let (prepared, dir, plan) = baselines_plan(loaded, sink)?;
    let fitted = backtest::fit_all(&prepared.panel, &plan, &|_| true, sink);
    write_and_score_baselines(loaded, &dir, &prepared, &fitted, sink)
}

/// `baselines --shard I/N`: the data stage, then every baseline fitted on the shard's series
/// alone (see [`Shard`]), at the backtest and selection cutoffs of the whole run, written to
/// `baselines/shards/I-of-N/`. No selection, scores or report: [`baselines_merge`] makes them
/// once every shard is done.
pub fn baselines_shard(loaded: &LoadedConfig, shard: Shard, sink: &dyn Sink) -> Result<ShardDir> {
    let (prepared, dir, plan) = baselines_plan(loaded, sink)?;
    shards::write_shard(&dir, &loaded.config, &prepared, &plan, shard, sink)
}

/// `baselines --merge`: the data stage, every shard of `baselines/shards/` joined (each must be
/// complete and fitted for this config and data), then what [`baselines`] does after fitting:
/// the same `baselines/` files, selection, scores and report.
pub fn baselines_merge(loaded: &LoadedConfig, sink: &dyn Sink) -> Result<Comparison> {
    let (prepared, dir, plan) = baselines_plan(loaded, sink)?;
    let fitted = shards::merge_shards(&dir, &loaded.config, &prepared, &plan, sink)?;
    write_and_score_baselines(loaded, &dir, &prepared, &fitted, sink)
}

/// What every baselines job starts with: the data stage and the plan of the configured models
/// (there must be some) at the backtest cutoffs of the baselines alone.
fn baselines_plan(
    loaded: &LoadedConfig,
    sink: &dyn Sink,
) -> Result<(Prepared, RunDir, backtest::Plan)> {
    let c = &loaded.config;
    let empty = || Error::config(&loaded.path, "baselines.models is empty");
    if c.baselines.models.is_empty() {
        return Err(empty());
    }
    let prepared = prepare(loaded, sink)?;
    let cutoffs = backtest::cutoffs(c, &prepared.panel, false)?;
    let plan = backtest::Plan::new(c, &prepared, &cutoffs)?.ok_or_else(empty)?;
    Ok((prepared, c.run_dir(), plan))
}

/// The baselines once fitted (or merged): `baselines/`, the scores and the report.
fn write_and_score_baselines(
    loaded: &LoadedConfig,
    dir: &RunDir,
    prepared: &Prepared,
    fitted: &backtest::Fitted,
    sink: &dyn Sink,
) -> Result<Comparison> {
    let forecasts = backtest::write_baselines(dir, &prepared.panel, fitted)?;
    let comparison = score(
        dir,
        loaded,
        prepared,
        forecasts,
        vec!["per-series baselines only".into()],
        sink,
    )?;
    write_report(dir, None, sink)?;
    Ok(comparison)
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
        let (artifact, model): (ModelArtifact, Tft) = load_calibrated(&dir, c, panel)?;
        let ds = artifact_dataset(&artifact, panel, sink)?;
        forecasts.push(tft_forecasts(
            &dir,
            &model,
            artifact.calibration.as_ref(),
            &ds,
            &cutoffs,
            c.train.batch_size,
        )?);
        save_interpretation(&dir, &model, &ds, &cutoffs, c.train.batch_size)?;
        notes.push(format!("TFT: {}", dir.best().display()));
    } else {
        sink.emit(Event::Note {
            message: format!(
                "no trained model at {}: baselines only",
                dir.best().display()
            ),
        });
    }
    let comparison = score(&dir, loaded, &prepared, forecasts, notes, sink)?;
    write_report(&dir, None, sink)?;
    Ok(comparison)
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
    // One row per observed (series, period): a ragged panel writes no placeholders.
    let rows = prepared.panel.target.iter().filter(|v| !v.is_nan()).count();
    sink.emit(Event::PanelWritten {
        path: out.to_path_buf(),
        rows,
    });
    Ok(rows)
}

/// What `predict` is asked for, beyond [`PredictOptions`].
#[derive(Clone, Debug, Default)]
pub struct PredictJob {
    /// A run directory (or a tuning trial's) holding `best/` and `panel.parquet`.
    pub run_dir: std::path::PathBuf,
    /// Newer data (a trip file or long table) read through the run's data stage.
    pub data: Option<std::path::PathBuf>,
    /// The config whose data stage reads `data` (its relative paths resolve against its
    /// folder); the run's own `config.toml` when absent.
    pub config: Option<std::path::PathBuf>,
    /// Future values of the model's known inputs beyond the calendar.
    pub future: Option<std::path::PathBuf>,
    /// `.csv` or `.parquet`.
    pub out: std::path::PathBuf,
    pub options: PredictOptions,
}

/// `fusecast predict`: forecasts past the data from a run's best model, written to `job.out`
/// (with `interpret`, the importances and attention per series beside it).
pub fn predict(job: &PredictJob, sink: &dyn Sink) -> Result<FutureForecast> {
    let experiment = experiment_models(&job.run_dir)?;
    let dirs = experiment
        .clone()
        .unwrap_or_else(|| vec![job.run_dir.clone()]);
    let mut forecasters = dirs
        .iter()
        .map(|d| Forecaster::load(d))
        .collect::<Result<Vec<_>>>()?;
    // Newer data and future inputs are read once, whatever the number of models.
    if let Some(data) = &job.data {
        let panel = stage(sink, Stage::Prepare, || {
            new_data(&dirs[0], job.config.as_deref(), data)
        })?;
        sink.emit(Event::DataReady {
            summary: panel.summary(),
            series: panel.n_series(),
            periods: panel.len(),
        });
        forecasters = forecasters
            .into_iter()
            .map(|f| f.with_history(panel.clone()))
            .collect::<Result<_>>()?;
    }
    let future = match &job.future {
        Some(path) => Some(read_future(&forecasters[0], &dirs[0], path)?),
        None => None,
    };
    let result = if experiment.is_none() {
        let f = &forecasters[0];
        stage(sink, Stage::Predict, || {
            f.predict(future.as_ref(), &job.options)
        })?
    } else {
        // The winning assignment's models, one per cluster: each forecasts its own series.
        let known: Vec<String> = forecasters
            .iter()
            .flat_map(|f| f.artifact.features.series.iter().cloned())
            .collect();
        let mut claimed: Vec<String> = Vec::new();
        let mut parts = Vec::with_capacity(forecasters.len());
        for (k, f) in forecasters.iter().enumerate() {
            let options = PredictOptions {
                series: Some(own_series(job, f, k == 0, &known)),
                ..job.options.clone()
            };
            claimed.extend(options.series.iter().flatten().cloned());
            parts.push(stage(sink, Stage::Predict, || {
                f.predict(future.as_ref(), &options)
            })?);
        }
        if let Some(ids) = &job.options.series {
            if let Some(id) = ids.iter().find(|id| !claimed.contains(id)) {
                return Err(Error::Invalid(format!(
                    "--series: {id:?} is in none of the experiment's models ({})",
                    job.run_dir.display()
                )));
            }
        }
        FutureForecast::merge(parts)?
    };
    write_forecast(&result, &job.out)?;
    if job.options.interpret {
        let path = job.out.with_extension("interpretation.json");
        let json: Vec<_> = result
            .interpretation
            .iter()
            .map(|(series, i)| serde_json::json!({ "series": series, "interpretation": i }))
            .collect();
        RunDir::write_atomic(
            &path,
            serde_json::to_string_pretty(&json)
                .expect("json values serialize")
                .as_bytes(),
        )?;
    }
    let grid = &result.panel.grid;
    let h = result.forecast.horizon;
    sink.emit(Event::Predicted {
        path: job.out.clone(),
        series: result.forecast.rows.len(),
        fallbacks: result
            .forecast
            .rows
            .iter()
            .filter(|r| r.is_fallback())
            .count(),
        horizon: h,
        first: fusecast_data::time::format_timestamp(grid.timestamp(grid.len - h)),
        last: fusecast_data::time::format_timestamp(grid.timestamp(grid.len - 1)),
    });
    Ok(result)
}

/// The series of the history one model of an experiment forecasts: those it was trained on
/// (and were asked for); series no model knows go to the first model, for its fallback.
fn own_series(job: &PredictJob, f: &Forecaster, first: bool, known: &[String]) -> Vec<String> {
    let own = &f.artifact.features.series;
    f.history
        .series
        .iter()
        .filter(|id| {
            job.options
                .series
                .as_ref()
                .is_none_or(|ids| ids.contains(id))
        })
        .filter(|id| own.contains(id) || (first && job.options.fallback && !known.contains(id)))
        .cloned()
        .collect()
}

/// The model folders of a tuning experiment's winning assignment (its `best.toml`), or `None`
/// for an ordinary run directory.
fn experiment_models(dir: &Path) -> Result<Option<Vec<std::path::PathBuf>>> {
    let best = dir.join("best.toml");
    if !best.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&best).map_err(|e| Error::io(&best, e))?;
    let doc: toml::Table = toml::from_str(&text).map_err(|e| Error::config(&best, e))?;
    let trials = doc
        .get("trial")
        .and_then(|t| t.as_array())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Error::config(&best, "no [[trial]] entries"))?;
    trials
        .iter()
        .map(|t| {
            let id = t
                .get("id")
                .and_then(|v| v.as_str())
                .ok_or_else(|| Error::config(&best, "a [[trial]] without an id"))?;
            // The trial's own folder inside the experiment, wherever the experiment has moved.
            let inside = dir.join("trials").join(id);
            if inside.exists() {
                return Ok(inside);
            }
            t.get("run_dir")
                .and_then(|v| v.as_str())
                .map(std::path::PathBuf::from)
                .filter(|p| p.exists())
                .ok_or_else(|| {
                    Error::config(
                        &best,
                        format!("trial {id}: its folder {} is gone", inside.display()),
                    )
                })
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// The forecast table as CSV, or parquet by extension.
pub fn write_forecast(result: &FutureForecast, out: &Path) -> Result<()> {
    RunDir::create_parent(out)?;
    let parquet = out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    if parquet {
        result.forecast.write_parquet(&result.panel, out)?;
    } else {
        result.forecast.write_csv(&result.panel, out)?;
    }
    Ok(())
}

/// The run's data stage over `data` alone: the whole file, whatever dates the run used.
fn new_data(run_dir: &Path, config: Option<&Path>, data: &Path) -> Result<fusecast_data::Panel> {
    let loaded = match config {
        Some(path) => Config::load(path)?,
        None => {
            let path = RunDir::new(run_dir).config_toml();
            let mut loaded = Config::load(&path)?;
            loaded.base = std::path::PathBuf::from(".");
            loaded
        }
    };
    let mut c = loaded.config;
    if c.data.source == fusecast_data::config::SourceKind::Synthetic {
        return Err(Error::Invalid(
            "--data: this run's data are the synthetic city; new data need a run on trip files or a long table (data.source = \"trips\" or \"table\")".to_string(),
        ));
    }
    let data = std::path::absolute(data).map_err(|e| Error::io(data, e))?;
    c.data.paths = vec![data.display().to_string()];
    c.data.start = None;
    c.data.end = None;
    let (mut panel, _) = fusecast_data::prepare::load_panel(&c.data, &c.features, &loaded.base)?;
    let tz = fusecast_data::prepare::timezone(&c.data)?;
    fusecast_data::prepare::add_features(&mut panel, &c.features, &loaded.base, tz)?;
    Ok(panel)
}

fn read_future(f: &Forecaster, run_dir: &Path, path: &Path) -> Result<FutureInputs> {
    let c = Config::load(&RunDir::new(run_dir).config_toml())?.config;
    let columns = f.future_inputs();
    let timestamp = c.data.timestamp_column.as_deref().unwrap_or("timestamp");
    Ok(FutureInputs::read(
        path,
        &c.data.series_column,
        timestamp,
        &columns,
        fusecast_data::prepare::timezone(&c.data)?,
    )?)
}
