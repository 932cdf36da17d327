//! The evaluation: every forecast table (and any other tool's, from `eval.extra_forecasts`)
//! scored on the same windows, the report written, the headline scores as an event.

use fusecast_data::prepare::Prepared;
use fusecast_data::{Forecast, Panel};
use fusecast_eval::compare::compare;
use fusecast_eval::report::{write_report, ReportContext};
use fusecast_eval::Comparison;

use crate::config::LoadedConfig;
use crate::error::{Error, Result};
use crate::events::{stage, Event, ModelScore, Sink, Stage};
use crate::run_dir::RunDir;

/// Scores every forecast table, writes `eval/` and emits the scores.
pub fn evaluate(
    dir: &RunDir,
    loaded: &LoadedConfig,
    prepared: &Prepared,
    mut forecasts: Vec<Forecast>,
    notes: Vec<String>,
    sink: &dyn Sink,
) -> Result<Comparison> {
    let c = &loaded.config;
    let panel = &prepared.panel;
    for extra in &c.eval.extra_forecasts {
        let path = loaded.base.join(extra);
        for table in Forecast::read_csv(panel, &path)? {
            // Wins and reports go by model name: two tables under one name would be mixed up.
            if forecasts.iter().any(|f| f.model == table.model) {
                return Err(Error::Invalid(format!(
                    "{} (eval.extra_forecasts): model {:?} is already being evaluated; rename it in that file",
                    path.display(),
                    table.model
                )));
            }
            forecasts.push(table);
        }
    }
    if forecasts.is_empty() {
        return Err(Error::Invalid("nothing to evaluate: no baselines configured, no trained model and no eval.extra_forecasts".into()));
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
    let ctx = ReportContext {
        title: format!("Fusecast backtest: {}", c.run.name),
        notes,
    };
    let out = dir.eval();
    let files = stage(sink, Stage::Report, || {
        write_report(&out, panel, &forecasts, &comparison, &plot_ids, &ctx)
    })?;
    // The series scored: on a ragged panel, those with a window with actuals.
    let scored = forecasts[0]
        .rows
        .iter()
        .map(|r| r.series)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    sink.emit(scores(&comparison, scored));
    sink.emit(Event::ReportWritten {
        path: out.join("report.md"),
        files: files.len(),
    });
    Ok(comparison)
}

/// The headline scores of a comparison, one row per model.
pub fn scores(c: &Comparison, n_series: usize) -> Event {
    let models = c
        .models
        .iter()
        .zip(c.win_counts())
        .map(|(m, (_, wins))| {
            let o = &m.overall;
            ModelScore {
                model: m.model.clone(),
                mae: o.mae,
                mase: o.mase,
                q_risk50: o.qrisk50,
                q_risk90: o.qrisk90,
                coverage80: o.coverage80,
                wins,
            }
        })
        .collect();
    Event::Scores {
        series: n_series,
        models,
    }
}

fn plot_series(panel: &Panel, names: &[String]) -> Result<Vec<usize>> {
    if names.is_empty() {
        let mut by_total: Vec<(usize, f64)> = (0..panel.n_series())
            .map(|s| {
                (
                    s,
                    panel.values(s).iter().filter(|v| !v.is_nan()).sum::<f64>(),
                )
            })
            .collect();
        by_total.sort_by(|a, b| b.1.total_cmp(&a.1));
        return Ok(by_total.into_iter().take(3).map(|(s, _)| s).collect());
    }
    names
        .iter()
        .map(|n| {
            panel.series_index(n).ok_or_else(|| {
                Error::Invalid(format!("eval.plot_series: no series `{n}` in the panel"))
            })
        })
        .collect()
}
