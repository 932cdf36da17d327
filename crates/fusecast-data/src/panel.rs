//! The Panel: every series on one regular time grid with its covariates. All later stages read it.

use std::collections::HashSet;
use std::path::Path;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::time::{self, TimeGrid};

/// Known covariates are known in advance for the forecast window (calendar); observed ones only
/// up to the forecast origin (weather, the target itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Known,
    Observed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CovariateKind {
    Real,
    /// Values are integer codes in `0..cardinality`.
    Categorical {
        cardinality: usize,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum CovariateValues {
    /// One value per period, the same for every series (calendar, city weather).
    Shared(Vec<f32>),
    /// `n_series * len` values, series-major.
    PerSeries(Vec<f32>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Covariate {
    pub name: String,
    pub role: Role,
    pub kind: CovariateKind,
    pub values: CovariateValues,
}

impl Covariate {
    #[inline]
    pub fn value(&self, series: usize, t: usize, len: usize) -> f32 {
        match &self.values {
            CovariateValues::Shared(v) => v[t],
            CovariateValues::PerSeries(v) => v[series * len + t],
        }
    }
}

/// A categorical attribute of each series (borough, service zone, cluster).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaticCategorical {
    pub name: String,
    pub values: Vec<String>,
}

/// The periods `first..end` of the grid in which one series is observed: from its first
/// observation through its last. `missing` of them have no value (`fill_missing = "drop"`).
/// A full series has `0..len` and none missing; an empty span (`first == end`) is a series with
/// no observation in the panel's periods (a panel cut to an earlier stretch).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub first: usize,
    pub end: usize,
    pub missing: usize,
}

impl Span {
    pub fn full(len: usize) -> Span {
        Span {
            first: 0,
            end: len,
            missing: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.end - self.first
    }

    pub fn is_empty(&self) -> bool {
        self.end <= self.first
    }

    pub fn contains(&self, t: usize) -> bool {
        self.first <= t && t < self.end
    }

    /// Periods with a value.
    pub fn observed(&self) -> usize {
        self.len() - self.missing
    }

    /// The span of one series' values: from the first finite one through the last, the NaN
    /// between them missing.
    pub fn of(values: &[f64]) -> Span {
        let Some(first) = values.iter().position(|v| v.is_finite()) else {
            return Span {
                first: 0,
                end: 0,
                missing: 0,
            };
        };
        let end = values
            .iter()
            .rposition(|v| v.is_finite())
            .expect("one is finite")
            + 1;
        let missing = values[first..end].iter().filter(|v| v.is_nan()).count();
        Span {
            first,
            end,
            missing,
        }
    }
}

/// Every series on one grid. A series is observed over its own [`Span`]; target values outside
/// it (and at its missing periods) are NaN placeholders, which `validate` checks, so a read that
/// ignores the span shows up as NaN instead of an invented number. Read through [`Panel::span`],
/// [`Panel::observed`], [`Panel::value`] and [`Panel::history`].
#[derive(Clone, Debug)]
pub struct Panel {
    pub grid: TimeGrid,
    pub target_name: String,
    pub series: Vec<String>,
    /// `series.len() * grid.len`, series-major; NaN outside each series' span.
    pub target: Vec<f64>,
    /// One per series; full unless the data said otherwise (a long table's first and last row).
    pub spans: Vec<Span>,
    /// Per-series covariates must be finite inside each span; outside it they are placeholders
    /// (NaN) or known inputs of the periods after a series' last observation.
    pub covariates: Vec<Covariate>,
    pub statics: Vec<StaticCategorical>,
}

/// NaN placeholders compare equal, so a ragged panel equals its own copy.
fn same_f64(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
}

fn same_f32(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
}

impl PartialEq for Panel {
    fn eq(&self, other: &Panel) -> bool {
        self.grid == other.grid
            && self.target_name == other.target_name
            && self.series == other.series
            && self.spans == other.spans
            && self.statics == other.statics
            && same_f64(&self.target, &other.target)
            && self.covariates.len() == other.covariates.len()
            && self.covariates.iter().zip(&other.covariates).all(|(a, b)| {
                a.name == b.name
                    && a.role == b.role
                    && a.kind == b.kind
                    && match (&a.values, &b.values) {
                        (CovariateValues::Shared(x), CovariateValues::Shared(y))
                        | (CovariateValues::PerSeries(x), CovariateValues::PerSeries(y)) => {
                            same_f32(x, y)
                        }
                        _ => false,
                    }
            })
    }
}

impl Panel {
    pub fn new(
        grid: TimeGrid,
        target_name: &str,
        series: Vec<String>,
        target: Vec<f64>,
    ) -> Result<Self> {
        let spans = vec![Span::full(grid.len); series.len()];
        let p = Panel {
            grid,
            target_name: target_name.to_string(),
            series,
            target,
            spans,
            covariates: Vec::new(),
            statics: Vec::new(),
        };
        p.validate()?;
        Ok(p)
    }

    /// A panel whose series are observed where `target` is finite: each series' span runs from
    /// its first finite value through its last, the NaN between them are missing periods.
    pub fn ragged(
        grid: TimeGrid,
        target_name: &str,
        series: Vec<String>,
        target: Vec<f64>,
    ) -> Result<Self> {
        let len = grid.len;
        if target.len() != series.len() * len {
            return Err(DataError::Invalid(format!(
                "panel target has {} values for {} series x {len} periods",
                target.len(),
                series.len()
            )));
        }
        let spans = spans_of(&target, series.len(), len);
        let p = Panel {
            grid,
            target_name: target_name.to_string(),
            series,
            target,
            spans,
            covariates: Vec::new(),
            statics: Vec::new(),
        };
        p.validate()?;
        Ok(p)
    }

    pub fn n_series(&self) -> usize {
        self.series.len()
    }

    pub fn len(&self) -> usize {
        self.grid.len
    }

    pub fn is_empty(&self) -> bool {
        self.series.is_empty() || self.grid.len == 0
    }

    /// Whether every observed target value is >= 0 (counts): forecasts are then clamped at 0.
    pub fn is_non_negative(&self) -> bool {
        self.target
            .iter()
            .filter(|v| !v.is_nan())
            .all(|&v| v >= 0.0)
    }

    /// The whole grid row of one series, indexed by period: NaN outside its span and at its
    /// missing periods. Prefer [`Panel::observed`] or [`Panel::history`].
    pub fn values(&self, series: usize) -> &[f64] {
        &self.target[series * self.grid.len..(series + 1) * self.grid.len]
    }

    pub fn span(&self, series: usize) -> Span {
        self.spans[series]
    }

    /// Whether every series is observed over the whole grid without a missing period.
    pub fn is_full(&self) -> bool {
        self.spans.iter().all(|s| *s == Span::full(self.grid.len))
    }

    /// The values of one series' span (`span(series).first` is the period of the first; NaN
    /// at its missing periods).
    pub fn observed(&self, series: usize) -> &[f64] {
        let sp = self.spans[series];
        let row = series * self.grid.len;
        &self.target[row + sp.first..row + sp.end]
    }

    /// The value of series `s` at period `t`, if it has one.
    pub fn value(&self, s: usize, t: usize) -> Option<f64> {
        self.is_observed(s, t)
            .then(|| self.target[s * self.grid.len + t])
    }

    pub fn is_observed(&self, s: usize, t: usize) -> bool {
        self.spans[s].contains(t) && !self.target[s * self.grid.len + t].is_nan()
    }

    /// Whether series `s` has a value at every period of `from..to`.
    pub fn has_actuals(&self, s: usize, from: usize, to: usize) -> bool {
        let sp = self.spans[s];
        from < to
            && sp.first <= from
            && to <= sp.end
            && (sp.missing == 0 || (from..to).all(|t| self.is_observed(s, t)))
    }

    /// Whether series `s` can be forecast from `cutoff` and scored: it is observed at the cutoff
    /// and at each of the `horizon` periods after it. Every model of a backtest forecasts
    /// exactly these (series, cutoff) pairs.
    pub fn has_window(&self, s: usize, cutoff: usize, horizon: usize) -> bool {
        self.has_actuals(s, cutoff, cutoff + 1 + horizon)
    }

    /// The history of series `s` up to `cutoff`: the observed values without a gap that end at
    /// the cutoff, from the series' first observation or the period after its last missing one,
    /// with the period of the first. `None` when the cutoff has no value.
    pub fn history(&self, s: usize, cutoff: usize) -> Option<(usize, &[f64])> {
        if !self.is_observed(s, cutoff) {
            return None;
        }
        let sp = self.spans[s];
        let row = self.values(s);
        let first = if sp.missing == 0 {
            sp.first
        } else {
            (sp.first..cutoff)
                .rev()
                .find(|&t| row[t].is_nan())
                .map_or(sp.first, |t| t + 1)
        };
        Some((first, &row[first..=cutoff]))
    }

    /// The stretches of series `s` with a value at every period, in order (its span, cut at
    /// its missing periods).
    pub fn runs(&self, s: usize) -> Vec<std::ops::Range<usize>> {
        let sp = self.spans[s];
        if sp.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(1);
        if sp.missing == 0 {
            out.push(sp.first..sp.end);
            return out;
        }
        let mut start = None;
        let row = &self.values(s)[..sp.end];
        for (t, v) in row.iter().enumerate().skip(sp.first) {
            match (v.is_nan(), start) {
                (false, None) => start = Some(t),
                (true, Some(a)) => {
                    out.push(a..t);
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(a) = start {
            out.push(a..sp.end);
        }
        out
    }

    pub fn series_index(&self, id: &str) -> Option<usize> {
        self.series.iter().position(|s| s == id)
    }

    pub fn static_values(&self, name: &str) -> Option<&[String]> {
        self.statics
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.values.as_slice())
    }

    pub fn covariate(&self, name: &str) -> Option<&Covariate> {
        self.covariates.iter().find(|c| c.name == name)
    }

    pub fn add_covariate(&mut self, c: Covariate) -> Result<()> {
        if self.covariate(&c.name).is_some() || c.name == self.target_name {
            return Err(DataError::Invalid(format!(
                "covariate `{}` is defined twice",
                c.name
            )));
        }
        self.covariates.push(c);
        self.validate()
    }

    /// Sets (or replaces) a static categorical attribute.
    pub fn set_static(&mut self, name: &str, values: Vec<String>) -> Result<()> {
        if values.len() != self.n_series() {
            return Err(DataError::Invalid(format!(
                "static `{name}` has {} values for {} series",
                values.len(),
                self.n_series()
            )));
        }
        self.statics.retain(|s| s.name != name);
        self.statics.push(StaticCategorical {
            name: name.to_string(),
            values,
        });
        Ok(())
    }

    /// The panel of the series `keep` (indices, in that order), with their covariates and
    /// statics.
    pub fn select_series(&self, keep: &[usize]) -> Result<Panel> {
        let len = self.grid.len;
        if let Some(s) = keep.iter().find(|s| **s >= self.n_series()) {
            return Err(DataError::Invalid(format!(
                "series index {s} is out of range ({} series)",
                self.n_series()
            )));
        }
        let per_series = |v: &[f64]| -> Vec<f64> {
            keep.iter()
                .flat_map(|s| v[s * len..(s + 1) * len].iter().copied())
                .collect()
        };
        let covariates = self
            .covariates
            .iter()
            .map(|c| Covariate {
                values: match &c.values {
                    CovariateValues::Shared(v) => CovariateValues::Shared(v.clone()),
                    CovariateValues::PerSeries(v) => CovariateValues::PerSeries(
                        keep.iter()
                            .flat_map(|s| v[s * len..(s + 1) * len].iter().copied())
                            .collect(),
                    ),
                },
                ..c.clone()
            })
            .collect();
        let statics = self
            .statics
            .iter()
            .map(|st| StaticCategorical {
                name: st.name.clone(),
                values: keep.iter().map(|s| st.values[*s].clone()).collect(),
            })
            .collect();
        let p = Panel {
            grid: self.grid,
            target_name: self.target_name.clone(),
            series: keep.iter().map(|s| self.series[*s].clone()).collect(),
            target: per_series(&self.target),
            spans: keep.iter().map(|s| self.spans[*s]).collect(),
            covariates,
            statics,
        };
        p.validate()?;
        Ok(p)
    }

    /// Checks the invariants every later stage relies on.
    pub fn validate(&self) -> Result<()> {
        let n = self.n_series();
        let len = self.grid.len;
        if self.target.len() != n * len {
            return Err(DataError::Invalid(format!(
                "panel target has {} values for {n} series x {len} periods",
                self.target.len()
            )));
        }
        let mut seen = HashSet::new();
        for id in &self.series {
            if !seen.insert(id) {
                return Err(DataError::Invalid(format!(
                    "series id {id:?} appears twice"
                )));
            }
        }
        if self.spans.len() != n {
            return Err(DataError::Invalid(format!(
                "panel has {} spans for {n} series",
                self.spans.len()
            )));
        }
        let at = |t: usize| time::format_timestamp(self.grid.timestamp(t));
        for (s, sp) in self.spans.iter().enumerate() {
            let id = &self.series[s];
            if sp.first > sp.end || sp.end > len {
                return Err(DataError::Invalid(format!(
                    "series {id:?} has the span {}..{} on a grid of {len} periods",
                    sp.first, sp.end
                )));
            }
            let row = &self.target[s * len..(s + 1) * len];
            if let Some(t) = (0..len).find(|&t| !sp.contains(t) && !row[t].is_nan()) {
                return Err(DataError::Invalid(format!(
                    "series {id:?} has the target {} at {}, outside its observed span (the placeholders there must be NaN)",
                    row[t],
                    at(t)
                )));
            }
            let inside = &row[sp.first..sp.end];
            let bad = |v: &f64| v.is_infinite() || (v.is_nan() && sp.missing == 0);
            if let Some(k) = inside.iter().position(bad) {
                return Err(DataError::Invalid(format!(
                    "series {id:?} has a non-finite target {} at {}",
                    inside[k],
                    at(sp.first + k)
                )));
            }
            let nan = inside.iter().filter(|v| v.is_nan()).count();
            let ends_open =
                !sp.is_empty() && (inside[0].is_nan() || inside[inside.len() - 1].is_nan());
            if nan != sp.missing || ends_open {
                return Err(DataError::Invalid(format!(
                    "series {id:?}: its span {}..{} says {} missing periods, the target has {nan} NaN there{}",
                    at(sp.first.min(len.saturating_sub(1))),
                    at(sp.end.saturating_sub(1)),
                    sp.missing,
                    if ends_open { " (a span starts and ends at an observation)" } else { "" }
                )));
            }
        }
        for c in &self.covariates {
            let expected = match c.values {
                CovariateValues::Shared(_) => len,
                CovariateValues::PerSeries(_) => n * len,
            };
            let values = match &c.values {
                CovariateValues::Shared(v) | CovariateValues::PerSeries(v) => v,
            };
            if values.len() != expected {
                return Err(DataError::Invalid(format!(
                    "covariate `{}` has {} values, expected {expected}",
                    c.name,
                    values.len()
                )));
            }
            // Per-series values outside a span are never read as inputs of that series.
            let used = |i: usize| match c.values {
                CovariateValues::Shared(_) => true,
                CovariateValues::PerSeries(_) => {
                    self.spans[i / len.max(1)].contains(i % len.max(1))
                }
            };
            if let Some(i) = (0..values.len()).find(|&i| used(i) && !values[i].is_finite()) {
                return Err(DataError::Invalid(match c.values {
                    CovariateValues::Shared(_) => {
                        format!(
                            "covariate `{}` has a non-finite value {}",
                            c.name, values[i]
                        )
                    }
                    CovariateValues::PerSeries(_) => format!(
                        "covariate `{}` has a non-finite value {} for series {:?} at {}",
                        c.name,
                        values[i],
                        self.series[i / len.max(1)],
                        at(i % len.max(1))
                    ),
                }));
            }
            if let CovariateKind::Categorical { cardinality } = c.kind {
                if let Some(v) = values
                    .iter()
                    .filter(|v| !v.is_nan())
                    .find(|v| v.fract() != 0.0 || **v < 0.0 || **v as usize >= cardinality)
                {
                    return Err(DataError::Invalid(format!(
                        "categorical covariate `{}` has code {v} outside 0..{cardinality}",
                        c.name
                    )));
                }
            }
        }
        for s in &self.statics {
            if s.values.len() != n {
                return Err(DataError::Invalid(format!(
                    "static `{}` has {} values for {n} series",
                    s.name,
                    s.values.len()
                )));
            }
        }
        Ok(())
    }

    /// The panel as a long table: series_id, timestamp, target, covariates, statics; one row
    /// per observed (series, period), so a series' first and last row give its span back and a
    /// missing period is a missing row.
    pub fn to_long_frame(&self) -> Result<DataFrame> {
        let len = self.grid.len;
        let err = |e: PolarsError| DataError::Invalid(format!("building the long table: {e}"));
        let cells: Vec<(usize, usize)> = (0..self.n_series())
            .flat_map(|s| (0..len).map(move |t| (s, t)))
            .filter(|&(s, t)| !self.target[s * len + t].is_nan())
            .collect();
        let ids: Vec<&str> = cells
            .iter()
            .map(|&(s, _)| self.series[s].as_str())
            .collect();
        let micros: Vec<i64> = cells
            .iter()
            .map(|&(_, t)| self.grid.timestamp(t) * 1_000_000)
            .collect();
        let ts = Series::new("timestamp".into(), micros)
            .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
            .map_err(err)?;
        let target: Vec<f64> = cells
            .iter()
            .map(|&(s, t)| self.target[s * len + t])
            .collect();
        let mut columns: Vec<Column> = vec![
            Series::new("series_id".into(), ids).into(),
            ts.into(),
            Series::new(self.target_name.as_str().into(), target).into(),
        ];
        for c in &self.covariates {
            let values: Vec<f32> = cells.iter().map(|&(s, t)| c.value(s, t, len)).collect();
            columns.push(Series::new(c.name.as_str().into(), values).into());
        }
        for st in &self.statics {
            let values: Vec<&str> = cells.iter().map(|&(s, _)| st.values[s].as_str()).collect();
            columns.push(Series::new(st.name.as_str().into(), values).into());
        }
        DataFrame::new_infer_height(columns).map_err(err)
    }

    /// Writes the long table as parquet or CSV (by extension).
    pub fn write(&self, path: &Path) -> Result<()> {
        let mut df = self.to_long_frame()?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| DataError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let file = std::fs::File::create(path).map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let res = if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
        {
            CsvWriter::new(file).finish(&mut df)
        } else {
            ParquetWriter::new(file).finish(&mut df).map(|_| ())
        };
        res.map_err(|e| DataError::read(path, e))
    }

    pub fn summary(&self) -> String {
        let observed = || self.target.iter().filter(|v| !v.is_nan());
        let total: f64 = observed().sum();
        let zeros = observed().filter(|v| **v == 0.0).count();
        let cells = observed().count();
        let partial = self
            .spans
            .iter()
            .filter(|sp| sp.first > 0 || sp.end < self.grid.len)
            .count();
        let missing: usize = self.spans.iter().map(|sp| sp.missing).sum();
        let ragged = if self.is_full() {
            String::new()
        } else {
            format!(" ({partial} series observed over part of the grid, {missing} missing periods)")
        };
        format!(
            "{} series x {}{ragged} ({}), {} total `{}`, {:.1}% zero periods, {} covariates, statics: {}",
            self.n_series(),
            self.grid.describe(),
            self.grid.frequency,
            format_count(total),
            self.target_name,
            100.0 * zeros as f64 / cells.max(1) as f64,
            self.covariates.len(),
            if self.statics.is_empty() {
                "none".to_string()
            } else {
                self.statics
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        )
    }
}

/// The span of each series of a series-major target (see [`Span::of`]).
pub fn spans_of(target: &[f64], n: usize, len: usize) -> Vec<Span> {
    (0..n)
        .map(|s| Span::of(&target[s * len..(s + 1) * len]))
        .collect()
}

fn format_count(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        let s = format!("{}", v as i64);
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 && c.is_ascii_digit() {
                out.push(',');
            }
            out.push(c);
        }
        out
    } else {
        format!("{v:.2}")
    }
}

impl Panel {
    /// A stable 64-bit FNV-1a fingerprint of the grid, series ids, target values, covariates and
    /// statics (so the cluster assignment too): a resume or
    /// a prediction run can check that it sees the same data.
    pub fn fingerprint(&self) -> String {
        let mut h = Fnv::new();
        h.eat(&self.grid.start.to_le_bytes());
        h.eat(&(self.grid.len as u64).to_le_bytes());
        h.eat(self.grid.frequency.label().as_bytes());
        h.eat(self.target_name.as_bytes());
        for s in &self.series {
            h.eat(s.as_bytes());
            h.eat(&[0]);
        }
        for v in &self.target {
            // One bit pattern for every placeholder.
            let v = if v.is_nan() { f64::NAN } else { *v };
            h.eat(&v.to_le_bytes());
        }
        for c in &self.covariates {
            h.eat(c.name.as_bytes());
            h.eat(&[0, c.role as u8]);
            if let CovariateKind::Categorical { cardinality } = c.kind {
                h.eat(&(cardinality as u64).to_le_bytes());
            }
            let values = match &c.values {
                CovariateValues::Shared(v) => v,
                CovariateValues::PerSeries(v) => v,
            };
            for v in values {
                h.eat(&v.to_le_bytes());
            }
        }
        for s in &self.statics {
            h.eat(s.name.as_bytes());
            h.eat(&[0]);
            h.eat(
                self.static_fingerprint(&s.name)
                    .unwrap_or_default()
                    .as_bytes(),
            );
        }
        h.hex()
    }

    /// Fingerprint of one static attribute's values (the cluster assignment, a zone's borough).
    pub fn static_fingerprint(&self, name: &str) -> Option<String> {
        let values = self.static_values(name)?;
        let mut h = Fnv::new();
        for v in values {
            h.eat(v.as_bytes());
            h.eat(&[0]);
        }
        Some(h.hex())
    }
}

/// FNV-1a, 64 bits: stable across builds and platforms (std's hasher is not).
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn eat(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= *b as u64;
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{parse_date, Frequency};

    #[test]
    fn history_and_runs_stop_at_missing_periods() {
        let grid = TimeGrid::from_days(
            parse_date("2024-01-01").unwrap(),
            parse_date("2024-01-08").unwrap(),
            Frequency::Daily,
        );
        let nan = f64::NAN;
        let p = Panel::ragged(
            grid,
            "y",
            vec!["late".into(), "gap".into()],
            vec![
                nan, nan, 3.0, 4.0, 5.0, 6.0, 7.0, nan, //
                1.0, 2.0, nan, nan, 5.0, 6.0, 7.0, 8.0,
            ],
        )
        .unwrap();
        assert_eq!(
            p.span(0),
            Span {
                first: 2,
                end: 7,
                missing: 0
            }
        );
        assert_eq!(
            p.span(1),
            Span {
                first: 0,
                end: 8,
                missing: 2
            }
        );
        assert_eq!(p.observed(0), &[3.0, 4.0, 5.0, 6.0, 7.0]);
        assert_eq!(p.runs(1), vec![0..2, 4..8]);
        assert_eq!(p.history(1, 6), Some((4, &[5.0, 6.0, 7.0][..])));
        assert_eq!(p.history(1, 1), Some((0, &[1.0, 2.0][..])));
        assert_eq!(p.history(1, 3), None);
        assert_eq!(p.history(0, 4), Some((2, &[3.0, 4.0, 5.0][..])));
        assert!(p.has_window(1, 4, 3) && !p.has_window(1, 1, 3) && !p.has_window(0, 5, 2));
        assert!(!p.is_full() && p.is_non_negative());
        assert_eq!(p.clone(), p);
        // The same values as a full panel are refused: a full span has no NaN.
        let err = Panel::new(grid, "y", vec!["a".into()], p.values(0).to_vec())
            .unwrap_err()
            .to_string();
        assert!(err.contains("non-finite target NaN at 2024-01-01"), "{err}");
    }
}
