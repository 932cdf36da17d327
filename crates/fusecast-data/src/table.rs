//! Generic long tables: one row per (series, timestamp) with a target and optional covariates,
//! from CSV or parquet. Validated strictly: every problem names its file, column and row.

use std::collections::HashMap;

use chrono::NaiveDate;
use chrono_tz::Tz;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::files::{self, DataFile};
use crate::panel::{Covariate, CovariateKind, CovariateValues, Panel, Role, Span};
use crate::time::{self, Frequency, TimeGrid};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FillMissing {
    /// A missing period inside a series (between its first and last row) is an error naming
    /// the series and period.
    #[default]
    Error,
    /// Missing periods count as 0 (event counts).
    Zero,
    /// A missing period takes the last value before it (levels: a price, a meter reading).
    Carry,
    /// A missing period is linear between the values on either side of its gap.
    Interpolate,
    /// A missing period stays missing: windows that would read it are skipped, and target
    /// scalers and baselines leave it out.
    Drop,
}

impl FillMissing {
    /// Whether an empty target cell in a row is a missing period rather than an error.
    fn accepts_empty(self) -> bool {
        !matches!(self, FillMissing::Error)
    }
}

#[derive(Clone, Debug)]
pub struct TableOptions {
    pub files: Vec<DataFile>,
    pub series_column: String,
    pub timestamp_column: String,
    pub target_column: String,
    pub known_reals: Vec<String>,
    pub observed_reals: Vec<String>,
    pub static_columns: Vec<String>,
    pub frequency: Frequency,
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
    pub fill_missing: FillMissing,
    pub allow_negative: bool,
    pub timezone: Tz,
}

impl TableOptions {
    /// A long table of `series, timestamp, target` columns and nothing else: no covariates or
    /// statics, the whole time range, gaps are errors, negative targets refused, times in UTC.
    pub fn new(
        files: Vec<DataFile>,
        series_column: &str,
        timestamp_column: &str,
        target_column: &str,
        frequency: Frequency,
    ) -> Self {
        TableOptions {
            files,
            series_column: series_column.into(),
            timestamp_column: timestamp_column.into(),
            target_column: target_column.into(),
            known_reals: vec![],
            observed_reals: vec![],
            static_columns: vec![],
            frequency,
            start: None,
            end: None,
            fill_missing: FillMissing::Error,
            allow_negative: false,
            timezone: chrono_tz::UTC,
        }
    }
}

/// Where a value came from, for error messages.
#[derive(Clone, Copy)]
struct Origin {
    file: u32,
    row: u32,
}

struct Rows {
    series: HashMap<String, usize>,
    names: Vec<String>,
    time: Vec<i64>,
    sid: Vec<u32>,
    target: Vec<Option<f64>>,
    covariates: Vec<Vec<Option<f64>>>,
    statics: Vec<Vec<String>>,
    origin: Vec<Origin>,
}

pub fn read_table(opts: &TableOptions) -> Result<Panel> {
    let mut rows = Rows {
        series: HashMap::new(),
        names: Vec::new(),
        time: Vec::new(),
        sid: Vec::new(),
        target: Vec::new(),
        covariates: vec![Vec::new(); opts.known_reals.len() + opts.observed_reals.len()],
        statics: vec![Vec::new(); opts.static_columns.len()],
        origin: Vec::new(),
    };
    for (fi, file) in opts.files.iter().enumerate() {
        read_file(opts, fi, file, &mut rows)?;
    }
    if rows.time.is_empty() {
        return Err(DataError::Empty {
            what: format!("{} table file(s)", opts.files.len()),
            detail: "no rows".into(),
        });
    }
    build_panel(opts, rows)
}

