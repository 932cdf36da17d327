//! Fusecast as a library: what `fusecast run` does, as values. One owner for the config, the
//! run directory, the model artifact and the events; the stages as functions that return what
//! they made. The `fusecast` binary is a thin layer over [`ops`]; the tuner, the forecast
//! service and the Ray bridge call the same functions.
//!
//! Layers, lowest first: `error`, `run_dir`, `config`, `events`, `artifact`; `stages`
//! (prepare, train, backtest, evaluate); `ops` (the jobs).

pub mod artifact;
pub mod config;
pub mod error;
pub mod events;
pub mod ops;
pub mod run_dir;
pub mod stages;

pub use artifact::ModelArtifact;
pub use config::{Config, LoadedConfig};
pub use error::{Error, Result};
pub use events::{Event, Sink};
pub use run_dir::RunDir;
pub use stages::shards::Shard;
