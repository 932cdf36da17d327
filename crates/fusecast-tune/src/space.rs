//! The `[tune]` section: the settings of an experiment and its search space, any key of
//! `[train]`, `[model]`, `[windows]` and `[clusters]` named by section and key. Expanded with Ray
//! Tune's semantics: every combination of the grid dimensions, `num_samples` times, each time
//! with fresh draws for the random dimensions; seeded, so one config gives one list of trials.

use std::collections::BTreeMap;

use fusecast_train::config::Monitor;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::error::TuneError;

/// What one trial is: one model on all series (`Global`, the cluster a static input) or one
/// model per cluster, each trained on its own cluster's series (`PerCluster`, the reference).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    #[default]
    PerCluster,
    Global,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SchedulerKind {
    /// Every trial to its epoch budget.
    Fifo,
    #[default]
    Asha,
    Median,
    /// ASHA with promotions (the ASHA paper's Algorithm 2): trials pause at every rung and only
    /// the top `1 / reduction_factor` go on, so few trials per contest cost few epochs.
    AshaPromotion,
}

/// The experiment's settings (the `[tune]` keys without a dot).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TuneSettings {
    /// The validation metric trials are ranked by (lower is better); also what each trial's
    /// best epoch is chosen by.
    pub metric: Monitor,
    pub scope: Scope,
    pub scheduler: SchedulerKind,
    /// Epochs before a trial can be stopped (ASHA's first rung, the median rule's grace).
    pub grace_period: usize,
    pub reduction_factor: f64,
    pub brackets: usize,
    /// ASHA's last rung; `train.max_epochs` when absent.
    pub max_t: Option<usize>,
    /// The median rule's least number of other trials to compare with.
    pub min_samples_required: usize,
    /// Trials running at once; as many as the devices allow when absent.
    pub max_concurrent: Option<usize>,
    /// Devices each trial trains on (one model replica each).
    pub devices_per_trial: usize,
    /// The device pool trials are packed onto: one `cpu` per core when absent.
    pub devices: Option<Vec<String>>,
    /// Random draws per grid combination.
    pub num_samples: usize,
    pub seed: u64,
}

impl Default for TuneSettings {
    fn default() -> Self {
        TuneSettings {
            metric: Monitor::ValLoss,
            scope: Scope::PerCluster,
            scheduler: SchedulerKind::Asha,
            grace_period: 1,
            reduction_factor: 3.0,
            brackets: 1,
            max_t: None,
            min_samples_required: 3,
            max_concurrent: None,
            devices_per_trial: 1,
            devices: None,
            num_samples: 1,
            seed: 0,
        }
    }
}

/// One dimension of the search space.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Dimension {
    Grid(Vec<toml::Value>),
    Choice(Vec<toml::Value>),
    Uniform([f64; 2]),
    Loguniform([f64; 2]),
    /// Integers in `lo..hi` (Ray's `randint`: `hi` excluded).
    Randint([i64; 2]),
}

/// The sections whose keys can be searched.
pub const SEARCHABLE: [&str; 4] = ["train", "model", "windows", "clusters"];

/// The `[tune]` section parsed: settings and dimensions by `section.key`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TuneConfig {
    pub settings: TuneSettings,
    /// In the order of the config file (Ray Tune's `param_space` order: with grids, the last
    /// key varies fastest).
    pub dimensions: Vec<(String, Dimension)>,
}

/// The values of one trial's dimensions, by `section.key`.
pub type Params = BTreeMap<String, toml::Value>;

impl TuneConfig {
    pub fn parse(table: &toml::Table) -> Result<Self, TuneError> {
        let mut plain = toml::Table::new();
        let mut dimensions = Vec::new();
        for (key, value) in table {
            if !key.contains('.') {
                plain.insert(key.clone(), value.clone());
                continue;
            }
            let (section, _) = key.split_once('.').expect("has a dot");
            if !SEARCHABLE.contains(&section) {
                return Err(TuneError::space(
                    key,
                    format!("only keys of [{}] can be searched", SEARCHABLE.join("], [")),
                ));
            }
            let dim: Dimension = value
                .clone()
                .try_into()
                .map_err(|e| TuneError::space(key, format!("{e} (expected one of grid = [...], choice = [...], uniform = [lo, hi], loguniform = [lo, hi], randint = [lo, hi])")))?;
            check_dimension(key, &dim)?;
            dimensions.push((key.clone(), dim));
        }
        let settings: TuneSettings = plain
            .try_into()
            .map_err(|e: toml::de::Error| TuneError::space("tune", e.message().to_string()))?;
        let s = &settings;
        if s.reduction_factor.is_nan() || s.reduction_factor <= 1.0 {
            return Err(TuneError::space(
                "tune.reduction_factor",
                format!("{} must be > 1", s.reduction_factor),
            ));
        }
        for (key, v) in [
            ("tune.grace_period", s.grace_period),
            ("tune.brackets", s.brackets),
            ("tune.devices_per_trial", s.devices_per_trial),
            ("tune.num_samples", s.num_samples),
        ] {
            if v == 0 {
                return Err(TuneError::space(key, "must be at least 1"));
            }
        }
        if s.max_concurrent == Some(0) {
            return Err(TuneError::space(
                "tune.max_concurrent",
                "must be at least 1",
            ));
        }
        if s.max_t.is_some_and(|m| m < s.grace_period) {
            return Err(TuneError::space(
                "tune.max_t",
                format!("{:?} is below grace_period {}", s.max_t, s.grace_period),
            ));
        }
        if let Some(d) = &s.devices {
            if d.len() < s.devices_per_trial {
                return Err(TuneError::space(
                    "tune.devices",
                    format!(
                        "{} devices cannot hold one trial of devices_per_trial = {}",
                        d.len(),
                        s.devices_per_trial
                    ),
                ));
            }
        }
        Ok(TuneConfig {
            settings,
            dimensions,
        })
    }

