//! The series where the TFT is far behind the per-series baselines (its MASE more than
//! [`FACTOR`] times the best baseline's on that series), each with what the data says about why:
//! the report lists them, so a loss is looked at rather than averaged away.
//!
//! The explanations are checked in order, the first that holds is given:
//! - **few counts**: the windows' actuals average under [`SPARSE_MEAN`] per period, where one
//!   count of error is a large share of the MASE scale;
//! - **level moved after the cutoff**: a window's mean differs from that of the season before its
//!   cutoff, repeated over the window (the seasonal naive forecast), by [`LEVEL_MOVE`] or more,
//!   which no model could see at the cutoff, so the ratio says which model's guess happened to
//!   go that way;
//! - **level moving at the cutoff**: the season before a cutoff averaged [`TREND_MOVE`] or more
//!   away from the [`PRIOR_SEASONS`] seasons before it. Per-series models fitted at the cutoff
//!   extrapolate such a move; the global TFT, trained before the test part on windows that
//!   mostly have none, tends to forecast closer to the earlier level;
//! - **baseline near exact**: the best baseline's MASE is under [`NEAR_EXACT`] and the TFT's
//!   still under 1 (better than the in-sample seasonal naive), so twice a small error is small;
//! - otherwise **not explained**: the TFT misses a series the baselines forecast well.

use std::fmt::Write as _;

use fusecast_data::csvline::quote;
// Per-series selection only picks among the baselines: it is not a baseline of its own here.
use fusecast_data::forecast::SELECTED;
use fusecast_data::time::format_timestamp;
use fusecast_data::Panel;

use crate::compare::Comparison;

/// A TFT MASE more than this times the best baseline's on a series is listed.
pub const FACTOR: f64 = 2.0;
/// A TFT MASE below this is exact for any purpose and never listed: on a zone with no trips,
/// 1e-5 against a baseline's exact 0 is no loss, whatever the ratio.
pub const NEGLIGIBLE: f64 = 0.01;
/// Mean actual per period below which a count series is "few counts".
pub const SPARSE_MEAN: f64 = 5.0;
/// Relative change of the level, from the season before a cutoff (repeated over the window) to
/// the window after it, that counts as the level having moved.
pub const LEVEL_MOVE: f64 = 0.25;
/// Relative change from the [`PRIOR_SEASONS`] seasons before the last one to the last season
/// before a cutoff that counts as the level moving at the cutoff.
pub const TREND_MOVE: f64 = 0.1;
/// Seasons before the last one that the level moving at a cutoff is measured against.
pub const PRIOR_SEASONS: usize = 4;
/// Best-baseline MASE below which it is "near exact".
pub const NEAR_EXACT: f64 = 0.5;

/// Whether a model of the comparison is the TFT (or one of a tuning experiment's TFTs).
pub fn is_tft(model: &str) -> bool {
    model.starts_with("TFT")
}

/// What the data says about one series the TFT is far behind on.
#[derive(Clone, Debug, PartialEq)]
pub enum Why {
    FewCounts {
        mean: f64,
    },
    LevelMoved {
        /// Relative change (+0.4 = 40% higher in the window than in the season before it).
        change: f64,
        /// The cutoff (panel index) of the window where it moved most.
        cutoff: usize,
    },
    LevelMoving {
        /// Relative change of the last season before the cutoff from the seasons before it.
        change: f64,
        cutoff: usize,
    },
    BaselineNearExact,
    NotExplained,
}

impl Why {
    /// The short name written to `tft_behind.csv`.
    pub fn kind(&self) -> &'static str {
        match self {
            Why::FewCounts { .. } => "few_counts",
            Why::LevelMoved { .. } => "level_moved",
            Why::LevelMoving { .. } => "level_moving",
            Why::BaselineNearExact => "baseline_near_exact",
            Why::NotExplained => "not_explained",
        }
    }

    /// The explanation in words.
    pub fn describe(&self, panel: &Panel) -> String {
        match self {
            Why::FewCounts { mean } if *mean == 0.0 => {
                "few counts: none in its backtest windows, where any forecast above 0 is all error"
                    .to_string()
            }
            Why::FewCounts { mean } => format!(
                "few counts: {mean:.2} per period on average, where one count of error is a large share of the MASE scale"
            ),
            Why::LevelMoved { change, cutoff } => format!(
                "the level moved {:+.0}% from the season before the cutoff {} to the window after it, which no model could see at the cutoff",
                change * 100.0,
                format_timestamp(panel.grid.timestamp(*cutoff))
            ),
            Why::LevelMoving { change, cutoff } => format!(
                "the level was moving at the cutoff {}: the season before it averaged {:+.0}% off the {PRIOR_SEASONS} seasons before that; per-series models fitted at the cutoff extrapolate such a move, the global TFT tends to forecast closer to the earlier level",
                format_timestamp(panel.grid.timestamp(*cutoff)),
                change * 100.0
            ),
            Why::BaselineNearExact => format!(
                "the best baseline is near exact (MASE under {NEAR_EXACT}) and the TFT is still better than the in-sample seasonal naive (MASE under 1)"
            ),
            Why::NotExplained => {
                "not explained by the data: the TFT misses a series the baselines forecast well"
                    .to_string()
            }
        }
    }
}

