//! Writes a comparison as files a person reads (`report.md`) and programs read (CSV), with plots.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use fusecast_data::csvline::quote;
use fusecast_data::time::format_timestamp;
use fusecast_data::{Forecast, Panel};

use crate::behind;
use crate::compare::{Comparison, EvalError};
use crate::metrics::{Scores, DEFINITIONS};
use crate::plot::{plot_metrics, plot_series};

/// What the report says about the run it belongs to.
#[derive(Debug, Clone, Default)]
pub struct ReportContext {
    pub title: String,
    /// Free lines (data, training, notes) shown under the title.
    pub notes: Vec<String>,
}

fn fmt(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.4}")
    } else {
        "-".into()
    }
}

fn score_columns(levels: &[f64]) -> Vec<String> {
    let mut c: Vec<String> = [
        "series",
        "points",
        "missing",
        "mae",
        "rmse",
        "smape",
        "mase",
        "mase_excluded",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    c.extend(levels.iter().map(|l| format!("pinball_q{l}")));
    c.extend(["qrisk50", "qrisk90", "coverage80"].map(String::from));
    c.extend(levels.iter().map(|l| format!("coverage_q{l}")));
    c
}

fn score_values(s: &Scores) -> Vec<String> {
    let mut v = vec![
        s.series.to_string(),
        s.points.to_string(),
        s.missing.to_string(),
        fmt(s.mae),
        fmt(s.rmse),
        fmt(s.smape),
        fmt(s.mase),
        s.mase_excluded.to_string(),
    ];
    v.extend(s.pinball.iter().map(|&p| fmt(p)));
    v.extend([fmt(s.qrisk50), fmt(s.qrisk90), fmt(s.coverage80)]);
    v.extend(s.coverage.iter().map(|&p| fmt(p)));
    v
}

fn write(path: &Path, text: &str) -> Result<(), EvalError> {
    std::fs::write(path, text).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Every model's scores per group (a cluster, a backtest window), one row each, the group's name
/// in column `column`.
fn group_csv<'a>(
    c: &'a Comparison,
    column: &str,
    groups: impl Fn(&'a crate::compare::ModelScores) -> Vec<(String, &'a Scores)>,
) -> String {
    let mut csv = format!("model,{column},{}\n", score_columns(&c.levels).join(","));
    for m in &c.models {
        for (name, s) in groups(m) {
            let _ = writeln!(
                csv,
                "{},{},{}",
                quote(&m.model),
                quote(&name),
                score_values(s).join(",")
            );
        }
    }
    csv
}

/// A markdown table of one value per model (rows) and group (columns: `names`).
fn group_table(
    md: &mut String,
    title: &str,
    names: &[String],
    c: &Comparison,
    values: impl Fn(&crate::compare::ModelScores) -> Vec<f64>,
) {
    let _ = write!(md, "## {title}\n\n| model |");
    for name in names {
        let _ = write!(md, " {name} |");
    }
    md.push_str("\n|---|");
    md.push_str(&"---:|".repeat(names.len()));
    md.push('\n');
    for m in &c.models {
        let _ = write!(md, "| {} |", m.model);
        for v in values(m) {
            let _ = write!(md, " {} |", fmt(v));
        }
        md.push('\n');
    }
    md.push('\n');
}

/// Writes `report.md`, `comparison.csv`, `per_cluster.csv`, `per_window.csv`, `per_series.csv`, `winners.csv` and
/// the plots (`plots/metrics.png`, `plots/series_<id>.png` for `plot_series`) into `dir`; returns
/// the files written.
pub fn write_report(
    dir: &Path,
    panel: &Panel,
    forecasts: &[Forecast],
    comparison: &Comparison,
    plot_series_ids: &[usize],
    context: &ReportContext,
) -> Result<Vec<PathBuf>, EvalError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| EvalError::Io { path, source }
    };
    let plots = dir.join("plots");
    std::fs::create_dir_all(&plots).map_err(io(&plots))?;
    let mut written = Vec::new();
    let c = comparison;
    let wins = c.win_counts();

    // comparison.csv: one row per model.
    let mut csv = format!(
        "model,{},fallbacks,wins\n",
        score_columns(&c.levels).join(",")
    );
    for (m, (_, w)) in c.models.iter().zip(&wins) {
        let _ = writeln!(
            csv,
            "{},{},{},{w}",
            quote(&m.model),
            score_values(&m.overall).join(","),
            m.fallbacks
        );
    }
    let path = dir.join("comparison.csv");
    write(&path, &csv)?;
    written.push(path);

    // per_cluster.csv and per_window.csv
    if c.clusters.is_some() {
        let csv = group_csv(c, "cluster", |m| {
            m.per_cluster.iter().map(|(n, s)| (n.clone(), s)).collect()
        });
        let path = dir.join("per_cluster.csv");
        write(&path, &csv)?;
        written.push(path);
    }
    let cut = |i: usize| format_timestamp(panel.grid.timestamp(i));
    let csv = group_csv(c, "cutoff", |m| {
        m.per_window.iter().map(|(at, s)| (cut(*at), s)).collect()
    });
    let path = dir.join("per_window.csv");
    write(&path, &csv)?;
    written.push(path);

    // per_series.csv (long) and winners.csv (wide on MASE).
    let cluster_of = |s: usize| {
        c.clusters
            .as_ref()
            .map_or(String::new(), |cl| cl[s].clone())
    };
    let mut csv = String::from("model,series_id,cluster,points,missing,mae,rmse,smape,mase");
    for l in &c.levels {
        let _ = write!(csv, ",pinball_q{l}");
    }
    csv.push_str(",qrisk50,qrisk90,coverage80\n");
    for m in &c.models {
        for s in &m.per_series {
            let _ = write!(
                csv,
                "{},{},{},{},{},{},{},{},{}",
                quote(&m.model),
                quote(&panel.series[s.series]),
                quote(&cluster_of(s.series)),
                s.points,
                s.missing,
                fmt(s.mae),
                fmt(s.rmse),
                fmt(s.smape),
                fmt(s.mase)
            );
            for p in &s.pinball {
                let _ = write!(csv, ",{}", fmt(*p));
            }
            let _ = writeln!(
                csv,
                ",{},{},{}",
                fmt(s.qrisk50),
                fmt(s.qrisk90),
                fmt(s.coverage80)
            );
        }
    }
    let path = dir.join("per_series.csv");
    write(&path, &csv)?;
    written.push(path);
    let mut csv = String::from("series_id,cluster,winner");
    for m in &c.models {
        let _ = write!(csv, ",{}_mase", quote(&m.model));
    }
    csv.push('\n');
    for (s, w) in c.winners.iter().enumerate() {
        let _ = write!(
            csv,
            "{},{},{}",
            quote(&panel.series[s]),
            quote(&cluster_of(s)),
            quote(w)
        );
        for m in &c.models {
            let _ = write!(csv, ",{}", fmt(m.per_series[s].mase));
        }
        csv.push('\n');
    }
    let path = dir.join("winners.csv");
    write(&path, &csv)?;
    written.push(path);
    let far_behind = behind::applies(c).then(|| behind::behind(panel, c));
    if let Some(rows) = &far_behind {
        let path = dir.join("tft_behind.csv");
        write(&path, &behind::csv(panel, rows))?;
        written.push(path);
    }

    // Plots.
    let metrics_png = plots.join("metrics.png");
    plot_metrics(c, &metrics_png)?;
    written.push(metrics_png);
    let mut series_pngs = Vec::new();
    for &s in plot_series_ids {
        let name: String = panel.series[s]
            .chars()
            .map(|ch| {
                if ch.is_ascii_alphanumeric() || ch == '-' || ch == '_' {
                    ch
                } else {
                    '_'
                }
            })
            .collect();
        let png = plots.join(format!("series_{name}.png"));
        plot_series(panel, forecasts, c, s, &png)?;
        series_pngs.push((s, png.clone()));
        written.push(png);
    }

    // report.md
    let mut md = format!("# {}\n\n", context.title);
    for n in &context.notes {
        let _ = writeln!(md, "- {n}");
    }
    let _ =
        writeln!(
        md,
        "- {} series, {} backtest windows (cutoffs {}), horizon {}, seasonal period {} for MASE\n",
        panel.n_series(),
        c.cutoffs.len(),
        c.cutoffs.iter().map(|&i| cut(i)).collect::<Vec<_>>().join(", "),
        c.horizon,
        c.season
    );
    md.push_str("## Overall\n\n");
    md.push_str("| model | MAE | RMSE | sMAPE | MASE | q-Risk P50 | q-Risk P90 | coverage80 | series won | fallbacks |\n");
    md.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    let best = |f: fn(&Scores) -> f64| {
        c.models
            .iter()
            .map(|m| f(&m.overall))
            .filter(|v| v.is_finite())
            .fold(f64::INFINITY, f64::min)
    };
    let bold = |v: f64, b: f64| {
        if v == b {
            format!("**{}**", fmt(v))
        } else {
            fmt(v)
        }
    };
    let (bmae, bmase, bq50) = (best(|s| s.mae), best(|s| s.mase), best(|s| s.qrisk50));
    for (m, (_, w)) in c.models.iter().zip(&wins) {
        let s = &m.overall;
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {w} / {} | {} |",
            m.model,
            bold(s.mae, bmae),
            fmt(s.rmse),
            fmt(s.smape),
            bold(s.mase, bmase),
            bold(s.qrisk50, bq50),
            fmt(s.qrisk90),
            fmt(s.coverage80),
            panel.n_series(),
            m.fallbacks
        );
    }
    md.push_str("\n![metrics by model](plots/metrics.png)\n\n");
    if let Some(m) = c.models.first().filter(|m| !m.per_cluster.is_empty()) {
        let names: Vec<String> = m.per_cluster.iter().map(|(n, _)| n.clone()).collect();
        group_table(&mut md, "By cluster (MASE)", &names, c, |m| {
            m.per_cluster.iter().map(|(_, s)| s.mase).collect()
        });
    }
    if c.cutoffs.len() > 1 {
        let names: Vec<String> = c.cutoffs.iter().map(|&i| cut(i)).collect();
        group_table(
            &mut md,
            "By backtest window (MASE, by cutoff)",
            &names,
            c,
            |m| m.per_window.iter().map(|(_, s)| s.mase).collect(),
        );
        group_table(
            &mut md,
            "By backtest window (coverage80, by cutoff)",
            &names,
            c,
            |m| m.per_window.iter().map(|(_, s)| s.coverage80).collect(),
        );
    }
    if !c.levels.is_empty() {
        md.push_str(
            "## Coverage by quantile (share of actuals at or below each quantile)\n\n| model |",
        );
        for l in &c.levels {
            let _ = write!(md, " q{l} (nominal {l}) |");
        }
        md.push_str("\n|---|");
        md.push_str(&"---:|".repeat(c.levels.len()));
        md.push('\n');
        for m in &c.models {
            let _ = write!(md, "| {} |", m.model);
            for p in &m.overall.coverage {
                let _ = write!(md, " {} |", fmt(*p));
            }
            md.push('\n');
        }
        md.push('\n');
        md.push_str("## Pinball loss by quantile\n\n| model |");
        for l in &c.levels {
            let _ = write!(md, " q{l} |");
        }
        md.push_str("\n|---|");
        md.push_str(&"---:|".repeat(c.levels.len()));
        md.push('\n');
        for m in &c.models {
            let _ = write!(md, "| {} |", m.model);
            for p in &m.overall.pinball {
                let _ = write!(md, " {} |", fmt(*p));
            }
            md.push('\n');
        }
        md.push('\n');
    }
    if let Some(rows) = &far_behind {
        behind_section(&mut md, panel, rows);
    }
    if !series_pngs.is_empty() {
        md.push_str("## Forecasts of chosen series\n\n");
        for (s, png) in &series_pngs {
            let rel = png.strip_prefix(dir).unwrap_or(png);
            let _ = writeln!(md, "![{}]({})\n", panel.series[*s], rel.display());
        }
    }
    md.push_str("## Definitions\n\n");
    md.push_str(DEFINITIONS);
    md.push_str("\n\nPer-series scores: `per_series.csv`; winner per series (lowest MASE): `winners.csv`.\n");
    let path = dir.join("report.md");
    write(&path, &md)?;
    written.push(path);
    Ok(written)
}

