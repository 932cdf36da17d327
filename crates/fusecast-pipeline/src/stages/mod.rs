//! The stages as functions that return values: prepare -> `Prepared`, train -> `Trained`,
//! backtest -> `Vec<Forecast>`, evaluate -> `Comparison`, predict -> `Forecast`.

pub mod backtest;
pub mod evaluate;
pub mod predict;
pub mod prepare;
pub mod reassign;
pub mod train;
