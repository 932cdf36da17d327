//! The regressors of the Prophet-style model: changepoint times, Fourier terms and holiday
//! indicators, placed as Prophet places them so a fit on the same data has the same design.

use chrono::Datelike;
use serde::{Deserialize, Serialize};

const DAY: i64 = 86_400;

/// One Fourier seasonality: `order` sine/cosine pairs of period `period_days`, evaluated (like
/// Prophet) on days since 1970-01-01 so the phase does not depend on where the series starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Seasonality {
    pub name: String,
    pub period_days: f64,
    pub order: usize,
}

impl Seasonality {
    pub fn width(&self) -> usize {
        2 * self.order
    }

    /// Appends sin(2 pi i d / P), cos(2 pi i d / P) for i = 1..=order (Prophet's column order).
    pub fn push_features(&self, days: f64, out: &mut Vec<f64>) {
        let x = std::f64::consts::PI * 2.0 * days;
        for i in 1..=self.order {
            let c = i as f64 / self.period_days * x;
            out.push(c.sin());
            out.push(c.cos());
        }
    }
}

/// Days since the epoch of a timestamp in seconds, as a real number (Fourier argument).
pub fn days_since_epoch(ts: i64) -> f64 {
    ts as f64 / DAY as f64
}

/// The calendar day (days since the epoch) holding a timestamp.
pub fn day_number(ts: i64) -> i64 {
    ts.div_euclid(DAY)
}

/// Prophet's automatic seasonalities for an evenly spaced history: yearly with at least 730 days
/// of history, weekly with at least 14 days and a step under a week, daily with at least 2 days
/// and a step under a day. `Some(0)` switches one off, `Some(n)` forces order `n`.
pub fn auto_seasonalities(
    span_seconds: i64,
    step_seconds: i64,
    yearly: Option<usize>,
    weekly: Option<usize>,
    daily: Option<usize>,
) -> Vec<Seasonality> {
    let pick = |setting: Option<usize>, enabled: bool, default: usize| match setting {
        None if enabled => default,
        None => 0,
        Some(n) => n,
    };
    let mut out = Vec::new();
    let mut add = |name: &str, period_days: f64, order: usize| {
        if order > 0 {
            out.push(Seasonality {
                name: name.into(),
                period_days,
                order,
            });
        }
    };
    add(
        "yearly",
        365.25,
        pick(yearly, span_seconds >= 730 * DAY, 10),
    );
    add(
        "weekly",
        7.0,
        pick(
            weekly,
            span_seconds >= 14 * DAY && step_seconds < 7 * DAY,
            3,
        ),
    );
    add(
        "daily",
        1.0,
        pick(daily, span_seconds >= 2 * DAY && step_seconds < DAY, 4),
    );
    out
}

/// Scaled times (history = [0, 1]) of the potential changepoints: `n_changepoints` rows spread
/// evenly (numpy's linspace + round-half-even, as Prophet) over the first `range` of the history,
/// the first row excluded. Fewer when the history is short; empty when it has no room for one.
pub fn changepoint_times(n: usize, n_changepoints: usize, range: f64) -> Vec<f64> {
    let hist_size = (n as f64 * range).floor() as usize;
    let count = if n_changepoints + 1 > hist_size {
        hist_size.saturating_sub(1)
    } else {
        n_changepoints
    };
    if count == 0 || n < 2 {
        return vec![];
    }
    let last = (hist_size - 1) as f64;
    (1..=count)
        .map(|j| {
            let row = (last * j as f64 / count as f64).round_ties_even();
            row / (n - 1) as f64
        })
        .collect()
}

/// Groups holiday dates into recurring holidays, since the input carries dates but no names: a
/// date joins the group of the previous year's holiday nearest to it in day of year (at most 6
/// days away, so floating holidays such as Thanksgiving or Memorial Day stay one holiday while
/// Christmas and New Year's Day stay apart); dates of one year never share a group. Each group
/// becomes one regressor, as one holiday name is one regressor in Prophet. Returns day numbers per
/// group, groups in order of first occurrence.
pub fn group_holidays(dates: &[i64]) -> Vec<Vec<i64>> {
    let mut days: Vec<i64> = dates.iter().map(|&d| day_number(d)).collect();
    days.sort_unstable();
    days.dedup();
    struct Group {
        doy: i64,
        year: i32,
        days: Vec<i64>,
    }
    let mut groups: Vec<Group> = Vec::new();
    let mut i = 0;
    while i < days.len() {
        let year = calendar(days[i]).0;
        let mut j = i;
        while j < days.len() && calendar(days[j]).0 == year {
            j += 1;
        }
        let members: Vec<(i64, i64)> = days[i..j].iter().map(|&d| (d, calendar(d).1)).collect();
        let mut pairs = Vec::new();
        for (a, &(_, doy)) in members.iter().enumerate() {
            for (g, group) in groups.iter().enumerate() {
                let diff = (doy - group.doy).rem_euclid(365);
                let dist = diff.min(365 - diff);
                if dist <= 6 && group.year < year {
                    pairs.push((dist, a, g));
                }
            }
        }
        pairs.sort_unstable();
        let mut taken_date = vec![false; members.len()];
        let mut taken_group = vec![false; groups.len()];
        for (_, a, g) in pairs {
            if taken_date[a] || taken_group[g] {
                continue;
            }
            taken_date[a] = true;
            taken_group[g] = true;
            let (day, doy) = members[a];
            groups[g].days.push(day);
            groups[g].doy = doy;
            groups[g].year = year;
        }
        for (a, &(day, doy)) in members.iter().enumerate() {
            if !taken_date[a] {
                groups.push(Group {
                    doy,
                    year,
                    days: vec![day],
                });
            }
        }
        i = j;
    }
    groups.into_iter().map(|g| g.days).collect()
}

