//! The `[eval]` section of a run config: the rolling-origin backtest every model is scored on.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvalConfig {
    /// Backtest windows; default: as many horizons as the held-out test periods hold.
    pub windows: Option<usize>,
    /// Steps between cutoffs; default: the horizon (windows side by side).
    pub step: Option<usize>,
    /// Quantiles whose pinball loss is reported (every baseline forecasts these too).
    pub quantiles: Vec<f64>,
    /// Seasonal period of MASE; default: the frequency's (7 daily, 24 hourly).
    pub season: Option<usize>,
    /// Series to plot; default: the three with the largest totals.
    pub plot_series: Vec<String>,
    /// Forecast CSVs of other models to score alongside (columns of `Forecast::write_csv`),
    /// relative to the config file.
    pub extra_forecasts: Vec<PathBuf>,
}

impl Default for EvalConfig {
    fn default() -> Self {
        Self {
            windows: None,
            step: None,
            quantiles: vec![0.1, 0.5, 0.9],
            season: None,
            plot_series: Vec::new(),
            extra_forecasts: Vec::new(),
        }
    }
}

impl EvalConfig {
    /// Checks what serde cannot: levels strictly inside (0, 1), ascending, positive counts.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(q) = self.quantiles.iter().find(|q| !(**q > 0.0 && **q < 1.0)) {
            return Err(format!(
                "eval.quantiles: {q} is not a probability strictly between 0 and 1"
            ));
        }
        if self.quantiles.windows(2).any(|w| w[0] >= w[1]) {
            return Err("eval.quantiles must be ascending without repeats".into());
        }
        for (key, v) in [
            ("eval.windows", self.windows),
            ("eval.step", self.step),
            ("eval.season", self.season),
        ] {
            if v == Some(0) {
                return Err(format!("{key} must be at least 1"));
            }
        }
        Ok(())
    }
}
