//! `report.html`: everything a run directory (or a tuning experiment's folder) holds, gathered
//! from its files into [`fusecast_eval::html::Report`] and rendered as one page. It reads only
//! what is on disk, so `fusecast report DIR` rewrites the same page a run wrote; a part that is
//! missing or unreadable becomes a note in place of its section, never an error.

use std::path::{Path, PathBuf};

use fusecast_data::csvline::split;
use fusecast_data::files::DataFile;
use fusecast_data::table::{read_table, TableOptions};
use fusecast_data::time::{format_timestamp, to_datetime, TimeGrid};
use fusecast_data::untaught::LeftOutInput;
use fusecast_data::{Forecast, Panel};
use fusecast_eval::html::{
    self, BehindRow, Comparison, Experiment, ForecastWindow, GroupRow, ModelPaths, ModelRow, Part,
    Report, SeriesPlot, TrainingCurve, WinnerRow, Winners,
};
use fusecast_model::interpret::Interpretation;

use crate::error::Result;
use crate::events::{Event, Sink};
use crate::run_dir::RunDir;

/// The tuner's own files, for an experiment's page (their paths belong to the tuner's
/// `ExperimentDir`).
#[derive(Clone, Debug)]
pub struct ExperimentFiles {
    pub trials_csv: PathBuf,
    pub curves_svg: PathBuf,
    /// Each trial's run directory is `trials_dir/<trial id>`.
    pub trials_dir: PathBuf,
}

/// Gathers the report of `dir` and writes it to `dir/report.html`.
pub fn write_report(
    dir: &RunDir,
    experiment: Option<&ExperimentFiles>,
    sink: &dyn Sink,
) -> Result<PathBuf> {
    let page = html::render(&gather(dir, experiment));
    let path = dir.report_html();
    RunDir::write_atomic(&path, page.as_bytes())?;
    sink.emit(Event::ReportWritten {
        path: path.clone(),
        files: 1,
    });
    Ok(path)
}

type Csv = (Vec<String>, Vec<Vec<String>>);

fn read_csv(path: &Path) -> std::result::Result<Csv, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = split(
        lines
            .next()
            .ok_or_else(|| format!("{}: empty", path.display()))?,
    );
    let rows: Vec<Vec<String>> = lines.map(split).collect();
    if let Some(i) = rows.iter().position(|r| r.len() != header.len()) {
        return Err(format!(
            "{}: line {} has {} fields, the header {}",
            path.display(),
            i + 2,
            rows[i].len(),
            header.len()
        ));
    }
    Ok((header, rows))
}

fn column(path: &Path, header: &[String], name: &str) -> std::result::Result<usize, String> {
    header
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| format!("{}: no column `{name}`", path.display()))
}

/// A score as the CSV files write it; `-` (undefined) reads as NaN.
fn number(s: &str) -> f64 {
    s.parse().unwrap_or(f64::NAN)
}

fn count(s: &str) -> usize {
    s.parse().unwrap_or(0)
}

/// `eval/comparison.csv`: one row per model.
fn comparison(dir: &RunDir) -> std::result::Result<Comparison, String> {
    let path = dir.eval().join("comparison.csv");
    let (header, rows) = read_csv(&path)?;
    let c = |name: &str| column(&path, &header, name);
    let pinball: Vec<(f64, usize)> = header
        .iter()
        .enumerate()
        .filter_map(|(i, h)| {
            h.strip_prefix("pinball_q")
                .and_then(|l| l.parse().ok())
                .map(|l| (l, i))
        })
        .collect();
    let idx = [
        c("model")?,
        c("series")?,
        c("points")?,
        c("missing")?,
        c("mae")?,
        c("rmse")?,
        c("smape")?,
        c("mase")?,
        c("qrisk50")?,
        c("qrisk90")?,
        c("coverage80")?,
        c("fallbacks")?,
        c("wins")?,
    ];
    let models = rows
        .iter()
        .map(|r| ModelRow {
            model: r[idx[0]].clone(),
            series: count(&r[idx[1]]),
            points: count(&r[idx[2]]),
            missing: count(&r[idx[3]]),
            mae: number(&r[idx[4]]),
            rmse: number(&r[idx[5]]),
            smape: number(&r[idx[6]]),
            mase: number(&r[idx[7]]),
            pinball: pinball.iter().map(|&(_, i)| number(&r[i])).collect(),
            qrisk50: number(&r[idx[8]]),
            qrisk90: number(&r[idx[9]]),
            coverage80: number(&r[idx[10]]),
            fallbacks: count(&r[idx[11]]),
            wins: count(&r[idx[12]]),
        })
        .collect();
    Ok(Comparison {
        levels: pinball.iter().map(|p| p.0).collect(),
        models,
    })
}

