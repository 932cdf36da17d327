//! Periods after the data. A forecast past the last observation reads the known inputs of the
//! periods it forecasts: the calendar and holidays are made from their timestamps, every other
//! known input comes from the user (a future table, as neuralforecast's `futr_df`), and a missing
//! one is an error naming the series and timestamp, never a guess.

use std::collections::HashMap;
use std::path::Path;

use chrono_tz::Tz;

use crate::calendar::{CalendarSpec, CALENDAR_COVARIATES};
use crate::error::{DataError, Result};
use crate::files::{self, DataFile};
use crate::panel::{Covariate, CovariateValues, Panel, Role};
use crate::time::{self, TimeGrid};

/// Values of known inputs at given (series, timestamp) cells, for the periods after the data.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FutureInputs {
    /// Where the values came from, for error messages (a file, or a request field).
    pub source: String,
    pub columns: Vec<String>,
    /// `(series, local timestamp) -> one value per column` (NaN: not given).
    values: HashMap<(String, i64), Vec<f64>>,
}

impl FutureInputs {
    pub fn new(source: impl Into<String>, columns: Vec<String>) -> Self {
        FutureInputs {
            source: source.into(),
            columns,
            values: HashMap::new(),
        }
    }

    /// Sets the value of `column` for `series` at `timestamp` (local wall clock seconds).
    pub fn set(&mut self, series: &str, timestamp: i64, column: usize, value: f64) {
        let n = self.columns.len();
        self.values
            .entry((series.to_string(), timestamp))
            .or_insert_with(|| vec![f64::NAN; n])[column] = value;
    }

    pub fn get(&self, series: &str, timestamp: i64, column: &str) -> Option<f64> {
        let j = self.columns.iter().position(|c| c == column)?;
        let v = self.values.get(&(series.to_string(), timestamp))?[j];
        v.is_finite().then_some(v)
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Reads a long table (CSV or parquet) of `series_column, timestamp_column` and the given
    /// known-input columns. Every problem names the file, column and row.
    pub fn read(
        path: &Path,
        series_column: &str,
        timestamp_column: &str,
        columns: &[String],
        tz: Tz,
    ) -> Result<Self> {
        let file = DataFile::new(path)?;
        let schema = files::schema(&file)?;
        let mut names = vec![
            files::require_column(&file, &schema, series_column, "the series id")?,
            files::require_column(&file, &schema, timestamp_column, "the timestamp")?,
        ];
        for c in columns {
            names.push(files::require_column(
                &file,
                &schema,
                c,
                "a known input the model reads in the periods it forecasts",
            )?);
        }
        let df = files::read_columns(&file, &names)?;
        let column = |name: &str| files::column_of(&file, &df, name);
        let ids = crate::table::strings(&file, &column(&names[0])?)?;
        let times = crate::trips::timestamp_column(&file, &names[1], &column(&names[1])?, tz)?;
        let values: Vec<Vec<Option<f64>>> = names[2..]
            .iter()
            .map(|n| crate::table::numbers(&file, n, &column(n)?))
            .collect::<Result<_>>()?;
        let mut out = FutureInputs::new(path.display().to_string(), columns.to_vec());
        for row in 0..df.height() {
            let at = |column: &str| (file.path.clone(), column.to_string(), row + 1);
            let Some(id) = &ids[row] else {
                let (path, column, row) = at(&names[0]);
                return Err(DataError::BadNumber {
                    path,
                    column,
                    row,
                    value: "(empty series id)".into(),
                });
            };
            let Some(t) = times[row] else {
                let (path, column, row) = at(&names[1]);
                return Err(DataError::BadTimestamp {
                    path,
                    column,
                    row,
                    value: String::new(),
                });
            };
            for (j, v) in values.iter().enumerate() {
                if let Some(v) = v[row] {
                    out.set(id, t, j, v);
                }
            }
        }
        Ok(out)
    }
}

/// How a panel's covariates are made for periods after its last one.
#[derive(Clone, Debug, Default)]
pub struct FutureSpec<'a> {
    /// The calendar the panel's calendar covariates were made with; `None`: the panel has none.
    pub calendar: Option<&'a CalendarSpec>,
    /// Every other known input.
    pub inputs: Option<&'a FutureInputs>,
}

