//! Metric definitions (also printed in every report, see [`DEFINITIONS`]).
//!
//! Per (model, series), over all points of all its backtest windows (y actual, f point forecast,
//! f_q the q quantile; the point forecast is the model's mean):
//! - MAE = mean |y - f|; RMSE = sqrt(mean (y - f)^2)
//! - sMAPE (M4) = mean 200 |y - f| / (|y| + |f|), a 0/0 term counts as 0
//! - MASE = mean over windows of MAE_window / s, s = mean |y_t - y_{t-m}| over the window's training
//!   part (t <= cutoff), m = the seasonal period; windows with s = 0 are left out and counted
//! - pinball_q = mean max(q (y - f_q), (q - 1)(y - f_q)) for each requested level q
//! - q-Risk_q (TFT paper) = 2 sum QL_q / sum |y|, with the median (or the mean when a model has
//!   no 0.5 quantile) for q = 0.5
//! - coverage80 = share of points with f_0.1 <= y <= f_0.9
//! - coverage_q = share of points with y <= f_q for each requested level q: calibrated quantiles
//!   have coverage_q = q (an interval can hit 0.8 with both ends off, this shows which)
//!
//! Aggregates over series: the mean of per-series MAE, RMSE, sMAPE and MASE; pinball, q-Risk and
//! coverage pool all points (q-Risk is a ratio of sums, as in the paper).

use fusecast_data::{Forecast, Panel};
use serde::Serialize;

pub const DEFINITIONS: &str = "\
- **MAE** = mean |y - f|; **RMSE** = sqrt(mean (y - f)^2), f = the point forecast (mean).
- **sMAPE** (M4) = mean 200 |y - f| / (|y| + |f|); a 0/0 term counts as 0.
- **MASE** = mean over windows of MAE / s, s = mean |y_t - y_{t-m}| over the window's training part, m = the seasonal period; windows with s = 0 are left out.
- **pinball(q)** = mean max(q (y - f_q), (q - 1)(y - f_q)).
- **q-Risk P50 / P90** (TFT paper) = 2 sum QL_q(y, f_q) / sum |y|, pooled over all points (median, or the mean for models without one, for P50).
- **coverage80** = share of actuals inside [f_0.1, f_0.9].
- **coverage(q)** = share of actuals at or below f_q; calibrated quantiles have coverage(q) = q.
- Per-series values are averaged over series (MAE, RMSE, sMAPE, MASE); pinball, q-Risk and coverage pool every point.";

/// Running sums for one (model, series) pair; they add up across series for the pooled metrics.
#[derive(Debug, Clone, Default)]
struct Sums {
    points: usize,
    missing: usize,
    abs_err: f64,
    sq_err: f64,
    smape: f64,
    mase_sum: f64,
    mase_windows: usize,
    mase_excluded: usize,
    abs_y: f64,
    ql50: f64,
    ql90: f64,
    has90: bool,
    covered: usize,
    cover_points: usize,
    pinball: Vec<f64>,
    pinball_points: Vec<usize>,
    /// Per requested level, points with y <= f_q (over `pinball_points`).
    below: Vec<usize>,
}

/// Scores of one model on one series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesScores {
    pub series: usize,
    pub points: usize,
    /// Forecast points that were NaN (no forecast) and so not scored.
    pub missing: usize,
    pub mae: f64,
    pub rmse: f64,
    pub smape: f64,
    /// NaN when every window's scale was 0.
    pub mase: f64,
    pub pinball: Vec<f64>,
    pub qrisk50: f64,
    pub qrisk90: f64,
    pub coverage80: f64,
    /// Per requested level q, the share of actuals at or below f_q.
    pub coverage: Vec<f64>,
    sum_abs_y: f64,
    sum_ql50: f64,
    sum_ql90: f64,
    covered: usize,
    cover_points: usize,
    pinball_sums: Vec<(f64, usize)>,
    below: Vec<usize>,
    mase_excluded: usize,
}

/// Aggregated scores of one model over a set of series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scores {
    pub series: usize,
    pub points: usize,
    pub missing: usize,
    pub mae: f64,
    pub rmse: f64,
    pub smape: f64,
    pub mase: f64,
    /// Windows left out of MASE because their seasonal scale was 0.
    pub mase_excluded: usize,
    pub pinball: Vec<f64>,
    pub qrisk50: f64,
    pub qrisk90: f64,
    pub coverage80: f64,
    /// Per requested level q, the share of actuals at or below f_q, pooled over all points.
    pub coverage: Vec<f64>,
}

