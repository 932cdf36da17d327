//! The backtest: per-series baselines and the TFT forecast the same rolling-origin windows, one
//! evaluation scores them, and the report lands in the run directory.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use fusecast_baselines::runner::{backtest_cutoffs, run_model, ModelRun, RunOptions};
use fusecast_baselines::select::{choose, selected_forecast, write_choices};
use fusecast_data::prepare::{holiday_calendar, Prepared};
use fusecast_data::time::{date_seconds, format_timestamp};
use fusecast_data::window::WindowDataset;
use fusecast_data::{Forecast, Panel};
use fusecast_eval::compare::compare;
use fusecast_eval::report::{write_report, ReportContext};
use fusecast_eval::Comparison;
use fusecast_model::burn::module::Module;
use fusecast_model::burn::tensor::Device;
use fusecast_model::Tft;
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::{Config, LoadedConfig};
use crate::progress::Progress;

/// The evaluation cutoffs (index of each window's last training step). With a trained TFT they
/// must lie in the held-out test periods, or the TFT would be scored on data it was fitted or
/// early-stopped on.
pub fn eval_cutoffs(c: &Config, panel: &Panel, with_tft: bool) -> Result<Vec<usize>> {
    let h = c.windows.horizon;
    let step = c.eval.step.unwrap_or(h);
    let test = c.windows.test_periods;
    let windows = match c.eval.windows {
        Some(n) => n,
        None if test >= h => 1 + (test - h) / step,
        None => 1,
    };
    let Some(cutoffs) = backtest_cutoffs(panel.len(), h, windows, step) else {
        bail!(
            "eval: {windows} windows {step} steps apart with horizon {h} need {} periods after at least one; the panel has {}",
            h + step * (windows - 1),
            panel.len()
        );
    };
    let span = h + step * (windows - 1);
    if with_tft && span > test {
        bail!(
            "eval: {windows} windows x step {step} with horizon {h} span the last {span} periods, but only windows.test_periods = {test} are held out from training; lower eval.windows / eval.step or raise windows.test_periods"
        );
    }
    Ok(cutoffs)
}

/// The validation cutoffs of per-series selection: `baselines.selection_windows` windows ending
/// before the first evaluation cutoff (none when selection is off).
pub fn selection_cutoffs(c: &Config, panel: &Panel, cutoffs: &[usize]) -> Result<Vec<usize>> {
    if c.baselines.selection_windows == 0 || c.baselines.models.is_empty() {
        return Ok(Vec::new());
    }
    let h = c.windows.horizon;
    let step = c.eval.step.unwrap_or(h);
    let first = cutoffs[0];
    backtest_cutoffs(first + 1, h, c.baselines.selection_windows, step).with_context(|| {
        format!(
            "baselines.selection_windows = {}: not enough history before the first cutoff ({})",
            c.baselines.selection_windows,
            format_timestamp(panel.grid.timestamp(first))
        )
    })
}

