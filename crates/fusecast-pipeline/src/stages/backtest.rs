//! The backtest: the rolling-origin cutoffs, every configured baseline fitted at them (and at
//! the validation cutoffs of per-series selection), and the TFT's forecasts at the same cutoffs.

use std::io::Write;
use std::time::Duration;

use fusecast_baselines::runner::{backtest_pairs, run_pairs, ModelRun, RunOptions};
use fusecast_baselines::select::{choose, selected_forecast, write_choices};
use fusecast_baselines::ModelSpec;
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

/// What fitting the baselines takes: the configured models, the backtest cutoffs, the
/// validation cutoffs of per-series selection (empty without it) and what every fit shares.
pub struct Plan {
    pub specs: Vec<ModelSpec>,
    pub cutoffs: Vec<usize>,
    pub validation: Vec<usize>,
    pub opts: RunOptions,
}

impl Plan {
    /// The plan of the config at `cutoffs`; `None` when no baseline is configured.
    pub fn new(c: &Config, prepared: &Prepared, cutoffs: &[usize]) -> Result<Option<Plan>> {
        let specs = c.baselines.specs().map_err(Error::Invalid)?;
        if specs.is_empty() {
            return Ok(None);
        }
        Ok(Some(Plan {
            specs,
            cutoffs: cutoffs.to_vec(),
            validation: selection_cutoffs(c, &prepared.panel, cutoffs)?,
            opts: run_options(c, prepared),
        }))
    }

    pub fn labels(&self) -> Vec<String> {
        self.specs.iter().map(|s| s.label().to_string()).collect()
    }
}

/// Every model's backtest after fitting, what `baselines/` is written from: one run per model
/// at the backtest cutoffs, with its fits as the JSON lines of `fits/<model>.jsonl` (the runs'
/// own `fits` are moved there; JSON has no NaN, so lines are kept rather than records that
/// could not all be read back), and one per model at the validation cutoffs (none without
/// selection).
pub struct Fitted {
    pub test: Vec<ModelRun>,
    pub fit_lines: Vec<Vec<String>>,
    pub validation: Vec<ModelRun>,
}

/// Fits every model of `plan` on the series `owns` accepts (all of them, or a shard's), at the
/// backtest and validation cutoffs; each model's rows are in [`backtest_pairs`] order.
pub fn fit_all(
    panel: &Panel,
    plan: &Plan,
    owns: &(dyn Fn(usize) -> bool + Sync),
    sink: &dyn Sink,
) -> Fitted {
    let h = plan.opts.horizon;
    let pairs = |cutoffs: &[usize]| -> Vec<(usize, usize)> {
        backtest_pairs(panel, cutoffs, h)
            .into_iter()
            .filter(|&(s, _)| owns(s))
            .collect()
    };
    let (test_pairs, val_pairs) = (pairs(&plan.cutoffs), pairs(&plan.validation));
    let series = (0..panel.n_series()).filter(|&s| owns(s)).count();
    sink.emit(Event::FitsStarted {
        total: (test_pairs.len() + val_pairs.len()) * plan.specs.len(),
    });
    let mut fitted = Fitted {
        test: Vec::new(),
        fit_lines: Vec::new(),
        validation: Vec::new(),
    };
    for spec in &plan.specs {
        let tick = || {
            sink.emit(Event::Fit {
                model: spec.label().to_string(),
            })
        };
        let mut run = run_pairs(panel, spec, &test_pairs, &plan.opts, &tick);
        if !plan.validation.is_empty() {
            let val = run_pairs(panel, spec, &val_pairs, &plan.opts, &tick);
            fitted.validation.push(val);
        }
        sink.emit(Event::BaselineDone {
            model: run.label.to_string(),
            series,
            cutoffs: plan.cutoffs.len(),
            seconds: run.wall_seconds,
            fallbacks: run.fallbacks,
        });
        let lines = std::mem::take(&mut run.fits)
            .iter()
            .map(|f| serde_json::to_string(f).expect("fit records serialize"))
            .collect();
        fitted.fit_lines.push(lines);
        fitted.test.push(run);
    }
    fitted
}

/// Writes `baselines/` from every model's fitted backtest (`fits/<model>.jsonl`,
/// `selection.csv` with the choice per series, `timing.json`, `forecasts.csv`) and returns one
/// forecast table per model plus "Selected".
pub fn write_baselines(dir: &RunDir, panel: &Panel, fitted: &Fitted) -> Result<Vec<Forecast>> {
    for (run, lines) in fitted.test.iter().zip(&fitted.fit_lines) {
        save_fit_lines(&dir.baseline_fits(&run.label), lines)?;
    }
    let mut forecasts: Vec<Forecast> = fitted.test.iter().map(|r| r.forecast.clone()).collect();
    if !fitted.validation.is_empty() {
        let choices = choose(panel, &fitted.validation);
        let path = dir.selection_csv();
        write_choices(panel, &choices, &path).map_err(|e| Error::io(&path, e))?;
        if let Some(selected) = selected_forecast(&choices, &fitted.test) {
            forecasts.push(selected);
        }
    }
    let timing: Vec<_> = fitted
        .test
        .iter()
        .zip(&fitted.fit_lines)
        .map(|(r, lines)| serde_json::json!({"model": r.label, "wall_s": r.wall_seconds, "fits": lines.len(), "fallbacks": r.fallbacks}))
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
    let Some(plan) = Plan::new(c, prepared, cutoffs)? else {
        return Ok(Vec::new());
    };
    let fitted = fit_all(&prepared.panel, &plan, &|_| true, sink);
    write_baselines(dir, &prepared.panel, &fitted)
}

/// Writes one JSON line per fit to `path` (creating its folder).
pub(crate) fn save_fit_lines(path: &std::path::Path, lines: &[String]) -> Result<()> {
    RunDir::create_parent(path)?;
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let mut out = std::io::BufWriter::new(file);
    for line in lines {
        out.write_all(line.as_bytes())
            .and_then(|()| out.write_all(b"\n"))
            .map_err(|e| Error::io(path, e))?;
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
        .find(|m| !labels.contains(m) && **m != fusecast_data::forecast::SELECTED);
    if let Some(m) = missing.or(extra) {
        return Err(Error::Invalid(format!(
            "{} does not hold the configured baselines.models (model {m:?} differs); run with --refit",
            saved.display()
        )));
    }
    Ok(Some(tables))
}
