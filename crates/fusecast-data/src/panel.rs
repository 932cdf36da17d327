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

#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    pub grid: TimeGrid,
    pub target_name: String,
    pub series: Vec<String>,
    /// `series.len() * grid.len`, series-major.
    pub target: Vec<f64>,
    pub covariates: Vec<Covariate>,
    pub statics: Vec<StaticCategorical>,
}

impl Panel {
    pub fn new(
        grid: TimeGrid,
        target_name: &str,
        series: Vec<String>,
        target: Vec<f64>,
    ) -> Result<Self> {
        let p = Panel {
            grid,
            target_name: target_name.to_string(),
            series,
            target,
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

    /// Whether every target value is >= 0 (counts): forecasts are then clamped at 0.
    pub fn is_non_negative(&self) -> bool {
        self.target.iter().all(|&v| v >= 0.0)
    }

    pub fn values(&self, series: usize) -> &[f64] {
        &self.target[series * self.grid.len..(series + 1) * self.grid.len]
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
        if let Some(i) = self.target.iter().position(|v| !v.is_finite()) {
            return Err(DataError::Invalid(format!(
                "series {:?} has a non-finite target {} at {}",
                self.series[i / len.max(1)],
                self.target[i],
                time::format_timestamp(self.grid.timestamp(i % len.max(1)))
            )));
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
            if let Some(v) = values.iter().find(|v| !v.is_finite()) {
                return Err(DataError::Invalid(format!(
                    "covariate `{}` has a non-finite value {v}",
                    c.name
                )));
            }
            if let CovariateKind::Categorical { cardinality } = c.kind {
                if let Some(v) = values
                    .iter()
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

    /// The panel as a long table: series_id, timestamp, target, covariates, statics.
    pub fn to_long_frame(&self) -> Result<DataFrame> {
        let n = self.n_series();
        let len = self.grid.len;
        let err = |e: PolarsError| DataError::Invalid(format!("building the long table: {e}"));
        let ids: Vec<&str> = self
            .series
            .iter()
            .flat_map(|s| std::iter::repeat_n(s.as_str(), len))
            .collect();
        let micros: Vec<i64> = (0..n)
            .flat_map(|_| (0..len).map(|t| self.grid.timestamp(t) * 1_000_000))
            .collect();
        let ts = Series::new("timestamp".into(), micros)
            .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
            .map_err(err)?;
        let mut columns: Vec<Column> = vec![
            Series::new("series_id".into(), ids).into(),
            ts.into(),
            Series::new(self.target_name.as_str().into(), self.target.clone()).into(),
        ];
        for c in &self.covariates {
            let values: Vec<f32> = (0..n)
                .flat_map(|s| (0..len).map(move |t| (s, t)))
                .map(|(s, t)| c.value(s, t, len))
                .collect();
            columns.push(Series::new(c.name.as_str().into(), values).into());
        }
        for s in &self.statics {
            let values: Vec<&str> = s
                .values
                .iter()
                .flat_map(|v| std::iter::repeat_n(v.as_str(), len))
                .collect();
            columns.push(Series::new(s.name.as_str().into(), values).into());
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
        let total: f64 = self.target.iter().sum();
        let zeros = self.target.iter().filter(|v| **v == 0.0).count();
        format!(
            "{} series x {} ({}), {} total `{}`, {:.1}% zero periods, {} covariates, statics: {}",
            self.n_series(),
            self.grid.describe(),
            self.grid.frequency,
            format_count(total),
            self.target_name,
            100.0 * zeros as f64 / self.target.len().max(1) as f64,
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
