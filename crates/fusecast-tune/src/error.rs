//! The tuner's errors: a bad search space (named by key and value) before any trial runs, a
//! resume that does not match the experiment, and the pipeline's own errors.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum TuneError {
    #[error("{key}: {message}")]
    Space { key: String, message: String },
    /// A resume whose config or search space differs from the experiment's.
    #[error("cannot resume {}: {difference}; start a new experiment (another run.name) instead", experiment.display())]
    Changed {
        experiment: PathBuf,
        difference: String,
    },
    #[error(transparent)]
    Pipeline(#[from] fusecast_pipeline::Error),
    #[error("{}: {message}", path.display())]
    Io { path: PathBuf, message: String },
}

impl TuneError {
    pub fn space(key: &str, message: impl Into<String>) -> Self {
        TuneError::Space {
            key: key.to_string(),
            message: message.into(),
        }
    }

    pub fn io(path: &Path, e: impl std::fmt::Display) -> Self {
        TuneError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    }
}