/// One series a TFT is far behind on.
#[derive(Clone, Debug, PartialEq)]
pub struct Behind {
    pub series: usize,
    pub model: String,
    pub mase: f64,
    pub best_baseline: String,
    pub best_mase: f64,
    pub why: Why,
}

impl Behind {
    pub fn ratio(&self) -> f64 {
        self.mase / self.best_mase
    }
}

/// Every (TFT model, series) of `c` where the TFT's MASE is more than [`FACTOR`] times the best
/// baseline's, worst ratio first. Empty without a TFT or without baselines.
pub fn behind(panel: &Panel, c: &Comparison) -> Vec<Behind> {
    let baselines: Vec<_> = c
        .models
        .iter()
        .filter(|m| !is_tft(&m.model) && m.model != SELECTED)
        .collect();
    let mut out = Vec::new();
    for tft in c.models.iter().filter(|m| is_tft(&m.model)) {
        for s in &tft.per_series {
            let best = baselines
                .iter()
                .map(|b| (b, b.per_series[s.series].mase))
                .filter(|(_, m)| m.is_finite())
                .min_by(|a, b| a.1.total_cmp(&b.1));
            let Some((b, best_mase)) = best else { continue };
            if !(s.mase > FACTOR * best_mase && s.mase >= NEGLIGIBLE) {
                continue;
            }
            out.push(Behind {
                series: s.series,
                model: tft.model.clone(),
                mase: s.mase,
                best_baseline: b.model.clone(),
                best_mase,
                why: why(panel, c, s.series, s.mase, best_mase),
            });
        }
    }
    out.sort_by(|a, b| b.ratio().total_cmp(&a.ratio()));
    out
}

fn mean(values: &[f64]) -> Option<f64> {
    let v: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

fn why(panel: &Panel, c: &Comparison, s: usize, mase: f64, best: f64) -> Why {
    let y = panel.values(s);
    let h = c.horizon;
    let after = |cut: usize| &y[(cut + 1).min(y.len())..(cut + 1 + h).min(y.len())];
    let windows: Vec<f64> = c
        .cutoffs
        .iter()
        .flat_map(|&cut| after(cut))
        .copied()
        .collect();
    if let Some(m) = mean(&windows) {
        if panel.is_non_negative() && m < SPARSE_MEAN {
            return Why::FewCounts { mean: m };
        }
    }
    let season = c.season.max(1);
    // Against the last season before the cutoff repeated over the window (the seasonal naive
    // forecast), so that which weekdays (hours) a window holds does not read as a move.
    let moved = c
        .cutoffs
        .iter()
        .filter_map(|&cut| {
            let window = after(cut);
            let last_season: Vec<f64> = (0..window.len())
                .filter_map(|k| (cut + 1 + k % season).checked_sub(season).map(|t| y[t]))
                .collect();
            let before = mean(&last_season)?;
            let change = (mean(window)? - before) / before.abs();
            change.is_finite().then_some((change, cut))
        })
        .max_by(|a, b| a.0.abs().total_cmp(&b.0.abs()));
    if let Some((change, cutoff)) = moved.filter(|m| m.0.abs() >= LEVEL_MOVE) {
        return Why::LevelMoved { change, cutoff };
    }
    let moving = c
        .cutoffs
        .iter()
        .filter_map(|&cut| {
            let last_from = (cut + 1).checked_sub(season)?;
            let prior_from = last_from.checked_sub(PRIOR_SEASONS * season)?;
            let (last, prior) = (mean(&y[last_from..=cut])?, mean(&y[prior_from..last_from])?);
            let change = (last - prior) / prior.abs();
            change.is_finite().then_some((change, cut))
        })
        .max_by(|a, b| a.0.abs().total_cmp(&b.0.abs()));
    if let Some((change, cutoff)) = moving.filter(|m| m.0.abs() >= TREND_MOVE) {
        return Why::LevelMoving { change, cutoff };
    }
    if best < NEAR_EXACT && mase < 1.0 {
        return Why::BaselineNearExact;
    }
    Why::NotExplained
}

/// `tft_behind.csv`: one row per listed series, with the explanation's kind and words.
pub fn csv(panel: &Panel, rows: &[Behind]) -> String {
    let mut csv =
        String::from("series_id,model,mase,best_baseline,best_mase,ratio,reason,explanation\n");
    for r in rows {
        let _ = writeln!(
            csv,
            "{},{},{:.4},{},{:.4},{:.4},{},{}",
            quote(&panel.series[r.series]),
            quote(&r.model),
            r.mase,
            quote(&r.best_baseline),
            r.best_mase,
            r.ratio(),
            r.why.kind(),
            quote(&r.why.describe(panel))
        );
    }
    csv
}

/// Every explanation's kind, in the order they are checked.
pub const KINDS: [&str; 5] = [
    "few_counts",
    "level_moved",
    "level_moving",
    "baseline_near_exact",
    "not_explained",
];

/// How many listed rows each explanation covers, in [`KINDS`] order.
pub fn counts<'a>(kinds: impl Iterator<Item = &'a str> + Clone) -> Vec<(&'static str, usize)> {
    KINDS
        .into_iter()
        .map(|k| (k, kinds.clone().filter(|r| *r == k).count()))
        .collect()
}

