//! From the search space to trials: each trial an ordinary config (the base config with the
//! trial's values, its run directory under the experiment, and with `scope = "per_cluster"` one
//! cluster's series only), checked before the first trial runs.

use std::collections::BTreeMap;
use std::path::Path;

use fusecast_data::prepare::Prepared;
use fusecast_pipeline::{Config, LoadedConfig};

use crate::error::TuneError;
use crate::space::{describe, Params, Scope, TuneConfig};

#[derive(Clone, Debug)]
pub struct TrialSpec {
    pub id: String,
    pub params: Params,
    /// The cluster this trial's model is for (`per_cluster`).
    pub cluster: Option<usize>,
    /// The cluster assignment it belongs to: its `clusters.*` values (`default` when none).
    pub group: String,
    pub config: Config,
}

impl TrialSpec {
    pub fn loaded(&self, base: &LoadedConfig) -> LoadedConfig {
        LoadedConfig {
            config: self.config.clone(),
            path: base.path.clone(),
            base: base.base.clone(),
        }
    }
}

/// The data stage of each distinct data, features and clusters setting, done once.
#[derive(Default)]
pub struct DataCache {
    entries: Vec<(String, Prepared)>,
}

/// What decides a trial's panel: the data, features and clusters sections, and with
/// `clusters.method = "reassign"` the model and training settings its cluster models use.
pub fn data_key(c: &Config) -> String {
    let part = |v: toml::Value| v.to_string();
    let mut key = format!(
        "{}|{}|{}",
        part(toml::Value::try_from(&c.data).expect("serializes")),
        part(toml::Value::try_from(&c.features).expect("serializes")),
        part(toml::Value::try_from(&c.clusters).expect("serializes"))
    );
    if c.clusters.method == fusecast_data::config::ClusterMethod::Reassign {
        for section in [
            toml::Value::try_from(&c.model),
            toml::Value::try_from(&c.train),
            toml::Value::try_from(&c.windows),
        ] {
            key.push('|');
            key.push_str(&part(section.expect("serializes")));
        }
    }
    key
}

impl DataCache {
    /// The prepared data of a config, computed once. A cluster's panel (`clusters.select`) is
    /// cut from the whole panel of the same settings, so the data stage (and a reassignment)
    /// runs once per assignment, not once per cluster.
    pub fn get_or_prepare(&mut self, loaded: &LoadedConfig) -> Result<&Prepared, TuneError> {
        let key = data_key(&loaded.config);
        if let Some(i) = self.entries.iter().position(|(k, _)| *k == key) {
            return Ok(&self.entries[i].1);
        }
        let prepared = match loaded.config.clusters.select {
            Some(c) => {
                let mut whole = loaded.clone();
                whole.config.clusters.select = None;
                let all = self.get_or_prepare(&whole)?.clone();
                fusecast_data::prepare::with_clustering(all, None, Some(c))
                    .map_err(fusecast_pipeline::Error::from)?
            }
            None => fusecast_pipeline::stages::prepare::prepare(
                loaded,
                &fusecast_pipeline::events::Silent,
            )?,
        };
        self.entries.push((key, prepared));
        Ok(&self.entries.last().expect("pushed").1)
    }

    pub fn get(&self, c: &Config) -> Option<&Prepared> {
        let key = data_key(c);
        self.entries.iter().find(|(k, _)| *k == key).map(|(_, p)| p)
    }
}

/// The base config with `params` (and the run directory, the monitored metric) applied, as
/// one table; relative data paths made absolute so the trial's saved config works anywhere.
fn trial_config(
    base: &LoadedConfig,
    tune: &TuneConfig,
    params: &Params,
    cluster: Option<usize>,
    id: &str,
    trials_dir: &Path,
) -> Result<Config, TuneError> {
    let mut table = toml::Table::try_from(&base.config)
        .map_err(|e| TuneError::space("config", e.to_string()))?;
    table.remove("tune");
    let mut set = |key: &str, value: toml::Value| {
        fusecast_pipeline::config::set_key(&mut table, key, value)
            .map_err(|e| TuneError::space("tune", e))
    };
    for (k, v) in params {
        set(k, v.clone())?;
    }
    set(
        "run.output_dir",
        toml::Value::String(trials_dir.display().to_string()),
    )?;
    set("run.name", toml::Value::String(id.to_string()))?;
    set(
        "train.monitor",
        toml::Value::String(tune.settings.metric.name().to_string()),
    )?;
    if let Some(c) = cluster {
        set("clusters.select", toml::Value::Integer(c as i64))?;
    }
    let text = toml::to_string(&table).map_err(|e| TuneError::space("config", e.to_string()))?;
    let what = || match describe(params) {
        d if d.is_empty() => "the base config".to_string(),
        d => format!("the trial with {d}"),
    };
    let mut config = Config::parse(&text).map_err(|e| {
        let key = params.keys().find(|k| {
            e.to_string()
                .contains(k.split_once('.').map_or(k.as_str(), |(_, key)| key))
        });
        TuneError::space(
            key.map_or("tune", |k| k.as_str()),
            format!("{}: {}", what(), e.message()),
        )
    })?;
    config.validate().map_err(|e| {
        let key = params.keys().find(|k| e.contains(k.as_str()));
        TuneError::space(
            key.map_or("tune", |k| k.as_str()),
            format!("{}: {e}", what()),
        )
    })?;
    absolutize(&mut config, &base.base);
    Ok(config)
}

