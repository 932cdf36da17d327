//! What can go wrong in training, as variants a caller can act on: a bad setting (named by its
//! key), a loss that left the reals, a file that could not be read or written.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Data(#[from] fusecast_data::DataError),
    #[error(transparent)]
    Model(#[from] fusecast_model::config::ConfigError),
    /// A `[train]` setting that cannot work, named by its key.
    #[error("train.{key}: {message}")]
    Config { key: String, message: String },
    #[error("the loss became {loss} (gradient norm {grad_norm}) at step {step} (epoch {epoch}); the batch held series {series}. The last good state is kept; lower the learning rate or check the data")]
    NonFinite {
        loss: f64,
        grad_norm: f64,
        step: usize,
        epoch: usize,
        series: String,
    },
    #[error("{}: {message}", path.display())]
    Io { path: PathBuf, message: String },
    /// A checkpoint that belongs to another run (the first difference named).
    #[error("cannot resume from {}: {difference}; start a new run (another run.name) instead", checkpoint.display())]
    Mismatch {
        checkpoint: PathBuf,
        difference: String,
    },
    #[error("{0}")]
    Invalid(String),
}

impl TrainError {
    pub fn config(key: &str, message: impl Into<String>) -> Self {
        TrainError::Config {
            key: key.to_string(),
            message: message.into(),
        }
    }

    pub fn io(path: &Path, e: impl std::fmt::Display) -> Self {
        TrainError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    }
}
