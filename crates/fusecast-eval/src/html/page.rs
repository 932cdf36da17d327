//! The page: one HTML document with its CSS inline and every chart an inline `<svg>`, so the file
//! opens the same in any browser, offline, mailed or archived. Sections keep fixed ids
//! (`comparison`, `winners`, `behind`, `clusters`, `windows`, `forecasts`, `interpretation`, `training`, and
//! `experiment` for a tuning experiment); one the run does not have says why in its place.

use std::fmt::Write as _;

use crate::behind;

use super::svg::{
    bar_chart, line_chart, Band, Bar, BarChart, Line, LineChart, Rule, Values, XAxis, PALETTE,
};
use super::tables::{
    behind_table, comparison_table, group_table, pinball_table, trial_table, win_counts_table,
    winners_table,
};
use super::{
    escape, num, BehindRow, Comparison, Experiment, GroupRow, Interpretation, Part, Report,
};
use super::{SeriesPlot, TrainingCurve, Winners};

const CSS: &str = "
:root{--fg:#1d2430;--muted:#5b6675;--line:#e3e7ed;--accent:#1f77b4;--best:#e6f4ea;--bg:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{background:#fff;border-bottom:1px solid var(--line);padding:18px 28px 10px}
h1{font-size:22px;margin:0 0 6px}
h2{font-size:18px;margin:0 0 10px}
h3{font-size:15px;margin:16px 0 8px}
ul.facts{margin:0 0 10px;padding-left:18px;color:var(--muted)}
nav a{display:inline-block;margin:0 14px 4px 0;color:var(--accent);text-decoration:none;font-weight:500}
nav a.omitted{color:#9aa3ad}
main{max-width:1280px;margin:0 auto;padding:18px 28px 40px}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:16px 20px;margin:0 0 18px}
section.omitted{background:transparent;border-style:dashed}
p.note{color:var(--muted);margin:4px 0}
.wide{overflow-x:auto}
table{border-collapse:collapse;font-size:13px;margin:4px 0 8px}
th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:left;white-space:nowrap}
th{background:var(--bg);font-weight:600;position:sticky;top:0}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.best{background:var(--best);font-weight:600}
tr.best td{background:#fff6dd}
tr.group-b td{background:#fafbfc}
tr.group-b td.best,tr.group-a td.best{background:var(--best)}
details{margin-top:8px}
summary{cursor:pointer;color:var(--accent)}
details .wide{max-height:520px;overflow:auto}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:14px 22px;align-items:start}
.pair{display:flex;flex-wrap:wrap;gap:14px 28px;align-items:flex-start}
svg.chart{max-width:100%;height:auto;display:block}
.chart text{font:11px system-ui,sans-serif;fill:#39424e}
.chart text.title{font-size:13px;font-weight:600;fill:var(--fg)}
.chart .grid line{stroke:#edf0f3}
.chart .axis line{stroke:#8a949f}
.chart line.rule{stroke:#8a949f;stroke-dasharray:3 3}
.chart text.bar-value{fill:var(--muted)}
.tune-curves svg{max-width:none}
footer{color:var(--muted);text-align:center;padding:0 0 24px;font-size:12px}
";

/// Once loaded, the page records how many charts the browser parsed as SVG elements, so a
/// headless browser's DOM dump shows the page loaded with its plots (scripts/render_report.sh).
const LOADED: &str = "<script>addEventListener('load',function(){document.documentElement.setAttribute('data-charts',document.querySelectorAll('svg.chart').length)})</script>";

struct Sections {
    html: String,
    nav: Vec<(&'static str, &'static str, bool)>,
}

impl Sections {
    fn push<T>(
        &mut self,
        id: &'static str,
        title: &'static str,
        part: &Part<T>,
        body: impl FnOnce(&T) -> String,
    ) {
        match part {
            Part::Shown(t) => {
                let _ = write!(
                    self.html,
                    "<section id=\"{id}\"><h2>{title}</h2>{}</section>",
                    body(t)
                );
                self.nav.push((id, title, true));
            }
            Part::Omitted(why) => {
                let _ = write!(
                    self.html,
                    "<section id=\"{id}\" class=\"omitted\"><h2>{title}</h2><p class=\"note\">{}</p></section>",
                    escape(why)
                );
                self.nav.push((id, title, false));
            }
        }
    }
}

/// The whole page.
pub fn render(r: &Report) -> String {
    let n_series = r
        .winners
        .shown()
        .map(|w| w.rows.len())
        .or_else(|| {
            r.comparison
                .shown()
                .and_then(|c| c.models.iter().map(|m| m.series).max())
        })
        .unwrap_or(0);
    let mut s = Sections {
        html: String::new(),
        nav: Vec::new(),
    };
    s.push("comparison", "Models compared", &r.comparison, |c| {
        comparison_section(c, n_series)
    });
    s.push("winners", "Winners per series", &r.winners, winners_section);
    s.push("behind", "Where the TFT is far behind", &r.behind, |b| {
        behind_section(b)
    });
    s.push("clusters", "Scores per cluster", &r.clusters, |c| {
        clusters_section(c)
    });
    s.push("windows", "Scores per backtest window", &r.windows, |w| {
        windows_section(w)
    });
    s.push(
        "forecasts",
        "Forecasts of chosen series",
        &r.forecasts,
        |p| forecasts_section(p),
    );
    s.push(
        "interpretation",
        "TFT interpretation",
        &r.interpretation,
        |i| interpretation_section(i),
    );
    s.push("training", "Training curves", &r.training, training_section);
    if let Some(e) = &r.experiment {
        s.push("experiment", "Tuning experiment", e, experiment_section);
    }
    let mut out = String::from("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    let _ = write!(
        out,
        "<title>{}</title><style>{CSS}</style></head><body><header><h1>{}</h1>",
        escape(&r.title),
        escape(&r.title)
    );
    if !r.facts.is_empty() {
        out.push_str("<ul class=\"facts\">");
        for f in &r.facts {
            let _ = write!(out, "<li>{}</li>", escape(f));
        }
        out.push_str("</ul>");
    }
    out.push_str("<nav>");
    for (id, title, shown) in &s.nav {
        let _ = write!(
            out,
            "<a href=\"#{id}\"{}>{title}</a>",
            if *shown { "" } else { " class=\"omitted\"" }
        );
    }
    out.push_str("</nav></header><main>");
    out.push_str(&s.html);
    out.push_str("</main><footer>Written by fusecast; self-contained (inline SVG and CSS, nothing loaded from the network). Rewrite it with <code>fusecast report DIR</code>.</footer>");
    out.push_str(LOADED);
    out.push_str("</body></html>\n");
    out
}

fn comparison_section(c: &Comparison, n_series: usize) -> String {
    let best = c
        .models
        .iter()
        .map(|m| m.mase)
        .filter(|v| v.is_finite())
        .fold(f64::INFINITY, f64::min);
    let bars = BarChart {
        class: "chart-bars chart-mase",
        title: "MASE by model (lower is better)".into(),
        width: 560.0,
        bars: c
            .models
            .iter()
            .map(|m| Bar {
                label: m.model.clone(),
                value: m.mase,
                highlight: m.mase == best,
            })
            .collect(),
        values: Values::Score,
    };
    format!(
        "<p class=\"note\">Every model on the same backtest windows. Lower is better, except coverage (nearest 80%) and series won; the best of each column is marked.</p><div class=\"wide\">{}</div><div class=\"pair\">{}<div><h3>Pinball loss by quantile</h3><div class=\"wide\">{}</div></div></div>",
        comparison_table(c, n_series),
        bar_chart(&bars),
        pinball_table(c)
    )
}

fn winners_section(w: &Winners) -> String {
    let counts = w.counts();
    let most = counts.iter().map(|c| c.1).max().unwrap_or(0);
    let bars = BarChart {
        class: "chart-bars chart-wins",
        title: format!("Series won (lowest MASE), of {}", w.rows.len()),
        width: 520.0,
        bars: counts
            .iter()
            .map(|(m, n)| Bar {
                label: m.clone(),
                value: *n as f64,
                highlight: *n == most && most > 0,
            })
            .collect(),
        values: Values::Count,
    };
    let bars = bar_chart(&bars);
    format!(
        "<div class=\"pair\"><div>{}</div>{bars}</div><details><summary>Every series: the winner and each model's MASE ({} series)</summary><div class=\"wide\">{}</div></details>",
        win_counts_table(w),
        w.rows.len(),
        winners_table(w)
    )
}

fn behind_section(rows: &[BehindRow]) -> String {
    let factor = behind::FACTOR;
    if rows.is_empty() {
        return format!("<p class=\"note\">No series: the TFT's MASE is within {factor}x the best baseline's on every series.</p>");
    }
    let counts = behind::counts(rows.iter().map(|r| r.reason.as_str()));
    let counts: Vec<String> = counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| format!("{n} {}", k.replace('_', " ")))
        .collect();
    format!(
        "<p class=\"note\">{} series where the TFT's MASE is over {factor}x the best baseline's on that series, worst first, each with what the data says about why: {}. The reasons are checked in this order: {}; a series none of the others explains is one the TFT gets wrong.</p><div class=\"wide\">{}</div>",
        rows.len(),
        escape(&counts.join(", ")),
        behind::KINDS.map(|k| k.replace('_', " ")).join(", "),
        behind_table(rows)
    )
}

fn clusters_section(rows: &[GroupRow]) -> String {
    format!(
        "<p class=\"note\">Scores pooled over each cluster's series; the best of each cluster is marked.</p><div class=\"wide\">{}</div>",
        group_table(rows, "cluster", "scores clusters")
    )
}

fn windows_section(rows: &[GroupRow]) -> String {
    format!(
        "<p class=\"note\">Scores over the forecasts from each backtest cutoff, every series pooled; the best of each window is marked. A window that every model gets wrong (a holiday, a level shift), or one where a model's intervals stop covering, shows here and not in the means above.</p><div class=\"wide\">{}</div>",
        group_table(rows, "cutoff", "scores windows")
    )
}

/// Windows of one model joined into one path, a gap between them so lines do not connect
/// one window's end to the next one's start.
fn joined(
    windows: &[super::ForecastWindow],
    value: impl Fn(&super::ForecastWindow) -> Option<&[f64]>,
) -> (Vec<f64>, Vec<f64>) {
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for w in windows {
        let Some(v) = value(w) else { continue };
        if !xs.is_empty() {
            xs.push(f64::NAN);
            ys.push(f64::NAN);
        }
        xs.extend(w.time.iter().map(|&t| t as f64));
        ys.extend_from_slice(v);
    }
    (xs, ys)
}

/// One series' chart: what happened, the first model's median and 10-90% band, the other
/// models' medians dashed, and the forecast origins.
pub fn forecast_chart(p: &SeriesPlot) -> LineChart {
    let mut lines = vec![Line {
        label: "observed".into(),
        class: "actual",
        color: "#222222".into(),
        dashed: false,
        dots: false,
        points: p
            .time
            .iter()
            .zip(&p.actual)
            .map(|(&t, &y)| (t as f64, y))
            .collect(),
    }];
    let mut bands = Vec::new();
    for (k, m) in p.models.iter().enumerate() {
        let color = PALETTE[if k == 0 { 0 } else { (k + 2) % PALETTE.len() }].to_string();
        let label = match m.mase {
            Some(v) => format!("{} median (MASE {})", m.model, num(v)),
            None => format!("{} median", m.model),
        };
        let (xs, ys) = joined(&m.windows, |w| Some(&w.median));
        lines.push(Line {
            label,
            class: if k == 0 { "median" } else { "median other" },
            color: color.clone(),
            dashed: k > 0,
            dots: false,
            points: xs.into_iter().zip(ys).collect(),
        });
        if k == 0 {
            let (x, lower) = joined(&m.windows, |w| w.band.as_ref().map(|b| b.0.as_slice()));
            let (_, upper) = joined(&m.windows, |w| w.band.as_ref().map(|b| b.1.as_slice()));
            if !x.is_empty() {
                bands.push(Band {
                    label: format!("{} 10-90%", m.model),
                    class: "band80",
                    color,
                    x,
                    lower,
                    upper,
                });
            }
        }
    }
    // The primary model's line goes on top of the others.
    if lines.len() > 2 {
        let primary = lines.remove(1);
        lines.push(primary);
    }
    LineChart {
        class: "chart-forecast",
        title: format!("{} ({})", p.series, p.why),
        x_axis: XAxis::Time,
        x_label: String::new(),
        y_label: String::new(),
        width: 600.0,
        height: 300.0,
        lines,
        bands,
        rules: p
            .cutoffs
            .iter()
            .map(|&c| Rule {
                x: c as f64,
                label: format!(
                    "forecast origin {}",
                    fusecast_data::time::format_timestamp(c)
                ),
            })
            .collect(),
        y_from_zero: true,
    }
}

fn forecasts_section(plots: &[SeriesPlot]) -> String {
    let mut s = String::from("<p class=\"note\">Observed values around the backtest windows with the median forecast and its 10-90% band from each forecast origin (dotted lines).</p><div class=\"charts\">");
    for p in plots {
        s.push_str(&line_chart(&forecast_chart(p)));
    }
    s.push_str("</div>");
    s
}

fn importance_chart(class: &'static str, title: &str, values: &[(String, f64)]) -> String {
    let mut sorted: Vec<&(String, f64)> = values.iter().collect();
    // As PyTorch Forecasting draws them: the largest weight first.
    sorted.sort_by(|a, b| b.1.total_cmp(&a.1));
    bar_chart(&BarChart {
        class,
        title: title.into(),
        width: 520.0,
        bars: sorted
            .iter()
            .enumerate()
            .map(|(i, (name, v))| Bar {
                label: name.clone(),
                value: *v,
                highlight: i == 0,
            })
            .collect(),
        values: Values::Percent,
    })
}

fn interpretation_section(list: &[Interpretation]) -> String {
    let mut s = String::from("<p class=\"note\">Mean weights of the variable selection networks and mean attention (over heads and forecast steps) by how far back the encoder step lies, over the windows interpreted.</p>");
    for i in list {
        let _ = write!(
            s,
            "<h3>{} <span class=\"note\">({} windows)</span></h3><div class=\"charts\">",
            escape(&i.title),
            i.windows
        );
        if i.static_importance.is_empty() {
            s.push_str("<p class=\"note\">No static variables.</p>");
        } else {
            s.push_str(&importance_chart(
                "chart-bars chart-static",
                "Static variables",
                &i.static_importance,
            ));
        }
        s.push_str(&importance_chart(
            "chart-bars chart-encoder",
            "Encoder variables",
            &i.encoder_importance,
        ));
        s.push_str(&importance_chart(
            "chart-bars chart-decoder",
            "Decoder variables",
            &i.decoder_importance,
        ));
        let by_lag = i.attention_by_lag();
        s.push_str(&line_chart(&LineChart {
            class: "chart-attention",
            title: "Attention by lag".into(),
            x_axis: XAxis::Integer,
            x_label: "steps before the forecast origin".into(),
            y_label: "mean attention".into(),
            width: 520.0,
            height: 280.0,
            lines: vec![Line {
                label: String::new(),
                class: "attention",
                color: PALETTE[0].into(),
                dashed: false,
                dots: by_lag.len() <= 30,
                points: by_lag
                    .iter()
                    .enumerate()
                    .map(|(l, &v)| (-((l + 1) as f64), v))
                    .collect(),
            }],
            bands: Vec::new(),
            rules: Vec::new(),
            y_from_zero: true,
        }));
        s.push_str("</div>");
    }
    s
}

fn training_section(t: &TrainingCurve) -> String {
    let pts = |v: &[f64]| -> Vec<(f64, f64)> {
        t.epochs
            .iter()
            .zip(v)
            .map(|(&e, &y)| (e as f64, y))
            .collect()
    };
    let few = t.epochs.len() <= 40;
    let chart = LineChart {
        class: "chart-training",
        title: "Loss per epoch".into(),
        x_axis: XAxis::Integer,
        x_label: "epoch".into(),
        y_label: "quantile loss".into(),
        width: 720.0,
        height: 320.0,
        lines: vec![
            Line {
                label: "train".into(),
                class: "train-loss",
                color: PALETTE[0].into(),
                dashed: false,
                dots: few,
                points: pts(&t.train_loss),
            },
            Line {
                label: "validation".into(),
                class: "val-loss",
                color: PALETTE[1].into(),
                dashed: false,
                dots: few,
                points: pts(&t.val_loss),
            },
        ],
        bands: Vec::new(),
        rules: t
            .best_epoch
            .map(|e| Rule {
                x: e as f64,
                label: format!("best epoch {e}"),
            })
            .into_iter()
            .collect(),
        y_from_zero: false,
    };
    let best = match t
        .best_epoch
        .and_then(|e| t.epochs.iter().position(|&x| x == e))
    {
        Some(i) => format!(
            "; best epoch {} (validation loss {}, the run's best/ model)",
            t.epochs[i],
            num(t.val_loss[i])
        ),
        None => String::new(),
    };
    format!(
        "<p class=\"note\">{} epochs{}.</p>{}",
        t.epochs.len(),
        escape(&best),
        line_chart(&chart)
    )
}

fn experiment_section(e: &Experiment) -> String {
    let mut s = format!(
        "<p class=\"note\">Every trial of the experiment (trials.csv); the winning trials are highlighted.</p><div class=\"wide\">{}</div><h3>Validation curve of every trial</h3>",
        trial_table(e)
    );
    match &e.curves_svg {
        Part::Shown(svg) => {
            let _ = write!(s, "<div class=\"tune-curves wide\">{svg}</div>");
        }
        Part::Omitted(why) => {
            let _ = write!(s, "<p class=\"note\">{}</p>", escape(why));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::html::{ForecastWindow, ModelPaths, ModelRow, WinnerRow};

    fn report() -> Report {
        let day = 86_400;
        let time: Vec<i64> = (0..20).map(|i| i * day).collect();
        Report {
            title: "Run <x>".into(),
            facts: vec!["2 series & 20 days".into()],
            comparison: Part::Shown(Comparison {
                levels: vec![0.1, 0.5, 0.9],
                models: vec![ModelRow {
                    model: "TFT".into(),
                    series: 2,
                    points: 10,
                    missing: 0,
                    mae: 1.5,
                    rmse: 2.0,
                    smape: 0.1,
                    mase: 0.7126,
                    pinball: vec![0.2, 0.5, 0.3],
                    qrisk50: 0.1,
                    qrisk90: 0.05,
                    coverage80: 0.8,
                    fallbacks: 0,
                    wins: 2,
                }],
            }),
            winners: Part::Shown(Winners {
                models: vec!["TFT".into()],
                rows: vec![WinnerRow {
                    series: "a".into(),
                    cluster: String::new(),
                    winner: "TFT".into(),
                    mase: vec![0.7],
                }],
            }),
            behind: Part::Shown(vec![BehindRow {
                series: "b<1>".into(),
                model: "TFT".into(),
                mase: 3.0,
                best_baseline: "AutoETS".into(),
                best_mase: 1.0,
                ratio: 3.0,
                reason: "level_moved".into(),
                explanation: "the level moved +40% from ...".into(),
            }]),
            clusters: Part::Omitted("the run has no clusters".into()),
            windows: Part::Shown(
                [("2013-12-03", 0.9, 0.81), ("2013-12-17", 4.5, 0.46)]
                    .map(|(cutoff, mase, coverage80)| GroupRow {
                        group: cutoff.into(),
                        model: "TFT".into(),
                        series: 2,
                        mase,
                        qrisk50: 0.1,
                        qrisk90: 0.05,
                        coverage80,
                    })
                    .to_vec(),
            ),
            forecasts: Part::Shown(vec![SeriesPlot {
                series: "a".into(),
                why: "best TFT MASE".into(),
                actual: time.iter().map(|&t| (t / day) as f64).collect(),
                time: time.clone(),
                cutoffs: vec![14 * day],
                models: vec![ModelPaths {
                    model: "TFT".into(),
                    mase: Some(0.7),
                    windows: vec![ForecastWindow {
                        time: time[15..].to_vec(),
                        median: vec![15.0; 5],
                        band: Some((vec![14.0; 5], vec![16.0; 5])),
                    }],
                }],
            }]),
            interpretation: Part::Shown(vec![Interpretation {
                title: "TFT".into(),
                windows: 4,
                static_importance: vec![],
                encoder_importance: vec![("target".into(), 0.6), ("<dow>".into(), 0.4)],
                decoder_importance: vec![("dow".into(), 1.0)],
                attention: vec![vec![0.5, 0.3, 0.2], vec![0.4, 0.4, 0.2]],
            }]),
            training: Part::Shown(TrainingCurve {
                epochs: vec![1, 2, 3],
                train_loss: vec![1.0, 0.8, 0.7],
                val_loss: vec![0.9, 0.85, 0.86],
                best_epoch: Some(2),
            }),
            experiment: None,
        }
    }

    #[test]
    fn a_page_has_every_section_and_escapes_what_it_shows() {
        let html = render(&report());
        for id in [
            "comparison",
            "winners",
            "behind",
            "clusters",
            "windows",
            "forecasts",
            "interpretation",
            "training",
        ] {
            assert!(html.contains(&format!("<section id=\"{id}\"")), "{id}");
        }
        assert!(!html.contains("id=\"experiment\""));
        assert!(html.contains("<section id=\"clusters\" class=\"omitted\"><h2>Scores per cluster</h2><p class=\"note\">the run has no clusters</p>"));
        // The windows' table: a cutoff per block, the header naming it.
        let at = html.find("<section id=\"windows\"").unwrap();
        let windows = &html[at..at + html[at..].find("</section>").unwrap()];
        assert!(windows.contains("<th>cutoff</th>"), "{windows}");
        assert!(
            windows.contains("2013-12-17") && windows.contains("0.4600"),
            "{windows}"
        );
        assert!(
            html.contains("<title>Run &lt;x&gt;</title>")
                && html.contains("2 series &amp; 20 days")
        );
        assert!(html.contains("&lt;dow&gt;") && !html.contains("<dow>"));
        for class in [
            "chart chart-forecast",
            "chart chart-attention",
            "chart chart-training",
            "chart chart-bars chart-encoder",
            "band band80",
            "line median",
            "line actual",
        ] {
            assert!(html.contains(&format!("class=\"{class}")), "{class}");
        }
        assert!(html.contains(">0.7126<"));
        assert!(
            html.contains("1 series where the TFT's MASE is over 2x")
                && html.contains(": 1 level moved.")
                && html.contains("<td>b&lt;1&gt;</td>")
                && html.contains("<td class=\"num\">3.00</td>"),
            "{html}"
        );
        assert!(html.contains("http://www.w3.org/2000/svg"));
        // Nothing comes from elsewhere.
        assert!(
            !html.contains("<script src") && !html.contains("<link") && !html.contains("https://")
        );
    }

    #[test]
    fn attention_is_averaged_over_steps_by_lag() {
        let r = report();
        let i = &r.interpretation.shown().unwrap()[0];
        let lag = i.attention_by_lag();
        assert!((lag[0] - 0.45).abs() < 1e-12 && (lag[2] - 0.2).abs() < 1e-12);
    }

    #[test]
    fn the_forecast_chart_draws_the_band_over_the_forecast_window_only() {
        let r = report();
        let p = &r.forecasts.shown().unwrap()[0];
        let c = forecast_chart(p);
        assert_eq!(c.bands.len(), 1);
        assert_eq!(c.bands[0].x.len(), 5);
        assert_eq!(c.lines.len(), 2);
        assert_eq!(c.rules.len(), 1);
        assert_eq!(c.lines[1].label, "TFT median (MASE 0.7000)");
    }

    #[test]
    fn an_experiment_inlines_the_tuners_curves() {
        let mut r = report();
        r.experiment = Some(Part::Shown(Experiment {
            header: vec!["trial_id".into()],
            rows: vec![vec!["t0".into()]],
            best: vec![true],
            curves_svg: Part::Shown("<svg class=\"tuner\"></svg>".into()),
        }));
        let html = render(&r);
        assert!(html.contains("<section id=\"experiment\">"));
        assert!(html.contains("<div class=\"tune-curves wide\"><svg class=\"tuner\"></svg></div>"));
    }
}
