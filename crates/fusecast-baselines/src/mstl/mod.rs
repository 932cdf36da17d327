//! MSTL (Bandara, Hyndman & Bergmeir 2021) as statsforecast's
//! `MSTL(season_length=[...], trend_forecaster=AutoETS(model="ZZN"))`: STL is applied to each
//! seasonal period in turn (shortest first, twice over when there are several), each seasonal
//! component is forecast by repeating its last cycle, and the seasonally adjusted series (trend +
//! remainder) by AutoETS restricted to non-seasonal models, whose intervals are the model's.
//!
//! Periods the series cannot support (fewer than two full cycles) are dropped and noted; with none
//! left the series is forecast by the non-seasonal AutoETS alone (statsforecast would smooth with
//! SuperSmoother and forecast that trend instead).

pub(crate) mod stl;

use serde::{Deserialize, Serialize};

pub use self::stl::{stl, Stl, StlParams};
use crate::ets::{auto_ets, EtsFit, EtsSpec};
use crate::{BaselineError, Fitted, Prediction, Result, SeriesInput};

const MODEL: &str = "MSTL";

/// MSTL settings; defaults are statsforecast's (and R forecast::mstl's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MstlSpec {
    /// STL seasonal windows per period (odd, >= 3); empty = 11, 15, 19, ... (7 + 4k).
    pub seasonal_windows: Vec<usize>,
    /// Passes over all periods (forced to 1 with a single period).
    pub iterate: usize,
    /// Degree of the seasonal loess (statsforecast passes 0).
    pub seasonal_deg: usize,
    /// Robust STL (bisquare reweighting, 15 outer iterations).
    pub robust: bool,
    /// The model of the seasonally adjusted series (its season letter must be N).
    pub trend: EtsSpec,
}

impl Default for MstlSpec {
    fn default() -> Self {
        Self {
            seasonal_windows: Vec::new(),
            iterate: 2,
            seasonal_deg: 0,
            robust: false,
            trend: EtsSpec {
                model: "ZZN".into(),
                ..EtsSpec::default()
            },
        }
    }
}

/// Decomposition summary and trend model: all that forecasting needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MstlFit {
    /// Seasonal periods used, shortest first.
    pub periods: Vec<usize>,
    /// Last cycle of each seasonal component (`periods[i]` values, oldest first).
    pub last_cycles: Vec<Vec<f64>>,
    /// AutoETS fit of the seasonally adjusted series.
    pub trend: EtsFit,
    /// Periods dropped and why.
    pub notes: Vec<String>,
}

/// The decomposition itself: seasonal components (one per period kept) and the trend, with the
/// periods kept. Exposed for tests and diagnostics.
pub fn decompose(y: &[f64], periods: &[usize], spec: &MstlSpec) -> (Vec<Vec<f64>>, Vec<f64>) {
    let n = y.len();
    let iterate = if periods.len() == 1 { 1 } else { spec.iterate };
    let mut seas = vec![vec![0.0; n]; periods.len()];
    let mut deseas = y.to_vec();
    let mut trend = Vec::new();
    for _ in 0..iterate {
        for (i, &p) in periods.iter().enumerate() {
            for t in 0..n {
                deseas[t] += seas[i][t];
            }
            let window = spec
                .seasonal_windows
                .get(i)
                .copied()
                .unwrap_or(7 + 4 * (i + 1));
            let r = stl(
                &deseas,
                &StlParams::new(p, window, spec.seasonal_deg, spec.robust),
            );
            seas[i] = r.seasonal;
            trend = r.trend;
            for t in 0..n {
                deseas[t] -= seas[i][t];
            }
        }
    }
    (seas, trend)
}

pub fn mstl(input: &SeriesInput, spec: &MstlSpec) -> Result<MstlFit> {
    let y = input.y;
    if let Some((position, &value)) = y.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(BaselineError::NonFinite { position, value });
    }
    if spec.trend.model.chars().nth(2) != Some('N') {
        return Err(BaselineError::FitFailed {
            model: MODEL.into(),
            message: format!(
                "the trend model {:?} must be non-seasonal (season letter N)",
                spec.trend.model
            ),
        });
    }
    if let Some(&w) = spec.seasonal_windows.iter().find(|&&w| w < 3 || w % 2 == 0) {
        return Err(BaselineError::FitFailed {
            model: MODEL.into(),
            message: format!("seasonal window {w} must be odd and at least 3"),
        });
    }
    let n = y.len();
    // An input that names no seasonal periods still has its main one.
    let listed = if input.seasonal_periods.is_empty() {
        std::slice::from_ref(&input.period)
    } else {
        &input.seasonal_periods[..]
    };
    let mut periods: Vec<usize> = listed.iter().copied().filter(|&p| p > 1).collect();
    periods.sort_unstable();
    periods.dedup();
    let mut notes = Vec::new();
    periods.retain(|&p| {
        let keep = n >= 2 * p;
        if !keep {
            notes.push(format!(
                "period {p} dropped: {n} observations are fewer than two cycles"
            ));
        }
        keep
    });
    let (seas, adjusted) = if periods.is_empty() {
        (Vec::new(), y.to_vec())
    } else {
        let (seas, _) = decompose(y, &periods, spec);
        let adjusted = (0..n)
            .map(|t| y[t] - seas.iter().map(|s| s[t]).sum::<f64>())
            .collect();
        (seas, adjusted)
    };
    input.check_deadline(MODEL)?;
    let trend_input = SeriesInput {
        y: &adjusted,
        period: 1,
        seasonal_periods: vec![],
        ..input.clone()
    };
    let trend = auto_ets(&trend_input, &spec.trend).map_err(|e| match e {
        BaselineError::FitFailed { message, .. } => BaselineError::FitFailed {
            model: MODEL.into(),
            message: format!("trend model: {message}"),
        },
        BaselineError::TooShort { needed, got, .. } => BaselineError::TooShort {
            model: MODEL.into(),
            needed,
            got,
        },
        other => other,
    })?;
    let last_cycles = periods
        .iter()
        .zip(&seas)
        .map(|(&p, s)| s[n - p..].to_vec())
        .collect();
    Ok(MstlFit {
        periods,
        last_cycles,
        trend,
        notes,
    })
}

impl MstlFit {
    /// The seasonal part of steps 1..=h: each component's last cycle repeated.
    pub fn seasonal_forecast(&self, h: usize) -> Vec<f64> {
        (0..h)
            .map(|i| {
                self.periods
                    .iter()
                    .zip(&self.last_cycles)
                    .map(|(&p, c)| c[i % p])
                    .sum()
            })
            .collect()
    }
}

impl Fitted for MstlFit {
    fn forecast(&self, h: usize, levels: &[f64]) -> Prediction {
        let mut p = self.trend.forecast(h, levels);
        let s = self.seasonal_forecast(h);
        for (m, si) in p.mean.iter_mut().zip(&s) {
            *m += si;
        }
        for q in &mut p.quantiles {
            for (v, si) in q.iter_mut().zip(&s) {
                *v += si;
            }
        }
        p
    }

    fn describe(&self) -> String {
        let periods: Vec<String> = self.periods.iter().map(|p| p.to_string()).collect();
        format!("MSTL[{}]+{}", periods.join(","), self.trend.describe())
    }
}
