//! The `[train]` section: optimizer, schedule, budgets, checkpoints and devices, checked as a
//! whole right after the config loads (before any data is read).

use fusecast_model::burn::tensor::{Device, DeviceKind};
use serde::{Deserialize, Serialize};

use crate::error::TrainError;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    pub learning_rate: f64,
    pub batch_size: usize,
    pub max_epochs: usize,
    /// Training batches per epoch (PF's `limit_train_batches`); all windows when absent.
    pub batches_per_epoch: Option<usize>,
    pub max_steps: Option<usize>,
    /// Stop after the epoch that crosses this many seconds.
    pub time_budget_s: Option<f64>,
    /// Clip the global gradient norm to this (PF's 0.1); off when absent.
    pub grad_clip_norm: Option<f64>,
    pub weight_decay: f64,
    /// Linear warm-up of the learning rate over this many steps.
    pub warmup_steps: usize,
    /// ReduceLROnPlateau on the validation loss.
    pub plateau_patience: usize,
    pub plateau_factor: f64,
    pub min_learning_rate: f64,
    /// Stop when the monitored metric has not improved for this many epochs.
    pub early_stopping_patience: usize,
    /// The validation metric that picks the best epoch and drives the plateau schedule and
    /// early stopping.
    pub monitor: Monitor,
    pub seed: u64,
    /// Also write a checkpoint every this many steps inside an epoch (epochs always end with one).
    pub checkpoint_every_steps: Option<usize>,
    /// Devices the global batch is split across, one model replica (and thread) each: `cpu`
    /// (burn's flex backend), `wgpu` (the default adapter), `wgpu:N` (discrete GPU N), or
    /// `auto` alone: one `cpu` replica per core of the machine (the default).
    pub devices: Vec<String>,
    /// How the saved model's quantiles are calibrated for forecasting (see
    /// [`crate::calibration`]).
    pub calibration: Calibration,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            learning_rate: 3e-3,
            batch_size: 128,
            max_epochs: 30,
            batches_per_epoch: None,
            max_steps: None,
            time_budget_s: None,
            grad_clip_norm: Some(0.1),
            weight_decay: 0.0,
            warmup_steps: 0,
            plateau_patience: 4,
            plateau_factor: 0.5,
            min_learning_rate: 1e-5,
            early_stopping_patience: 10,
            monitor: Monitor::ValLoss,
            seed: 42,
            checkpoint_every_steps: None,
            devices: vec!["auto".into()],
            calibration: Calibration::Auto,
        }
    }
}

/// Calibration of the quantiles a trained model forecasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Calibration {
    /// `conformal` when the validation part holds enough windows, else `none` (with a note).
    #[default]
    Auto,
    /// The model's quantiles as trained.
    None,
    /// Split-conformal shifts per level and horizon step, fitted on the validation windows;
    /// too few windows is an error.
    Conformal,
    /// As `conformal`, with the shifts refitted at each forecast origin on the latest windows
    /// whose actuals are known there (as many origins as the validation part holds), so the
    /// bands widen when the model has lately been wrong more often than on the validation part.
    ConformalRolling,
}

/// A validation metric of every epoch (all lower-is-better).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Monitor {
    /// The quantile loss on the scaled target.
    #[default]
    ValLoss,
    /// q-Risk P50 on the original scale.
    QRisk50,
    QRisk90,
    /// MAE of the median on the original scale.
    Mae,
}

impl Monitor {
    pub fn of(self, m: &crate::metrics::EpochMetrics) -> f64 {
        match self {
            Monitor::ValLoss => m.val_loss,
            Monitor::QRisk50 => m.q_risk50,
            Monitor::QRisk90 => m.q_risk90,
            Monitor::Mae => m.mae,
        }
    }

    /// The best epoch of a curve and its value, by the trainer's rule: the first epoch that
    /// beats every earlier one by more than 1e-12.
    pub fn best(self, history: &[crate::metrics::EpochMetrics]) -> Option<(usize, f64)> {
        let mut best: Option<(usize, f64)> = None;
        for m in history {
            let v = self.of(m);
            if best.is_none_or(|(_, b)| v < b - 1e-12) {
                best = Some((m.epoch, v));
            }
        }
        best
    }

    pub fn name(self) -> &'static str {
        match self {
            Monitor::ValLoss => "val_loss",
            Monitor::QRisk50 => "q_risk50",
            Monitor::QRisk90 => "q_risk90",
            Monitor::Mae => "mae",
        }
    }
}

