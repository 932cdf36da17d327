//! Fits every model on every series at every cutoff, in parallel (rayon), each fit under a time
//! budget. A fit that fails or runs out of time falls back to SeasonalNaive (Naive when even one
//! season is missing) and the row is marked with why, so no series is ever silently dropped.
//! A (series, cutoff) pair is fitted where the series can be scored ([`Panel::has_window`]):
//! observed at the cutoff and over the horizon after it; each fit sees the series' own history,
//! from its first observation (or the end of its last missing stretch) to the cutoff.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fusecast_data::{Forecast, ForecastRow, Panel, RowNote};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::naive::{naive, seasonal_naive, SeasonalNaiveFit};
use crate::{Fitted, FittedModel, ModelSpec, SeriesInput};

/// What every fit of a run shares.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub horizon: usize,
    /// Quantile levels every model reports, ascending.
    pub levels: Vec<f64>,
    /// Wall-clock budget of one fit (one model, one series, one cutoff).
    pub fit_budget: Option<Duration>,
    /// Clamp forecasts and quantiles at 0 (counts cannot be negative).
    pub non_negative: bool,
    /// Main seasonal period and all seasonal periods, in steps.
    pub period: usize,
    pub seasonal_periods: Vec<usize>,
    /// Holiday dates (local midnight seconds) over the panel and the horizon after it.
    pub holidays: Vec<i64>,
}

/// One fitted model of one series at one cutoff, as saved to JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitRecord {
    pub series_id: String,
    pub cutoff: usize,
    /// What was chosen, e.g. `ETS(A,Ad,A)`.
    pub chosen: String,
    pub fit: FittedModel,
    /// Set when `fit` is not the requested model's own fit (fallback, constant series): the
    /// row's [`RowNote`] as text, e.g. `fallback to Naive: ...`.
    pub note: Option<String>,
    pub seconds: f64,
}

/// Everything one model produced over all series and cutoffs.
#[derive(Debug, Clone)]
pub struct ModelRun {
    pub label: String,
    pub forecast: Forecast,
    pub fits: Vec<FitRecord>,
    /// Fits that fell back (failed, timed out or too short).
    pub fallbacks: usize,
    pub wall_seconds: f64,
}

/// The (series, cutoff) pairs a backtest forecasts and scores: every series at every cutoff
/// where it is observed at the cutoff and over the `horizon` periods after it
/// ([`Panel::has_window`]). Periods past the end of the grid are the future, not missing
/// actuals: a cutoff near the end forecasts them.
pub fn backtest_pairs(panel: &Panel, cutoffs: &[usize], horizon: usize) -> Vec<(usize, usize)> {
    (0..panel.n_series())
        .flat_map(|s| cutoffs.iter().map(move |&c| (s, c)))
        .filter(|&(s, c)| {
            let to = (c + 1 + horizon).min(panel.len());
            panel.is_observed(s, c) && (c + 1 >= to || panel.has_actuals(s, c + 1, to))
        })
        .collect()
}

/// Fits `spec` on each series' history up to each cutoff, at the [`backtest_pairs`]. `tick` is
/// called after each fit (progress bars).
pub fn run_model(
    panel: &Panel,
    spec: &ModelSpec,
    cutoffs: &[usize],
    opts: &RunOptions,
    tick: &(dyn Fn() + Sync),
) -> ModelRun {
    run_pairs(
        panel,
        spec,
        &backtest_pairs(panel, cutoffs, opts.horizon),
        opts,
        tick,
    )
}

/// [`run_model`] at the given (series, cutoff) pairs only (a share of the series, say), in
/// their order: the rows and fits of each pair are those `run_model` makes for it.
pub fn run_pairs(
    panel: &Panel,
    spec: &ModelSpec,
    jobs: &[(usize, usize)],
    opts: &RunOptions,
    tick: &(dyn Fn() + Sync),
) -> ModelRun {
    let started = Instant::now();
    let fallbacks = AtomicUsize::new(0);
    let results: Vec<(ForecastRow, FitRecord)> = jobs
        .par_iter()
        .map(|&(s, cutoff)| {
            let out = fit_one(panel, spec, s, cutoff, opts);
            if out.0.is_fallback() {
                fallbacks.fetch_add(1, Ordering::Relaxed);
            }
            tick();
            out
        })
        .collect();
    let mut forecast = Forecast::new(spec.label(), opts.horizon, &opts.levels);
    let mut fits = Vec::with_capacity(results.len());
    for (row, fit) in results {
        forecast
            .push(row)
            .expect("every model forecasts the run's horizon and levels");
        fits.push(fit);
    }
    if opts.non_negative {
        forecast.clamp_below(0.0);
    }
    ModelRun {
        label: spec.label().to_string(),
        forecast,
        fits,
        fallbacks: fallbacks.into_inner(),
        wall_seconds: started.elapsed().as_secs_f64(),
    }
}

