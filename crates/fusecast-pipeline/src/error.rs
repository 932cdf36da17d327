//! The pipeline's errors: each stage's own error as a variant (so a caller can tell a bad
//! config from a diverged training or a missing file), plus configs and artifacts by path.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A config that does not parse or whose settings cannot work (file, line, key).
    #[error("{}: {message}", path.display())]
    Config { path: PathBuf, message: String },
    #[error(transparent)]
    Data(#[from] fusecast_data::DataError),
    #[error(transparent)]
    Model(#[from] fusecast_model::config::ConfigError),
    #[error(transparent)]
    Train(#[from] fusecast_train::error::TrainError),
    #[error(transparent)]
    Eval(#[from] fusecast_eval::EvalError),
    #[error("{}: {message}", path.display())]
    Io { path: PathBuf, message: String },
    /// A run directory's model that cannot be used (missing, old, or another model's).
    #[error("{}: {message}", path.display())]
    Artifact { path: PathBuf, message: String },
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn io(path: &Path, e: impl std::fmt::Display) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    }

    pub fn config(path: &Path, e: impl std::fmt::Display) -> Self {
        Error::Config {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    }
}
