//! Split-conformal calibration of the TFT's quantiles on the validation windows (every decoder
//! of the validation part, one per period).
//!
//! The TFT's quantiles are often too narrow on data it was not tuned on (80% intervals holding
//! 40-60% of the actuals). For each horizon step k and quantile level q, the shift d[k][q] is the
//! empirical q-quantile of the validation residuals y - f_q (on the model's scaled target), with
//! the finite-sample rank of split-conformal prediction: rank ceil((n + 1) q) of n for levels
//! above the median, floor((n + 1) q) below it, so the interval between two levels holds at
//! least its nominal share of exchangeable new points. The median is left as the model forecasts
//! it: calibration widens or narrows the bands, never moves the point forecast. Shifted levels
//! are sorted back into order, so quantiles never cross. On count data, whose forecasts are
//! clamped at 0, an actual 0 is covered by every quantile and ranks below every residual.
//!
//! With [`Refit::Rolling`] (`train.calibration = "conformal_rolling"`) the same shifts are
//! refitted at each forecast origin on the windows whose actuals are known there, the latest as
//! many origins as the validation part holds: a panel that turns volatile after the validation
//! part (the holidays) widens its bands as the backtest or the data moves on.

use std::borrow::Cow;

use fusecast_data::window::{Part, Window, WindowDataset};
use fusecast_model::burn::tensor::Device;
use fusecast_model::Tft;
use serde::{Deserialize, Serialize};

use crate::error::TrainError;
use crate::inputs::tft_input;

/// The fitted shifts, saved in the model artifact and applied to every forecast made with it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConformalShifts {
    /// The model's quantile levels, in its output order.
    pub levels: Vec<f64>,
    /// `shifts[k][q]`, added to level q's scaled prediction at horizon step k.
    pub shifts: Vec<Vec<f64>>,
    /// Windows the shifts were fitted on (the validation windows, or a cutoff's latest).
    pub windows: usize,
    /// Share of validation actuals at or below each level before calibration.
    pub raw_coverage: Vec<f64>,
    /// Whether forecasts use these shifts or shifts refitted at their cutoff (artifacts saved
    /// before it: these).
    #[serde(default, skip_serializing_if = "Refit::is_never")]
    pub refit: Refit,
}

/// When the shifts are fitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refit {
    /// Once, on the validation windows.
    #[default]
    Never,
    /// At each cutoff, on the windows of the latest `origins` forecast origins whose horizons
    /// end by it (so they hold only actuals known there); the validation windows' shifts where
    /// the history before a cutoff holds too few.
    Rolling { origins: usize },
}

impl Refit {
    fn is_never(&self) -> bool {
        *self == Refit::Never
    }
}

/// The windows of every series at the latest `origins` forecast origins whose horizons end at or
/// before cutoff `c`, with observed horizons.
pub fn recent_windows(ds: &WindowDataset, c: usize, origins: usize) -> Vec<Window> {
    let h = ds.spec.horizon;
    // A window from cutoff k covers k + 1..=k + h: its actuals are known at c when k + h <= c.
    let Some(last) = c.checked_sub(h) else {
        return Vec::new();
    };
    let first = (last + 1).saturating_sub(origins);
    (0..ds.panel.n_series())
        .flat_map(|s| {
            (first..=last)
                .filter(move |&k| ds.panel.has_window(s, k, h))
                .filter_map(move |k| ds.window_at(s, k).ok())
        })
        .collect()
}

/// Fewer validation windows than this cannot place the outer levels of the default quantiles.
pub const MIN_WINDOWS: usize = 20;

fn enough(windows: usize) -> bool {
    windows >= MIN_WINDOWS
}

fn is_median(level: f64) -> bool {
    (level - 0.5).abs() < 1e-9
}

/// Rank (1-based, of `n` sorted residuals) of the conformal quantile at `level`.
fn rank(level: f64, n: usize) -> usize {
    // The tolerance keeps (n + 1) q that is an integer in exact arithmetic from rounding past it.
    let r = (n as f64 + 1.0) * level;
    let r = if level > 0.5 {
        (r - 1e-9).ceil()
    } else {
        (r + 1e-9).floor()
    };
    (r as usize).clamp(1, n)
}