/// Whether the comparison has a TFT and a baseline to hold it against.
pub fn applies(c: &Comparison) -> bool {
    c.models.iter().any(|m| is_tft(&m.model))
        && c.models
            .iter()
            .any(|m| !is_tft(&m.model) && m.model != SELECTED)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::compare;
    use fusecast_data::time::{date_seconds, Day, Frequency, TimeGrid};
    use fusecast_data::{Forecast, ForecastRow};

    const LEN: usize = 70;
    const CUTOFFS: [usize; 2] = [55, 62];

    /// Five daily series with a weekly pattern, each set up for one explanation:
    /// "BIG" (level 100, the TFT 30 off at every step: not explained), "FEW" (level 2),
    /// "JUMP" (level 100, 40% higher after the first cutoff), "EXACT" (level 100, the
    /// baseline 0.1 off and the TFT 0.5 off, under the in-sample seasonal naive error) and
    /// "SLIDE" (falling 1% of its start a day).
    fn panel() -> Panel {
        let grid = TimeGrid {
            start: date_seconds(Day::ymd(2024, 1, 1).0),
            frequency: Frequency::Daily,
            len: LEN,
        };
        let week = |t: usize| [0.0, 3.0, 5.0, 2.0, 4.0, -6.0, -8.0][t % 7];
        // A little noise, so that the seasonal naive's in-sample error (the MASE scale) is not 0.
        let noise = |t: usize| if t.is_multiple_of(3) { 1.0 } else { -0.5 };
        let mut y = Vec::new();
        for s in 0..5 {
            for t in 0..LEN {
                y.push(match s {
                    0 | 3 => 100.0 + week(t) + noise(t),
                    1 => [1.0, 3.0, 2.0, 2.0, 4.0, 1.0, 1.0][t % 7] + (t % 2) as f64,
                    4 => 100.0 - t as f64 + week(t) + noise(t),
                    _ => (100.0 + week(t) + noise(t)) * if t > CUTOFFS[0] { 1.4 } else { 1.0 },
                });
            }
        }
        let ids = ["BIG", "FEW", "JUMP", "EXACT", "SLIDE"]
            .map(String::from)
            .to_vec();
        Panel::new(grid, "y", ids, y).unwrap()
    }

    /// A model off the actuals by `off(series)` at every step.
    fn model(panel: &Panel, name: &str, off: impl Fn(usize) -> f64) -> Forecast {
        let mut f = Forecast::new(name, 7, &[0.1, 0.5, 0.9]);
        for s in 0..panel.n_series() {
            for cutoff in CUTOFFS {
                let mean: Vec<f64> = (1..=7)
                    .map(|i| panel.values(s)[cutoff + i] + off(s))
                    .collect();
                let q = |d: f64| mean.iter().map(|m| m + d).collect::<Vec<_>>();
                f.push(ForecastRow {
                    series: s,
                    cutoff,
                    mean: mean.clone(),
                    quantiles: vec![q(-1.0), q(0.0), q(1.0)],
                    note: None,
                })
                .unwrap();
            }
        }
        f
    }

    fn comparison(panel: &Panel, tft_off: [f64; 5]) -> Comparison {
        comparison_with(panel, [2.0, 0.2, 3.0, 0.1, 3.0], tft_off)
    }

    fn comparison_with(panel: &Panel, ets_off: [f64; 5], tft_off: [f64; 5]) -> Comparison {
        let forecasts = [
            model(panel, "AutoETS", |s| ets_off[s]),
            model(panel, "Naive", |_| 50.0),
            // Selection is never the yardstick, however good.
            model(panel, SELECTED, |_| 0.0),
            model(panel, "TFT", |s| tft_off[s]),
        ];
        compare(panel, &forecasts, 7, &[0.1, 0.5, 0.9], None).unwrap()
    }

    #[test]
    fn each_series_far_behind_gets_the_first_explanation_that_holds() {
        let p = panel();
        let c = comparison(&p, [30.0, 2.0, 30.0, 0.5, 30.0]);
        let rows = behind(&p, &c);
        let by_id = |id: &str| {
            rows.iter()
                .find(|r| p.series[r.series] == id)
                .unwrap_or_else(|| panic!("{id} is not listed: {rows:?}"))
        };
        assert_eq!(rows.len(), 5, "{rows:?}");
        let big = by_id("BIG");
        assert_eq!(big.why, Why::NotExplained);
        assert_eq!(big.best_baseline, "AutoETS");
        assert!((big.ratio() - 15.0).abs() < 1e-9, "{}", big.ratio());
        match by_id("FEW").why {
            Why::FewCounts { mean } => assert!(mean > 1.0 && mean < 5.0, "{mean}"),
            ref w => panic!("FEW: {w:?}"),
        }
        match by_id("JUMP").why {
            Why::LevelMoved { change, cutoff } => {
                assert_eq!(cutoff, CUTOFFS[0]);
                assert!((change - 0.4).abs() < 0.02, "{change}");
            }
            ref w => panic!("JUMP: {w:?}"),
        }
        match by_id("SLIDE").why {
            // At the second cutoff the week before it averages 41, the four before that 58.5.
            Why::LevelMoving { change, cutoff } => {
                assert_eq!(cutoff, CUTOFFS[1]);
                assert!((change + 0.299).abs() < 0.01, "{change}");
            }
            ref w => panic!("SLIDE: {w:?}"),
        }
        let exact = by_id("EXACT");
        assert_eq!(exact.why, Why::BaselineNearExact, "MASE {}", exact.mase);
        // Worst ratio first.
        assert!(rows.windows(2).all(|w| w[0].ratio() >= w[1].ratio()));
        let text = by_id("JUMP").why.describe(&p);
        assert!(
            text.contains("+40%") && text.contains("2024-02-25"),
            "{text}"
        );
    }

    #[test]
    fn kinds_are_in_the_order_the_explanations_are_checked() {
        let whys = [
            Why::FewCounts { mean: 1.0 },
            Why::LevelMoved {
                change: 0.3,
                cutoff: 0,
            },
            Why::LevelMoving {
                change: 0.1,
                cutoff: 0,
            },
            Why::BaselineNearExact,
            Why::NotExplained,
        ];
        assert_eq!(whys.map(|w| w.kind()), KINDS);
    }

    #[test]
    fn series_within_the_factor_and_runs_without_baselines_list_nothing() {
        let p = panel();
        // Just under 2x AutoETS on BIG; the others are better than AutoETS.
        let c = comparison(&p, [3.9, 0.1, 1.0, 0.05, 1.0]);
        assert_eq!(behind(&p, &c), Vec::new());
        assert!(applies(&c));
        // A baseline exact on BIG and the TFT a thousandth of the MASE scale off: no loss.
        let exact = comparison_with(&p, [0.0; 5], [0.001, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(behind(&p, &exact), Vec::new());
        let off = comparison_with(&p, [0.0; 5], [0.1, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(behind(&p, &off).len(), 1);
        let tft_only =
            compare(&p, &[model(&p, "TFT", |_| 1.0)], 7, &[0.1, 0.5, 0.9], None).unwrap();
        assert!(!applies(&tft_only));
        assert_eq!(behind(&p, &tft_only), Vec::new());
    }

    #[test]
    fn the_csv_names_the_series_the_baseline_and_the_reason() {
        let p = panel();
        let rows = behind(&p, &comparison(&p, [30.0, 0.0, 0.0, 0.0, 0.0]));
        let csv = csv(&p, &rows);
        let mut lines = csv.lines();
        assert_eq!(
            lines.next(),
            Some("series_id,model,mase,best_baseline,best_mase,ratio,reason,explanation")
        );
        let row = lines.next().unwrap();
        assert!(row.starts_with("BIG,TFT,"), "{row}");
        assert!(
            row.contains(",AutoETS,") && row.contains(",15.0000,not_explained,"),
            "{row}"
        );
        assert_eq!(lines.next(), None);
        assert_eq!(
            counts(rows.iter().map(|r| r.why.kind())),
            vec![
                ("few_counts", 0),
                ("level_moved", 0),
                ("level_moving", 0),
                ("baseline_near_exact", 0),
                ("not_explained", 1)
            ]
        );
    }
}
