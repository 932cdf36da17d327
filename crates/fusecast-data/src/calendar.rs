//! Calendar covariates (known in advance) and US federal holidays.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate, Timelike, Weekday};

use serde::{Deserialize, Serialize};

use crate::config::{FeaturesConfig, HolidaySet};
use crate::panel::{Covariate, CovariateKind, CovariateValues, Role};
use crate::time::{weekday_index, Day, Frequency, TimeGrid};

/// The names [`calendar_covariates`] gives its covariates.
pub const CALENDAR_COVARIATES: [&str; 7] = [
    "hour",
    "day_of_week",
    "day_of_year",
    "month",
    "holiday",
    "days_to_holiday",
    "days_since_holiday",
];

/// How far (in days) `days_to_holiday` and `days_since_holiday` look; farther reads as this.
pub const HOLIDAY_REACH: i64 = 7;

/// What a panel's calendar covariates are made from. A model saves it so that a forecast past
/// the data gets the same covariates for its future periods, holidays included.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarSpec {
    pub holidays: HolidaySet,
    pub extra_holidays: Vec<Day>,
    /// Whether the days to the next and since the last holiday are inputs (models saved before
    /// they existed have neither).
    #[serde(default)]
    pub holiday_distance: bool,
}

impl CalendarSpec {
    /// The holiday setting of `features` (whether or not calendar covariates are on: the
    /// Prophet-style baselines read holidays too).
    pub fn of(features: &FeaturesConfig) -> Self {
        CalendarSpec {
            holidays: features.holidays,
            extra_holidays: features.extra_holidays.clone(),
            holiday_distance: features.holiday_distance,
        }
    }

    /// The holidays of the years `first..=last`, extra dates included.
    pub fn holidays(&self, first: i32, last: i32) -> HolidayCalendar {
        let mut cal = match self.holidays {
            HolidaySet::Us => HolidayCalendar::us_federal(first, last),
            HolidaySet::None => HolidayCalendar::none(),
        };
        for d in &self.extra_holidays {
            cal.add(d.0, "extra");
        }
        cal
    }

    /// The calendar covariates of `grid`.
    pub fn covariates(&self, grid: &TimeGrid) -> Vec<Covariate> {
        let (first, last) = (grid.first_day().year(), grid.last_day().year());
        let mut out = calendar_covariates(grid, &self.holidays(first, last));
        if self.holiday_distance {
            // A year either side: the distance to a holiday crosses New Year.
            let around = self.holidays(first - 1, last + 1);
            if !around.is_empty() {
                out.extend(holiday_distance_covariates(grid, &around));
            }
        }
        out
    }
}

/// Holiday dates with their names. Both the actual date and the observed day off are marked,
/// since demand moves on both (Christmas on a Sunday still empties the streets).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HolidayCalendar {
    dates: BTreeMap<NaiveDate, String>,
}

impl HolidayCalendar {
    pub fn none() -> Self {
        Self::default()
    }

    /// US federal holidays for the years `first..=last`.
    pub fn us_federal(first: i32, last: i32) -> Self {
        let mut cal = HolidayCalendar::default();
        for year in first..=last {
            for (date, name) in us_federal_holidays(year) {
                cal.dates.entry(date).or_insert_with(|| name.to_string());
                let observed = match date.weekday() {
                    Weekday::Sat => date - Duration::days(1),
                    Weekday::Sun => date + Duration::days(1),
                    _ => date,
                };
                cal.dates
                    .entry(observed)
                    .or_insert_with(|| format!("{name} (observed)"));
            }
        }
        cal
    }

    pub fn add(&mut self, date: NaiveDate, name: &str) {
        self.dates.insert(date, name.to_string());
    }

    pub fn name(&self, date: NaiveDate) -> Option<&str> {
        self.dates.get(&date).map(String::as_str)
    }

    /// All dates, ascending.
    pub fn dates(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.dates.keys().copied()
    }

    /// Days from `date` to the first holiday on or after it, and since the last on or before
    /// it; `None` where there is none.
    pub fn distances(&self, date: NaiveDate) -> (Option<i64>, Option<i64>) {
        let to = self
            .dates
            .range(date..)
            .next()
            .map(|(h, _)| (*h - date).num_days());
        let since = self
            .dates
            .range(..=date)
            .next_back()
            .map(|(h, _)| (date - *h).num_days());
        (to, since)
    }

