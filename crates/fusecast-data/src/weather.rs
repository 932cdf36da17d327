//! Weather covariates: a table of numeric columns by date or hour, averaged (several stations) or
//! repeated (daily values on an hourly grid) onto the panel's grid. The real Central Park daily
//! file ships with the binary and drives both the covariates and the synthetic city.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use chrono_tz::Tz;

use crate::csvline;
use crate::error::{DataError, Result};
use crate::panel::{Covariate, CovariateKind, CovariateValues, Role};
use crate::time::{self, Frequency, TimeGrid};

const CENTRAL_PARK: &str = include_str!("../assets/central_park_daily_2009_2024.csv");
const TIME_COLUMNS: [&str; 5] = ["DATE", "date", "time_hour", "timestamp", "time"];
const SKIP_COLUMNS: [&str; 2] = ["STATION", "NAME"];

#[derive(Clone, Debug)]
pub struct WeatherTable {
    pub source: PathBuf,
    /// Row times (local seconds) and, per variable, one value per row (NaN = missing).
    pub times: Vec<i64>,
    pub variables: Vec<(String, Vec<f64>)>,
    /// Whether every row sits at midnight (a daily table).
    pub daily: bool,
}

impl WeatherTable {
    /// Daily NOAA weather at Central Park, 2009-01-01 to 2024-02-29.
    pub fn central_park() -> Self {
        Self::parse(
            CENTRAL_PARK,
            Path::new("<built-in central_park_daily_2009_2024.csv>"),
            None,
            &[],
            chrono_tz::America::New_York,
        )
        .expect("the built-in weather parses")
    }

    /// Reads a weather CSV. The time column is `time_column` or the first of DATE/date/time_hour/
    /// timestamp/time; every other numeric column is a variable unless `variables` names some.
    pub fn from_csv(
        path: &Path,
        time_column: Option<&str>,
        variables: &[String],
        tz: Tz,
    ) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path, time_column, variables, tz)
    }

    fn parse(
        text: &str,
        path: &Path,
        time_column: Option<&str>,
        variables: &[String],
        tz: Tz,
    ) -> Result<Self> {
        let (header, rows) = csvline::rows(text);
        let missing = |column: &str, why: &str| DataError::MissingColumn {
            path: path.to_path_buf(),
            column: column.to_string(),
            why: why.to_string(),
            available: header.join(", "),
        };
        let time_idx = match time_column {
            Some(c) => csvline::column(&header, c)
                .ok_or_else(|| missing(c, "features.weather_time_column"))?,
            None => TIME_COLUMNS
                .iter()
                .find_map(|c| csvline::column(&header, c))
                .ok_or_else(|| missing("DATE", "a weather table needs a date or time column"))?,
        };
        let wanted: Vec<usize> = if variables.is_empty() {
            (0..header.len())
                .filter(|&i| {
                    i != time_idx
                        && !SKIP_COLUMNS
                            .iter()
                            .any(|s| header[i].eq_ignore_ascii_case(s))
                })
                .filter(|&i| {
                    rows.iter()
                        .filter_map(|(_, f)| f.get(i).map(|v| v.trim()))
                        .filter(|v| !v.is_empty() && *v != "NA")
                        .take(50)
                        .all(|v| v.parse::<f64>().is_ok())
                })
                .collect()
        } else {
            variables
                .iter()
                .map(|v| {
                    csvline::column(&header, v)
                        .ok_or_else(|| missing(v, "features.weather_variables"))
                })
                .collect::<Result<_>>()?
        };
        if wanted.is_empty() {
            return Err(DataError::read(
                path,
                "the weather table has no numeric column",
            ));
        }
        let mut times = Vec::with_capacity(rows.len());
        let mut vars: Vec<(String, Vec<f64>)> = wanted
            .iter()
            .map(|&i| {
                (
                    header[i].trim().to_ascii_lowercase(),
                    Vec::with_capacity(rows.len()),
                )
            })
            .collect();
        for (row, fields) in &rows {
            let raw = fields.get(time_idx).map(|s| s.trim()).unwrap_or("");
            let t = time::parse_timestamp(raw, tz).ok_or_else(|| DataError::BadTimestamp {
                path: path.to_path_buf(),
                column: header[time_idx].clone(),
                row: *row,
                value: raw.to_string(),
            })?;
            times.push(t);
            for (slot, &i) in vars.iter_mut().zip(&wanted) {
                let raw = fields.get(i).map(|s| s.trim()).unwrap_or("");
                let v = match raw {
                    "" | "NA" | "NaN" => f64::NAN,
                    // NOAA writes "T" for a trace of precipitation.
                    "T" => 0.0,
                    s => s.parse::<f64>().map_err(|_| DataError::BadNumber {
                        path: path.to_path_buf(),
                        column: header[i].clone(),
                        row: *row,
                        value: s.to_string(),
                    })?,
                };
                slot.1.push(v);
            }
        }
        if times.is_empty() {
            return Err(DataError::read(path, "the weather table has no rows"));
        }
        let daily = times
            .iter()
            .all(|t| t.rem_euclid(time::SECONDS_PER_DAY) == 0);
        Ok(WeatherTable {
            source: path.to_path_buf(),
            times,
            variables: vars,
            daily,
        })
    }

    /// The span of days the table covers.
    pub fn days(&self) -> (NaiveDate, NaiveDate) {
        let lo = *self.times.iter().min().expect("non-empty");
        let hi = *self.times.iter().max().expect("non-empty");
        (time::to_datetime(lo).date(), time::to_datetime(hi).date())
    }

    /// One value per grid period for each variable: the mean of the rows in that period (or in its
    /// day, for a daily table on an hourly grid). Gaps inside the table's span are filled from the
    /// previous period (then the next); a grid reaching outside the span is an error.
    pub fn on_grid(&self, grid: &TimeGrid) -> Result<WeatherOnGrid> {
        let (first, last) = self.days();
        if grid.first_day() < first || grid.last_day() > last {
            return Err(DataError::Invalid(format!(
                "{}: weather covers {first} to {last}, but the panel runs from {} to {}",
                self.source.display(),
                grid.first_day(),
                grid.last_day()
            )));
        }
        let bucket_step = if self.daily {
            time::SECONDS_PER_DAY
        } else {
            grid.frequency.step_seconds()
        };
        let bucket = |t: i64| t.div_euclid(bucket_step);
        let mut index: HashMap<i64, Vec<usize>> = HashMap::new();
        for (row, t) in self.times.iter().enumerate() {
            index.entry(bucket(*t)).or_default().push(row);
        }
        // For a daily grid and an hourly table, every hour of the day falls in the day's bucket.
        let coarser = !self.daily && grid.frequency == Frequency::Daily;
        let mut filled = 0usize;
        let mut columns = Vec::with_capacity(self.variables.len());
        for (name, values) in &self.variables {
            let mut out = vec![f32::NAN; grid.len];
            for (i, slot) in out.iter_mut().enumerate() {
                let t = grid.timestamp(i);
                let rows: Vec<usize> = if coarser {
                    (0..24)
                        .flat_map(|h| {
                            index
                                .get(&bucket(t + h * time::SECONDS_PER_HOUR))
                                .cloned()
                                .unwrap_or_default()
                        })
                        .collect()
                } else {
                    index.get(&bucket(t)).cloned().unwrap_or_default()
                };
                let (sum, n) = rows
                    .iter()
                    .map(|&r| values[r])
                    .filter(|v| v.is_finite())
                    .fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
                if n > 0 {
                    *slot = (sum / n as f64) as f32;
                }
            }
            filled += fill_gaps(&mut out);
            if out.iter().any(|v| !v.is_finite()) {
                return Err(DataError::Invalid(format!(
                    "{}: weather variable `{name}` has no value at all inside the panel's range",
                    self.source.display()
                )));
            }
            columns.push((format!("weather_{name}"), out));
        }
        Ok(WeatherOnGrid { columns, filled })
    }
}