/// `eval/winners.csv`: per series the winner and every model's MASE (`<model>_mase` columns).
fn winners(dir: &RunDir) -> std::result::Result<Winners, String> {
    let path = dir.eval().join("winners.csv");
    let (header, rows) = read_csv(&path)?;
    let (s, k, w) = (
        column(&path, &header, "series_id")?,
        column(&path, &header, "cluster")?,
        column(&path, &header, "winner")?,
    );
    let models: Vec<(String, usize)> = header
        .iter()
        .enumerate()
        .filter(|(i, _)| ![s, k, w].contains(i))
        .filter_map(|(i, h)| h.strip_suffix("_mase").map(|m| (m.to_string(), i)))
        .collect();
    Ok(Winners {
        models: models.iter().map(|m| m.0.clone()).collect(),
        rows: rows
            .iter()
            .map(|r| WinnerRow {
                series: r[s].clone(),
                cluster: r[k].clone(),
                winner: r[w].clone(),
                mase: models.iter().map(|&(_, i)| number(&r[i])).collect(),
            })
            .collect(),
    })
}

/// `eval/tft_behind.csv`: the series the TFT is far behind the best baseline on; a run without
/// a TFT or without baselines has none.
fn behind(dir: &RunDir) -> Part<Vec<BehindRow>> {
    let path = dir.eval().join("tft_behind.csv");
    if !path.exists() {
        return Part::Omitted(
            "No TFT and baselines scored on the same windows to hold it against.".into(),
        );
    }
    let read = || -> std::result::Result<Vec<BehindRow>, String> {
        let (header, rows) = read_csv(&path)?;
        let col = |name: &str| column(&path, &header, name);
        let (s, m, mase, b, bm, ratio, reason, why) = (
            col("series_id")?,
            col("model")?,
            col("mase")?,
            col("best_baseline")?,
            col("best_mase")?,
            col("ratio")?,
            col("reason")?,
            col("explanation")?,
        );
        Ok(rows
            .iter()
            .map(|r| BehindRow {
                series: r[s].clone(),
                model: r[m].clone(),
                mase: number(&r[mase]),
                best_baseline: r[b].clone(),
                best_mase: number(&r[bm]),
                ratio: number(&r[ratio]),
                reason: r[reason].clone(),
                explanation: r[why].clone(),
            })
            .collect())
    };
    match read() {
        Ok(rows) => Part::Shown(rows),
        Err(e) => Part::Omitted(format!("Cannot read the series the TFT is behind on: {e}")),
    }
}

/// `eval/per_cluster.csv`, when the run has two clusters or more.
fn clusters(dir: &RunDir) -> Part<Vec<GroupRow>> {
    let path = dir.eval().join("per_cluster.csv");
    if !path.exists() {
        return Part::Omitted("The evaluation has no clusters (eval/per_cluster.csv).".into());
    }
    match group_rows(&path, "cluster") {
        Err(e) => Part::Omitted(e),
        Ok(rows) if groups(&rows) < 2 => Part::Omitted(
            "All series are in one cluster: the scores per cluster are the overall scores above."
                .into(),
        ),
        Ok(rows) => Part::Shown(rows),
    }
}