fn pinball_loss(q: f64, y: f64, f: f64) -> f64 {
    let e = y - f;
    (q * e).max((q - 1.0) * e)
}

/// Mean |y_t - y_{t-m}| over `y[..=cutoff]` (the MASE scale of a window), over the pairs where
/// both values exist (a series observed from later on, or with missing periods, has NaN there).
pub fn seasonal_scale(y: &[f64], cutoff: usize, m: usize) -> f64 {
    let m = m.max(1);
    if cutoff < m {
        return f64::NAN;
    }
    let (mut sum, mut n) = (0.0, 0usize);
    for t in m..=cutoff {
        let d = (y[t] - y[t - m]).abs();
        if !d.is_nan() {
            sum += d;
            n += 1;
        }
    }
    if n == 0 {
        return f64::NAN;
    }
    sum / n as f64
}

/// Scores `forecast` against the panel's actuals, one entry per series of the panel (series
/// without rows have 0 points). `levels` are the quantiles whose pinball loss is reported.
pub fn score_series(
    panel: &Panel,
    forecast: &Forecast,
    season: usize,
    levels: &[f64],
) -> Vec<SeriesScores> {
    score_series_at(panel, forecast, season, levels, None)
}

/// [`score_series`] over the rows of one cutoff only (all rows when `None`).
pub fn score_series_at(
    panel: &Panel,
    forecast: &Forecast,
    season: usize,
    levels: &[f64],
    cutoff: Option<usize>,
) -> Vec<SeriesScores> {
    let mut sums = vec![
        Sums {
            pinball: vec![0.0; levels.len()],
            pinball_points: vec![0; levels.len()],
            below: vec![0; levels.len()],
            ..Sums::default()
        };
        panel.n_series()
    ];
    let level_index = |l: f64| forecast.levels.iter().position(|&x| (x - l).abs() < 1e-9);
    let (i10, i50, i90) = (level_index(0.1), level_index(0.5), level_index(0.9));
    let pin_idx: Vec<Option<usize>> = levels.iter().map(|&l| level_index(l)).collect();
    let rows = forecast
        .rows
        .iter()
        .filter(|r| cutoff.is_none_or(|c| r.cutoff == c));
    for row in rows {
        let y = panel.values(row.series);
        let s = &mut sums[row.series];
        let mut window_abs = 0.0;
        let mut window_points = 0;
        for i in 0..forecast.horizon {
            let t = row.cutoff + 1 + i;
            let (a, f) = (y[t], row.mean[i]);
            if !f.is_finite() {
                s.missing += 1;
                continue;
            }
            let e = a - f;
            s.points += 1;
            s.abs_err += e.abs();
            s.sq_err += e * e;
            let den = a.abs() + f.abs();
            if den > 0.0 {
                s.smape += 200.0 * e.abs() / den;
            }
            window_abs += e.abs();
            window_points += 1;
            s.abs_y += a.abs();
            let median = i50.map_or(f, |k| row.quantiles[k][i]);
            s.ql50 += pinball_loss(0.5, a, median);
            if let Some(k) = i90 {
                s.ql90 += pinball_loss(0.9, a, row.quantiles[k][i]);
                s.has90 = true;
            }
            if let (Some(lo), Some(hi)) = (i10, i90) {
                s.cover_points += 1;
                if row.quantiles[lo][i] <= a && a <= row.quantiles[hi][i] {
                    s.covered += 1;
                }
            }
            for (j, k) in pin_idx.iter().enumerate() {
                if let Some(k) = k {
                    s.pinball[j] += pinball_loss(levels[j], a, row.quantiles[*k][i]);
                    s.pinball_points[j] += 1;
                    s.below[j] += usize::from(a <= row.quantiles[*k][i]);
                }
            }
        }
        if window_points > 0 {
            let scale = seasonal_scale(y, row.cutoff, season);
            if scale > 0.0 {
                s.mase_sum += window_abs / window_points as f64 / scale;
                s.mase_windows += 1;
            } else {
                s.mase_excluded += 1;
            }
        }
    }
    sums.into_iter()
        .enumerate()
        .map(|(series, s)| {
            let n = s.points as f64;
            let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
            SeriesScores {
                series,
                points: s.points,
                missing: s.missing,
                mae: ratio(s.abs_err, n),
                rmse: ratio(s.sq_err, n).sqrt(),
                smape: ratio(s.smape, n),
                mase: ratio(s.mase_sum, s.mase_windows as f64),
                pinball: s
                    .pinball
                    .iter()
                    .zip(&s.pinball_points)
                    .map(|(&v, &c)| ratio(v, c as f64))
                    .collect(),
                qrisk50: ratio(2.0 * s.ql50, s.abs_y),
                qrisk90: if s.has90 {
                    ratio(2.0 * s.ql90, s.abs_y)
                } else {
                    f64::NAN
                },
                coverage80: ratio(s.covered as f64, s.cover_points as f64),
                coverage: s
                    .below
                    .iter()
                    .zip(&s.pinball_points)
                    .map(|(&b, &c)| ratio(b as f64, c as f64))
                    .collect(),
                sum_abs_y: s.abs_y,
                sum_ql50: s.ql50,
                sum_ql90: if s.has90 { s.ql90 } else { f64::NAN },
                covered: s.covered,
                cover_points: s.cover_points,
                pinball_sums: s
                    .pinball
                    .iter()
                    .copied()
                    .zip(s.pinball_points.iter().copied())
                    .collect(),
                below: s.below,
                mase_excluded: s.mase_excluded,
            }
        })
        .collect()
}