impl ConformalShifts {
    /// The shifts from residuals `residuals[k][q]` (each step's and level's, any order).
    pub fn from_residuals(levels: &[f64], mut residuals: Vec<Vec<Vec<f64>>>) -> Self {
        let windows = residuals
            .first()
            .and_then(|r| r.first())
            .map_or(0, Vec::len);
        let raw_coverage = (0..levels.len())
            .map(|q| {
                let (below, all) = residuals.iter().fold((0usize, 0usize), |(b, a), step| {
                    let at = step[q].iter().filter(|&&r| r <= 0.0).count();
                    (b + at, a + step[q].len())
                });
                below as f64 / all.max(1) as f64
            })
            .collect();
        let shifts = residuals
            .iter_mut()
            .map(|step| {
                step.iter_mut()
                    .zip(levels)
                    .map(|(r, &level)| {
                        if is_median(level) || r.is_empty() {
                            return 0.0;
                        }
                        r.sort_by(f64::total_cmp);
                        let d = r[rank(level, r.len()) - 1];
                        // Ranked among the actuals at the floor (covered by any shift): as low
                        // as the other residuals go.
                        match d.is_finite() {
                            true => d,
                            false => r.iter().copied().find(|x| x.is_finite()).unwrap_or(0.0),
                        }
                    })
                    .collect()
            })
            .collect();
        ConformalShifts {
            levels: levels.to_vec(),
            shifts,
            windows,
            raw_coverage,
            refit: Refit::Never,
        }
    }

    /// Whether the validation part of `ds` holds enough windows to fit shifts on.
    pub fn enough_windows(ds: &WindowDataset) -> Result<bool, TrainError> {
        Ok(enough(ds.windows(Part::ValidationRolling)?.len()))
    }

    /// Fits the shifts of `model` on the validation windows of `ds`.
    pub fn fit(
        model: &Tft,
        ds: &WindowDataset,
        batch_size: usize,
        device: &Device,
    ) -> Result<Self, TrainError> {
        let windows = ds.windows(Part::ValidationRolling)?;
        if !enough(windows.len()) {
            return Err(TrainError::config(
                "calibration",
                format!(
                    "conformal calibration needs at least {MIN_WINDOWS} validation windows, the split holds {}; lengthen windows.validation_periods or set train.calibration = \"none\"",
                    windows.len()
                ),
            ));
        }
        let windows: Vec<Window> = (0..windows.len()).map(|i| windows.get(i)).collect();
        Self::fit_windows(model, ds, &windows, batch_size, device)
    }

    /// These shifts, refitted at each cutoff ([`ConformalShifts::at_cutoff`]) over as many
    /// forecast origins as the validation part of `ds` holds.
    pub fn rolling(mut self, ds: &WindowDataset) -> Self {
        let origins = (ds.split.val_end - ds.split.train_end + 1).saturating_sub(ds.spec.horizon);
        self.refit = Refit::Rolling {
            origins: origins.max(1),
        };
        self
    }

