//! What a model sees of one series: its training values and where they sit in time.

use std::time::Instant;

/// One series' training data. `y` is finite (the runner fills or rejects gaps before a fit).
#[derive(Debug, Clone)]
pub struct SeriesInput<'a> {
    pub y: &'a [f64],
    /// Main seasonal period in steps (7 for daily data, 24 for hourly); 1 = no seasonality.
    pub period: usize,
    /// All seasonal periods, shortest first (MSTL, Prophet): `[7]` daily, `[24, 168]` hourly.
    pub seasonal_periods: Vec<usize>,
    /// Local wall-clock time of `y[0]` in seconds since 1970-01-01 (as `fusecast_data::TimeGrid`).
    pub start: i64,
    /// Seconds between observations (86400 daily, 3600 hourly).
    pub step_seconds: i64,
    /// Holiday dates (local midnight, seconds) covering the training span and the horizon.
    pub holidays: &'a [i64],
    /// Iterative fits check this between iterations and give up with `BaselineError::Timeout`.
    pub deadline: Option<Instant>,
}

impl<'a> SeriesInput<'a> {
    /// A daily-frequency input with weekly seasonality, no holidays, no deadline (tests, examples).
    pub fn daily(y: &'a [f64]) -> Self {
        Self {
            y,
            period: 7,
            seasonal_periods: vec![7],
            start: 0,
            step_seconds: 86_400,
            holidays: &[],
            deadline: None,
        }
    }

    /// Same values, another main period (and that single seasonal period).
    pub fn with_period(mut self, period: usize) -> Self {
        self.period = period;
        self.seasonal_periods = if period > 1 { vec![period] } else { vec![] };
        self
    }

    /// Timestamp (seconds) of step `i` (may lie past the training data).
    pub fn timestamp(&self, i: usize) -> i64 {
        self.start + i as i64 * self.step_seconds
    }

    /// `Err(Timeout)` once the deadline has passed.
    pub fn check_deadline(&self, model: &str) -> crate::Result<()> {
        match self.deadline {
            Some(d) if Instant::now() >= d => Err(crate::BaselineError::Timeout {
                model: model.to_string(),
            }),
            _ => Ok(()),
        }
    }
}
