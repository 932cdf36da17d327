//! Scores every model on the same (series, cutoff) windows and compares them: overall, per cluster,
//! per backtest window and per series, with the winner of each series.

use std::collections::BTreeSet;

use fusecast_data::time::format_timestamp;
use fusecast_data::{Forecast, Panel};

use crate::metrics::{aggregate, score_series, score_series_at, Scores, SeriesScores};

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("nothing to compare: no forecasts")]
    Empty,
    #[error("{model} forecasts {got} steps ahead; {first} forecasts {expected}: models are compared on the same horizon")]
    Horizon {
        model: String,
        first: String,
        got: usize,
        expected: usize,
    },
    #[error("{model} has no forecast for series `{series}` at cutoff {cutoff} that {other} has: every model must be scored on the same windows")]
    MissingWindow {
        model: String,
        other: String,
        series: String,
        cutoff: String,
    },
    #[error("{model} has two forecasts for series `{series}` at cutoff {cutoff}")]
    Duplicate {
        model: String,
        series: String,
        cutoff: String,
    },
    #[error(
        "{model}: forecast for series `{series}` at cutoff {cutoff} runs past the end of the data"
    )]
    PastEnd {
        model: String,
        series: String,
        cutoff: String,
    },
    #[error("{model}: forecast for series `{series}` at cutoff {cutoff} covers periods the series has no value for (it is observed {observed}); windows without actuals cannot be scored")]
    NoActuals {
        model: String,
        series: String,
        cutoff: String,
        observed: String,
    },
    #[error("eval: {windows} windows {step} steps apart with horizon {horizon} need {span} periods after at least one; the panel has {len}")]
    TooFewPeriods {
        windows: usize,
        step: usize,
        horizon: usize,
        span: usize,
        len: usize,
    },
    #[error("eval: {windows} windows x step {step} with horizon {horizon} span the last {span} periods, but only windows.test_periods = {test_periods} are held out from training; lower eval.windows / eval.step or raise windows.test_periods")]
    PastTestPeriods {
        windows: usize,
        step: usize,
        horizon: usize,
        span: usize,
        test_periods: usize,
    },
    #[error("baselines.selection_windows = {windows}: not enough history before the first cutoff ({first_cutoff})")]
    SelectionHistory {
        windows: usize,
        first_cutoff: String,
    },
    /// A count the config requires to be at least 1 (`key`, e.g. `eval.step`) is 0.
    #[error("{key} must be at least 1")]
    Zero { key: &'static str },
    #[error("writing {path}: {source}")]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("plotting {path}: {message}")]
    Plot {
        path: std::path::PathBuf,
        message: String,
    },
}

/// One model's scores.
#[derive(Debug, Clone)]
pub struct ModelScores {
    pub model: String,
    pub overall: Scores,
    pub per_cluster: Vec<(String, Scores)>,
    /// Per backtest cutoff, in [`Comparison::cutoffs`] order: how the scores move from one
    /// window to the next (a holiday window, a level shift) that the overall mean hides.
    pub per_window: Vec<(usize, Scores)>,
    pub per_series: Vec<SeriesScores>,
    /// Windows another model forecast because this one's fit failed
    /// ([`RowNoteKind::Fallback`](fusecast_data::RowNoteKind::Fallback)); constant series and
    /// missing forecasts (`NoForecast`, counted as missing points) are not fallbacks.
    pub fallbacks: usize,
}

/// Every model on the same windows.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub season: usize,
    pub horizon: usize,
    pub levels: Vec<f64>,
    pub cutoffs: Vec<usize>,
    pub models: Vec<ModelScores>,
    /// Per series: the model with the lowest MASE (MAE where MASE is undefined).
    pub winners: Vec<String>,
    pub clusters: Option<Vec<String>>,
}

impl Comparison {
    /// How many series each model wins, in model order.
    pub fn win_counts(&self) -> Vec<(String, usize)> {
        self.models
            .iter()
            .map(|m| {
                let wins = self.winners.iter().filter(|w| **w == m.model).count();
                (m.model.clone(), wins)
            })
            .collect()
    }
}