#[derive(Clone, Debug)]
pub struct WeatherOnGrid {
    pub columns: Vec<(String, Vec<f32>)>,
    /// How many period values were filled from a neighbour.
    pub filled: usize,
}

impl WeatherOnGrid {
    pub fn covariates(self) -> Vec<Covariate> {
        self.columns
            .into_iter()
            .map(|(name, values)| Covariate {
                name,
                role: Role::Observed,
                kind: CovariateKind::Real,
                values: CovariateValues::Shared(values),
            })
            .collect()
    }
}

/// Forward fill, then backward fill for a leading gap. Returns the number of filled values.
pub(crate) fn fill_gaps(v: &mut [f32]) -> usize {
    let mut filled = 0;
    let mut last = None;
    for x in v.iter_mut() {
        if x.is_finite() {
            last = Some(*x);
        } else if let Some(l) = last {
            *x = l;
            filled += 1;
        }
    }
    if let Some(first) = v.iter().position(|x| x.is_finite()) {
        let value = v[first];
        for x in &mut v[..first] {
            *x = value;
            filled += 1;
        }
    }
    filled
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        time::parse_date(s).unwrap()
    }

    #[test]
    fn central_park_lines_up_by_date_and_hour() {
        let w = WeatherTable::central_park();
        assert_eq!(w.days(), (d("2009-01-01"), d("2024-02-29")));
        let names: Vec<_> = w.variables.iter().map(|v| v.0.as_str()).collect();
        assert_eq!(names, ["awnd", "prcp", "snow", "snwd", "tmax", "tmin"]);
        // 2024-02-28: AWND 7.61, PRCP 0.17, TMAX 62 (the last-but-one line of the file).
        let grid = TimeGrid::from_days(d("2024-02-28"), d("2024-02-29"), Frequency::Hourly);
        let on = w.on_grid(&grid).unwrap();
        let col = |n: &str| on.columns.iter().find(|c| c.0 == n).unwrap().1.clone();
        assert_eq!(col("weather_tmax")[0], 62.0);
        assert_eq!(col("weather_tmax")[23], 62.0);
        assert_eq!(col("weather_tmax")[24], 43.0);
        assert!((col("weather_prcp")[5] - 0.17).abs() < 1e-6);
        let outside = TimeGrid::from_days(d("2024-02-01"), d("2024-03-05"), Frequency::Daily);
        let err = w.on_grid(&outside).unwrap_err().to_string();
        assert!(
            err.contains("2024-02-29") && err.contains("2024-03-05"),
            "{err}"
        );
    }

    #[test]
    fn hourly_stations_average_into_days() {
        let csv = "origin,time_hour,temp\nEWR,2013-01-01T06:00:00Z,10\nJFK,2013-01-01T06:00:00Z,20\nEWR,2013-01-01T07:00:00Z,\nEWR,2013-01-02T07:00:00Z,30\n";
        let w = WeatherTable::parse(
            csv,
            Path::new("w.csv"),
            None,
            &[],
            chrono_tz::America::New_York,
        )
        .unwrap();
        assert!(!w.daily);
        let names: Vec<_> = w.variables.iter().map(|v| v.0.as_str()).collect();
        assert_eq!(names, ["temp"]);
        let grid = TimeGrid::from_days(d("2013-01-01"), d("2013-01-02"), Frequency::Daily);
        let on = w.on_grid(&grid).unwrap();
        assert_eq!(on.columns[0].1, vec![15.0, 30.0]);
    }
}
