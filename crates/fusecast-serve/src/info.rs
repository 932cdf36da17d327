//! What `GET /v1/model` and `GET /v1/series` answer: the loaded model, how it was trained, on
//! what data, and the series it can forecast from its own history.

use std::collections::BTreeMap;
use std::path::Path;

use fusecast_data::time::format_timestamp;
use fusecast_pipeline::stages::future::Forecaster;
use fusecast_pipeline::RunDir;
use serde::Serialize;

use crate::request::{frequency_code, ModelFacts};

#[derive(Clone, Debug, Serialize)]
pub struct SeriesInfo {
    pub name: String,
    pub first: String,
    pub last: String,
    pub observations: usize,
    pub statics: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ModelInfo {
    pub name: String,
    pub run_dir: String,
    pub target: String,
    pub frequency: String,
    pub horizon: usize,
    pub encoder_length: usize,
    pub min_encoder_length: usize,
    pub quantiles: Vec<f64>,
    pub data_fingerprint: String,
    /// The model's full config, its variables included.
    pub model: serde_json::Value,
    /// Every epoch's metrics (`metrics.jsonl`), and the best epoch's.
    pub training: Vec<serde_json::Value>,
    pub best_epoch: Option<serde_json::Value>,
    /// The run's resolved config, as written.
    pub config_toml: Option<String>,
    #[serde(skip)]
    pub series: Vec<SeriesInfo>,
    #[serde(skip)]
    pub facts: ModelFacts,
}

impl ModelInfo {
    pub fn of(f: &Forecaster, run_dir: &Path) -> Self {
        let dir = RunDir::new(run_dir);
        let training: Vec<serde_json::Value> = std::fs::read_to_string(dir.metrics_jsonl())
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        let val = |m: &serde_json::Value| m.get("val_loss").and_then(|v| v.as_f64());
        let best_epoch = training
            .iter()
            .filter(|m| val(m).is_some())
            .min_by(|a, b| val(a).unwrap().total_cmp(&val(b).unwrap()))
            .cloned();
        let h = &f.history;
        let spec = f.artifact.features.spec;
        let series = (0..h.n_series())
            .map(|s| SeriesInfo {
                name: h.series[s].clone(),
                first: format_timestamp(h.grid.start),
                last: format_timestamp(h.grid.timestamp(h.len() - 1)),
                observations: h.len(),
                statics: h
                    .statics
                    .iter()
                    .map(|st| (st.name.clone(), st.values[s].clone()))
                    .collect(),
            })
            .collect();
        ModelInfo {
            name: run_dir
                .file_name()
                .map_or("fusecast".into(), |n| n.to_string_lossy().to_string()),
            run_dir: run_dir.display().to_string(),
            target: f.artifact.features.target.clone(),
            frequency: frequency_code(h.grid.frequency).to_string(),
            horizon: spec.horizon,
            encoder_length: spec.encoder_length,
            min_encoder_length: spec.min_encoder_length,
            quantiles: f.levels().to_vec(),
            data_fingerprint: f.artifact.features.data_fingerprint.clone(),
            model: serde_json::to_value(&f.artifact.model).unwrap_or_default(),
            training,
            best_epoch,
            config_toml: std::fs::read_to_string(dir.config_toml()).ok(),
            series,
            facts: ModelFacts {
                horizon: spec.horizon,
                levels: f.levels().to_vec(),
                frequency: h.grid.frequency,
                max_inputs: 10_000,
                future_inputs: f.future_inputs(),
            },
        }
    }
}
