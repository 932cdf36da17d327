//! The backtest: the rolling-origin cutoffs, every configured baseline fitted at them (and at
//! the validation cutoffs of per-series selection), and the TFT's forecasts at the same cutoffs.

use std::io::Write;
use std::time::Duration;

use fusecast_baselines::runner::{backtest_pairs, run_model, ModelRun, RunOptions};
use fusecast_baselines::select::{choose, selected_forecast, write_choices};
use fusecast_data::prepare::{holiday_calendar, Prepared};
use fusecast_data::time::date_seconds;
use fusecast_data::{Forecast, Panel};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::events::{Event, Sink};
use crate::run_dir::RunDir;

/// The evaluation cutoffs of the config (index of each window's last training step); with a
/// trained TFT they must lie in the held-out test periods.
pub fn cutoffs(c: &Config, panel: &Panel, with_tft: bool) -> Result<Vec<usize>> {
    Ok(fusecast_eval::cutoffs::eval_cutoffs(
        panel.len(),
        c.windows.horizon,
        c.eval.step,
        c.eval.windows,
        c.windows.test_periods,
        with_tft,
    )?)
}

/// The validation cutoffs of per-series selection, before the first evaluation cutoff.
pub fn selection_cutoffs(c: &Config, panel: &Panel, cutoffs: &[usize]) -> Result<Vec<usize>> {
    Ok(fusecast_eval::cutoffs::selection_cutoffs(
        &panel.grid,
        c.windows.horizon,
        c.eval.step,
        c.baselines.selection_windows,
        !c.baselines.models.is_empty(),
        cutoffs,
    )?)
}

fn run_options(c: &Config, prepared: &Prepared) -> RunOptions {
    let panel = &prepared.panel;
    let holidays: Vec<i64> = holiday_calendar(&c.features, &panel.grid, 1)
        .dates()
        .map(date_seconds)
        .collect();
    let mut levels = c.eval.quantiles.clone();
    for l in [0.1, 0.5, 0.9] {
        if !levels.iter().any(|x| (x - l).abs() < 1e-9) {
            levels.push(l);
        }
    }
    levels.sort_by(f64::total_cmp);
    let freq = panel.grid.frequency;
    let period = freq.season_length();
    let mut seasonal_periods = vec![period];
    if freq.periods_per_week() != period {
        seasonal_periods.push(freq.periods_per_week());
    }
    RunOptions {
        horizon: c.windows.horizon,
        levels,
        fit_budget: (c.baselines.fit_budget_s > 0.0)
            .then(|| Duration::from_secs_f64(c.baselines.fit_budget_s)),
        non_negative: panel.is_non_negative(),
        period,
        seasonal_periods,
        holidays,
    }
}

/// Fits every configured baseline at `cutoffs` (and, for per-series selection, at validation
/// cutoffs before them); writes `baselines/` and returns one forecast table per model plus
/// "Selected".
pub fn baselines(
    dir: &RunDir,
    c: &Config,
    prepared: &Prepared,
    cutoffs: &[usize],
    sink: &dyn Sink,
) -> Result<Vec<Forecast>> {
    let panel = &prepared.panel;
    let specs = c.baselines.specs().map_err(Error::Invalid)?;
    if specs.is_empty() {
        return Ok(Vec::new());
    }
    let validation = selection_cutoffs(c, panel, cutoffs)?;
    let opts = run_options(c, prepared);
    let h = c.windows.horizon;
    let pairs =
        backtest_pairs(panel, cutoffs, h).len() + backtest_pairs(panel, &validation, h).len();
    sink.emit(Event::FitsStarted {
        total: pairs * specs.len(),
    });
    let mut test_runs: Vec<ModelRun> = Vec::new();
    let mut val_runs: Vec<ModelRun> = Vec::new();
    for spec in &specs {
        let tick = || {
            sink.emit(Event::Fit {
                model: spec.label().to_string(),
            })
        };
        let run = run_model(panel, spec, cutoffs, &opts, &tick);
        if !validation.is_empty() {
            val_runs.push(run_model(panel, spec, &validation, &opts, &tick));
        }
        sink.emit(Event::BaselineDone {
            model: run.label.to_string(),
            series: panel.n_series(),
            cutoffs: cutoffs.len(),
            seconds: run.wall_seconds,
            fallbacks: run.fallbacks,
        });
        save_fits(&dir.baseline_fits(&run.label), &run)?;
        test_runs.push(run);
    }
    let mut forecasts: Vec<Forecast> = test_runs.iter().map(|r| r.forecast.clone()).collect();
    if !val_runs.is_empty() {
        let choices = choose(panel, &val_runs);
        let path = dir.selection_csv();
        write_choices(panel, &choices, &path).map_err(|e| Error::io(&path, e))?;
        if let Some(selected) = selected_forecast(&choices, &test_runs) {
            forecasts.push(selected);
        }
    }
    let timing: Vec<_> = test_runs
        .iter()
        .map(|r| serde_json::json!({"model": r.label, "wall_s": r.wall_seconds, "fits": r.fits.len(), "fallbacks": r.fallbacks}))
        .collect();
    let path = dir.baseline_timing();
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&timing).expect("json serializes"),
    )
    .map_err(|e| Error::io(&path, e))?;
    Forecast::write_csv_all(panel, &forecasts, &dir.baseline_forecasts())?;
    Ok(forecasts)
}

fn save_fits(path: &std::path::Path, run: &ModelRun) -> Result<()> {
    RunDir::create_parent(path)?;
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let mut out = std::io::BufWriter::new(file);
    for f in &run.fits {
        serde_json::to_writer(&mut out, f).map_err(|e| Error::io(path, e))?;
        out.write_all(b"\n").map_err(|e| Error::io(path, e))?;
    }
    out.flush().map_err(|e| Error::io(path, e))
}

/// The saved baseline forecasts of a run directory, if they are those of the configured
/// models at `cutoffs`; `None` when there are none.
pub fn saved_baselines(
    dir: &RunDir,
    c: &Config,
    panel: &Panel,
    cutoffs: &[usize],
) -> Result<Option<Vec<Forecast>>> {
    let saved = dir.baseline_forecasts();
    if !saved.exists() {
        return Ok(None);
    }
    let tables = Forecast::read_csv(panel, &saved)?;
    let mut have: Vec<(usize, usize)> = tables
        .first()
        .map(|t| t.rows.iter().map(|r| (r.series, r.cutoff)).collect())
        .unwrap_or_default();
    have.sort_unstable();
    have.dedup();
    if have != backtest_pairs(panel, cutoffs, c.windows.horizon) {
        return Err(Error::Invalid(format!(
            "{} holds forecasts for other cutoffs (or series windows) than the configured backtest; run with --refit",
            saved.display()
        )));
    }
    let specs = c.baselines.specs().map_err(Error::Invalid)?;
    let labels: Vec<&str> = specs.iter().map(|s| s.label()).collect();
    let saved_models: Vec<&str> = tables.iter().map(|t| t.model.as_str()).collect();
    let missing = labels.iter().find(|l| !saved_models.contains(l));
    let extra = saved_models
        .iter()
        .find(|m| !labels.contains(m) && **m != "Selected");
    if let Some(m) = missing.or(extra) {
        return Err(Error::Invalid(format!(
            "{} does not hold the configured baselines.models (model {m:?} differs); run with --refit",
            saved.display()
        )));
    }
    Ok(Some(tables))
}