/// Scores `forecasts` (one table per model) on `panel`. `season` is the MASE period, `levels`
/// the quantiles whose pinball loss is reported, `clusters` a label per series (optional).
pub fn compare(
    panel: &Panel,
    forecasts: &[Forecast],
    season: usize,
    levels: &[f64],
    clusters: Option<&[String]>,
) -> Result<Comparison, EvalError> {
    let first = forecasts.first().ok_or(EvalError::Empty)?;
    let when = |c: usize| format_timestamp(panel.grid.timestamp(c));
    let keys = |f: &Forecast| -> Result<BTreeSet<(usize, usize)>, EvalError> {
        let mut set = BTreeSet::new();
        for r in &f.rows {
            if r.cutoff + f.horizon >= panel.len() {
                return Err(EvalError::PastEnd {
                    model: f.model.clone(),
                    series: panel.series[r.series].clone(),
                    cutoff: when(r.cutoff),
                });
            }
            if !panel.has_actuals(r.series, r.cutoff + 1, r.cutoff + 1 + f.horizon) {
                let sp = panel.span(r.series);
                return Err(EvalError::NoActuals {
                    model: f.model.clone(),
                    series: panel.series[r.series].clone(),
                    cutoff: when(r.cutoff),
                    observed: if sp.is_empty() {
                        "nowhere".to_string()
                    } else {
                        format!(
                            "from {} to {}, {} periods missing",
                            when(sp.first),
                            when(sp.end - 1),
                            sp.missing
                        )
                    },
                });
            }
            if !set.insert((r.series, r.cutoff)) {
                return Err(EvalError::Duplicate {
                    model: f.model.clone(),
                    series: panel.series[r.series].clone(),
                    cutoff: when(r.cutoff),
                });
            }
        }
        Ok(set)
    };
    let reference = keys(first)?;
    for f in forecasts {
        if f.horizon != first.horizon {
            return Err(EvalError::Horizon {
                model: f.model.clone(),
                first: first.model.clone(),
                got: f.horizon,
                expected: first.horizon,
            });
        }
        let mine = keys(f)?;
        let missing = |a: &BTreeSet<(usize, usize)>,
                       b: &BTreeSet<(usize, usize)>,
                       model: &str,
                       other: &str| {
            a.difference(b)
                .next()
                .map(|&(s, c)| EvalError::MissingWindow {
                    model: model.to_string(),
                    other: other.to_string(),
                    series: panel.series[s].clone(),
                    cutoff: when(c),
                })
        };
        if let Some(e) = missing(&reference, &mine, &f.model, &first.model) {
            return Err(e);
        }
        if let Some(e) = missing(&mine, &reference, &first.model, &f.model) {
            return Err(e);
        }
    }
    let cutoffs: Vec<usize> = reference
        .iter()
        .map(|&(_, c)| c)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let models: Vec<ModelScores> = forecasts
        .iter()
        .map(|f| {
            let per_series = score_series(panel, f, season, levels);
            let per_cluster = cluster_names(clusters)
                .into_iter()
                .map(|name| {
                    let members = per_series
                        .iter()
                        .filter(|s| clusters.is_some_and(|c| c[s.series] == name));
                    let scores = aggregate(members);
                    (name, scores)
                })
                .collect();
            let per_window = cutoffs
                .iter()
                .map(|&c| {
                    let at = score_series_at(panel, f, season, levels, Some(c));
                    (c, aggregate(&at))
                })
                .collect();
            ModelScores {
                model: f.model.clone(),
                overall: aggregate(&per_series),
                per_cluster,
                per_window,
                per_series,
                fallbacks: f.rows.iter().filter(|r| r.is_fallback()).count(),
            }
        })
        .collect();
    let winners = (0..panel.n_series())
        .map(|s| {
            let key = |m: &ModelScores| {
                let ss = &m.per_series[s];
                if ss.mase.is_finite() {
                    ss.mase
                } else {
                    ss.mae
                }
            };
            models
                .iter()
                .filter(|m| key(m).is_finite())
                .fold(None::<&ModelScores>, |best, m| match best {
                    Some(b) if key(b) <= key(m) => Some(b),
                    _ => Some(m),
                })
                .map(|m| m.model.clone())
                .unwrap_or_default()
        })
        .collect();
    Ok(Comparison {
        season,
        horizon: first.horizon,
        levels: levels.to_vec(),
        cutoffs,
        models,
        winners,
        clusters: clusters.map(|c| c.to_vec()),
    })
}