/// Fits every configured baseline at `cutoffs` (and, for per-series selection, at validation
/// cutoffs before them); writes `baselines/` in `dir` and returns one forecast table per model
/// plus "Selected".
pub fn run_baselines(
    dir: &Path,
    c: &Config,
    prepared: &Prepared,
    cutoffs: &[usize],
    progress: &Progress,
) -> Result<Vec<Forecast>> {
    let panel = &prepared.panel;
    let specs = c.baselines.specs().map_err(anyhow::Error::msg)?;
    if specs.is_empty() {
        return Ok(Vec::new());
    }
    let out_dir = dir.join("baselines");
    std::fs::create_dir_all(out_dir.join("fits"))
        .with_context(|| format!("creating {}", out_dir.display()))?;
    let h = c.windows.horizon;
    let validation = selection_cutoffs(c, panel, cutoffs)?;
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
    let opts = RunOptions {
        horizon: h,
        levels,
        fit_budget: (c.baselines.fit_budget_s > 0.0)
            .then(|| Duration::from_secs_f64(c.baselines.fit_budget_s)),
        non_negative: panel.is_non_negative(),
        period,
        seasonal_periods,
        holidays,
    };
    let fits_per_model = panel.n_series() * (cutoffs.len() + validation.len());
    let bar = if progress.quiet() {
        ProgressBar::hidden()
    } else {
        ProgressBar::new((fits_per_model * specs.len()) as u64)
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} fits {msg} [{elapsed} < {eta}]")
            .expect("valid template"),
    );
    let tick = || bar.inc(1);
    let mut test_runs: Vec<ModelRun> = Vec::new();
    let mut val_runs: Vec<ModelRun> = Vec::new();
    for spec in &specs {
        bar.set_message(spec.label().to_string());
        let run = run_model(panel, spec, cutoffs, &opts, &tick);
        if !validation.is_empty() {
            val_runs.push(run_model(panel, spec, &validation, &opts, &tick));
        }
        progress.note(&format!(
            "{}: {} series x {} cutoffs in {:.1}s ({} fallbacks)",
            run.label,
            panel.n_series(),
            cutoffs.len(),
            run.wall_seconds,
            run.fallbacks
        ));
        save_fits(
            &out_dir.join("fits").join(format!("{}.jsonl", run.label)),
            &run,
        )?;
        test_runs.push(run);
    }
    bar.finish_and_clear();
    let mut forecasts: Vec<Forecast> = test_runs.iter().map(|r| r.forecast.clone()).collect();
    if !val_runs.is_empty() {
        let choices = choose(panel, &val_runs);
        let path = out_dir.join("selection.csv");
        write_choices(panel, &choices, &path)
            .with_context(|| format!("writing {}", path.display()))?;
        if let Some(selected) = selected_forecast(&choices, &test_runs) {
            forecasts.push(selected);
        }
    }
    let timing: Vec<_> = test_runs
        .iter()
        .map(|r| serde_json::json!({"model": r.label, "wall_s": r.wall_seconds, "fits": r.fits.len(), "fallbacks": r.fallbacks}))
        .collect();
    let timing_path = out_dir.join("timing.json");
    std::fs::write(&timing_path, serde_json::to_string_pretty(&timing)?)
        .with_context(|| format!("writing {}", timing_path.display()))?;
    Forecast::write_csv_all(panel, &forecasts, &out_dir.join("forecasts.csv"))?;
    Ok(forecasts)
}

fn save_fits(path: &Path, run: &ModelRun) -> Result<()> {
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
    );
    for f in &run.fits {
        serde_json::to_writer(&mut out, f)?;
        out.write_all(b"\n")?;
    }
    out.flush()
        .with_context(|| format!("writing {}", path.display()))
}

/// Where a run directory keeps its best model.
pub fn best_model_path(dir: &Path) -> PathBuf {
    dir.join("best/model.bpk")
}

/// The run's best model ([`best_model_path`]).
pub fn load_best(dir: &Path, config: &fusecast_model::TftConfig) -> Result<Tft> {
    let path = best_model_path(dir);
    Tft::new(config, &Device::flex())?
        .try_load_file(&path)
        .map_err(|e| {
            anyhow::anyhow!(
                "loading {}: {e:?} (was the model config changed since training?)",
                path.display()
            )
        })
}

/// The TFT's forecasts at `cutoffs`, written to `tft/forecasts.csv`.
pub fn tft_forecasts(
    dir: &Path,
    model: &Tft,
    dataset: &WindowDataset,
    cutoffs: &[usize],
    batch_size: usize,
) -> Result<Forecast> {
    let mut f =
        fusecast_train::predict::forecast_at(model, dataset, cutoffs, batch_size, &Device::flex())?;
    if dataset.panel.is_non_negative() {
        f.clamp_below(0.0);
    }
    let out = dir.join("tft");
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    f.write_csv(dataset.panel, &out.join("forecasts.csv"))?;
    Ok(f)
}