/// `eval/per_window.csv`, when the backtest has two windows or more.
fn windows(dir: &RunDir) -> Part<Vec<GroupRow>> {
    let path = dir.eval().join("per_window.csv");
    if !path.exists() {
        return Part::Omitted(
            "The evaluation has no scores per window (eval/per_window.csv); `fusecast evaluate` writes them.".into(),
        );
    }
    match group_rows(&path, "cutoff") {
        Err(e) => Part::Omitted(e),
        Ok(rows) if groups(&rows) < 2 => Part::Omitted(
            "The backtest has one window: its scores are the overall scores above.".into(),
        ),
        Ok(rows) => Part::Shown(rows),
    }
}

fn groups(rows: &[GroupRow]) -> usize {
    let mut names: Vec<&str> = rows.iter().map(|r| r.group.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names.len()
}

/// The rows of a scores CSV grouped by column `group` (`per_cluster.csv`, `per_window.csv`).
fn group_rows(path: &Path, group: &str) -> std::result::Result<Vec<GroupRow>, String> {
    let (header, rows) = read_csv(path)?;
    let c = |name: &str| column(path, &header, name);
    let idx = [
        c("model")?,
        c(group)?,
        c("series")?,
        c("mase")?,
        c("qrisk50")?,
        c("qrisk90")?,
        c("coverage80")?,
    ];
    Ok(rows
        .iter()
        .map(|r| GroupRow {
            model: r[idx[0]].clone(),
            group: r[idx[1]].clone(),
            series: count(&r[idx[2]]),
            mase: number(&r[idx[3]]),
            qrisk50: number(&r[idx[4]]),
            qrisk90: number(&r[idx[5]]),
            coverage80: number(&r[idx[6]]),
        })
        .collect())
}

/// The panel the run was evaluated on (`panel.parquet`, target only), checked against the grid
/// of `data.json`.
fn panel(dir: &RunDir, data: &serde_json::Value) -> std::result::Result<Panel, String> {
    let path = dir.panel_parquet();
    if !path.exists() {
        return Err(format!("{} is not there", path.display()));
    }
    let grid: TimeGrid = serde_json::from_value(data["grid"].clone())
        .map_err(|e| format!("{}: grid: {e}", dir.data_json().display()))?;
    let target = data["target"]
        .as_str()
        .ok_or_else(|| format!("{}: no target", dir.data_json().display()))?;
    let file = DataFile::new(&path).map_err(|e| e.to_string())?;
    let mut opts = TableOptions::new(vec![file], "series_id", "timestamp", target, grid.frequency);
    // Written from a complete, validated panel: its own values and range, nothing refused.
    opts.allow_negative = true;
    opts.start = Some(to_datetime(grid.start).date());
    let panel = read_table(&opts).map_err(|e| e.to_string())?;
    if panel.grid != grid {
        return Err(format!(
            "{} spans {} periods from {}, data.json {} from {}",
            path.display(),
            panel.grid.len,
            format_timestamp(panel.grid.start),
            grid.len,
            format_timestamp(grid.start)
        ));
    }
    Ok(panel)
}

/// Every forecast table the run wrote (the TFT's, the baselines').
fn forecast_tables(dir: &RunDir, panel: &Panel) -> std::result::Result<Vec<Forecast>, String> {
    let mut tables = Vec::new();
    for path in [dir.tft_forecasts(), dir.baseline_forecasts()] {
        if path.exists() {
            tables.extend(Forecast::read_csv(panel, &path).map_err(|e| e.to_string())?);
        }
    }
    if tables.is_empty() {
        return Err(format!(
            "The run wrote no forecasts ({} or {}).",
            dir.tft_forecasts().display(),
            dir.baseline_forecasts().display()
        ));
    }
    Ok(tables)
}

/// The model drawn with its band: the best-scoring TFT, else the best-scoring model; then the
/// best other non-TFT model, drawn as a dashed median to compare with.
fn models_to_draw(comparison: &Comparison, tables: &[Forecast]) -> Vec<String> {
    let scored = |tft: bool| -> Option<String> {
        comparison
            .models
            .iter()
            .filter(|m| fusecast_eval::behind::is_tft(&m.model) == tft && m.mase.is_finite())
            .filter(|m| tables.iter().any(|t| t.model == m.model))
            .min_by(|a, b| a.mase.total_cmp(&b.mase))
            .map(|m| m.model.clone())
    };
    match (scored(true), scored(false)) {
        (Some(t), Some(b)) => vec![t, b],
        (Some(t), None) => vec![t],
        (None, Some(b)) => vec![b],
        (None, None) => tables
            .first()
            .map(|t| t.model.clone())
            .into_iter()
            .collect(),
    }
}

/// The series to draw: the best, median and worst by the primary model's MASE, the largest,
/// and those the config names (`eval.plot_series`), each with why.
fn chosen_series(
    panel: &Panel,
    winners: Option<&Winners>,
    primary: &str,
    configured: &[String],
) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut add = |s: usize, why: String| match out.iter_mut().find(|(x, _)| *x == s) {
        Some((_, w)) => {
            w.push_str("; ");
            w.push_str(&why);
        }
        None => out.push((s, why)),
    };
    if let Some(w) = winners {
        if let Some(m) = w.models.iter().position(|m| m == primary) {
            let mut ranked: Vec<(usize, f64)> = w
                .rows
                .iter()
                .filter_map(|r| Some((panel.series_index(&r.series)?, r.mase[m])))
                .filter(|(_, v)| v.is_finite())
                .collect();
            ranked.sort_by(|a, b| a.1.total_cmp(&b.1));
            if let (Some(best), Some(worst)) = (ranked.first(), ranked.last()) {
                let (best, median, worst) = (*best, ranked[ranked.len() / 2], *worst);
                add(best.0, format!("best {primary} MASE"));
                add(median.0, format!("median {primary} MASE"));
                add(worst.0, format!("worst {primary} MASE"));
            }
        }
    }
    let largest = (0..panel.n_series()).max_by(|&a, &b| {
        let total = |s: usize| {
            panel
                .values(s)
                .iter()
                .filter(|v| v.is_finite())
                .sum::<f64>()
        };
        total(a).total_cmp(&total(b))
    });
    if let Some(s) = largest {
        add(s, "largest series".into());
    }
    for name in configured {
        if let Some(s) = panel.series_index(name) {
            add(s, "eval.plot_series".into());
        }
    }
    out
}