impl TrainConfig {
    /// Every setting that cannot work, as an error naming its key. `max_epochs = 0` is allowed
    /// here (a run that stops after the data stage); [`crate::trainer::Trainer`] refuses it.
    pub fn validate(&self) -> Result<(), TrainError> {
        let positive = |key: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(TrainError::config(
                    key,
                    format!("{v} must be a positive number"),
                ))
            }
        };
        positive("learning_rate", self.learning_rate)?;
        if self.batch_size == 0 {
            return Err(TrainError::config("batch_size", "must be at least 1"));
        }
        for (key, v) in [
            ("batches_per_epoch", self.batches_per_epoch),
            ("max_steps", self.max_steps),
        ] {
            if v == Some(0) {
                return Err(TrainError::config(
                    key,
                    "must be at least 1 (leave it out for no limit)",
                ));
            }
        }
        if self.checkpoint_every_steps == Some(0) {
            return Err(TrainError::config(
                "checkpoint_every_steps",
                "must be at least 1 (leave it out for epoch checkpoints only)",
            ));
        }
        if let Some(b) = self.time_budget_s {
            positive("time_budget_s", b)?;
        }
        if let Some(c) = self.grad_clip_norm {
            positive("grad_clip_norm", c)?;
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(TrainError::config(
                "weight_decay",
                format!("{} must be >= 0", self.weight_decay),
            ));
        }
        if !(self.plateau_factor > 0.0 && self.plateau_factor <= 1.0) {
            return Err(TrainError::config(
                "plateau_factor",
                format!("{} is not in (0, 1]", self.plateau_factor),
            ));
        }
        if !(self.min_learning_rate.is_finite() && self.min_learning_rate >= 0.0) {
            return Err(TrainError::config(
                "min_learning_rate",
                format!("{} must be >= 0", self.min_learning_rate),
            ));
        }
        parse_devices(&self.devices).map(|_| ())
    }
}

/// The devices named in `train.devices`.
pub fn parse_devices(names: &[String]) -> Result<Vec<Device>, TrainError> {
    if names.is_empty() {
        return Err(TrainError::config("devices", "is empty"));
    }
    if names.iter().any(|n| n == "auto") {
        if names.len() > 1 {
            return Err(TrainError::config(
                "devices",
                "\"auto\" (one cpu replica per core) stands alone",
            ));
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        return Ok(vec![Device::flex(); cores]);
    }
    names
        .iter()
        .map(|n| match n.as_str() {
            "cpu" | "flex" => Ok(Device::flex()),
            "wgpu" => gpu(DeviceKind::DefaultDevice),
            other => match other.strip_prefix("wgpu:").and_then(|i| i.parse::<usize>().ok()) {
                Some(i) => gpu(DeviceKind::DiscreteGpu(i)),
                None if other.starts_with("cuda") => Err(TrainError::config(
                    "devices",
                    format!("{other:?}: this build has no CUDA backend (burn's cuda feature downloads LLVM at build time); use wgpu:N"),
                )),
                None => Err(TrainError::config(
                    "devices",
                    format!("unknown device {other:?} (cpu, wgpu, wgpu:N)"),
                )),
            },
        })
        .collect()
}

#[cfg(feature = "gpu")]
fn gpu(kind: DeviceKind) -> Result<Device, TrainError> {
    Ok(Device::wgpu(kind))
}

#[cfg(not(feature = "gpu"))]
fn gpu(_: DeviceKind) -> Result<Device, TrainError> {
    Err(TrainError::config(
        "devices",
        "this fusecast was built without the `gpu` feature (cargo's --no-default-features); rebuild with it for wgpu devices",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_setting_names_its_key() {
        let bad = |f: fn(&mut TrainConfig)| {
            let mut c = TrainConfig::default();
            f(&mut c);
            c.validate().unwrap_err().to_string()
        };
        assert!(bad(|c| c.learning_rate = 0.0).starts_with("train.learning_rate"));
        assert!(bad(|c| c.learning_rate = f64::NAN).starts_with("train.learning_rate"));
        assert!(bad(|c| c.batch_size = 0).starts_with("train.batch_size"));
        assert!(
            bad(|c| c.checkpoint_every_steps = Some(0)).starts_with("train.checkpoint_every_steps")
        );
        assert!(bad(|c| c.batches_per_epoch = Some(0)).starts_with("train.batches_per_epoch"));
        assert!(bad(|c| c.time_budget_s = Some(-1.0)).starts_with("train.time_budget_s"));
        assert!(bad(|c| c.plateau_factor = 1.5).starts_with("train.plateau_factor"));
        assert!(bad(|c| c.devices = vec!["tpu".into()]).contains("train.devices"));
        assert!(bad(|c| c.devices = vec!["cuda:0".into()]).contains("wgpu:N"));
        assert!(bad(|c| c.devices = vec!["auto".into(), "cpu".into()]).contains("auto"));
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(parse_devices(&["auto".to_string()]).unwrap().len(), cores);
        let zero = TrainConfig {
            max_epochs: 0,
            ..TrainConfig::default()
        };
        assert!(
            zero.validate().is_ok(),
            "max_epochs = 0 stops after the data stage"
        );
    }
}
