//! Generic inline-SVG charts: lines with shaded bands (forecasts, losses, attention) and
//! horizontal bars (importances, scores). Sizes are in CSS pixels; the page lets them shrink to
//! the window. Every label is escaped; non-finite values break a line instead of drawing it to 0.

use std::fmt::Write as _;

use fusecast_data::time::to_datetime;

use super::{escape, num};

/// Matplotlib's tab10, which the PNG plots and the tuner's curves use too.
pub const PALETTE: [&str; 10] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
];

/// The plot area inside a chart and the data range it shows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Frame {
    pub width: f64,
    pub height: f64,
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
    pub x: (f64, f64),
    pub y: (f64, f64),
    /// The value axis's tick step; `y` starts and ends on a tick.
    pub y_step: f64,
}

impl Frame {
    pub fn px(&self, x: f64) -> f64 {
        let span = (self.x.1 - self.x.0).max(f64::MIN_POSITIVE);
        self.left + (x - self.x.0) / span * (self.width - self.left - self.right)
    }

    pub fn py(&self, y: f64) -> f64 {
        let span = (self.y.1 - self.y.0).max(f64::MIN_POSITIVE);
        self.height - self.bottom - (y - self.y.0) / span * (self.height - self.top - self.bottom)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XAxis {
    Number,
    /// Whole numbers only (epochs, lags): no tick between two of them.
    Integer,
    /// Seconds on the panel's wall clock, labelled as dates (and hours when the ticks are).
    Time,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub label: String,
    /// A class for the DOM (`line <class>`), so a check can find each kind of line.
    pub class: &'static str,
    pub color: String,
    pub dashed: bool,
    /// A dot on every point (short curves: a few epochs).
    pub dots: bool,
    pub points: Vec<(f64, f64)>,
}

/// A shaded area between two curves over the same `x`.
#[derive(Clone, Debug, PartialEq)]
pub struct Band {
    pub label: String,
    pub class: &'static str,
    pub color: String,
    pub x: Vec<f64>,
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
}

/// A labelled vertical line (a forecast origin, the best epoch).
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub x: f64,
    pub label: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LineChart {
    pub class: &'static str,
    pub title: String,
    pub x_axis: XAxis,
    pub x_label: String,
    pub y_label: String,
    pub width: f64,
    pub height: f64,
    pub lines: Vec<Line>,
    pub bands: Vec<Band>,
    pub rules: Vec<Rule>,
    /// Extend the value axis down to 0 (counts, weights), when nothing is negative.
    pub y_from_zero: bool,
}

/// A step of 1, 2 or 5 times a power of ten giving about `target` intervals over `range`.
fn nice_step(range: f64, target: usize) -> f64 {
    let raw = range / target.max(1) as f64;
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let n = if f < 1.5 {
        1.0
    } else if f < 3.0 {
        2.0
    } else if f < 7.0 {
        5.0
    } else {
        10.0
    };
    n * mag
}

fn ticks_between(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let mut out = Vec::new();
    let mut k = (lo / step - 1e-9).ceil();
    while k * step <= hi + step * 1e-9 && out.len() < 1000 {
        // `+ 0.0` turns -0 into 0, which would otherwise be labelled "-0".
        out.push(k * step + 0.0);
        k += 1.0;
    }
    out
}

fn decimals(step: f64) -> usize {
    if step >= 1.0 {
        0
    } else {
        ((-step.log10()).ceil() as usize).min(6)
    }
}

/// Time ticks: the smallest calendar step (hours to a year) with at most `max` ticks.
fn time_ticks(lo: f64, hi: f64, max: usize) -> (Vec<f64>, bool) {
    const H: f64 = 3600.0;
    const D: f64 = 86_400.0;
    let steps = [
        H,
        2.0 * H,
        3.0 * H,
        6.0 * H,
        12.0 * H,
        D,
        2.0 * D,
        7.0 * D,
        14.0 * D,
        28.0 * D,
        91.0 * D,
        182.0 * D,
        364.0 * D,
    ];
    let step = steps
        .iter()
        .copied()
        .find(|s| (hi - lo) / s <= max as f64)
        .unwrap_or(364.0 * D);
    (ticks_between(lo, hi, step), step < D)
}

fn time_label(t: f64, hours: bool) -> String {
    let dt = to_datetime(t as i64);
    if hours {
        dt.format("%m-%d %H:%M").to_string()
    } else {
        dt.format("%Y-%m-%d").to_string()
    }
}

/// Data range of some values, ignoring non-finite ones.
fn range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((a, b)) => Some((a.min(v), b.max(v))),
        })
}