fn paths(table: &Forecast, series: usize, mase: Option<f64>, grid: &TimeGrid) -> ModelPaths {
    let mut rows: Vec<_> = table.rows.iter().filter(|r| r.series == series).collect();
    rows.sort_by_key(|r| r.cutoff);
    let windows = rows
        .iter()
        .map(|r| {
            let median = table
                .quantile(r, 0.5)
                .map_or_else(|| r.mean.clone(), <[f64]>::to_vec);
            let band = table
                .quantile(r, 0.1)
                .zip(table.quantile(r, 0.9))
                .map(|(lo, hi)| (lo.to_vec(), hi.to_vec()));
            ForecastWindow {
                time: (r.cutoff + 1..=r.cutoff + table.horizon)
                    .map(|i| grid.timestamp(i))
                    .collect(),
                median,
                band,
            }
        })
        .collect();
    ModelPaths {
        model: table.model.clone(),
        mase,
        windows,
    }
}

fn forecasts(
    dir: &RunDir,
    data: &serde_json::Value,
    config: &toml::Table,
    comparison: Option<&Comparison>,
    winners: Option<&Winners>,
) -> std::result::Result<Vec<SeriesPlot>, String> {
    let panel = panel(dir, data)?;
    let tables = forecast_tables(dir, &panel)?;
    let empty = Comparison {
        levels: Vec::new(),
        models: Vec::new(),
    };
    let drawn = models_to_draw(comparison.unwrap_or(&empty), &tables);
    let Some(primary) = drawn.first() else {
        return Err("no forecasts to draw".into());
    };
    let configured: Vec<String> = config
        .get("eval")
        .and_then(|e| e.get("plot_series"))
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let horizon = tables.iter().map(|t| t.horizon).max().unwrap_or(1);
    let context = config
        .get("windows")
        .and_then(|w| w.get("encoder_length"))
        .and_then(|v| v.as_integer())
        .map_or(3 * horizon, |e| e.max(1) as usize);
    let grid = panel.grid;
    let mut plots = Vec::new();
    for (s, why) in chosen_series(&panel, winners, primary, &configured) {
        let mase_of = |model: &str| -> Option<f64> {
            let w = winners?;
            let m = w.models.iter().position(|x| x == model)?;
            let row = w.rows.iter().find(|r| r.series == panel.series[s])?;
            Some(row.mase[m])
        };
        let models: Vec<ModelPaths> = drawn
            .iter()
            .filter_map(|name| tables.iter().find(|t| t.model == *name))
            .map(|t| paths(t, s, mase_of(&t.model), &grid))
            .filter(|p| !p.windows.is_empty())
            .collect();
        let cutoffs: Vec<usize> = tables
            .iter()
            .find(|t| t.model == *primary)
            .map(|t| {
                let mut c: Vec<usize> = t
                    .rows
                    .iter()
                    .filter(|r| r.series == s)
                    .map(|r| r.cutoff)
                    .collect();
                c.sort_unstable();
                c
            })
            .unwrap_or_default();
        let (Some(&first), Some(&last)) = (cutoffs.first(), cutoffs.last()) else {
            continue;
        };
        let x0 = (first + 1).saturating_sub(context);
        let x1 = (last + horizon).min(panel.len() - 1);
        plots.push(SeriesPlot {
            series: panel.series[s].clone(),
            why,
            time: (x0..=x1).map(|i| grid.timestamp(i)).collect(),
            actual: panel.values(s)[x0..=x1].to_vec(),
            cutoffs: cutoffs.iter().map(|&c| grid.timestamp(c)).collect(),
            models,
        });
    }
    if plots.is_empty() {
        return Err(format!("{primary} has no forecasts to draw"));
    }
    Ok(plots)
}