fn behind_section(md: &mut String, panel: &Panel, rows: &[behind::Behind]) {
    let _ = writeln!(
        md,
        "## Series where the TFT is over {}x the best baseline (MASE)\n",
        behind::FACTOR
    );
    if rows.is_empty() {
        md.push_str("None.\n\n");
        return;
    }
    let counts = behind::counts(rows.iter().map(|r| r.why.kind()));
    let _ = writeln!(
        md,
        "{} in all: {}.\n",
        rows.len(),
        counts
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    md.push_str("| series | model | MASE | best baseline | its MASE | ratio | why |\n");
    md.push_str("|---|---|---:|---|---:|---:|---|\n");
    for r in rows {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {:.2} | {} |",
            panel.series[r.series],
            r.model,
            fmt(r.mase),
            r.best_baseline,
            fmt(r.best_mase),
            r.ratio(),
            r.why.describe(panel)
        );
    }
    md.push_str("\nAll of them, with the reason's kind: `tft_behind.csv`.\n\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::compare;
    use fusecast_data::time::{date_seconds, Day, Frequency, TimeGrid};
    use fusecast_data::ForecastRow;

    #[test]
    fn writes_tables_plots_and_a_readable_report() {
        let len = 60;
        let grid = TimeGrid {
            start: date_seconds(Day::ymd(2024, 1, 1).0),
            frequency: Frequency::Daily,
            len,
        };
        let y: Vec<f64> = (0..2 * len)
            .map(|t| 50.0 + 10.0 * ((t % 7) as f64) + (t / len) as f64 * 5.0)
            .collect();
        let panel = Panel::new(grid, "y", vec!["JFK".into(), "LGA/2".into()], y).unwrap();
        let mut forecasts = Vec::new();
        for (name, bias) in [("Good", 1.0), ("Biased", 8.0)] {
            let mut f = Forecast::new(name, 7, &[0.1, 0.5, 0.9]);
            for s in 0..2 {
                for cutoff in [45, 52] {
                    let mean: Vec<f64> = (1..=7)
                        .map(|i| panel.values(s)[cutoff + i] + bias)
                        .collect();
                    let q = |d: f64| mean.iter().map(|m| m + d).collect::<Vec<_>>();
                    let quantiles = vec![q(-5.0), q(0.0), q(5.0)];
                    f.push(ForecastRow {
                        series: s,
                        cutoff,
                        mean,
                        quantiles,
                        note: None,
                    })
                    .unwrap();
                }
            }
            forecasts.push(f);
        }
        let clusters = vec!["0".to_string(), "1".to_string()];
        let c = compare(&panel, &forecasts, 7, &[0.1, 0.5, 0.9], Some(&clusters)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ctx = ReportContext {
            title: "Backtest".into(),
            notes: vec!["test panel".into()],
        };
        let files = write_report(dir.path(), &panel, &forecasts, &c, &[0, 1], &ctx).unwrap();
        assert_eq!(files.len(), 9);
        let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
        assert!(md.contains("| Good | **1.0000** |"), "{md}");
        assert!(md.contains("2 / 2"), "{md}");
        assert!(md.contains("plots/series_LGA_2.png"), "{md}");
        let csv = std::fs::read_to_string(dir.path().join("comparison.csv")).unwrap();
        assert!(
            csv.lines()
                .nth(1)
                .unwrap()
                .starts_with("Good,2,28,0,1.0000,1.0000,"),
            "{csv}"
        );
        // Each window on its own: Good is off by 1 and Biased by 8 in both.
        let per_window = std::fs::read_to_string(dir.path().join("per_window.csv")).unwrap();
        let lines: Vec<&str> = per_window.lines().collect();
        assert!(
            lines[0].starts_with("model,cutoff,series,points,"),
            "{per_window}"
        );
        assert_eq!(lines.len(), 5, "{per_window}");
        assert!(
            lines[1].starts_with("Good,2024-02-15,2,14,0,1.0000,"),
            "{per_window}"
        );
        assert!(
            lines[4].starts_with("Biased,2024-02-22,2,14,0,8.0000,"),
            "{per_window}"
        );
        assert!(
            md.contains(
                "## By backtest window (MASE, by cutoff)\n\n| model | 2024-02-15 | 2024-02-22 |"
            ),
            "{md}"
        );
        assert!(
            md.contains("## By backtest window (coverage80, by cutoff)"),
            "{md}"
        );
        let winners = std::fs::read_to_string(dir.path().join("winners.csv")).unwrap();
        assert!(
            winners.starts_with("series_id,cluster,winner,Good_mase,Biased_mase\nJFK,0,Good,"),
            "{winners}"
        );
        for png in ["plots/metrics.png", "plots/series_JFK.png"] {
            let bytes = std::fs::read(dir.path().join(png)).unwrap();
            assert_eq!(&bytes[1..4], b"PNG");
            assert!(bytes.len() > 5_000, "{png} is {} bytes", bytes.len());
        }
    }
}