/// Runs of consecutive finite points (a gap ends a run).
fn runs(points: &[(f64, f64)]) -> Vec<&[(f64, f64)]> {
    points
        .split(|p| !(p.0.is_finite() && p.1.is_finite()))
        .filter(|r| !r.is_empty())
        .collect()
}

struct LegendItem<'a> {
    label: &'a str,
    color: &'a str,
    kind: LegendKind,
}

enum LegendKind {
    Line { dashed: bool },
    Area,
}

/// A rough text width for layout (11px sans-serif), so labels do not overlap.
fn text_width(s: &str, size: f64) -> f64 {
    s.chars().count() as f64 * size * 0.58
}

impl LineChart {
    fn legend(&self) -> Vec<LegendItem<'_>> {
        let mut items: Vec<LegendItem> = self
            .bands
            .iter()
            .map(|b| LegendItem {
                label: &b.label,
                color: &b.color,
                kind: LegendKind::Area,
            })
            .collect();
        items.extend(self.lines.iter().map(|l| LegendItem {
            label: &l.label,
            color: &l.color,
            kind: LegendKind::Line { dashed: l.dashed },
        }));
        items.retain(|i| !i.label.is_empty());
        items
    }

    /// Legend rows: items laid out left to right, wrapping at the chart's width.
    fn legend_rows(&self) -> Vec<Vec<(f64, LegendItem<'_>)>> {
        let mut rows: Vec<Vec<(f64, LegendItem)>> = Vec::new();
        let mut x = 56.0;
        for item in self.legend() {
            let w = 26.0 + text_width(item.label, 11.0) + 14.0;
            if rows.is_empty() || x + w > self.width - 10.0 {
                rows.push(Vec::new());
                x = 56.0;
            }
            rows.last_mut().expect("a row").push((x, item));
            x += w;
        }
        rows
    }

    /// Where the data go: the ranges of every line, band and rule, widened to whole ticks on
    /// the value axis.
    pub fn frame(&self) -> Frame {
        let xs = self
            .lines
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.0))
            .chain(self.bands.iter().flat_map(|b| b.x.iter().copied()))
            .chain(self.rules.iter().map(|r| r.x));
        let ys = self
            .lines
            .iter()
            .flat_map(|l| l.points.iter().filter(|p| p.0.is_finite()).map(|p| p.1))
            .chain(
                self.bands
                    .iter()
                    .flat_map(|b| b.lower.iter().chain(&b.upper).copied()),
            );
        let (mut x0, mut x1) = range(xs).unwrap_or((0.0, 1.0));
        if x1 <= x0 {
            x0 -= 0.5;
            x1 += 0.5;
        }
        let (mut y0, mut y1) = range(ys).unwrap_or((0.0, 1.0));
        if self.y_from_zero && y0 >= 0.0 {
            y0 = 0.0;
        }
        if y1 <= y0 {
            let d = (y0.abs() * 0.1).max(0.5);
            y0 -= d;
            y1 += d;
        }
        let step = nice_step(y1 - y0, 5);
        let (y0, y1) = ((y0 / step).floor() * step, (y1 / step).ceil() * step);
        let legend = self.legend_rows().len() as f64;
        Frame {
            width: self.width,
            height: self.height,
            left: 64.0,
            right: 18.0,
            top: 30.0 + 16.0 * legend,
            bottom: if self.x_label.is_empty() { 28.0 } else { 44.0 },
            x: (x0, x1),
            y: (y0, y1),
            y_step: step,
        }
    }
}