    pub fn contains(&self, date: NaiveDate) -> bool {
        self.dates.contains_key(&date)
    }

    pub fn len(&self) -> usize {
        self.dates.len()
    }

    pub fn is_empty(&self) -> bool {
        self.dates.is_empty()
    }
}

fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u8) -> NaiveDate {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, n).expect("the nth weekday exists")
}

fn last_weekday(year: i32, month: u32, weekday: Weekday) -> NaiveDate {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, 5)
        .unwrap_or_else(|| nth_weekday(year, month, weekday, 4))
}

/// The federal holidays of one year (5 U.S.C. 6103), on their actual dates.
pub fn us_federal_holidays(year: i32) -> Vec<(NaiveDate, &'static str)> {
    let d = |m, day| NaiveDate::from_ymd_opt(year, m, day).expect("valid date");
    let mut out = vec![(d(1, 1), "New Year's Day")];
    if year >= 1986 {
        out.push((
            nth_weekday(year, 1, Weekday::Mon, 3),
            "Martin Luther King Jr. Day",
        ));
    }
    out.push((
        nth_weekday(year, 2, Weekday::Mon, 3),
        "Washington's Birthday",
    ));
    out.push((last_weekday(year, 5, Weekday::Mon), "Memorial Day"));
    if year >= 2021 {
        out.push((d(6, 19), "Juneteenth"));
    }
    out.push((d(7, 4), "Independence Day"));
    out.push((nth_weekday(year, 9, Weekday::Mon, 1), "Labor Day"));
    out.push((nth_weekday(year, 10, Weekday::Mon, 2), "Columbus Day"));
    out.push((d(11, 11), "Veterans Day"));
    out.push((nth_weekday(year, 11, Weekday::Thu, 4), "Thanksgiving Day"));
    out.push((d(12, 25), "Christmas Day"));
    out
}

/// Calendar covariates for a grid: hour (hourly grids), day of week, day of year, month, holiday.
pub fn calendar_covariates(grid: &TimeGrid, holidays: &HolidayCalendar) -> Vec<Covariate> {
    let times: Vec<_> = (0..grid.len).map(|i| grid.datetime(i)).collect();
    let known = |name: &str, kind, values: Vec<f32>| Covariate {
        name: name.to_string(),
        role: Role::Known,
        kind,
        values: CovariateValues::Shared(values),
    };
    let mut out = Vec::new();
    if grid.frequency == Frequency::Hourly {
        out.push(known(
            "hour",
            CovariateKind::Categorical { cardinality: 24 },
            times.iter().map(|t| t.hour() as f32).collect(),
        ));
    }
    out.push(known(
        "day_of_week",
        CovariateKind::Categorical { cardinality: 7 },
        times
            .iter()
            .map(|t| weekday_index(t.date()) as f32)
            .collect(),
    ));
    out.push(known(
        "day_of_year",
        CovariateKind::Real,
        // Centred on 0 so that the model sees a small, signed real.
        times
            .iter()
            .map(|t| (t.ordinal0() as f32 / 365.0) - 0.5)
            .collect(),
    ));
    out.push(known(
        "month",
        CovariateKind::Categorical { cardinality: 12 },
        times.iter().map(|t| t.month0() as f32).collect(),
    ));
    out.push(known(
        "holiday",
        CovariateKind::Categorical { cardinality: 2 },
        times
            .iter()
            .map(|t| holidays.contains(t.date()) as u8 as f32)
            .collect(),
    ));
    out
}