fn interpretation_of(
    path: &Path,
    title: String,
) -> std::result::Result<html::Interpretation, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let i: Interpretation =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(html::Interpretation {
        title,
        windows: i.windows,
        static_importance: i.static_importance,
        encoder_importance: i.encoder_importance,
        decoder_importance: i.decoder_importance,
        attention: i.attention,
    })
}

/// A run's TFT, or an experiment's winning trials (one model per cluster).
fn interpretation(
    dir: &RunDir,
    experiment: Option<(&ExperimentFiles, &Part<Experiment>)>,
) -> Part<Vec<html::Interpretation>> {
    let Some((files, e)) = experiment else {
        let path = dir.interpretation_json();
        if !path.exists() {
            return Part::Omitted(format!(
                "No interpretation.json: the run has no trained TFT scored on a backtest ({}).",
                dir.best().display()
            ));
        }
        return match interpretation_of(
            &path,
            "TFT: the run's best model on the backtest windows".into(),
        ) {
            Ok(i) => Part::Shown(vec![i]),
            Err(e) => Part::Omitted(e),
        };
    };
    let Part::Shown(e) = e else {
        return Part::Omitted("No trial table to find the winning trials in.".into());
    };
    let col = |name: &str| e.header.iter().position(|h| h == name);
    let (Some(id), cluster) = (col("trial_id"), col("cluster")) else {
        return Part::Omitted("trials.csv has no trial_id column".into());
    };
    let mut list = Vec::new();
    for (row, _) in e.rows.iter().zip(&e.best).filter(|(_, b)| **b) {
        let path = RunDir::new(files.trials_dir.join(&row[id])).interpretation_json();
        let title = match cluster.map(|c| row[c].as_str()).filter(|c| !c.is_empty()) {
            Some(c) => format!(
                "trial {} (cluster {c}) on its series' backtest windows",
                row[id]
            ),
            None => format!("trial {} on the backtest windows", row[id]),
        };
        if let Ok(i) = interpretation_of(&path, title) {
            list.push(i);
        }
    }
    if list.is_empty() {
        Part::Omitted("The winning trials have no interpretation.json (written when the experiment's backtest scores them).".into())
    } else {
        Part::Shown(list)
    }
}