/// The chart as an `<svg>` element.
pub fn line_chart(c: &LineChart) -> String {
    let f = c.frame();
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"chart {}\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{t}\">",
        c.class,
        w = c.width,
        h = c.height,
        t = escape(&c.title)
    );
    let _ = write!(
        s,
        "<text class=\"title\" x=\"{}\" y=\"18\">{}</text>",
        f.left,
        escape(&c.title)
    );
    for (r, row) in c.legend_rows().iter().enumerate() {
        let y = 34.0 + 16.0 * r as f64;
        for (x, item) in row {
            match item.kind {
                LegendKind::Area => {
                    let _ = write!(
                        s,
                        "<rect x=\"{x:.1}\" y=\"{}\" width=\"20\" height=\"10\" fill=\"{}\" fill-opacity=\"0.25\"/>",
                        y - 9.0,
                        item.color
                    );
                }
                LegendKind::Line { dashed } => {
                    let _ = write!(
                        s,
                        "<line x1=\"{x:.1}\" y1=\"{yy}\" x2=\"{:.1}\" y2=\"{yy}\" stroke=\"{}\" stroke-width=\"2\"{}/>",
                        x + 20.0,
                        item.color,
                        if dashed { " stroke-dasharray=\"5 3\"" } else { "" },
                        yy = y - 4.0
                    );
                }
            }
            let _ = write!(
                s,
                "<text class=\"legend\" x=\"{:.1}\" y=\"{y}\">{}</text>",
                x + 26.0,
                escape(item.label)
            );
        }
    }
    let (x_left, x_right) = (f.left, f.width - f.right);
    let (y_top, y_bottom) = (f.top, f.height - f.bottom);
    // Value axis: grid lines at whole ticks.
    let step = f.y_step;
    let dec = decimals(step);
    s.push_str("<g class=\"grid\">");
    for v in ticks_between(f.y.0, f.y.1, step) {
        let y = f.py(v);
        let _ = write!(
            s,
            "<line x1=\"{x_left}\" y1=\"{y:.1}\" x2=\"{x_right}\" y2=\"{y:.1}\"/><text class=\"tick\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{v:.dec$}</text>",
            x_left - 6.0,
            y + 4.0
        );
    }
    s.push_str("</g>");
    // Time (or number) axis.
    let max_ticks = (((x_right - x_left) / 95.0).floor() as usize).max(2);
    let (xticks, hours) = match c.x_axis {
        XAxis::Time => time_ticks(f.x.0, f.x.1, max_ticks),
        XAxis::Number | XAxis::Integer => {
            let mut st = nice_step(f.x.1 - f.x.0, max_ticks);
            if c.x_axis == XAxis::Integer {
                st = st.max(1.0).round();
            }
            (ticks_between(f.x.0, f.x.1, st), false)
        }
    };
    let xdec = match c.x_axis {
        XAxis::Number => decimals(nice_step(f.x.1 - f.x.0, max_ticks)),
        _ => 0,
    };
    s.push_str("<g class=\"axis\">");
    let _ = write!(
        s,
        "<line x1=\"{x_left}\" y1=\"{y_bottom}\" x2=\"{x_right}\" y2=\"{y_bottom}\"/><line x1=\"{x_left}\" y1=\"{y_top}\" x2=\"{x_left}\" y2=\"{y_bottom}\"/>"
    );
    for v in xticks {
        let x = f.px(v);
        let label = match c.x_axis {
            XAxis::Time => time_label(v, hours),
            _ => format!("{v:.xdec$}"),
        };
        let _ = write!(
            s,
            "<line x1=\"{x:.1}\" y1=\"{y_bottom}\" x2=\"{x:.1}\" y2=\"{}\"/><text class=\"tick\" x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            y_bottom + 4.0,
            y_bottom + 16.0,
            escape(&label)
        );
    }
    if !c.x_label.is_empty() {
        let _ = write!(
            s,
            "<text class=\"axis-label\" x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            (x_left + x_right) / 2.0,
            f.height - 8.0,
            escape(&c.x_label)
        );
    }
    if !c.y_label.is_empty() {
        let yc = (y_top + y_bottom) / 2.0;
        let _ = write!(
            s,
            "<text class=\"axis-label\" transform=\"translate(14 {yc:.1}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
            escape(&c.y_label)
        );
    }
    s.push_str("</g>");
    for b in &c.bands {
        let pts: Vec<(f64, f64, f64)> =
            b.x.iter()
                .zip(b.lower.iter().zip(&b.upper))
                .map(|(&x, (&lo, &hi))| (x, lo, hi))
                .collect();
        for run in pts.split(|p| !(p.0.is_finite() && p.1.is_finite() && p.2.is_finite())) {
            if run.is_empty() {
                continue;
            }
            let upper = run.iter().map(|p| (p.0, p.2));
            let lower = run.iter().rev().map(|p| (p.0, p.1));
            let points: Vec<String> = upper
                .chain(lower)
                .map(|(x, y)| format!("{:.1},{:.1}", f.px(x), f.py(y)))
                .collect();
            let _ = write!(
                s,
                "<polygon class=\"band {}\" points=\"{}\" fill=\"{}\" fill-opacity=\"0.22\" stroke=\"none\"><title>{}</title></polygon>",
                b.class,
                points.join(" "),
                b.color,
                escape(&b.label)
            );
        }
    }
    for r in &c.rules {
        let x = f.px(r.x);
        let _ = write!(
            s,
            "<line class=\"rule\" x1=\"{x:.1}\" y1=\"{y_top}\" x2=\"{x:.1}\" y2=\"{y_bottom}\"><title>{}</title></line>",
            escape(&r.label)
        );
    }
    for l in &c.lines {
        for run in runs(&l.points) {
            let points: Vec<String> = run
                .iter()
                .map(|&(x, y)| format!("{:.1},{:.1}", f.px(x), f.py(y)))
                .collect();
            let _ = write!(
                s,
                "<polyline class=\"line {}\" points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\"{}><title>{}</title></polyline>",
                l.class,
                points.join(" "),
                l.color,
                if l.dashed { 1.6 } else { 1.8 },
                if l.dashed { " stroke-dasharray=\"5 3\"" } else { "" },
                escape(&l.label)
            );
            if l.dots {
                for &(x, y) in run {
                    let _ = write!(
                        s,
                        "<circle class=\"dot\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{}\"><title>{}: {}</title></circle>",
                        f.px(x),
                        f.py(y),
                        l.color,
                        escape(&l.label),
                        num(y)
                    );
                }
            }
        }
    }
    s.push_str("</svg>");
    s
}