impl Panel {
    /// This panel with `horizon` more periods: calendar covariates made for them, other known
    /// inputs read from `spec.inputs` (each missing value is an error naming the series and
    /// timestamp), observed inputs and the target held at their last value. The decoder reads
    /// neither of those two in the new periods; they are there only so that the panel stays
    /// rectangular.
    pub fn extended(&self, horizon: usize, spec: &FutureSpec) -> Result<Panel> {
        let n = self.n_series();
        let len = self.len();
        if len == 0 {
            return Err(DataError::Invalid(
                "no periods to forecast from".to_string(),
            ));
        }
        let grid = TimeGrid {
            len: len + horizon,
            ..self.grid
        };
        let calendar = spec.calendar.map(|c| c.covariates(&grid));
        // The new periods are outside every series' span: NaN placeholders, as the panel
        // keeps them.
        let mut target = Vec::with_capacity(n * grid.len);
        for s in 0..n {
            target.extend_from_slice(self.values(s));
            target.extend(std::iter::repeat_n(f64::NAN, horizon));
        }
        let mut covariates = Vec::with_capacity(self.covariates.len());
        for c in &self.covariates {
            let made = calendar
                .as_ref()
                .filter(|_| c.role == Role::Known && CALENDAR_COVARIATES.contains(&c.name.as_str()))
                .and_then(|cal| cal.iter().find(|m| m.name == c.name));
            let values = match (made, c.role) {
                (Some(m), _) => m.values.clone(),
                (None, Role::Observed) => hold_last(&c.values, n, len, horizon),
                (None, Role::Known) => self.future_known(c, &grid, horizon, spec.inputs)?,
            };
            covariates.push(Covariate {
                values,
                ..c.clone()
            });
        }
        let p = Panel {
            grid,
            target_name: self.target_name.clone(),
            series: self.series.clone(),
            target,
            spans: self.spans.clone(),
            covariates,
            statics: self.statics.clone(),
        };
        p.validate()?;
        Ok(p)
    }

    /// A known input over `grid`: the panel's values, and from `inputs` the `horizon` periods
    /// after each series' last observation that the panel has no value for (the new periods of
    /// a series observed to the end; for one that ended earlier, the periods after its end).
    fn future_known(
        &self,
        c: &Covariate,
        grid: &TimeGrid,
        horizon: usize,
        inputs: Option<&FutureInputs>,
    ) -> Result<CovariateValues> {
        let len = self.len();
        let Some(inputs) = inputs.filter(|i| i.columns.contains(&c.name)) else {
            return Err(DataError::Invalid(format!(
                "the model reads the known input `{}` in the periods it forecasts ({} to {}); give its future values (a table of series, timestamp, {})",
                c.name,
                time::format_timestamp(grid.timestamp(len)),
                time::format_timestamp(grid.timestamp(grid.len - 1)),
                c.name
            )));
        };
        let mut values = Vec::with_capacity(self.n_series() * grid.len);
        for s in 0..self.n_series() {
            let end = self.spans[s].end.max(1);
            let needed = end..(end + horizon).min(grid.len);
            for t in 0..grid.len {
                let have = (t < len)
                    .then(|| c.value(s, t, len))
                    .filter(|v| v.is_finite());
                if let Some(v) = have {
                    values.push(v);
                    continue;
                }
                if !needed.contains(&t) {
                    values.push(f32::NAN);
                    continue;
                }
                let ts = grid.timestamp(t);
                let v = inputs.get(&self.series[s], ts, &c.name).ok_or_else(|| {
                    DataError::Invalid(format!(
                        "{}: no value of `{}` for series {:?} at {} (the model forecasts {} to {})",
                        inputs.source,
                        c.name,
                        self.series[s],
                        time::format_timestamp(ts),
                        time::format_timestamp(grid.timestamp(needed.start)),
                        time::format_timestamp(grid.timestamp(needed.end - 1)),
                    ))
                })?;
                values.push(v as f32);
            }
        }
        Ok(CovariateValues::PerSeries(values))
    }

