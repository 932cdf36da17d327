//! One epoch's numbers: a line of `metrics.jsonl`, an event for a tuner.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    pub epoch: usize,
    pub step: usize,
    pub train_loss: f64,
    pub val_loss: f64,
    /// On the original scale, over all validation windows and steps.
    pub q_risk50: f64,
    pub q_risk90: f64,
    pub mae: f64,
    pub lr: f64,
    pub grad_norm: f64,
    pub samples_per_s: f64,
    pub wall_s: f64,
    /// The checkpoint written after this epoch, when checkpointing.
    pub checkpoint: Option<String>,
}

/// The metrics of epoch `best_epoch` (1-based) of a curve; the last epoch if it is past the end.
pub fn epoch_of(history: &[EpochMetrics], best_epoch: usize) -> &EpochMetrics {
    &history[best_epoch.saturating_sub(1).min(history.len() - 1)]
}
