//! PNG plots (plotters, bitmap backend): each chosen series with every model's backtest forecasts
//! and 80% bands, one panel per model; and the headline metrics by model. The font ships in the
//! binary (DejaVu Sans), so plots render on machines without fontconfig or system fonts.

use std::path::Path;
use std::sync::Once;

use fusecast_data::time::format_timestamp;
use fusecast_data::{Forecast, Panel};
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

use crate::compare::{Comparison, EvalError};
use crate::png::write_rgb;

const FONT: &str = "sans-serif";
const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

/// Reads one headline number off a model's scores.
type Metric = fn(&crate::Scores) -> f64;

fn ensure_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../assets/DejaVuSans.ttf");
        // The font is compiled in and known to parse; a failure here is a build defect.
        register_font(FONT, FontStyle::Normal, bytes).unwrap_or_else(|_| panic!("embedded font"));
    });
}

fn plot_err(path: &Path) -> impl Fn(String) -> EvalError + '_ {
    move |message| EvalError::Plot {
        path: path.to_path_buf(),
        message,
    }
}

/// Actuals of `series` around the backtest windows with each model's forecasts and 80% band (the
/// 0.1 and 0.9 quantiles, where the model has them), one panel per model.
pub fn plot_series(
    panel: &Panel,
    forecasts: &[Forecast],
    comparison: &Comparison,
    series: usize,
    path: &Path,
) -> Result<(), EvalError> {
    ensure_font();
    let err = plot_err(path);
    let (Some(&first_cut), Some(&last_cut)) =
        (comparison.cutoffs.first(), comparison.cutoffs.last())
    else {
        return Err(err("no backtest windows".into()));
    };
    let h = comparison.horizon;
    let context = (3 * h).max(2 * comparison.season);
    let x0 = first_cut.saturating_sub(context);
    let x1 = (last_cut + h).min(panel.len() - 1);
    let y = panel.values(series);
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    let mut widen = |v: f64| {
        if v.is_finite() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    };
    y[x0..=x1].iter().for_each(|&v| widen(v));
    for f in forecasts {
        for r in f.rows.iter().filter(|r| r.series == series) {
            r.mean.iter().for_each(|&v| widen(v));
            for l in [0.1, 0.9] {
                if let Some(q) = f.quantile(r, l) {
                    q.iter().for_each(|&v| widen(v));
                }
            }
        }
    }
    if !lo.is_finite() {
        return Err(err(format!(
            "series `{}` has nothing to plot",
            panel.series[series]
        )));
    }
    let pad = ((hi - lo) * 0.05).max(1e-9);
    let (lo, hi) = (lo - pad, hi + pad);
    let (width, height) = (1100u32, 60 + 220 * forecasts.len() as u32);
    let mut pixels = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        let root = root
            .titled(
                &format!(
                    "{}: backtest forecasts and 80% intervals",
                    panel.series[series]
                ),
                (FONT, 22),
            )
            .map_err(|e| err(e.to_string()))?;
        let areas = root.split_evenly((forecasts.len(), 1));
        let date = |x: &f64| {
            let i = x.round().clamp(0.0, (panel.len() - 1) as f64) as usize;
            format_timestamp(panel.grid.timestamp(i))[..10].to_string()
        };
        for (k, (area, f)) in areas.iter().zip(forecasts).enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            let scores = comparison.models.iter().find(|m| m.model == f.model);
            let caption = match scores.map(|m| &m.per_series[series]) {
                Some(s) => format!(
                    "{}  (MASE {:.3}, MAE {:.2}, coverage80 {:.0}%)",
                    f.model,
                    s.mase,
                    s.mae,
                    s.coverage80 * 100.0
                ),
                None => f.model.clone(),
            };
            let mut chart = ChartBuilder::on(area)
                .caption(caption, (FONT, 16))
                .margin(8)
                .x_label_area_size(26)
                .y_label_area_size(60)
                .build_cartesian_2d(x0 as f64..x1 as f64, lo..hi)
                .map_err(|e| err(e.to_string()))?;
            chart
                .configure_mesh()
                .x_labels(8)
                .y_labels(5)
                .x_label_formatter(&date)
                .label_style((FONT, 12))
                .draw()
                .map_err(|e| err(e.to_string()))?;
            for r in f.rows.iter().filter(|r| r.series == series) {
                let xs: Vec<f64> = (1..=f.horizon).map(|i| (r.cutoff + i) as f64).collect();
                if let (Some(q10), Some(q90)) = (f.quantile(r, 0.1), f.quantile(r, 0.9)) {
                    let band: Vec<(f64, f64)> = xs
                        .iter()
                        .zip(q90)
                        .map(|(&x, &v)| (x, v))
                        .chain(xs.iter().zip(q10).rev().map(|(&x, &v)| (x, v)))
                        .collect();
                    chart
                        .draw_series(std::iter::once(Polygon::new(
                            band,
                            color.mix(0.22).filled(),
                        )))
                        .map_err(|e| err(e.to_string()))?;
                }
                chart
                    .draw_series(LineSeries::new(
                        xs.iter().copied().zip(r.mean.iter().copied()),
                        color.stroke_width(2),
                    ))
                    .map_err(|e| err(e.to_string()))?;
            }
            // One line per stretch of actuals: no line is drawn across a period without data.
            let mut t = x0;
            while t <= x1 {
                let end = (t..=x1).find(|&u| y[u].is_nan()).unwrap_or(x1 + 1);
                if end > t {
                    chart
                        .draw_series(LineSeries::new(
                            (t..end).map(|u| (u as f64, y[u])),
                            BLACK.stroke_width(1),
                        ))
                        .map_err(|e| err(e.to_string()))?;
                }
                t = end + 1;
            }
            for &c in &comparison.cutoffs {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(c as f64 + 0.5, lo), (c as f64 + 0.5, hi)],
                        RGBColor(160, 160, 160),
                    )))
                    .map_err(|e| err(e.to_string()))?;
            }
        }
        root.present().map_err(|e| err(e.to_string()))?;
    }
    write_rgb(path, &pixels, width, height).map_err(|e| err(e.to_string()))
}