fn cluster_names(clusters: Option<&[String]>) -> Vec<String> {
    clusters
        .map(|c| {
            c.iter()
                .cloned()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use fusecast_data::time::{date_seconds, Day, Frequency, TimeGrid};
    use fusecast_data::{ForecastRow, RowNote};

    fn panel() -> Panel {
        let grid = TimeGrid {
            start: date_seconds(Day::ymd(2024, 1, 1).0),
            frequency: Frequency::Daily,
            len: 12,
        };
        let y: Vec<f64> = (0..24)
            .map(|t| (t % 12) as f64 + 10.0 * (t / 12) as f64)
            .collect();
        Panel::new(grid, "y", vec!["a".into(), "b".into()], y).unwrap()
    }

    fn model(name: &str, offset: f64, rows: &[(usize, usize)]) -> Forecast {
        let p = panel();
        let mut f = Forecast::new(name, 2, &[0.5]);
        for &(s, c) in rows {
            let mean: Vec<f64> = (1..=2).map(|i| p.values(s)[c + i] + offset).collect();
            f.push(ForecastRow {
                series: s,
                cutoff: c,
                quantiles: vec![mean.clone()],
                mean,
                note: None,
            })
            .unwrap();
        }
        f
    }

    #[test]
    fn the_better_model_wins_every_series_and_clusters_split_the_scores() {
        let windows = [(0, 7), (0, 9), (1, 7), (1, 9)];
        let good = model("good", 0.5, &windows);
        let bad = model("bad", -2.0, &windows);
        let clusters = vec!["x".to_string(), "y".to_string()];
        let c = compare(&panel(), &[bad, good], 1, &[0.5], Some(&clusters)).unwrap();
        assert_eq!(c.cutoffs, vec![7, 9]);
        assert_eq!(c.winners, vec!["good", "good"]);
        assert_eq!(
            c.win_counts(),
            vec![("bad".to_string(), 0), ("good".to_string(), 2)]
        );
        assert!((c.models[1].overall.mae - 0.5).abs() < 1e-12);
        // Every one-step difference is 1, so MASE = MAE.
        assert!((c.models[0].overall.mase - 2.0).abs() < 1e-12);
        assert_eq!(c.models[0].per_cluster.len(), 2);
        assert_eq!(c.models[0].per_cluster[1].1.series, 1);
    }

    #[test]
    fn each_backtest_window_is_scored_on_its_own_rows() {
        // Off by 1 at cutoff 7 and by 3 at cutoff 9, on every step of both series.
        let mut f = model("m", 1.0, &[(0, 7), (0, 9), (1, 7), (1, 9)]);
        for r in f.rows.iter_mut().filter(|r| r.cutoff == 9) {
            for v in r.mean.iter_mut().chain(r.quantiles[0].iter_mut()) {
                *v += 2.0;
            }
        }
        let c = compare(&panel(), &[f], 1, &[0.5], None).unwrap();
        let m = &c.models[0];
        let at: Vec<usize> = m.per_window.iter().map(|(c, _)| *c).collect();
        assert_eq!(at, vec![7, 9]);
        // One-step differences are 1 in both windows' training parts, so MASE = MAE.
        assert!((m.per_window[0].1.mase - 1.0).abs() < 1e-12);
        assert!((m.per_window[1].1.mase - 3.0).abs() < 1e-12);
        assert_eq!(m.per_window[1].1.series, 2);
        assert_eq!(m.per_window[1].1.points, 4);
        // With every series in every window, the overall MASE is the windows' mean.
        assert!((m.overall.mase - 2.0).abs() < 1e-12);
    }

    #[test]
    fn models_must_cover_the_same_windows() {
        let a = model("a", 0.0, &[(0, 7), (1, 7)]);
        let b = model("b", 0.0, &[(0, 7)]);
        let e = compare(&panel(), &[a.clone(), b], 1, &[], None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("b has no forecast for series `b` at cutoff 2024-01-08"),
            "{e}"
        );
        let mut dup = a.clone();
        dup.rows.push(dup.rows[0].clone());
        let e = compare(&panel(), &[a, dup], 1, &[], None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("two forecasts"), "{e}");
        let late = model("late", 0.0, &[(0, 9)]);
        let mut past = late.clone();
        past.rows[0].cutoff = 10;
        assert!(compare(&panel(), &[past], 1, &[], None)
            .unwrap_err()
            .to_string()
            .contains("past the end"));
    }

    #[test]
    fn fallbacks_are_the_rows_noted_as_fallbacks() {
        let windows = [(0, 7), (0, 9), (1, 7), (1, 9)];
        let mut m = model("m", 0.0, &windows);
        m.rows[0].note = Some(RowNote::fallback("Naive", "m: too short"));
        m.rows[1].note = Some(RowNote::no_forecast("m: non-finite"));
        m.rows[2].note = Some(RowNote::constant("forecast is the constant 3"));
        let mut sel = model("Selected", 0.0, &windows);
        sel.rows[0].note = Some(RowNote::fallback("SeasonalNaive", "selected m; failed"));
        sel.rows[1].note = Some(RowNote::selected("m"));
        let c = compare(&panel(), &[m, sel], 1, &[], None).unwrap();
        assert_eq!(c.models[0].fallbacks, 1);
        assert_eq!(c.models[1].fallbacks, 1);
    }
}
