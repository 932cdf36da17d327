//! Fusecast's tuner: a search space over any key of `[train]`, `[model]`, `[windows]` and
//! `[clusters]`, trials run concurrently over the machine's devices and stopped early by Ray
//! Tune's schedulers, every trial an ordinary run directory, the experiment resumable after a
//! kill at any moment, and the best per-cluster models assembled and scored against one global
//! model and the per-series baselines.
//!
//! Modules, lowest first: `error`, `scheduler`, `promotion` (ASHA with promotions), `space`, `store`, `trial`, `experiment`,
//! `results`, `assemble`, `external` (trials run by another engine, Ray Tune); [`tune`] runs it
//! all.

pub mod assemble;
pub mod error;
pub mod experiment;
pub mod external;
pub mod promotion;
pub mod results;
pub mod scheduler;
pub mod space;
pub mod store;
pub mod trial;

use fusecast_eval::Comparison;
use fusecast_pipeline::events::Sink;
use fusecast_pipeline::{LoadedConfig, RunDir};

pub use error::TuneError;
use experiment::{Run, TrialState};
use results::Best;
use space::TuneConfig;
use store::{write_atomic, ExperimentDir, Log, LogEntry};
use trial::{DataCache, TrialSpec};

/// What an experiment made.
pub struct Tuned {
    pub dir: ExperimentDir,
    pub specs: Vec<TrialSpec>,
    pub states: Vec<TrialState>,
    pub best: Option<Best>,
    pub comparison: Option<Comparison>,
}

/// What the experiment is: a resume must find the same.
fn identity(base: &LoadedConfig, specs: &[TrialSpec]) -> serde_json::Value {
    let mut config = base.config.clone();
    config.tune = None;
    config.run = Default::default();
    let trials: Vec<serde_json::Value> = specs
        .iter()
        .map(|s| serde_json::json!({"id": s.id, "params": space::describe(&s.params)}))
        .collect();
    serde_json::json!({
        "config": toml::to_string(&config).unwrap_or_default(),
        "tune": serde_json::to_value(base.config.tune.clone().unwrap_or_default()).expect("toml serializes"),
        "trials": trials,
    })
}

fn first_difference(then: &serde_json::Value, now: &serde_json::Value) -> Option<String> {
    if let (Some(a), Some(b)) = (then["tune"].as_object(), now["tune"].as_object()) {
        if let Some(k) = a.keys().chain(b.keys()).find(|k| a.get(*k) != b.get(*k)) {
            let show =
                |v: Option<&serde_json::Value>| v.map_or("unset".to_string(), |v| v.to_string());
            return Some(format!(
                "the search space ([tune]) changed: {k} was {} and is now {}",
                show(a.get(k)),
                show(b.get(k))
            ));
        }
    }
    if then["config"] != now["config"] {
        let lines = |v: &serde_json::Value| -> Vec<String> {
            v.as_str()
                .unwrap_or_default()
                .lines()
                .map(str::to_string)
                .collect()
        };
        let (a, b) = (lines(&then["config"]), lines(&now["config"]));
        let mut section = String::new();
        for (x, y) in a.iter().zip(&b) {
            if x.starts_with('[') {
                section = x.clone();
            }
            if x != y {
                return Some(format!(
                    "the config changed: in {section}, `{x}` is now `{y}`"
                ));
            }
        }
        return Some("the config changed".into());
    }
    (then["trials"] != now["trials"]).then(|| "the list of trials changed".to_string())
}

/// The config's `[tune]` section parsed and checked, and the experiment's folder.
pub(crate) fn experiment_of(base: &LoadedConfig) -> Result<(TuneConfig, ExperimentDir), TuneError> {
    let table = base.config.tune.clone().ok_or_else(|| {
        TuneError::space(
            "tune",
            format!("{} has no [tune] section", base.path.display()),
        )
    })?;
    let config = TuneConfig::parse(&table)?;
    let dir = ExperimentDir::new(base.config.run.output_dir.join(&base.config.run.name));
    Ok((config, dir))
}