    /// Every trial's values: the grid's combinations (the first key slowest, the last fastest,
    /// as Ray's `generate_variants` orders them), `num_samples` times, random dimensions drawn
    /// from one RNG seeded by `tune.seed`.
    pub fn expand(&self) -> Vec<Params> {
        let mut rng = StdRng::seed_from_u64(self.settings.seed);
        let grid: Vec<(&String, &Vec<toml::Value>)> = self
            .dimensions
            .iter()
            .filter_map(|(k, d)| match d {
                Dimension::Grid(v) => Some((k, v)),
                _ => None,
            })
            .collect();
        let combinations: usize = grid.iter().map(|(_, v)| v.len()).product();
        let mut out = Vec::new();
        for _ in 0..self.settings.num_samples {
            for mut c in 0..combinations {
                let mut params = Params::new();
                for (key, values) in grid.iter().rev() {
                    params.insert((*key).clone(), values[c % values.len()].clone());
                    c /= values.len();
                }
                for (key, d) in &self.dimensions {
                    let v = match d {
                        Dimension::Grid(_) => continue,
                        Dimension::Choice(v) => v[rng.random_range(0..v.len())].clone(),
                        Dimension::Uniform([lo, hi]) => {
                            toml::Value::Float(lo + (hi - lo) * rng.random::<f64>())
                        }
                        Dimension::Loguniform([lo, hi]) => toml::Value::Float(
                            (lo.ln() + (hi.ln() - lo.ln()) * rng.random::<f64>()).exp(),
                        ),
                        Dimension::Randint([lo, hi]) => {
                            toml::Value::Integer(rng.random_range(*lo..*hi))
                        }
                    };
                    params.insert(key.clone(), v);
                }
                out.push(params);
            }
        }
        out
    }
}

fn check_dimension(key: &str, d: &Dimension) -> Result<(), TuneError> {
    match d {
        Dimension::Grid(v) | Dimension::Choice(v) if v.is_empty() => {
            Err(TuneError::space(key, "has no values"))
        }
        Dimension::Uniform([lo, hi]) | Dimension::Loguniform([lo, hi])
            if lo.partial_cmp(hi) != Some(std::cmp::Ordering::Less) =>
        {
            Err(TuneError::space(
                key,
                format!("lo {lo} must be below hi {hi}"),
            ))
        }
        Dimension::Loguniform([lo, _]) if *lo <= 0.0 => Err(TuneError::space(
            key,
            format!("loguniform needs lo > 0, not {lo}"),
        )),
        Dimension::Randint([lo, hi]) if lo >= hi => Err(TuneError::space(
            key,
            format!("lo {lo} must be below hi {hi}"),
        )),
        _ => Ok(()),
    }
}

/// `params` as `key = value` pairs, for tables and messages.
pub fn describe(params: &Params) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<TuneConfig, TuneError> {
        TuneConfig::parse(&text.parse::<toml::Table>().unwrap())
    }

    #[test]
    fn the_reference_space_expands_like_ray() {
        let t = parse(
            "metric = \"val_loss\"\nscope = \"per_cluster\"\nscheduler = \"asha\"\ngrace_period = 2\nreduction_factor = 3\nmax_concurrent = 2\n\"train.learning_rate\" = { grid = [1e-3, 3e-3, 1e-2] }\n\"clusters.k\" = { grid = [1, 2] }\n",
        )
        .unwrap();
        let trials = t.expand();
        assert_eq!(trials.len(), 6);
        // Ray's order (ray.tune.search.variant_generator.generate_variants on this space): the
        // first key of the file (the learning rate) slowest, the last (clusters.k) fastest.
        let order: Vec<(f64, i64)> = trials
            .iter()
            .map(|p| {
                (
                    p["train.learning_rate"].as_float().unwrap(),
                    p["clusters.k"].as_integer().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            order,
            [
                (1e-3, 1),
                (1e-3, 2),
                (3e-3, 1),
                (3e-3, 2),
                (1e-2, 1),
                (1e-2, 2)
            ]
        );
        let r = parse("num_samples = 3\nseed = 5\n\"train.learning_rate\" = { loguniform = [1e-4, 1e-1] }\n\"model.hidden_size\" = { choice = [8, 16] }\n\"train.batch_size\" = { randint = [16, 64] }\n\"clusters.k\" = { grid = [1, 2] }\n").unwrap();
        let a = r.expand();
        assert_eq!(a.len(), 6, "num_samples x grid");
        assert_eq!(a, r.expand(), "seeded");
        for p in &a {
            let lr = p["train.learning_rate"].as_float().unwrap();
            assert!((1e-4..1e-1).contains(&lr));
            let b = p["train.batch_size"].as_integer().unwrap();
            assert!((16..64).contains(&b));
        }
        assert!(
            a.iter()
                .map(|p| p["train.learning_rate"].as_float().unwrap().to_bits())
                .collect::<std::collections::HashSet<_>>()
                .len()
                == 6
        );
    }

    #[test]
    fn a_bad_space_names_the_key_and_the_value() {
        let err = |t: &str| parse(t).unwrap_err().to_string();
        assert!(err("\"train.learning_rate\" = { grid = [] }").contains("train.learning_rate"));
        assert!(err("\"train.learning_rate\" = { uniform = [0.1, 0.01] }").contains("0.1"));
        assert!(err("\"data.paths\" = { grid = [1] }").contains("data.paths"));
        assert!(err("\"train.seed\" = { gird = [1] }").contains("train.seed"));
        assert!(err("schedular = \"asha\"").contains("schedular"));
        assert!(err("reduction_factor = 1").contains("tune.reduction_factor"));
    }
}