/// `metrics.jsonl`: train and validation loss per epoch.
fn training(dir: &RunDir, experiment: bool) -> Part<TrainingCurve> {
    let path = dir.metrics_jsonl();
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Part::Omitted(if experiment {
            "Each trial trains its own model: their validation curves are in the experiment section.".into()
        } else {
            format!("No {}: the run trained no model.", path.display())
        });
    };
    let mut curve = TrainingCurve {
        epochs: Vec::new(),
        train_loss: Vec::new(),
        val_loss: Vec::new(),
        best_epoch: None,
    };
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            return Part::Omitted(format!("{}: a line is not JSON", path.display()));
        };
        let Some(epoch) = v["epoch"].as_u64() else {
            continue;
        };
        curve.epochs.push(epoch as usize);
        curve
            .train_loss
            .push(v["train_loss"].as_f64().unwrap_or(f64::NAN));
        curve
            .val_loss
            .push(v["val_loss"].as_f64().unwrap_or(f64::NAN));
    }
    if curve.epochs.is_empty() {
        return Part::Omitted(format!("{} holds no epoch", path.display()));
    }
    curve.best_epoch = curve
        .epochs
        .iter()
        .zip(&curve.val_loss)
        .filter(|(_, v)| v.is_finite())
        .min_by(|a, b| a.1.total_cmp(b.1))
        .map(|(e, _)| *e);
    Part::Shown(curve)
}

fn experiment_of(files: &ExperimentFiles) -> std::result::Result<Experiment, String> {
    let (header, rows) = read_csv(&files.trials_csv)?;
    // Paths are noise in the table; the trial id names the folder.
    let keep: Vec<usize> = (0..header.len())
        .filter(|&i| header[i] != "run_dir")
        .collect();
    let best_col = header.iter().position(|h| h == "best");
    let curves_svg = match std::fs::read_to_string(&files.curves_svg) {
        Ok(svg) if svg.trim_start().starts_with("<svg") => Part::Shown(svg),
        Ok(_) => Part::Omitted(format!("{} is not an SVG", files.curves_svg.display())),
        Err(e) => Part::Omitted(format!("{}: {e}", files.curves_svg.display())),
    };
    Ok(Experiment {
        header: keep.iter().map(|&i| header[i].clone()).collect(),
        best: rows
            .iter()
            .map(|r| best_col.is_some_and(|c| r[c] == "true"))
            .collect(),
        rows: rows
            .iter()
            .map(|r| keep.iter().map(|&i| r[i].clone()).collect())
            .collect(),
        curves_svg,
    })
}

fn facts(
    data: &serde_json::Value,
    comparison: Option<&Comparison>,
    winners: Option<&Winners>,
) -> Vec<String> {
    let mut facts = Vec::new();
    let series = winners
        .map(|w| w.rows.len())
        .or_else(|| data["series"].as_array().map(Vec::len));
    if let (Some(series), Ok(grid)) = (
        series,
        serde_json::from_value::<TimeGrid>(data["grid"].clone()),
    ) {
        facts.push(format!(
            "{series} series of {}, {} periods of {} from {} to {}",
            data["target"].as_str().unwrap_or("the target"),
            grid.len,
            grid.frequency,
            format_timestamp(grid.start),
            format_timestamp(grid.timestamp(grid.len.saturating_sub(1)))
        ));
    }
    if let Ok(out) = serde_json::from_value::<Vec<LeftOutInput>>(data["layout"]["left_out"].clone())
    {
        if !out.is_empty() {
            facts.push(format!(
                "Left out of the TFT, which its training part cannot teach: {}",
                fusecast_data::untaught::describe(&out)
            ));
        }
    }
    if let Some(c) = comparison {
        let n = winners.map_or(0, |w| w.rows.len());
        facts.push(format!(
            "{} models scored on the same backtest windows{}",
            c.models.len(),
            if n > 0 {
                format!(" of {n} series")
            } else {
                String::new()
            }
        ));
    }
    // No folder path: the page would then depend on how the command that wrote it was called.
    facts
}