#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    /// Drawn in the accent colour (the best model, the largest weight).
    pub highlight: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BarChart {
    pub class: &'static str,
    pub title: String,
    pub width: f64,
    pub bars: Vec<Bar>,
    pub values: Values,
}

/// How a bar's value is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Values {
    /// As the CSV files write scores (4 decimals).
    Score,
    /// Shares, as percentages.
    Percent,
    Count,
}

const BAR: f64 = 18.0;
const BAR_GAP: f64 = 5.0;

/// Horizontal bars, one row per label, longest bar the largest value.
pub fn bar_chart(c: &BarChart) -> String {
    let label_w = c
        .bars
        .iter()
        .map(|b| text_width(&b.label, 11.0))
        .fold(40.0, f64::max)
        .min(c.width * 0.45)
        + 12.0;
    let value_w = 64.0;
    let top = 30.0;
    let height = top + c.bars.len() as f64 * (BAR + BAR_GAP) + 8.0;
    let max = c
        .bars
        .iter()
        .map(|b| b.value)
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let max = if max > 0.0 { max } else { 1.0 };
    let avail = (c.width - label_w - value_w).max(20.0);
    let mut s = format!(
        "<svg class=\"chart {}\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {height}\" width=\"{w}\" height=\"{height}\" role=\"img\" aria-label=\"{t}\"><text class=\"title\" x=\"4\" y=\"18\">{t}</text>",
        c.class,
        w = c.width,
        t = escape(&c.title)
    );
    for (i, b) in c.bars.iter().enumerate() {
        let y = top + i as f64 * (BAR + BAR_GAP);
        let w = if b.value.is_finite() {
            b.value.max(0.0) / max * avail
        } else {
            0.0
        };
        let value = match (c.values, b.value.is_finite()) {
            (_, false) => "-".to_string(),
            (Values::Percent, true) => format!("{:.1}%", 100.0 * b.value),
            (Values::Score, true) => num(b.value),
            (Values::Count, true) => format!("{:.0}", b.value),
        };
        let label = escape(&b.label);
        let _ = write!(
            s,
            "<text class=\"bar-label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{label}</text><rect class=\"bar{}\" x=\"{label_w:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{BAR}\" fill=\"{}\"><title>{label}: {value}</title></rect><text class=\"bar-value\" x=\"{:.1}\" y=\"{:.1}\">{value}</text>",
            label_w - 6.0,
            y + BAR * 0.7,
            if b.highlight { " best" } else { "" },
            if b.highlight { PALETTE[1] } else { PALETTE[0] },
            label_w + w + 4.0,
            y + BAR * 0.7
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart() -> LineChart {
        LineChart {
            class: "chart-test",
            title: "a <test>".into(),
            x_axis: XAxis::Number,
            x_label: "x".into(),
            y_label: "y".into(),
            width: 600.0,
            height: 300.0,
            lines: vec![Line {
                label: "median".into(),
                class: "median",
                color: PALETTE[0].into(),
                dashed: false,
                dots: false,
                points: vec![(0.0, 0.0), (5.0, 5.0), (10.0, 10.0)],
            }],
            bands: vec![Band {
                label: "10-90%".into(),
                class: "band80",
                color: PALETTE[0].into(),
                x: vec![0.0, 10.0],
                lower: vec![-1.0, 8.0],
                upper: vec![2.0, 12.0],
            }],
            rules: vec![Rule {
                x: 5.0,
                label: "cutoff".into(),
            }],
            y_from_zero: false,
        }
    }

    /// The numbers of an attribute (`points="x,y x,y"`) of the first element with `class`.
    fn coords(svg: &str, class: &str, attr: &str) -> Vec<(f64, f64)> {
        let at = svg.find(&format!("class=\"{class}")).unwrap();
        let rest = &svg[at..];
        let start = rest.find(&format!("{attr}=\"")).unwrap() + attr.len() + 2;
        let end = start + rest[start..].find('"').unwrap();
        rest[start..end]
            .split(' ')
            .map(|p| {
                let (x, y) = p.split_once(',').unwrap();
                (x.parse().unwrap(), y.parse().unwrap())
            })
            .collect()
    }

    #[test]
    fn values_land_where_the_frame_puts_them() {
        let c = chart();
        let f = c.frame();
        // -1..12 widened to whole ticks of 2: -2..12.
        assert_eq!((f.y, f.y_step), ((-2.0, 12.0), 2.0));
        assert_eq!(f.x, (0.0, 10.0));
        assert_eq!(f.px(0.0), f.left);
        assert_eq!(f.px(10.0), f.width - f.right);
        assert_eq!(f.py(-2.0), f.height - f.bottom);
        assert_eq!(f.py(12.0), f.top);
        let svg = line_chart(&c);
        let line = coords(&svg, "line median", "points");
        assert_eq!(line.len(), 3);
        for (&(x, y), (vx, vy)) in line.iter().zip([(0.0, 0.0), (5.0, 5.0), (10.0, 10.0)]) {
            assert!((x - f.px(vx)).abs() < 0.051 && (y - f.py(vy)).abs() < 0.051);
        }
        // The band: upper edge left to right, then the lower edge back.
        let band = coords(&svg, "band band80", "points");
        let want = [(0.0, 2.0), (10.0, 12.0), (10.0, 8.0), (0.0, -1.0)];
        assert_eq!(band.len(), 4);
        for (&(x, y), (vx, vy)) in band.iter().zip(want) {
            assert!((x - f.px(vx)).abs() < 0.051 && (y - f.py(vy)).abs() < 0.051);
        }
        assert!(svg.contains("<line class=\"rule\""));
        // A tick label at both ends of the value axis.
        for v in ["-2", "12"] {
            assert!(
                svg.contains(&format!("text-anchor=\"end\">{v}</text>")),
                "{v}"
            );
        }
        assert!(svg.contains("a &lt;test&gt;") && !svg.contains("<test>"));
        assert!(svg.starts_with("<svg class=\"chart chart-test\"") && svg.ends_with("</svg>"));
    }

    #[test]
    fn gaps_break_lines_and_bands() {
        let mut c = chart();
        c.lines[0].points = vec![(0.0, 1.0), (1.0, f64::NAN), (2.0, 3.0), (3.0, 4.0)];
        c.bands[0] = Band {
            x: vec![0.0, 1.0, 2.0, 3.0],
            lower: vec![0.0, 0.0, f64::NAN, 0.0],
            upper: vec![1.0, 1.0, 1.0, 1.0],
            ..c.bands[0].clone()
        };
        let svg = line_chart(&c);
        assert_eq!(svg.matches("<polyline class=\"line median\"").count(), 2);
        assert_eq!(svg.matches("<polygon class=\"band band80\"").count(), 2);
        assert!(!svg.contains("NaN"));
    }

    #[test]
    fn time_axes_label_dates_or_hours() {
        let day = 86_400.0;
        let (t, hours) = time_ticks(0.0, 30.0 * day, 6);
        assert!(!hours && t.len() <= 6 && t.len() >= 2, "{t:?}");
        assert_eq!(time_label(t[0], hours), "1970-01-01");
        let (t, hours) = time_ticks(0.0, day, 6);
        assert!(hours && t.len() <= 6, "{t:?}");
        assert_eq!(time_label(6.0 * 3600.0, true), "01-01 06:00");
    }

    #[test]
    fn bars_scale_to_the_largest_value_and_escape_labels() {
        let c = BarChart {
            class: "chart-bars",
            title: "importance".into(),
            width: 500.0,
            bars: vec![
                Bar {
                    label: "a&b".into(),
                    value: 0.75,
                    highlight: true,
                },
                Bar {
                    label: "c".into(),
                    value: 0.25,
                    highlight: false,
                },
            ],
            values: Values::Percent,
        };
        let svg = bar_chart(&c);
        let widths: Vec<f64> = svg
            .match_indices("width=\"")
            .skip(1) // the svg's own width
            .map(|(i, _)| {
                let rest = &svg[i + 7..];
                rest[..rest.find('"').unwrap()].parse().unwrap()
            })
            .collect();
        assert_eq!(widths.len(), 2);
        assert!((widths[0] / widths[1] - 3.0).abs() < 0.01, "{widths:?}");
        assert!(svg.contains("75.0%") && svg.contains("a&amp;b") && svg.contains("bar best"));
    }
}