/// Scores every forecast table, writes `eval/` and prints the headline table.
pub fn evaluate_and_report(
    dir: &Path,
    loaded: &LoadedConfig,
    prepared: &Prepared,
    mut forecasts: Vec<Forecast>,
    notes: Vec<String>,
    progress: &Progress,
) -> Result<Comparison> {
    let c = &loaded.config;
    let panel = &prepared.panel;
    for extra in &c.eval.extra_forecasts {
        let path = loaded.base.join(extra);
        for table in Forecast::read_csv(panel, &path)? {
            // Wins and reports go by model name: two tables under one name would be mixed up.
            if forecasts.iter().any(|f| f.model == table.model) {
                bail!(
                    "{} (eval.extra_forecasts): model {:?} is already being evaluated; rename it in that file",
                    path.display(),
                    table.model
                );
            }
            forecasts.push(table);
        }
    }
    if forecasts.is_empty() {
        bail!("nothing to evaluate: no baselines configured, no trained model and no eval.extra_forecasts");
    }
    let season = c
        .eval
        .season
        .unwrap_or(panel.grid.frequency.season_length());
    let clusters: Vec<String> = prepared
        .clustering
        .assignment
        .iter()
        .map(|k| k.to_string())
        .collect();
    let comparison = compare(
        panel,
        &forecasts,
        season,
        &c.eval.quantiles,
        Some(&clusters),
    )?;
    let plot_ids = plot_series(panel, &c.eval.plot_series)?;
    let out = dir.join("eval");
    let ctx = ReportContext {
        title: format!("Fusecast backtest: {}", c.run.name),
        notes,
    };
    let files = progress.stage("writing the evaluation report", || {
        write_report(&out, panel, &forecasts, &comparison, &plot_ids, &ctx)
    })?;
    println!("{}", headline(&comparison, panel.n_series()));
    println!(
        "report: {} ({} files)",
        out.join("report.md").display(),
        files.len()
    );
    Ok(comparison)
}

fn plot_series(panel: &Panel, names: &[String]) -> Result<Vec<usize>> {
    if names.is_empty() {
        let mut by_total: Vec<(usize, f64)> = (0..panel.n_series())
            .map(|s| (s, panel.values(s).iter().sum::<f64>()))
            .collect();
        by_total.sort_by(|a, b| b.1.total_cmp(&a.1));
        return Ok(by_total.into_iter().take(3).map(|(s, _)| s).collect());
    }
    names
        .iter()
        .map(|n| {
            panel
                .series_index(n)
                .with_context(|| format!("eval.plot_series: no series `{n}` in the panel"))
        })
        .collect()
}

fn headline(c: &Comparison, n_series: usize) -> String {
    let mut s = format!(
        "{:<24} {:>10} {:>8} {:>11} {:>11} {:>11} {:>8}\n",
        "model", "MAE", "MASE", "q-Risk P50", "q-Risk P90", "coverage80", "wins"
    );
    for (m, (_, w)) in c.models.iter().zip(c.win_counts()) {
        let o = &m.overall;
        s.push_str(&format!(
            "{:<24} {:>10.3} {:>8.4} {:>11.4} {:>11.4} {:>11.3} {:>4}/{}\n",
            m.model, o.mae, o.mase, o.qrisk50, o.qrisk90, o.coverage80, w, n_series
        ));
    }
    s.trim_end().to_string()
}

/// `fusecast baselines CONFIG`: the data stage, every baseline on the backtest, the report.
pub fn baselines_command(config: &Path, name: Option<String>, progress: &Progress) -> Result<()> {
    let loaded = Config::load_named(config, name)?;
    let c = &loaded.config;
    if c.baselines.models.is_empty() {
        bail!("{}: baselines.models is empty", config.display());
    }
    let prepared = crate::commands::prepare::prepare_data(&loaded, progress)?;
    let dir = c.run.output_dir.join(&c.run.name);
    let cutoffs = eval_cutoffs(c, &prepared.panel, false)?;
    let forecasts = run_baselines(&dir, c, &prepared, &cutoffs, progress)?;
    evaluate_and_report(
        &dir,
        &loaded,
        &prepared,
        forecasts,
        vec!["per-series baselines only".into()],
        progress,
    )?;
    Ok(())
}