/// Everything the report shows, from the files of `dir`.
pub fn gather(dir: &RunDir, experiment: Option<&ExperimentFiles>) -> Report {
    let json = |d: &RunDir| -> Option<serde_json::Value> {
        serde_json::from_str(&std::fs::read_to_string(d.data_json()).ok()?).ok()
    };
    let toml = |d: &RunDir| -> Option<toml::Table> {
        toml::from_str(&std::fs::read_to_string(d.config_toml()).ok()?).ok()
    };
    // An experiment's folder has no data.json or config.toml of its own; its trials share the
    // grid, the target and the windows of the base config.
    let trial = experiment.and_then(|f| {
        let (header, rows) = read_csv(&f.trials_csv).ok()?;
        let id = header.iter().position(|h| h == "trial_id")?;
        Some(RunDir::new(f.trials_dir.join(&rows.first()?[id])))
    });
    let data = json(dir)
        .or_else(|| trial.as_ref().and_then(json))
        .unwrap_or(serde_json::Value::Null);
    let config = toml(dir)
        .or_else(|| trial.as_ref().and_then(toml))
        .unwrap_or_default();
    let no_eval = |e: String| {
        format!(
            "No evaluation to show ({e}); `fusecast evaluate CONFIG` or `fusecast baselines CONFIG` writes one."
        )
    };
    let comparison = match comparison(dir) {
        Ok(c) => Part::Shown(c),
        Err(e) => Part::Omitted(no_eval(e)),
    };
    let winners = match winners(dir) {
        Ok(w) => Part::Shown(w),
        Err(e) => Part::Omitted(no_eval(e)),
    };
    let exp = experiment.map(|f| match experiment_of(f) {
        Ok(e) => Part::Shown(e),
        Err(e) => Part::Omitted(e),
    });
    let forecasts = match forecasts(dir, &data, &config, comparison.shown(), winners.shown()) {
        Ok(p) => Part::Shown(p),
        Err(e) => Part::Omitted(format!("No forecasts to draw: {e}")),
    };
    let name = dir.root().file_name().map_or_else(
        || dir.root().display().to_string(),
        |n| n.to_string_lossy().to_string(),
    );
    Report {
        title: match experiment {
            Some(_) => format!("Fusecast tuning experiment: {name}"),
            None => format!("Fusecast run: {name}"),
        },
        facts: facts(&data, comparison.shown(), winners.shown()),
        behind: behind(dir),
        clusters: clusters(dir),
        windows: windows(dir),
        interpretation: interpretation(dir, experiment.zip(exp.as_ref())),
        training: training(dir, experiment.is_some()),
        experiment: exp,
        comparison,
        winners,
        forecasts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_facts_name_the_inputs_left_out_of_the_tft() {
        let data = serde_json::json!({
            "layout": { "left_out": [
                { "name": "month", "why": "short_of_a_year", "training_days": 309.0 }
            ] }
        });
        let got = facts(&data, None, None);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(
            got[0].contains("month (yearly") && got[0].contains("309 days"),
            "{got:?}"
        );
        assert!(facts(&serde_json::json!({ "layout": {} }), None, None).is_empty());
    }

    #[test]
    fn an_empty_folder_renders_every_section_as_a_note() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = RunDir::new(tmp.path().join("nothing"));
        let report = gather(&dir, None);
        for part in [
            report.comparison.shown().is_none(),
            report.winners.shown().is_none(),
            report.behind.shown().is_none(),
            report.clusters.shown().is_none(),
            report.forecasts.shown().is_none(),
            report.interpretation.shown().is_none(),
            report.training.shown().is_none(),
        ] {
            assert!(part);
        }
        let sink = crate::events::Recorder::default();
        std::fs::create_dir_all(dir.root()).unwrap();
        let path = write_report(&dir, None, &sink).unwrap();
        let page = std::fs::read_to_string(&path).unwrap();
        assert!(page.contains("class=\"omitted\"") && page.ends_with("</html>\n"));
        assert!(matches!(
            sink.events().last(),
            Some(Event::ReportWritten { files: 1, .. })
        ));
    }

    #[test]
    fn scores_are_read_by_column_name() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = RunDir::new(tmp.path());
        std::fs::create_dir_all(dir.eval()).unwrap();
        std::fs::write(
            dir.eval().join("comparison.csv"),
            "model,series,points,missing,mae,rmse,smape,mase,mase_excluded,pinball_q0.1,pinball_q0.5,qrisk50,qrisk90,coverage80,fallbacks,wins\n\
             \"A, b\",2,28,0,1.0000,2.0000,0.1000,0.7126,0,0.2000,0.5000,0.1000,0.0500,-,3,1\n",
        )
        .unwrap();
        let c = comparison(&dir).unwrap();
        assert_eq!(c.levels, vec![0.1, 0.5]);
        let m = &c.models[0];
        assert_eq!(
            (m.model.as_str(), m.series, m.fallbacks, m.wins),
            ("A, b", 2, 3, 1)
        );
        assert_eq!((m.mase, m.pinball[1]), (0.7126, 0.5));
        assert!(m.coverage80.is_nan());
    }

    #[test]
    fn the_scores_per_window_are_shown_from_two_cutoffs_on() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = RunDir::new(tmp.path());
        match windows(&dir) {
            Part::Omitted(why) => assert!(why.contains("eval/per_window.csv"), "{why}"),
            Part::Shown(_) => panic!("shown without a file"),
        }
        std::fs::create_dir_all(dir.eval()).unwrap();
        let path = dir.eval().join("per_window.csv");
        let head = "model,cutoff,series,points,missing,mae,rmse,smape,mase,mase_excluded,qrisk50,qrisk90,coverage80\n";
        std::fs::write(
            &path,
            format!("{head}TFT,2013-12-03,20,280,0,1.0,1.0,1.0,1.9000,0,0.1,0.05,0.7800\n"),
        )
        .unwrap();
        match windows(&dir) {
            Part::Omitted(why) => assert!(why.contains("one window"), "{why}"),
            Part::Shown(_) => panic!("one window shown"),
        }
        std::fs::write(
            &path,
            format!("{head}TFT,2013-12-03,20,280,0,1.0,1.0,1.0,1.9000,0,0.1,0.05,0.7800\nTFT,2013-12-17,20,280,0,1.0,1.0,1.0,4.5000,0,0.1,0.05,0.4600\n"),
        )
        .unwrap();
        let rows = windows(&dir).shown().cloned().unwrap();
        let got: Vec<_> = rows
            .iter()
            .map(|r| (r.group.as_str(), r.series, r.mase, r.coverage80))
            .collect();
        assert_eq!(
            got,
            vec![("2013-12-03", 20, 1.9, 0.78), ("2013-12-17", 20, 4.5, 0.46)]
        );
    }

    #[test]
    fn the_series_the_tft_is_behind_on_are_read_from_their_csv() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = RunDir::new(tmp.path());
        assert!(behind(&dir).shown().is_none());
        std::fs::create_dir_all(dir.eval()).unwrap();
        let path = dir.eval().join("tft_behind.csv");
        // Columns in another order than written, and an explanation with commas.
        std::fs::write(
            &path,
            "model,series_id,ratio,mase,best_mase,best_baseline,reason,explanation
             TFT,ORD,inf,0.0500,0.0000,Naive,few_counts,\"few counts: none, in its windows\"\n",
        )
        .unwrap();
        let rows = behind(&dir).shown().cloned().unwrap();
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(
            (
                r.series.as_str(),
                r.best_baseline.as_str(),
                r.reason.as_str()
            ),
            ("ORD", "Naive", "few_counts")
        );
        assert_eq!(r.explanation, "few counts: none, in its windows");
        assert!(r.ratio.is_infinite() && r.mase == 0.05);
        std::fs::write(&path, "series_id,model\nORD,TFT\n").unwrap();
        match behind(&dir) {
            Part::Omitted(why) => assert!(why.contains("no column `mase`"), "{why}"),
            Part::Shown(_) => panic!("read a CSV without its columns"),
        }
    }
}