/// Known reals `days_to_holiday` and `days_since_holiday`, each capped at [`HOLIDAY_REACH`]: the
/// days around a holiday (a Christmas weekend, the Friday before Memorial Day) move demand as
/// well as the day itself, and the holiday flag alone cannot tell them from any other day.
pub fn holiday_distance_covariates(grid: &TimeGrid, holidays: &HolidayCalendar) -> Vec<Covariate> {
    let days: Vec<(i64, i64)> = (0..grid.len)
        .map(|i| {
            let (to, since) = holidays.distances(grid.datetime(i).date());
            let cap = |d: Option<i64>| d.map_or(HOLIDAY_REACH, |d| d.min(HOLIDAY_REACH));
            (cap(to), cap(since))
        })
        .collect();
    let real = |name: &str, pick: fn(&(i64, i64)) -> i64| Covariate {
        name: name.to_string(),
        role: Role::Known,
        kind: CovariateKind::Real,
        values: CovariateValues::Shared(days.iter().map(|d| pick(d) as f32).collect()),
    };
    vec![
        real("days_to_holiday", |d| d.0),
        real("days_since_holiday", |d| d.1),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        crate::time::parse_date(s).unwrap()
    }

    #[test]
    fn federal_holidays_match_the_published_dates() {
        // Published OPM dates for 2023 and 2024.
        let cal = HolidayCalendar::us_federal(2023, 2024);
        for date in [
            "2023-01-02",
            "2023-01-16",
            "2023-02-20",
            "2023-05-29",
            "2023-06-19",
            "2023-07-04",
            "2023-09-04",
            "2023-10-09",
            "2023-11-10",
            "2023-11-23",
            "2023-12-25",
            "2024-01-01",
            "2024-01-15",
            "2024-02-19",
            "2024-05-27",
            "2024-06-19",
            "2024-07-04",
            "2024-09-02",
            "2024-10-14",
            "2024-11-11",
            "2024-11-28",
            "2024-12-25",
        ] {
            assert!(cal.contains(d(date)), "{date} should be a holiday");
        }
        assert_eq!(cal.name(d("2023-11-23")), Some("Thanksgiving Day"));
        // Jan 1 2023 was a Sunday: both it and Monday Jan 2 are marked.
        assert!(cal.contains(d("2023-01-01")));
        assert!(!cal.contains(d("2023-11-24")));
        assert!(!HolidayCalendar::us_federal(2020, 2020).contains(d("2020-06-19")));
    }

    #[test]
    fn holiday_distances_cross_new_year_and_are_capped() {
        let grid = TimeGrid::from_days(d("2024-12-30"), d("2025-01-02"), Frequency::Daily);
        let spec = CalendarSpec {
            holidays: HolidaySet::Us,
            extra_holidays: Vec::new(),
            holiday_distance: true,
        };
        let cov = spec.covariates(&grid);
        let get = |n: &str| match &cov.iter().find(|c| c.name == n).unwrap().values {
            CovariateValues::Shared(v) => v.clone(),
            _ => unreachable!(),
        };
        // New Year's Day 2025 ahead; after it, Martin Luther King Jr. Day (Jan 20) is beyond a week.
        assert_eq!(get("days_to_holiday"), [2.0, 1.0, 0.0, 7.0]);
        // Christmas 2024 behind, then New Year's Day.
        assert_eq!(get("days_since_holiday"), [5.0, 6.0, 0.0, 1.0]);
        let off = CalendarSpec {
            holiday_distance: false,
            ..spec
        };
        assert!(off
            .covariates(&grid)
            .iter()
            .all(|c| c.name != "days_to_holiday"));
    }

    #[test]
    fn a_calendar_saved_before_holiday_distances_reads_without_them() {
        let spec: CalendarSpec =
            serde_json::from_str(r#"{"holidays": "us", "extra_holidays": []}"#).unwrap();
        assert!(!spec.holiday_distance);
    }

    #[test]
    fn calendar_features_line_up_with_the_grid() {
        let grid = TimeGrid::from_days(d("2024-12-24"), d("2024-12-26"), Frequency::Hourly);
        let cov = calendar_covariates(&grid, &HolidayCalendar::us_federal(2024, 2024));
        let get = |n: &str| match &cov.iter().find(|c| c.name == n).unwrap().values {
            CovariateValues::Shared(v) => v.clone(),
            _ => unreachable!(),
        };
        assert_eq!(get("hour")[..3], [0.0, 1.0, 2.0]);
        assert_eq!(get("hour")[47], 23.0);
        // 2024-12-24 is a Tuesday (1), Christmas a Wednesday (2).
        assert_eq!(get("day_of_week")[0], 1.0);
        assert_eq!(get("day_of_week")[24], 2.0);
        assert_eq!(get("holiday")[23], 0.0);
        assert_eq!(get("holiday")[24], 1.0);
        assert_eq!(get("holiday")[48], 0.0);
        assert_eq!(get("month")[0], 11.0);
    }
}