/// Bars of MASE and q-Risk P50 by model.
pub fn plot_metrics(comparison: &Comparison, path: &Path) -> Result<(), EvalError> {
    ensure_font();
    let err = plot_err(path);
    let (width, height) = (1100u32, 460u32);
    let mut pixels = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        let panels = root.split_evenly((1, 2));
        let metrics: [(&str, Metric); 2] = [
            ("MASE (lower is better)", |s| s.mase),
            ("q-Risk P50 (lower is better)", |s| s.qrisk50),
        ];
        let names: Vec<&str> = comparison.models.iter().map(|m| m.model.as_str()).collect();
        for (area, (title, metric)) in panels.iter().zip(metrics) {
            let values: Vec<f64> = comparison
                .models
                .iter()
                .map(|m| metric(&m.overall))
                .collect();
            let top = values
                .iter()
                .copied()
                .filter(|v| v.is_finite())
                .fold(0.0, f64::max)
                * 1.15;
            let top = if top > 0.0 { top } else { 1.0 };
            let n = values.len();
            let mut chart = ChartBuilder::on(area)
                .caption(title, (FONT, 18))
                .margin(12)
                .x_label_area_size(70)
                .y_label_area_size(50)
                .build_cartesian_2d(-0.5..n as f64 - 0.5, 0.0..top)
                .map_err(|e| err(e.to_string()))?;
            let label = |x: &f64| {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < n {
                    names[i as usize].to_string()
                } else {
                    String::new()
                }
            };
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(n.max(1))
                .x_label_formatter(&label)
                .label_style((FONT, 12))
                .draw()
                .map_err(|e| err(e.to_string()))?;
            for (i, v) in values.iter().enumerate().filter(|(_, v)| v.is_finite()) {
                let color = PALETTE[i % PALETTE.len()];
                let x = i as f64;
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x - 0.35, 0.0), (x + 0.35, *v)],
                        color.filled(),
                    )))
                    .map_err(|e| err(e.to_string()))?;
                chart
                    .draw_series(std::iter::once(Text::new(
                        format!("{v:.3}"),
                        (x - 0.25, v + top * 0.02),
                        (FONT, 13),
                    )))
                    .map_err(|e| err(e.to_string()))?;
            }
        }
        root.present().map_err(|e| err(e.to_string()))?;
    }
    write_rgb(path, &pixels, width, height).map_err(|e| err(e.to_string()))
}