fn read_file(opts: &TableOptions, fi: usize, file: &DataFile, rows: &mut Rows) -> Result<()> {
    let schema = files::schema(file)?;
    let mut wanted = vec![
        (opts.series_column.as_str(), "data.series_column"),
        (opts.timestamp_column.as_str(), "data.timestamp_column"),
        (opts.target_column.as_str(), "data.target_column"),
    ];
    wanted.extend(
        opts.known_reals
            .iter()
            .map(|c| (c.as_str(), "features.known_reals")),
    );
    wanted.extend(
        opts.observed_reals
            .iter()
            .map(|c| (c.as_str(), "features.observed_reals")),
    );
    wanted.extend(
        opts.static_columns
            .iter()
            .map(|c| (c.as_str(), "features.static")),
    );
    let names: Vec<String> = wanted
        .iter()
        .map(|(c, why)| files::require_column(file, &schema, c, why))
        .collect::<Result<_>>()?;
    let df = files::read_columns(file, &names)?;
    let column = |name: &str| files::column_of(file, &df, name);
    let ts = column(&names[1])?;
    let times = crate::trips::timestamp_column(file, &names[1], &ts, opts.timezone)?;
    let ids = strings(file, &column(&names[0])?)?;
    let target = numbers(file, &names[2], &column(&names[2])?)?;
    let n_cov = opts.known_reals.len() + opts.observed_reals.len();
    let covs: Vec<Vec<Option<f64>>> = names[3..3 + n_cov]
        .iter()
        .map(|n| numbers(file, n, &column(n)?))
        .collect::<Result<_>>()?;
    let stats: Vec<Vec<Option<String>>> = names[3 + n_cov..]
        .iter()
        .map(|n| strings(file, &column(n)?))
        .collect::<Result<_>>()?;
    let step = opts.frequency.step_seconds();
    for i in 0..df.height() {
        let row = i + 1;
        let Some(t) = times[i] else {
            return Err(DataError::BadTimestamp {
                path: file.path.clone(),
                column: names[1].clone(),
                row,
                value: String::new(),
            });
        };
        if t.rem_euclid(step) != 0 {
            return Err(DataError::OffGrid {
                path: file.path.clone(),
                column: names[1].clone(),
                row,
                timestamp: time::format_timestamp(t),
                frequency: opts.frequency.to_string(),
            });
        }
        if let Some(day) = opts.start {
            if t < time::date_seconds(day) {
                continue;
            }
        }
        if let Some(day) = opts.end {
            if t >= time::date_seconds(day) + time::SECONDS_PER_DAY {
                continue;
            }
        }
        let Some(id) = ids[i].clone().filter(|s| !s.is_empty()) else {
            return Err(DataError::read(
                &file.path,
                format!("column `{}`, row {row}: empty series id", names[0]),
            ));
        };
        let next = rows.names.len();
        let sid = *rows.series.entry(id.clone()).or_insert(next);
        if sid == next {
            rows.names.push(id);
        }
        rows.time.push(t);
        rows.sid.push(sid as u32);
        rows.target.push(target[i]);
        for (dst, src) in rows.covariates.iter_mut().zip(&covs) {
            dst.push(src[i]);
        }
        for (dst, src) in rows.statics.iter_mut().zip(&stats) {
            dst.push(src[i].clone().unwrap_or_default());
        }
        rows.origin.push(Origin {
            file: fi as u32,
            row: row as u32,
        });
    }
    Ok(())
}

/// The gap `t..end` of missing values that starts at `t`.
fn row_gap(row: &[f64], t: usize) -> (usize, usize) {
    let end = (t..row.len())
        .find(|&u| !row[u].is_nan())
        .unwrap_or(row.len());
    (t, end)
}

pub(crate) fn strings(file: &DataFile, s: &Series) -> Result<Vec<Option<String>>> {
    let s = s
        .cast(&DataType::String)
        .map_err(|e| DataError::read(&file.path, e))?;
    Ok(s.str()
        .map_err(|e| DataError::read(&file.path, e))?
        .iter()
        .map(|v| v.map(|v| v.trim().to_string()))
        .collect())
}