/// Aggregates per-series scores (of the series `keep` selects) as the module docs define.
pub fn aggregate<'a>(series: impl IntoIterator<Item = &'a SeriesScores>) -> Scores {
    let scored: Vec<&SeriesScores> = series.into_iter().filter(|s| s.points > 0).collect();
    let mean = |f: &dyn Fn(&SeriesScores) -> f64| {
        let v: Vec<f64> = scored
            .iter()
            .map(|s| f(s))
            .filter(|v| v.is_finite())
            .collect();
        if v.is_empty() {
            f64::NAN
        } else {
            v.iter().sum::<f64>() / v.len() as f64
        }
    };
    let sum = |f: &dyn Fn(&SeriesScores) -> f64| scored.iter().map(|s| f(s)).sum::<f64>();
    let n_levels = scored.first().map_or(0, |s| s.pinball_sums.len());
    let pinball = (0..n_levels)
        .map(|j| {
            let (v, c) = scored.iter().fold((0.0, 0usize), |(v, c), s| {
                (v + s.pinball_sums[j].0, c + s.pinball_sums[j].1)
            });
            if c > 0 {
                v / c as f64
            } else {
                f64::NAN
            }
        })
        .collect();
    let coverage = (0..n_levels)
        .map(|j| {
            let (b, c) = scored.iter().fold((0usize, 0usize), |(b, c), s| {
                (b + s.below[j], c + s.pinball_sums[j].1)
            });
            if c > 0 {
                b as f64 / c as f64
            } else {
                f64::NAN
            }
        })
        .collect();
    let abs_y = sum(&|s| s.sum_abs_y);
    let cover_points = sum(&|s| s.cover_points as f64);
    Scores {
        series: scored.len(),
        points: scored.iter().map(|s| s.points).sum(),
        missing: scored.iter().map(|s| s.missing).sum(),
        mae: mean(&|s| s.mae),
        rmse: mean(&|s| s.rmse),
        smape: mean(&|s| s.smape),
        mase: mean(&|s| s.mase),
        mase_excluded: scored.iter().map(|s| s.mase_excluded).sum(),
        pinball,
        qrisk50: 2.0 * sum(&|s| s.sum_ql50) / abs_y,
        qrisk90: 2.0 * sum(&|s| s.sum_ql90) / abs_y,
        coverage80: if cover_points > 0.0 {
            sum(&|s| s.covered as f64) / cover_points
        } else {
            f64::NAN
        },
        coverage,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fusecast_data::time::{date_seconds, Day, Frequency, TimeGrid};
    use fusecast_data::ForecastRow;

    fn panel() -> Panel {
        // Series 0: 10 values; series 1: zeros then values (exercises sMAPE's 0/0 rule).
        let a = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        let b = vec![0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 4.0];
        let grid = TimeGrid {
            start: date_seconds(Day::ymd(2024, 1, 1).0),
            frequency: Frequency::Daily,
            len: 10,
        };
        Panel::new(grid, "y", vec!["a".into(), "b".into()], [a, b].concat()).unwrap()
    }

    #[test]
    fn metrics_match_hand_computed_values() {
        let p = panel();
        let mut f = Forecast::new("m", 2, &[0.1, 0.5, 0.9]);
        // Series a, cutoff 7: actuals 9, 10.
        f.push(ForecastRow {
            series: 0,
            cutoff: 7,
            mean: vec![8.0, 12.0],
            quantiles: vec![vec![7.0, 11.0], vec![8.5, 12.0], vec![9.5, 13.0]],
            note: None,
        })
        .unwrap();
        // Series b, cutoff 7: actuals 0, 4.
        f.push(ForecastRow {
            series: 1,
            cutoff: 7,
            mean: vec![0.0, 2.0],
            quantiles: vec![vec![0.0, 1.0], vec![0.0, 2.0], vec![0.0, 3.0]],
            note: None,
        })
        .unwrap();
        let s = score_series(&p, &f, 2, &[0.1, 0.9]);
        let a = &s[0];
        assert_eq!(a.points, 2);
        assert!((a.mae - 1.5).abs() < 1e-12);
        assert!((a.rmse - (2.5f64).sqrt()).abs() < 1e-12);
        let smape = (200.0 * 1.0 / 17.0 + 200.0 * 2.0 / 22.0) / 2.0;
        assert!((a.smape - smape).abs() < 1e-12);
        // Scale over t = 2..=7 of |y_t - y_{t-2}| = 2.
        assert!((a.mase - 0.75).abs() < 1e-12);
        // pinball(0.1): y=9 f=7 -> 0.2; y=10 f=11 -> 0.9 * 1 = 0.9.
        assert!((a.pinball[0] - 0.55).abs() < 1e-12);
        // P50 uses the median: |9 - 8.5|/2 + |10 - 12|/2 = 1.25; q-Risk = 2 * 1.25 / 19.
        assert!((a.qrisk50 - 2.5 / 19.0).abs() < 1e-12);
        // 9 in [7, 9.5], 10 not in [11, 13].
        assert!((a.coverage80 - 0.5).abs() < 1e-12);
        // q0.1: 9 > 7, 10 <= 11 -> 1/2; q0.9: 9 <= 9.5, 10 <= 13 -> 2/2.
        assert_eq!(a.coverage, vec![0.5, 1.0]);
        // Pooled with series b (q0.1: 0 <= 0, 4 > 1; q0.9: 0 <= 0, 4 > 3): 2/4 and 3/4.
        assert_eq!(aggregate(&s).coverage, vec![0.5, 0.75]);
        let b = &s[1];
        // 0/0 counts 0; |4 - 2| * 200 / 6.
        assert!((b.smape - 200.0 * 2.0 / 6.0 / 2.0).abs() < 1e-12);
        // All-zero training part: MASE undefined, left out.
        assert!(b.mase.is_nan() && b.mase_excluded == 1);

        let all = aggregate(&s);
        assert_eq!((all.series, all.points, all.mase_excluded), (2, 4, 1));
        assert!((all.mae - (1.5 + 1.0) / 2.0).abs() < 1e-12);
        assert!((all.mase - 0.75).abs() < 1e-12);
        // Pooled q-Risk: (1.25 + 1.0) * 2 / (19 + 4).
        assert!((all.qrisk50 - 4.5 / 23.0).abs() < 1e-12);
        assert!((all.coverage80 - 2.0 / 4.0).abs() < 1e-12);
    }

    #[test]
    fn the_seasonal_scale_uses_the_pairs_a_ragged_series_has() {
        let nan = f64::NAN;
        // Observed from t = 2, missing at t = 5: pairs (2,4) -> 2, (4,6) -> 5, (6,8) -> 1;
        // (3,5) and (5,7) touch the missing period.
        let y = [nan, nan, 1.0, 2.0, 3.0, nan, 8.0, 4.0, 9.0];
        assert!((seasonal_scale(&y, 8, 2) - 8.0 / 3.0).abs() < 1e-12);
        assert!(seasonal_scale(&y, 3, 2).is_nan());
        // A full series: the usual mean over every pair.
        assert!((seasonal_scale(&[1.0, 2.0, 4.0, 7.0], 3, 1) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn nan_forecasts_count_as_missing_and_models_without_quantiles_have_nan_intervals() {
        let p = panel();
        let mut f = Forecast::new("point", 2, &[]);
        f.push(ForecastRow {
            series: 0,
            cutoff: 7,
            mean: vec![f64::NAN, 10.0],
            quantiles: vec![],
            note: None,
        })
        .unwrap();
        let s = score_series(&p, &f, 7, &[0.5]);
        assert_eq!((s[0].points, s[0].missing), (1, 1));
        assert_eq!(s[0].mae, 0.0);
        assert!(s[0].coverage80.is_nan() && s[0].qrisk90.is_nan() && s[0].pinball[0].is_nan());
        assert_eq!(s[1].points, 0);
        let all = aggregate(&s);
        assert_eq!(all.series, 1);
    }
}