    /// The first `len` periods (a forecast as of an earlier cutoff).
    pub fn truncated(&self, len: usize) -> Result<Panel> {
        self.periods(0, len)
    }

    /// Periods `from..to` of every series, on a grid that starts at period `from`.
    pub fn periods(&self, from: usize, to: usize) -> Result<Panel> {
        if from >= to || to > self.len() {
            return Err(DataError::Invalid(format!(
                "cannot keep periods {from}..{to} of {}",
                self.len()
            )));
        }
        let old = self.len();
        let n = self.n_series();
        let target: Vec<f64> = (0..n)
            .flat_map(|s| self.target[s * old + from..s * old + to].iter().copied())
            .collect();
        let covariates = self
            .covariates
            .iter()
            .map(|c| Covariate {
                values: match &c.values {
                    CovariateValues::Shared(v) => CovariateValues::Shared(v[from..to].to_vec()),
                    CovariateValues::PerSeries(v) => CovariateValues::PerSeries(
                        (0..n)
                            .flat_map(|s| v[s * old + from..s * old + to].iter().copied())
                            .collect(),
                    ),
                },
                ..c.clone()
            })
            .collect();
        let p = Panel {
            grid: TimeGrid {
                start: self.grid.timestamp(from),
                len: to - from,
                ..self.grid
            },
            target_name: self.target_name.clone(),
            series: self.series.clone(),
            target: target.clone(),
            spans: (0..n)
                .map(|s| crate::panel::Span::of(&target[s * (to - from)..(s + 1) * (to - from)]))
                .collect(),
            covariates,
            statics: self.statics.clone(),
        };
        p.validate()?;
        Ok(p)
    }
}