/// Year and day of year on a fixed non-leap calendar (Feb 29 counts as Mar 1), so the same
/// month and day always compare equal across years.
fn calendar(day: i64) -> (i32, i64) {
    const BEFORE: [i64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let date = chrono::DateTime::from_timestamp(day * DAY, 0)
        .expect("holiday date in chrono's range")
        .date_naive();
    (
        date.year(),
        BEFORE[date.month0() as usize] + date.day0() as i64,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changepoints_follow_numpy_linspace_rounding() {
        // 351 rows: hist_size 280, rows round(279 j / 25): 11.16 -> 11, 22.32 -> 22, ...
        let cps = changepoint_times(351, 25, 0.8);
        assert_eq!(cps.len(), 25);
        assert!((cps[0] - 11.0 / 350.0).abs() < 1e-15);
        assert!((cps[24] - 279.0 / 350.0).abs() < 1e-15);
        // 10 rows: hist_size 8 leaves room for 7 changepoints, at rows 1..=7.
        let cps = changepoint_times(10, 25, 0.8);
        assert_eq!(cps, (1..=7).map(|r| r as f64 / 9.0).collect::<Vec<_>>());
        assert!(changepoint_times(2, 25, 0.8).is_empty());
        // Half-way rows round to even: linspace(0, 9, 3) = 0, 4.5, 9 -> rows 4 and 9.
        let cps = changepoint_times(13, 2, 10.0 / 13.0);
        assert_eq!(cps, vec![4.0 / 12.0, 9.0 / 12.0]);
    }

    #[test]
    fn seasonalities_switch_on_like_prophet() {
        let names = |s: Vec<Seasonality>| s.into_iter().map(|s| s.name).collect::<Vec<_>>();
        assert_eq!(
            names(auto_seasonalities(715 * DAY, DAY, None, None, None)),
            ["weekly"]
        );
        assert_eq!(
            names(auto_seasonalities(730 * DAY, DAY, None, None, None)),
            ["yearly", "weekly"]
        );
        assert!(auto_seasonalities(13 * DAY, DAY, None, None, None).is_empty());
        assert_eq!(
            names(auto_seasonalities(20 * DAY, 3600, None, None, None)),
            ["weekly", "daily"]
        );
        assert_eq!(
            names(auto_seasonalities(20 * DAY, 3600, Some(5), Some(0), None)),
            ["yearly", "daily"]
        );
    }

    #[test]
    fn holidays_group_into_recurring_days() {
        let d = |y, m, day| {
            chrono::NaiveDate::from_ymd_opt(y, m, day)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_utc()
                .timestamp()
        };
        // Thanksgiving moves by 6 days, Christmas Eve / Christmas / Boxing Day sit 1 day apart,
        // Christmas and New Year's Day are 7 days apart; 2016 is a leap year.
        let dates = [
            d(2015, 11, 26),
            d(2016, 11, 24),
            d(2017, 11, 23),
            d(2018, 11, 22),
            d(2019, 11, 28),
            d(2015, 12, 24),
            d(2015, 12, 25),
            d(2015, 12, 26),
            d(2016, 12, 24),
            d(2016, 12, 25),
            d(2016, 12, 26),
            d(2016, 1, 1),
            d(2017, 1, 1),
        ];
        let groups = group_holidays(&dates);
        let sizes: Vec<usize> = groups.iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![5, 2, 2, 2, 2], "{groups:?}");
        // The Christmas group holds both Christmases, nothing else.
        let christmas = groups
            .iter()
            .find(|g| g.contains(&day_number(d(2015, 12, 25))))
            .unwrap();
        assert_eq!(
            christmas,
            &vec![day_number(d(2015, 12, 25)), day_number(d(2016, 12, 25))]
        );
    }
}