    /// The shifts for forecasts from cutoff `c` (its last observed period): these, or with
    /// [`Refit::Rolling`] shifts fitted on the windows that every series has at the latest
    /// `origins` forecast origins whose horizons end by `c`, so the bands follow how wrong the
    /// model has lately been. These when the history holds fewer than [`MIN_WINDOWS`] such
    /// windows.
    pub fn at_cutoff(
        &self,
        model: &Tft,
        ds: &WindowDataset,
        c: usize,
        batch_size: usize,
        device: &Device,
    ) -> Result<Cow<'_, Self>, TrainError> {
        let Refit::Rolling { origins } = self.refit else {
            return Ok(Cow::Borrowed(self));
        };
        let windows = recent_windows(ds, c, origins);
        if !enough(windows.len()) {
            return Ok(Cow::Borrowed(self));
        }
        let mut fitted = Self::fit_windows(model, ds, &windows, batch_size, device)?;
        fitted.refit = self.refit;
        Ok(Cow::Owned(fitted))
    }

    /// The shifts of `model`'s residuals on `windows`, whose horizons must be observed.
    fn fit_windows(
        model: &Tft,
        ds: &WindowDataset,
        windows: &[Window],
        batch_size: usize,
        device: &Device,
    ) -> Result<Self, TrainError> {
        let levels = model.config().quantiles.clone();
        let h = ds.spec.horizon;
        let nq = levels.len();
        let floor = ds.panel.is_non_negative();
        let mut residuals = vec![vec![Vec::with_capacity(windows.len()); nq]; h];
        for ws in windows.chunks(batch_size.max(1)) {
            let batch = ds.batch(ws);
            let pred: Vec<f32> = model
                .forward(tft_input(&batch, &ds.layout, device))
                .prediction
                .into_data()
                .try_to_vec()
                .map_err(|e| TrainError::Invalid(format!("reading predictions: {e:?}")))?;
            for (i, w) in ws.iter().enumerate() {
                let actual = &ds.panel.values(w.series)[w.decoder_start..];
                for (k, step) in residuals.iter_mut().enumerate() {
                    let y = batch.target[i * h + k] as f64;
                    // Forecasts of count data are clamped at 0, so an actual 0 is at or below
                    // every quantile whatever the shift.
                    let at_floor = floor && actual[k] <= 0.0;
                    for (q, r) in step.iter_mut().enumerate() {
                        r.push(match at_floor {
                            true => f64::NEG_INFINITY,
                            false => y - pred[(i * h + k) * nq + q] as f64,
                        });
                    }
                }
            }
        }
        Ok(Self::from_residuals(&levels, residuals))
    }

    /// Step `k`'s scaled quantiles (in level order), shifted and sorted back into order.
    pub fn apply(&self, k: usize, scaled: &mut [f64]) {
        for (v, d) in scaled.iter_mut().zip(&self.shifts[k]) {
            *v += d;
        }
        scaled.sort_by(f64::total_cmp);
    }

    /// The validation coverage of the interval between `lo` and `hi` before calibration, when
    /// both are model levels.
    pub fn raw_interval(&self, lo: f64, hi: f64) -> Option<f64> {
        let at = |l: f64| self.levels.iter().position(|x| (x - l).abs() < 1e-9);
        Some(self.raw_coverage[at(hi)?] - self.raw_coverage[at(lo)?])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_are_split_conformal_and_stay_in_range() {
        // n = 9: (n + 1) q = 9 for q = 0.9 and 1 for q = 0.1.
        assert_eq!(rank(0.9, 9), 9);
        assert_eq!(rank(0.1, 9), 1);
        assert_eq!(rank(0.75, 9), 8); // ceil(7.5)
        assert_eq!(rank(0.25, 9), 2); // floor(2.5)
        assert_eq!(rank(0.98, 9), 9);
        assert_eq!(rank(0.02, 9), 1);
    }

    #[test]
    fn shifts_cover_the_residuals_and_leave_the_median() {
        let levels = [0.1, 0.5, 0.9];
        // One step; residuals 1..=99 for every level.
        let r: Vec<f64> = (1..=99).map(f64::from).collect();
        let c = ConformalShifts::from_residuals(&levels, vec![vec![r.clone(), r.clone(), r]]);
        // ceil(100 * 0.9) = 90th of 99, floor(100 * 0.1) = 10th.
        assert_eq!(c.shifts, vec![vec![10.0, 0.0, 90.0]]);
        assert_eq!(c.windows, 99);
        assert_eq!(c.raw_coverage, vec![0.0; 3]);
        // A shifted level that crosses another is sorted back into order.
        let mut q = vec![0.0, 5.0, 6.0];
        c.apply(0, &mut q);
        assert_eq!(q, vec![5.0, 10.0, 96.0]);
    }

    #[test]
    fn actuals_at_the_floor_rank_lowest_and_never_become_the_shift() {
        let levels = [0.1, 0.9];
        let inf = f64::NEG_INFINITY;
        // Five of ten actuals at the floor: rank 1 of the 0.1 level lands on one of them.
        let r = vec![inf, inf, inf, inf, inf, -2.0, -1.0, 1.0, 2.0, 3.0];
        let c = ConformalShifts::from_residuals(&levels, vec![vec![r.clone(), r]]);
        assert_eq!(c.shifts, vec![vec![-2.0, 3.0]]);
        assert_eq!(c.raw_coverage, vec![0.7, 0.7]);
    }

    #[test]
    fn raw_coverage_counts_actuals_at_or_below_each_level() {
        let levels = [0.1, 0.9];
        let lo = vec![-1.0, 0.0, 1.0, 2.0];
        let hi = vec![-3.0, -2.0, -1.0, 4.0];
        let c = ConformalShifts::from_residuals(&levels, vec![vec![lo, hi]]);
        assert_eq!(c.raw_coverage, vec![0.5, 0.75]);
        assert_eq!(c.raw_interval(0.1, 0.9), Some(0.25));
        assert_eq!(c.raw_interval(0.2, 0.9), None);
    }
}