fn absolutize(c: &mut Config, base: &Path) {
    let Ok(base) = std::fs::canonicalize(base) else {
        return;
    };
    for p in &mut c.data.paths {
        if Path::new(p.as_str()).is_relative() {
            *p = base.join(&*p).display().to_string();
        }
    }
    for p in [&mut c.data.zone_lookup, &mut c.clusters.path]
        .into_iter()
        .flatten()
    {
        if p.is_relative() {
            *p = base.join(&*p);
        }
    }
}

/// The assignment a trial's values stand for: its `clusters.*` values.
fn group_of(params: &Params) -> String {
    let g: BTreeMap<&String, &toml::Value> = params
        .iter()
        .filter(|(k, _)| k.starts_with("clusters."))
        .collect();
    if g.is_empty() {
        return "default".into();
    }
    g.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The trial `id` with `params` (and with `per_cluster` its `cluster`), its config checked on
/// its own data before anything trains.
pub fn spec(
    base: &LoadedConfig,
    tune: &TuneConfig,
    params: &Params,
    cluster: Option<usize>,
    id: &str,
    trials_dir: &Path,
    cache: &mut DataCache,
) -> Result<TrialSpec, TuneError> {
    let config = trial_config(base, tune, params, cluster, id, trials_dir)?;
    let loaded = LoadedConfig {
        config: config.clone(),
        path: base.path.clone(),
        base: base.base.clone(),
    };
    let prepared = cache
        .get_or_prepare(&loaded)
        .map_err(|e| TuneError::space("tune", format!("trial {id} ({}): {e}", describe(params))))?;
    // Windows and model checked on the trial's own data before anything trains.
    fusecast_pipeline::stages::train::dataset_and_model(&config, &prepared.panel)
        .map_err(|e| TuneError::space("tune", format!("trial {id} ({}): {e}", describe(params))))?;
    Ok(TrialSpec {
        id: id.to_string(),
        params: params.clone(),
        cluster,
        group: group_of(params),
        config,
    })
}

/// Every trial of the experiment, each config checked; with `per_cluster` one trial per
/// cluster of the assignment its values give (the data stage runs once per assignment).
pub fn plan(
    base: &LoadedConfig,
    tune: &TuneConfig,
    trials_dir: &Path,
    cache: &mut DataCache,
) -> Result<Vec<TrialSpec>, TuneError> {
    let mut out = Vec::new();
    for (i, params) in tune.expand().into_iter().enumerate() {
        let id = format!("t{i:03}");
        let whole = trial_config(base, tune, &params, None, &id, trials_dir)?;
        let group = group_of(&params);
        let clusters = match tune.settings.scope {
            Scope::Global => vec![None],
            Scope::PerCluster => {
                let loaded = LoadedConfig {
                    config: whole.clone(),
                    path: base.path.clone(),
                    base: base.base.clone(),
                };
                let prepared = cache.get_or_prepare(&loaded).map_err(|e| {
                    TuneError::space(
                        params
                            .keys()
                            .find(|k| k.starts_with("clusters."))
                            .map_or("clusters", |k| k.as_str()),
                        format!("the assignment {group}: {e}"),
                    )
                })?;
                (0..prepared.clustering.k).map(Some).collect()
            }
        };
        for cluster in clusters {
            let id = match cluster {
                Some(c) => format!("{id}-c{c}"),
                None => id.clone(),
            };
            out.push(spec(base, tune, &params, cluster, &id, trials_dir, cache)?);
        }
    }
    Ok(out)
}
