//! Fusecast's evaluation: every model (baselines, the TFT, any forecast CSV) scored on the same
//! rolling-origin cutoffs with one set of metric definitions, compared per series, per cluster and
//! overall, written as markdown/CSV tables and PNG plots, and rendered as one self-contained HTML page.

pub mod behind;
pub mod compare;
pub mod config;
pub mod cutoffs;
pub mod html;
pub mod metrics;
pub mod plot;
mod png;
pub mod report;

pub use compare::{Comparison, EvalError, ModelScores};
pub use config::EvalConfig;
pub use cutoffs::{backtest_cutoffs, eval_cutoffs, selection_cutoffs};
pub use metrics::{Scores, SeriesScores};
