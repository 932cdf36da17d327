//! Trials run by another engine (Ray Tune, through `python/fusecast_ray`). Before: the plan it
//! needs, from the same parser and checks as [`crate::tune`] (every setting resolved, the
//! dimensions, the clusters of each assignment). After it ran each trial with `fusecast train`
//! into `trials/<id>/`: the same results [`crate::tune`] writes, from those run directories
//! and the engine's verdict per trial.

use std::collections::BTreeSet;
use std::path::Path;

use fusecast_pipeline::events::{Sink, TrialStatus};
use fusecast_pipeline::LoadedConfig;
use fusecast_train::metrics::EpochMetrics;
use serde::{Deserialize, Serialize};

use crate::error::TuneError;
use crate::experiment::TrialState;
use crate::space::{Params, Scope};
use crate::store::write_atomic;
use crate::trial::{self, DataCache};
use crate::Tuned;

/// One cluster assignment of a `per_cluster` experiment: its `clusters.*` values and the
/// clusters it splits the series into (one trial each).
#[derive(Serialize)]
pub struct Assignment {
    pub params: Params,
    pub clusters: Vec<usize>,
}

/// What an engine needs to run the experiment of a config.
#[derive(Serialize)]
pub struct Plan {
    pub experiment: String,
    pub trials_dir: String,
    /// The `[tune]` settings with every default written out.
    pub settings: crate::space::TuneSettings,
    /// ASHA's last rung and every trial's epoch budget.
    pub max_t: usize,
    pub max_epochs: usize,
    /// In the file's order, as `{"grid": [...]}`, `{"loguniform": [lo, hi]}`, ...
    pub dimensions: Vec<(String, crate::space::Dimension)>,
    /// Empty with `scope = "global"`.
    pub assignments: Vec<Assignment>,
    /// The trials `fusecast tune` would run (its own draws of the random dimensions).
    pub trials: Vec<PlannedTrial>,
}

#[derive(Serialize)]
pub struct PlannedTrial {
    pub id: String,
    pub params: Params,
    pub cluster: Option<usize>,
    pub group: String,
}

/// The plan of the config's experiment; every trial's config checked on its data first, as
/// `fusecast tune` does, so a bad space fails before an engine starts.
pub fn plan(base: &LoadedConfig) -> Result<Plan, TuneError> {
    let (config, dir) = crate::experiment_of(base)?;
    let mut cache = DataCache::default();
    let specs = trial::plan(base, &config, &dir.trials(), &mut cache)?;
    let mut assignments: Vec<Assignment> = Vec::new();
    if config.settings.scope == Scope::PerCluster {
        for s in &specs {
            let params: Params = s
                .params
                .iter()
                .filter(|(k, _)| k.starts_with("clusters."))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let cluster = s.cluster.expect("per_cluster trials have a cluster");
            match assignments.iter_mut().find(|a| a.params == params) {
                Some(a) if !a.clusters.contains(&cluster) => a.clusters.push(cluster),
                Some(_) => {}
                None => assignments.push(Assignment {
                    params,
                    clusters: vec![cluster],
                }),
            }
        }
    }
    let max_epochs = base.config.train.max_epochs;
    Ok(Plan {
        experiment: dir.root().display().to_string(),
        trials_dir: dir.trials().display().to_string(),
        max_t: config.settings.max_t.unwrap_or(max_epochs),
        settings: config.settings.clone(),
        max_epochs,
        dimensions: config.dimensions.clone(),
        assignments,
        trials: specs
            .into_iter()
            .map(|s| PlannedTrial {
                id: s.id,
                params: s.params,
                cluster: s.cluster,
                group: s.group,
            })
            .collect(),
    })
}

/// The engine's verdict on one trial, which it ran into `trials/<id>/`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    pub id: String,
    /// The trial's values by `section.key`, `clusters.*` among them (not `clusters.select`).
    pub params: Params,
    pub cluster: Option<usize>,
    /// TERMINATED (its budget or early stopping), STOPPED (by the scheduler) or ERROR.
    pub status: TrialStatus,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub setup_s: Option<f64>,
}

fn history(path: &Path) -> Result<Vec<EpochMetrics>, TuneError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(TuneError::io(path, e)),
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| TuneError::io(path, format!("line {}: {e}", i + 1)))
        })
        .collect()
}

/// The results of an experiment whose trials another engine ran (`outcomes`: a JSON list of
/// [`Outcome`]), written exactly as `fusecast tune` writes its own: `trials.csv`, `best.toml`,
/// the curves, the backtest of the best models, `tune.md` and `report.html`.
pub fn collect(base: &LoadedConfig, outcomes: &Path, sink: &dyn Sink) -> Result<Tuned, TuneError> {
    let (config, dir) = crate::experiment_of(base)?;
    let text = std::fs::read_to_string(outcomes).map_err(|e| TuneError::io(outcomes, e))?;
    let mut outcomes: Vec<Outcome> =
        serde_json::from_str(&text).map_err(|e| TuneError::io(outcomes, e))?;
    outcomes.sort_by(|a, b| a.id.cmp(&b.id));
    let mut seen = BTreeSet::new();
    let mut cache = DataCache::default();
    let mut specs = Vec::new();
    let mut states = Vec::new();
    for o in outcomes {
        if !seen.insert(o.id.clone()) {
            return Err(TuneError::space(
                "tune",
                format!("trial {} is listed twice", o.id),
            ));
        }
        if o.params.keys().any(|k| k == "clusters.select") {
            return Err(TuneError::space(
                "clusters.select",
                format!("trial {}: the cluster is `cluster`, not a parameter", o.id),
            ));
        }
        if !matches!(
            o.status,
            TrialStatus::Terminated | TrialStatus::Stopped | TrialStatus::Error
        ) {
            return Err(TuneError::space(
                "tune",
                format!("trial {} has not ended ({})", o.id, o.status.label()),
            ));
        }
        let spec = trial::spec(
            base,
            &config,
            &o.params,
            o.cluster,
            &o.id,
            &dir.trials(),
            &mut cache,
        )?;
        let history = history(&spec.config.run_dir().metrics_jsonl())?;
        specs.push(spec);
        states.push(TrialState {
            status: o.status,
            history,
            message: o.message,
            setup_s: o.setup_s,
        });
    }
    write_atomic(
        &dir.identity(),
        &serde_json::to_string_pretty(&crate::identity(base, &specs)).expect("json"),
    )?;
    crate::finish(base, &config, dir, specs, states, &cache, sink)
}
