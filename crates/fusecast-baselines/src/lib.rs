//! Per-series statistical baselines for Fusecast: one small model per series, fitted in parallel,
//! each giving point forecasts and quantiles, so the global TFT can be compared against what a
//! careful forecaster would do series by series. Pure Rust, no burn.
//!
//! Every model is a `fit(&SeriesInput, &Spec) -> Result<Fit>` function whose fit is plain data
//! (serde), so forecasts can be reproduced from the saved JSON without refitting.

pub mod arima;
pub mod config;
pub mod error;
pub mod ets;
pub mod model;
pub mod mstl;
pub mod naive;
pub mod optim;
pub mod prediction;
pub mod prophet;
pub mod runner;
pub mod select;
pub mod series;

pub use config::BaselinesConfig;
pub use error::{BaselineError, Result};
pub use model::{FittedModel, ModelSpec, MODEL_NAMES};
pub use prediction::Prediction;
pub use series::SeriesInput;

/// What every fitted model can do: forecast `h` steps past the end of its training data.
pub trait Fitted {
    /// Point forecast (the mean of the forecast distribution) and the quantiles at `levels`
    /// (probabilities in (0, 1), e.g. `[0.1, 0.5, 0.9]`) for steps 1..=h.
    fn forecast(&self, h: usize, levels: &[f64]) -> Prediction;
    /// A short human label of what was chosen, e.g. `ETS(M,Ad,M)` or `ARIMA(1,1,1)(0,1,1)[7]`.
    fn describe(&self) -> String;
}