pub(crate) fn numbers(file: &DataFile, name: &str, s: &Series) -> Result<Vec<Option<f64>>> {
    if s.dtype().is_primitive_numeric() {
        let f = s
            .cast(&DataType::Float64)
            .map_err(|e| DataError::read(&file.path, e))?;
        return Ok(f
            .f64()
            .map_err(|e| DataError::read(&file.path, e))?
            .iter()
            .map(|v| v.filter(|x| !x.is_nan()))
            .collect());
    }
    let df = DataFrame::new_infer_height(vec![s.clone().with_name(name.into()).into()])
        .map_err(|e| DataError::read(&file.path, e))?;
    crate::trips::parse_numbers(file, &df, name)
}

fn build_panel(opts: &TableOptions, rows: Rows) -> Result<Panel> {
    let path = |o: Origin| opts.files[o.file as usize].path.clone();
    let lo = *rows.time.iter().min().expect("non-empty");
    let hi = *rows.time.iter().max().expect("non-empty");
    let first = opts.start.unwrap_or(time::to_datetime(lo).date());
    let last = opts.end.unwrap_or(time::to_datetime(hi).date());
    let mut grid = TimeGrid::from_days(first, last, opts.frequency);
    if opts.end.is_none() {
        // Without an explicit end, stop at the last row rather than the end of its day.
        grid.len = grid.index_of(hi).map(|i| i + 1).unwrap_or(grid.len);
    }
    let n = rows.names.len();
    let len = grid.len;
    let mut target = vec![f64::NAN; n * len];
    let mut owner: Vec<Option<Origin>> = vec![None; n * len];
    let n_cov = rows.covariates.len();
    let mut covs = vec![vec![f32::NAN; n * len]; n_cov];
    let mut negatives: Vec<Origin> = Vec::new();
    let mut negative_value = 0.0;
    for i in 0..rows.time.len() {
        let o = rows.origin[i];
        let s = rows.sid[i] as usize;
        let t = grid
            .index_of(rows.time[i])
            .expect("rows were filtered to the range");
        let cell = s * len + t;
        if let Some(first) = owner[cell] {
            // The hour a fall-back repeats holds two real hours on the wall-clock grid: their
            // values add up (as trips do when aggregated), their covariates keep the first.
            if time::local_time(rows.time[i], opts.timezone) == time::LocalTime::Repeated {
                if let (Some(v), true) = (rows.target[i], target[cell].is_finite()) {
                    target[cell] += v;
                }
                continue;
            }
            return Err(DataError::DuplicateRow {
                path: path(o),
                series: rows.names[s].clone(),
                timestamp: time::format_timestamp(rows.time[i]),
                first_row: first.row as usize,
                row: o.row as usize,
            });
        }
        owner[cell] = Some(o);
        match rows.target[i] {
            Some(v) => {
                if v < 0.0 && !opts.allow_negative {
                    if negatives.is_empty() {
                        negative_value = v;
                    }
                    negatives.push(o);
                }
                target[cell] = v;
            }
            None if opts.fill_missing == FillMissing::Zero => target[cell] = 0.0,
            // Left NaN: a missing period, filled (or kept missing) with the gaps below.
            None if opts.fill_missing.accepts_empty() => {}
            None => {
                return Err(DataError::BadNumber {
                    path: path(o),
                    column: opts.target_column.clone(),
                    row: o.row as usize,
                    value: String::new(),
                })
            }
        }
        for (c, values) in rows.covariates.iter().enumerate() {
            if let Some(v) = values[i] {
                covs[c][cell] = v as f32;
            }
        }
    }
    if let Some(o) = negatives.first() {
        return Err(DataError::NegativeValue {
            path: path(*o),
            column: opts.target_column.clone(),
            row: o.row as usize,
            value: negative_value,
            count: negatives.len(),
        });
    }
    // The hour a spring-forward skips never happened: not a gap. It is filled with the mean
    // of the hours around it (covariates are filled from neighbours below).
    for cell in 0..n * len {
        let t = cell % len;
        if owner[cell].is_some()
            || time::local_time(grid.timestamp(t), opts.timezone) != time::LocalTime::Skipped
        {
            continue;
        }
        let around: Vec<(f64, Origin)> = [t.checked_sub(1), (t + 1 < len).then_some(t + 1)]
            .into_iter()
            .flatten()
            .filter_map(|u| {
                let c = cell - t + u;
                owner[c].map(|o| (target[c], o))
            })
            .filter(|(v, _)| v.is_finite())
            .collect();
        if let Some(&(_, o)) = around.first() {
            target[cell] = around.iter().map(|(v, _)| v).sum::<f64>() / around.len() as f64;
            owner[cell] = Some(o);
        }
    }
    // Each series is observed from its first value to its last; only the periods between them
    // are gaps (a zone that opens later is not years of zeros).
    for s in 0..n {
        let row = &mut target[s * len..(s + 1) * len];
        let span = Span::of(row);
        if span.is_empty() {
            return Err(DataError::Invalid(format!(
                "{}: series {:?} has no value in column `{}`",
                opts.files[0].path.display(),
                rows.names[s],
                opts.target_column
            )));
        }
        if span.missing == 0 {
            continue;
        }
        let gap = |t: usize| row_gap(row, t);
        match opts.fill_missing {
            FillMissing::Error => {
                let t = (span.first..span.end)
                    .find(|&t| row[t].is_nan())
                    .expect("a span with missing periods has one");
                return Err(DataError::MissingPeriod {
                    path: opts.files[0].path.clone(),
                    series: rows.names[s].clone(),
                    timestamp: time::format_timestamp(grid.timestamp(t)),
                    more: span.missing - 1,
                });
            }
            FillMissing::Drop => {}
            mode => {
                let gaps: Vec<(usize, usize)> = (span.first..span.end)
                    .filter(|&t| row[t].is_nan() && !row[t - 1].is_nan())
                    .map(gap)
                    .collect();
                for (a, b) in gaps {
                    // `a - 1` and `b` are the observations around the gap `a..b`.
                    let (before, after) = (row[a - 1], row[b]);
                    for (t, cell) in row.iter_mut().enumerate().take(b).skip(a) {
                        *cell = match mode {
                            FillMissing::Zero => 0.0,
                            FillMissing::Carry => before,
                            _ => {
                                let w = (t + 1 - a) as f64 / (b + 1 - a) as f64;
                                before + (after - before) * w
                            }
                        };
                    }
                }
            }
        }
    }
    let mut panel = Panel::ragged(grid, &opts.target_column, rows.names.clone(), target)?;
    let roles = opts
        .known_reals
        .iter()
        .map(|n| (n, Role::Known))
        .chain(opts.observed_reals.iter().map(|n| (n, Role::Observed)));
    for ((name, role), mut values) in roles.zip(covs) {
        for s in 0..n {
            // Only a series' own span holds its inputs; outside it they stay placeholders.
            let span = panel.span(s);
            let series = &mut values[s * len + span.first..s * len + span.end];
            if series.iter().all(|v| !v.is_finite()) {
                return Err(DataError::Invalid(format!(
                    "covariate `{name}` has no value for series {:?}",
                    rows.names[s]
                )));
            }
            crate::weather::fill_gaps(series);
        }
        panel.add_covariate(Covariate {
            name: name.clone(),
            role,
            kind: CovariateKind::Real,
            values: CovariateValues::PerSeries(values),
        })?;
    }
    for (c, name) in opts.static_columns.iter().enumerate() {
        let mut per_series: Vec<Option<(String, Origin)>> = vec![None; n];
        for i in 0..rows.time.len() {
            let s = rows.sid[i] as usize;
            let v = &rows.statics[c][i];
            match &per_series[s] {
                None => per_series[s] = Some((v.clone(), rows.origin[i])),
                Some((first, o)) if first != v => {
                    return Err(DataError::read(
                        path(rows.origin[i]),
                        format!(
                            "static column `{name}` changes within series {:?}: {first:?} at row {} but {v:?} at row {}",
                            rows.names[s], o.row, rows.origin[i].row
                        ),
                    ))
                }
                Some(_) => {}
            }
        }
        panel.set_static(
            name,
            per_series
                .into_iter()
                .map(|v| v.map(|x| x.0).unwrap_or_default())
                .collect(),
        )?;
    }
    Ok(panel)
}
