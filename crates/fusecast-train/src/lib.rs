//! Fusecast's training stage: one global TFT over all series of a panel.
//!
//! Modules, lowest first: `config`, `metrics`, `error` (what every other module shares);
//! `inputs`, `clip`, `parallel`, `step`, `validation`; `checkpoint`; `trainer`; `calibration`;
//! `predict`.

pub mod calibration;
pub mod checkpoint;
pub mod clip;
pub mod config;
pub mod error;
pub mod inputs;
pub mod metrics;
pub mod parallel;
pub mod predict;
pub mod step;
pub mod trainer;
pub mod validation;
