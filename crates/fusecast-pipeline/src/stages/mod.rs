//! The stages as functions that return values: prepare -> `Prepared`, train -> `Trained`,
//! backtest -> `Vec<Forecast>`, evaluate -> `Comparison`, predict -> `Forecast` (at cutoffs inside
//! the data), future -> `FutureForecast` (past the data, from a saved model).

pub mod backtest;
pub mod evaluate;
pub mod future;
pub mod interpret;
pub mod predict;
pub mod prepare;
pub mod reassign;
pub mod report;
pub mod shards;
pub mod train;