/// The windows a run trained with (its `config.toml`) must be the configured ones: the scaler
/// and the held-out periods follow from them.
fn same_windows_as_the_run(dir: &Path, c: &crate::config::Config) -> Result<()> {
    let path = dir.join("config.toml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(());
    };
    let saved: toml::Table =
        toml::from_str(&text).with_context(|| format!("reading {}", path.display()))?;
    let now = toml::Table::try_from(&c.windows)?;
    let then = saved
        .get("windows")
        .and_then(|w| w.as_table())
        .cloned()
        .unwrap_or_default();
    if let Some(key) = now
        .keys()
        .chain(then.keys())
        .find(|k| now.get(*k) != then.get(*k))
    {
        bail!(
            "windows.{key} is {} in the config but was {} when {} was trained; evaluate with the run's windows",
            now.get(key).map_or("unset".into(), |v| v.to_string()),
            then.get(key).map_or("unset".into(), |v| v.to_string()),
            dir.display()
        );
    }
    Ok(())
}

/// `fusecast evaluate CONFIG`: scores what the run directory holds (baseline forecasts, the best
/// TFT) on the configured backtest, fitting the baselines if they have not been yet.
pub fn evaluate_command(
    config: &Path,
    name: Option<String>,
    refit: bool,
    progress: &Progress,
) -> Result<()> {
    let loaded = Config::load_named(config, name)?;
    let c = &loaded.config;
    let dir = c.run.output_dir.join(&c.run.name);
    let best = best_model_path(&dir);
    same_windows_as_the_run(&dir, c)?;
    let prepared = crate::commands::prepare::prepare_data(&loaded, progress)?;
    let cutoffs = eval_cutoffs(c, &prepared.panel, best.exists())?;
    let saved = dir.join("baselines/forecasts.csv");
    let mut forecasts = if saved.exists() && !refit {
        let tables = Forecast::read_csv(&prepared.panel, &saved)?;
        let mut have: Vec<usize> = tables
            .first()
            .map(|t| t.rows.iter().map(|r| r.cutoff).collect())
            .unwrap_or_default();
        have.sort_unstable();
        have.dedup();
        if have != cutoffs {
            bail!(
                "{} holds forecasts for other cutoffs than the configured backtest; run with --refit",
                saved.display()
            );
        }
        let labels: Vec<&str> = c
            .baselines
            .specs()
            .map_err(anyhow::Error::msg)?
            .iter()
            .map(|s| s.label())
            .collect();
        let saved_models: Vec<&str> = tables.iter().map(|t| t.model.as_str()).collect();
        let missing = labels.iter().find(|l| !saved_models.contains(l));
        let extra = saved_models
            .iter()
            .find(|m| !labels.contains(m) && **m != "Selected");
        if let Some(m) = missing.or(extra) {
            bail!(
                "{} does not hold the configured baselines.models (model {m:?} differs); run with --refit",
                saved.display()
            );
        }
        progress.note(&format!("baselines: read {}", saved.display()));
        tables
    } else {
        run_baselines(&dir, c, &prepared, &cutoffs, progress)?
    };
    let mut notes = Vec::new();
    if best.exists() {
        let (dataset, model_config) = crate::commands::run::dataset_and_model(c, &prepared.panel)?;
        let model = load_best(&dir, &model_config)?;
        forecasts.push(tft_forecasts(
            &dir,
            &model,
            &dataset,
            &cutoffs,
            c.train.batch_size,
        )?);
        notes.push(format!("TFT: {}", best.display()));
    } else {
        progress.note(&format!(
            "no trained model at {}: baselines only",
            best.display()
        ));
    }
    evaluate_and_report(&dir, &loaded, &prepared, forecasts, notes, progress)?;
    Ok(())
}