fn fit_one(
    panel: &Panel,
    spec: &ModelSpec,
    series: usize,
    cutoff: usize,
    opts: &RunOptions,
) -> (ForecastRow, FitRecord) {
    let started = Instant::now();
    let (first, y) = panel
        .history(series, cutoff)
        .expect("backtest pairs are observed at their cutoff");
    let input = SeriesInput {
        y,
        period: opts.period,
        seasonal_periods: opts.seasonal_periods.clone(),
        start: panel.grid.timestamp(first),
        step_seconds: panel.grid.frequency.step_seconds(),
        holidays: &opts.holidays,
        deadline: opts.fit_budget.map(|b| started + b),
    };
    let (fit, note) = fit_or_fall_back(spec, &input);
    let prediction = fit.forecast(opts.horizon, &opts.levels);
    let record = FitRecord {
        series_id: panel.series[series].clone(),
        cutoff,
        chosen: fit.describe(),
        fit,
        note: note.as_ref().map(RowNote::to_string),
        seconds: started.elapsed().as_secs_f64(),
    };
    let row = ForecastRow {
        series,
        cutoff,
        mean: prediction.mean,
        quantiles: prediction.quantiles,
        note,
    };
    (row, record)
}

/// The requested model's fit, or the fallback and why: [`RowNoteKind::Constant`] for a constant
/// history, [`RowNoteKind::Fallback`] when the fit failed, [`RowNoteKind::NoForecast`] (a NaN
/// forecast) when not even Naive fits.
///
/// [`RowNoteKind::Constant`]: fusecast_data::RowNoteKind::Constant
/// [`RowNoteKind::Fallback`]: fusecast_data::RowNoteKind::Fallback
/// [`RowNoteKind::NoForecast`]: fusecast_data::RowNoteKind::NoForecast
pub fn fit_or_fall_back(spec: &ModelSpec, input: &SeriesInput) -> (FittedModel, Option<RowNote>) {
    let y = input.y;
    // A constant history has one sensible forecast, and several models divide by its variance.
    if let Some(&first) = y.first() {
        if y.iter().all(|&v| v == first) {
            let fit = SeasonalNaiveFit {
                period: 1,
                last_season: vec![first],
                sigma: 0.0,
            };
            let note = RowNote::constant(format!("forecast is the constant {first}"));
            return (FittedModel::SeasonalNaive(fit), Some(note));
        }
    }
    match spec.fit(input) {
        Ok(fit) => (fit, None),
        Err(e) => {
            let (fallback, name) = match seasonal_naive(input) {
                Ok(f) => (f, "SeasonalNaive"),
                Err(_) => match naive(input) {
                    Ok(f) => (f, "Naive"),
                    Err(e2) => {
                        // Nothing to fit at all (empty or non-finite history): a NaN forecast
                        // that the evaluation reports as missing.
                        let fit = SeasonalNaiveFit {
                            period: 1,
                            last_season: vec![f64::NAN],
                            sigma: f64::NAN,
                        };
                        let note =
                            RowNote::no_forecast(format!("{}: {e}; Naive: {e2}", spec.label()));
                        return (FittedModel::SeasonalNaive(fit), Some(note));
                    }
                },
            };
            // Most errors already name the model; say it once.
            let e = e.to_string();
            let reason = if e.contains(spec.label()) {
                e
            } else {
                format!("{}: {e}", spec.label())
            };
            let note = RowNote::fallback(name, reason);
            (FittedModel::SeasonalNaive(fallback), Some(note))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fusecast_data::time::{date_seconds, Day, Frequency, TimeGrid};
    use fusecast_data::RowNoteKind;

    fn panel(series: Vec<Vec<f64>>) -> Panel {
        let len = series[0].len();
        let grid = TimeGrid {
            start: date_seconds(Day::ymd(2024, 1, 1).0),
            frequency: Frequency::Daily,
            len,
        };
        let names = (0..series.len()).map(|i| format!("s{i}")).collect();
        Panel::new(grid, "y", names, series.concat()).unwrap()
    }

    fn opts() -> RunOptions {
        RunOptions {
            horizon: 3,
            levels: vec![0.1, 0.5, 0.9],
            fit_budget: None,
            non_negative: true,
            period: 7,
            seasonal_periods: vec![7],
            holidays: vec![],
        }
    }

    #[test]
    fn every_series_and_cutoff_gets_a_row_and_failures_are_marked() {
        let weekly: Vec<f64> = (0..30)
            .map(|t| [5.0, 6.0, 7.0, 8.0, 9.0, 3.0, 1.0][t % 7])
            .collect();
        let constant = vec![4.0; 30];
        let p = panel(vec![weekly, constant]);
        let count = AtomicUsize::new(0);
        let tick = || {
            count.fetch_add(1, Ordering::Relaxed);
        };
        let run = run_model(&p, &ModelSpec::SeasonalNaive, &[20, 25], &opts(), &tick);
        assert_eq!(count.into_inner(), 4);
        assert_eq!(run.forecast.rows.len(), 4);
        let row = &run.forecast.rows[0];
        assert_eq!((row.series, row.cutoff), (0, 20));
        // Cutoff 20 is a Sunday-offset 6: next values are t = 21, 22, 23.
        assert_eq!(row.mean, vec![5.0, 6.0, 7.0]);
        let constant_row = &run.forecast.rows[2];
        assert_eq!(constant_row.mean, vec![4.0; 3]);
        assert_eq!(constant_row.quantiles[0], vec![4.0; 3]);
        assert_eq!(
            constant_row.note,
            Some(RowNote::constant("forecast is the constant 4"))
        );
        assert_eq!(
            run.fits[2].note.as_deref(),
            Some("constant series: forecast is the constant 4")
        );
        assert_eq!(run.fallbacks, 0);
    }

    #[test]
    fn a_failed_fit_falls_back_and_says_why() {
        let short = [1.0, 2.0, 3.0, 2.0, 5.0];
        let input = SeriesInput::daily(&short);
        let (fit, note) = fit_or_fall_back(&ModelSpec::SeasonalNaive, &input);
        // Five days cannot hold a weekly season: Naive, and the note names the cause.
        assert_eq!(fit.describe(), "Naive");
        let note = note.unwrap();
        assert_eq!(note.kind, RowNoteKind::Fallback { to: "Naive".into() });
        assert!(
            note.reason.contains("SeasonalNaive needs") && note.reason.contains("needs at least 7"),
            "{note}"
        );
        assert_eq!(
            note.to_string(),
            format!("fallback to Naive: {}", note.reason)
        );
        let (_, none) = fit_or_fall_back(&ModelSpec::Naive, &SeriesInput::daily(&[]));
        assert_eq!(none.unwrap().kind, RowNoteKind::NoForecast);
    }

    #[test]
    fn saved_fits_reproduce_the_forecasts_without_refitting() {
        let y: Vec<f64> = (0..90)
            .map(|t| 50.0 + [3.0, 9.0, 4.0, 6.0, 8.0, -4.0, -7.0][t % 7] + (t % 5) as f64)
            .collect();
        let p = panel(vec![y]);
        let mut o = opts();
        o.horizon = 14;
        for spec in [
            ModelSpec::SeasonalNaive,
            ModelSpec::from_name("ets").unwrap(),
        ] {
            let run = run_model(&p, &spec, &[60, 75], &o, &|| {});
            for (record, row) in run.fits.iter().zip(&run.forecast.rows) {
                let text = serde_json::to_string(record).unwrap();
                let back: FitRecord = serde_json::from_str(&text).unwrap();
                let again = back.fit.forecast(o.horizon, &o.levels);
                for (a, b) in again.mean.iter().zip(&row.mean) {
                    assert!(
                        (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                        "{}: {a} vs {b}",
                        spec.label()
                    );
                }
            }
        }
    }

    #[test]
    fn a_share_of_the_pairs_fits_as_the_whole_run_does() {
        let y = |k: usize| -> Vec<f64> { (0..40).map(|t| ((t * (k + 3)) % 11) as f64).collect() };
        let p = panel(vec![y(0), y(1), y(2)]);
        let spec = ModelSpec::from_name("ets").unwrap();
        let whole = run_model(&p, &spec, &[30, 33], &opts(), &|| {});
        let odd: Vec<(usize, usize)> = backtest_pairs(&p, &[30, 33], 3)
            .into_iter()
            .filter(|&(s, _)| s % 2 == 1)
            .collect();
        let share = run_pairs(&p, &spec, &odd, &opts(), &|| {});
        let kept: Vec<&ForecastRow> = whole
            .forecast
            .rows
            .iter()
            .filter(|r| r.series == 1)
            .collect();
        assert_eq!(share.forecast.rows.iter().collect::<Vec<_>>(), kept);
        assert_eq!(share.fits.len(), 2);
        assert_eq!((share.fits[0].cutoff, share.fits[1].cutoff), (30, 33));
    }

    #[test]
    fn negative_forecasts_are_clamped_for_counts() {
        let falling: Vec<f64> = (0..20).map(|t| 20.0 - t as f64 * 1.5).collect();
        let p = panel(vec![falling]);
        let run = run_model(&p, &ModelSpec::Naive, &[19], &opts(), &|| {});
        assert!(run.forecast.rows[0].quantiles[0].iter().all(|&v| v >= 0.0));
    }
}