/// Runs the experiment the config's `[tune]` section describes (or, with `resume`, continues
/// it after an interruption: finished trials are not run again, interrupted ones continue from
/// their last checkpoint, and the scheduler decides exactly as it did).
pub fn tune(base: &LoadedConfig, resume: bool, sink: &dyn Sink) -> Result<Tuned, TuneError> {
    let (config, dir) = experiment_of(base)?;
    let mut cache = DataCache::default();
    let specs = trial::plan(base, &config, &dir.trials(), &mut cache)?;
    let id = identity(base, &specs);
    let mut known_errors = Vec::new();
    if resume {
        let text = std::fs::read_to_string(dir.identity())
            .map_err(|e| TuneError::io(&dir.identity(), format!("{e}: nothing to resume")))?;
        let then: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| TuneError::io(&dir.identity(), e))?;
        if let Some(difference) = first_difference(&then, &id) {
            return Err(TuneError::Changed {
                experiment: dir.root().to_path_buf(),
                difference,
            });
        }
        for e in Log::read(&dir.log()) {
            if let LogEntry::Ended {
                trial,
                status: fusecast_pipeline::events::TrialStatus::Error,
                epoch,
                message,
            } = e
            {
                known_errors.push((trial, epoch, message.unwrap_or_default()));
            }
        }
    } else if dir.root().exists() {
        for sub in [
            dir.trials(),
            dir.root().join("eval"),
            dir.root().join("baselines"),
            RunDir::new(dir.root())
                .tft_forecasts()
                .parent()
                .expect("tft/ is a folder")
                .to_path_buf(),
        ] {
            if sub.exists() {
                std::fs::remove_dir_all(&sub).map_err(|e| TuneError::io(&sub, e))?;
            }
        }
        // A new experiment in an old folder: none of the old results may pass for its own.
        let run_dir = RunDir::new(dir.root());
        for file in [
            dir.trials_csv(),
            dir.best_toml(),
            dir.summary(),
            dir.curves(),
            run_dir.panel_parquet(),
            run_dir.report_html(),
        ] {
            match std::fs::remove_file(&file) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(TuneError::io(&file, e))
                }
                _ => {}
            }
        }
    }
    std::fs::create_dir_all(dir.root()).map_err(|e| TuneError::io(dir.root(), e))?;
    write_atomic(
        &dir.identity(),
        &serde_json::to_string_pretty(&id).expect("json"),
    )?;
    let run = Run {
        base,
        tune: &config,
        specs: &specs,
        cache: &cache,
        log: &dir.log(),
        resume,
        known_errors,
    };
    let csv_path = dir.trials_csv();
    let states = run.execute(sink, |states| {
        write_atomic(
            &csv_path,
            &results::trials_csv(&config, &specs, states, None),
        )
    })?;
    finish(base, &config, dir, specs, states, &cache, sink)
}

/// What every experiment ends with, whichever engine ran its trials: the best trial per
/// cluster chosen, `trials.csv`, the curves, `best.toml`, the backtest of the winners against
/// the baselines, the summary and the report.
pub(crate) fn finish(
    base: &LoadedConfig,
    config: &TuneConfig,
    dir: ExperimentDir,
    specs: Vec<TrialSpec>,
    states: Vec<TrialState>,
    cache: &DataCache,
    sink: &dyn Sink,
) -> Result<Tuned, TuneError> {
    let best = results::choose(config, &specs, &states, cache);
    write_atomic(
        &dir.trials_csv(),
        &results::trials_csv(config, &specs, &states, best.as_ref()),
    )?;
    write_atomic(&dir.curves(), &results::curves_svg(config, &specs, &states))?;
    let mut notes = Vec::new();
    let comparison = match &best {
        Some(b) => {
            write_atomic(
                &dir.best_toml(),
                &results::best_toml(config, &specs, &states, b),
            )?;
            let run_dir = RunDir::new(dir.root());
            let c = assemble::evaluate_assembly(
                base,
                &run_dir,
                &specs,
                b,
                config.settings.scope,
                cache,
                sink,
            )?;
            if c.is_some() {
                notes.push("Backtest of every assignment's best models against the baselines: [eval/report.md](eval/report.md).".to_string());
            }
            c
        }
        None => {
            notes.push("No trial finished an epoch: no best trial.".into());
            None
        }
    };
    write_atomic(
        &dir.summary(),
        &results::summary(config, &specs, &states, best.as_ref(), &notes),
    )?;
    write_report(&dir, sink)?;
    Ok(Tuned {
        dir,
        specs,
        states,
        best,
        comparison,
    })
}

/// The experiment's `report.html` (trials, curves, the backtest of the winners), from its files.
pub fn write_report(dir: &ExperimentDir, sink: &dyn Sink) -> Result<std::path::PathBuf, TuneError> {
    let files = dir.report_files();
    Ok(fusecast_pipeline::stages::report::write_report(
        &RunDir::new(dir.root()),
        Some(&files),
        sink,
    )?)
}

/// The trial table of a running or finished experiment, from its `trials.csv`.
pub fn status(experiment: &std::path::Path) -> Result<String, TuneError> {
    let path = ExperimentDir::new(experiment).trials_csv();
    std::fs::read_to_string(&path).map_err(|e| {
        TuneError::io(
            &path,
            format!("{e} (is this a tuning experiment's folder?)"),
        )
    })
}