fn hold_last(values: &CovariateValues, n: usize, len: usize, horizon: usize) -> CovariateValues {
    let extend = |v: &[f32]| -> Vec<f32> {
        let mut out = v.to_vec();
        out.extend(std::iter::repeat_n(v[len - 1], horizon));
        out
    };
    match values {
        CovariateValues::Shared(v) => CovariateValues::Shared(extend(v)),
        CovariateValues::PerSeries(v) => CovariateValues::PerSeries(
            (0..n)
                .flat_map(|s| extend(&v[s * len..(s + 1) * len]))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HolidaySet;
    use crate::panel::CovariateKind;
    use crate::time::{Day, Frequency};

    fn calendar() -> CalendarSpec {
        CalendarSpec {
            holidays: HolidaySet::Us,
            extra_holidays: vec![Day::ymd(2024, 12, 26)],
            holiday_distance: true,
        }
    }

    fn panel() -> Panel {
        let grid = TimeGrid::from_days(
            time::parse_date("2024-12-20").unwrap(),
            time::parse_date("2024-12-23").unwrap(),
            Frequency::Daily,
        );
        let mut p = Panel::new(
            grid,
            "y",
            vec!["a".into(), "b".into()],
            vec![1.0, 2.0, 3.0, 4.0, 10.0, 20.0, 30.0, 40.0],
        )
        .unwrap();
        for c in calendar().covariates(&p.grid) {
            p.add_covariate(c).unwrap();
        }
        p.add_covariate(Covariate {
            name: "price".into(),
            role: Role::Known,
            kind: CovariateKind::Real,
            values: CovariateValues::PerSeries(vec![5.0; 8]),
        })
        .unwrap();
        p.add_covariate(Covariate {
            name: "rain".into(),
            role: Role::Observed,
            kind: CovariateKind::Real,
            values: CovariateValues::Shared(vec![0.0, 0.1, 0.2, 0.3]),
        })
        .unwrap();
        p
    }

    fn shared(p: &Panel, name: &str) -> Vec<f32> {
        match &p.covariate(name).unwrap().values {
            CovariateValues::Shared(v) => v.clone(),
            CovariateValues::PerSeries(v) => v.clone(),
        }
    }

    #[test]
    fn the_calendar_runs_on_and_known_inputs_come_from_the_table() {
        let p = panel();
        let spec = calendar();
        let day = |d: &str| time::date_seconds(time::parse_date(d).unwrap());
        let mut inputs = FutureInputs::new("future.csv", vec!["price".into()]);
        for (s, base) in [("a", 6.0), ("b", 7.0)] {
            for (k, d) in ["2024-12-24", "2024-12-25", "2024-12-26"]
                .iter()
                .enumerate()
            {
                inputs.set(s, day(d), 0, base + k as f64);
            }
        }
        let future = FutureSpec {
            calendar: Some(&spec),
            inputs: Some(&inputs),
        };
        let e = p.extended(3, &future).unwrap();
        assert_eq!(e.len(), 7);
        assert_eq!(e.values(1)[..4], [10.0, 20.0, 30.0, 40.0]);
        assert!(e.values(1)[4..].iter().all(|v| v.is_nan()));
        assert_eq!(e.span(1), p.span(1));
        // Christmas (a Wednesday) and the extra day after it are holidays; Dec 24 is not.
        assert_eq!(
            shared(&e, "holiday"),
            vec![0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0]
        );
        assert_eq!(shared(&e, "day_of_week")[4..], [1.0, 2.0, 3.0]);
        // Thanksgiving (Nov 28) is more than a week back: capped at 7.
        assert_eq!(
            shared(&e, "days_to_holiday"),
            vec![5.0, 4.0, 3.0, 2.0, 1.0, 0.0, 0.0]
        );
        assert_eq!(
            shared(&e, "days_since_holiday"),
            vec![7.0, 7.0, 7.0, 7.0, 7.0, 0.0, 0.0]
        );
        let price = shared(&e, "price");
        assert_eq!(price[..7], [5.0, 5.0, 5.0, 5.0, 6.0, 7.0, 8.0]);
        assert_eq!(price[7..], [5.0, 5.0, 5.0, 5.0, 7.0, 8.0, 9.0]);
        assert_eq!(shared(&e, "rain"), vec![0.0, 0.1, 0.2, 0.3, 0.3, 0.3, 0.3]);
        assert_eq!(e.truncated(4).unwrap(), p);
    }

    #[test]
    fn a_missing_future_value_names_the_series_and_timestamp() {
        let p = panel();
        let day = time::date_seconds(time::parse_date("2024-12-24").unwrap());
        let mut inputs = FutureInputs::new("future.csv", vec!["price".into()]);
        inputs.set("a", day, 0, 6.0);
        inputs.set("b", day, 0, 6.0);
        inputs.set("a", day + 86_400, 0, 6.0);
        let spec = calendar();
        let err = p
            .extended(
                2,
                &FutureSpec {
                    calendar: Some(&spec),
                    inputs: Some(&inputs),
                },
            )
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("future.csv") && err.contains("\"b\"") && err.contains("2024-12-25"),
            "{err}"
        );
        let err = p
            .extended(
                2,
                &FutureSpec {
                    calendar: Some(&spec),
                    inputs: None,
                },
            )
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`price`") && err.contains("2024-12-24"),
            "{err}"
        );
        // Without the calendar it was made with, the calendar cannot be run on either.
        let err = p
            .extended(2, &FutureSpec::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("`day_of_week`"), "{err}");
    }
}
