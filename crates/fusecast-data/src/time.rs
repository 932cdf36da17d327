//! Time on the panel: naive local wall-clock time (New York for TLC data) as seconds since
//! 1970-01-01T00:00 of that wall clock. Local wall time is what taxi demand follows, and a naive
//! representation keeps hourly grids regular across DST changes (the skipped spring hour is just 0).

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

pub const SECONDS_PER_HOUR: i64 = 3_600;
pub const SECONDS_PER_DAY: i64 = 86_400;

/// Sampling frequency of a panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Frequency {
    Hourly,
    Daily,
}

impl Frequency {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "1h" | "h" | "hour" | "hourly" => Some(Frequency::Hourly),
            "1d" | "d" | "day" | "daily" => Some(Frequency::Daily),
            _ => None,
        }
    }

    pub fn step_seconds(self) -> i64 {
        match self {
            Frequency::Hourly => SECONDS_PER_HOUR,
            Frequency::Daily => SECONDS_PER_DAY,
        }
    }

    /// The dominant seasonal period: a week of days, a day of hours.
    pub fn season_length(self) -> usize {
        match self {
            Frequency::Hourly => 24,
            Frequency::Daily => 7,
        }
    }

    /// Periods per week, the length of the profile used for clustering.
    pub fn periods_per_week(self) -> usize {
        match self {
            Frequency::Hourly => 168,
            Frequency::Daily => 7,
        }
    }

    pub fn floor(self, t: i64) -> i64 {
        t.div_euclid(self.step_seconds()) * self.step_seconds()
    }

    pub fn label(self) -> &'static str {
        match self {
            Frequency::Hourly => "1h",
            Frequency::Daily => "1d",
        }
    }
}

impl fmt::Display for Frequency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl TryFrom<String> for Frequency {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Frequency::parse(&s)
            .ok_or_else(|| format!("unknown frequency {s:?} (use \"1h\" or \"1d\")"))
    }
}

impl From<Frequency> for String {
    fn from(f: Frequency) -> String {
        f.label().to_string()
    }
}

/// A regular time axis: `len` periods of `frequency` from `start` (local seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeGrid {
    pub start: i64,
    pub frequency: Frequency,
    pub len: usize,
}

impl TimeGrid {
    /// The grid covering the days `first..=last` entirely.
    pub fn from_days(first: NaiveDate, last: NaiveDate, frequency: Frequency) -> Self {
        let start = date_seconds(first);
        let end = date_seconds(last) + SECONDS_PER_DAY;
        TimeGrid {
            start,
            frequency,
            len: ((end - start) / frequency.step_seconds()).max(0) as usize,
        }
    }

    pub fn end(&self) -> i64 {
        self.start + self.len as i64 * self.frequency.step_seconds()
    }

    pub fn timestamp(&self, i: usize) -> i64 {
        self.start + i as i64 * self.frequency.step_seconds()
    }

    pub fn index_of(&self, t: i64) -> Option<usize> {
        if t < self.start || t >= self.end() {
            return None;
        }
        Some(((t - self.start) / self.frequency.step_seconds()) as usize)
    }

    pub fn datetime(&self, i: usize) -> NaiveDateTime {
        to_datetime(self.timestamp(i))
    }

    pub fn first_day(&self) -> NaiveDate {
        to_datetime(self.start).date()
    }

    pub fn last_day(&self) -> NaiveDate {
        to_datetime(self.end() - 1).date()
    }

    pub fn describe(&self) -> String {
        format!(
            "{} periods of {} from {} to {}",
            self.len,
            self.frequency,
            format_timestamp(self.start),
            format_timestamp(self.end() - self.frequency.step_seconds())
        )
    }
}

pub fn date_seconds(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
        .timestamp()
}

pub fn datetime_seconds(dt: NaiveDateTime) -> i64 {
    dt.and_utc().timestamp()
}

pub fn to_datetime(t: i64) -> NaiveDateTime {
    DateTime::from_timestamp(t, 0)
        .map(|d| d.naive_utc())
        .unwrap_or_default()
}

pub fn format_timestamp(t: i64) -> String {
    let dt = to_datetime(t);
    if dt.hour() == 0 && dt.minute() == 0 && dt.second() == 0 {
        dt.format("%Y-%m-%d").to_string()
    } else {
        dt.format("%Y-%m-%d %H:%M:%S").to_string()
    }
}

pub fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

/// Parses a timestamp to local seconds. Naive timestamps are taken as local wall time already;
/// timestamps with `Z` or an offset are instants and are converted to wall time in `tz`.
/// A timestamp as the panel's wall clock reads it (a naive time as is; one with an offset at
/// UTC): what a user types to name a period of a panel.
pub fn parse_wall_clock(s: &str) -> Option<i64> {
    parse_timestamp(s, chrono_tz::UTC)
}

pub fn parse_timestamp(s: &str, tz: Tz) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = digits(&b[0..4])? as i32;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let mut secs = date_seconds(date);
    if b.len() == 10 {
        return Some(secs);
    }
    if b[10] != b' ' && b[10] != b'T' {
        return None;
    }
    let rest = &b[11..];
    if rest.len() < 5 || rest[2] != b':' {
        return None;
    }
    let hour = digits(&rest[0..2])?;
    let minute = digits(&rest[3..5])?;
    let mut i = 5;
    let mut second = 0;
    if rest.len() >= 8 && rest[5] == b':' {
        second = digits(&rest[6..8])?;
        i = 8;
        if rest.len() > i && (rest[i] == b'.' || rest[i] == b',') {
            i += 1;
            let frac_start = i;
            while i < rest.len() && rest[i].is_ascii_digit() {
                i += 1;
            }
            if i == frac_start {
                return None;
            }
        }
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    secs += (hour * 3600 + minute * 60 + second.min(59)) as i64;
    let zone = std::str::from_utf8(&rest[i..]).ok()?.trim();
    if zone.is_empty() {
        return Some(secs);
    }
    let offset = if zone == "Z" || zone == "UTC" || zone == "+00" {
        0
    } else {
        parse_offset(zone)?
    };
    Some(utc_to_local(secs - offset, tz))
}

fn parse_offset(z: &str) -> Option<i64> {
    let b = z.as_bytes();
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let body: Vec<u8> = b[1..].iter().copied().filter(|c| *c != b':').collect();
    let (h, m) = match body.len() {
        2 => (digits(&body)?, 0),
        4 => (digits(&body[0..2])?, digits(&body[2..4])?),
        _ => return None,
    };
    Some(sign * (h as i64 * 3600 + m as i64 * 60))
}

/// How a wall-clock time exists in a time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocalTime {
    Unique,
    /// Skipped by a spring-forward (New York's 02:00-02:59 on the second Sunday of March).
    Skipped,
    /// Lived twice after a fall-back (New York's 01:00-01:59 on the first Sunday of November).
    Repeated,
}

/// Whether the local wall-clock time `local_seconds` exists once, never or twice in `tz`.
pub fn local_time(local_seconds: i64, tz: Tz) -> LocalTime {
    use chrono::{LocalResult, TimeZone};
    match tz.from_local_datetime(&to_datetime(local_seconds)) {
        LocalResult::Single(_) => LocalTime::Unique,
        LocalResult::None => LocalTime::Skipped,
        LocalResult::Ambiguous(..) => LocalTime::Repeated,
    }
}

/// Converts a UTC instant (seconds) to local wall-clock seconds in `tz`.
pub fn utc_to_local(utc_seconds: i64, tz: Tz) -> i64 {
    match DateTime::from_timestamp(utc_seconds, 0) {
        Some(dt) => datetime_seconds(dt.with_timezone(&tz).naive_local()),
        None => utc_seconds,
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

pub fn parse_timezone(name: &str) -> Option<Tz> {
    name.parse().ok()
}

/// Day of week with Monday = 0.
pub fn weekday_index(d: NaiveDate) -> usize {
    d.weekday().num_days_from_monday() as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    const NY: Tz = chrono_tz::America::New_York;

    #[test]
    fn parses_naive_and_zoned_timestamps() {
        let naive = parse_timestamp("2020-04-25 14:25:29.000000", NY).unwrap();
        assert_eq!(format_timestamp(naive), "2020-04-25 14:25:29");
        assert_eq!(
            parse_timestamp("2020-04-25", NY),
            Some(naive - 14 * 3600 - 25 * 60 - 29)
        );
        // 10:00 UTC in January is 05:00 in New York (EST, UTC-5); in July it is 06:00 (EDT).
        let winter = parse_timestamp("2013-01-01T10:00:00Z", NY).unwrap();
        assert_eq!(format_timestamp(winter), "2013-01-01 05:00:00");
        let summer = parse_timestamp("2013-07-01T10:00:00Z", NY).unwrap();
        assert_eq!(format_timestamp(summer), "2013-07-01 06:00:00");
        let offset = parse_timestamp("2013-07-01T10:00:00+02:00", NY).unwrap();
        assert_eq!(format_timestamp(offset), "2013-07-01 04:00:00");
        assert_eq!(
            parse_timestamp("2013-07-01T10:00", NY).map(format_timestamp),
            Some("2013-07-01 10:00:00".into())
        );
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "yesterday",
            "2020-13-01",
            "2020-02-30",
            "2020-01-01 25:00:00",
            "2020-01-01 10:00:00 EST",
            "2020/01/01",
        ] {
            assert_eq!(parse_timestamp(bad, NY), None, "{bad}");
        }
    }

    #[test]
    fn grid_indexes_periods() {
        let d = |s| parse_date(s).unwrap();
        let g = TimeGrid::from_days(d("2020-03-01"), d("2020-03-31"), Frequency::Hourly);
        assert_eq!(g.len, 31 * 24);
        assert_eq!(g.index_of(g.start + 3600 * 5 + 59), Some(5));
        assert_eq!(g.index_of(g.start - 1), None);
        assert_eq!(g.index_of(g.end()), None);
        assert_eq!(g.last_day(), d("2020-03-31"));
        let daily = TimeGrid::from_days(d("2020-03-01"), d("2020-03-31"), Frequency::Daily);
        assert_eq!(daily.len, 31);
    }
}

/// A calendar day in a config: `"2022-01-01"` or a bare TOML date `2022-01-01`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub NaiveDate);

impl Day {
    pub fn ymd(y: i32, m: u32, d: u32) -> Self {
        Day(NaiveDate::from_ymd_opt(y, m, d).expect("valid date"))
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

impl Serialize for Day {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Day;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a date YYYY-MM-DD")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Day, E> {
                parse_date(s)
                    .map(Day)
                    .ok_or_else(|| E::custom(format!("{s:?} is not a date YYYY-MM-DD")))
            }
            // TOML's native dates arrive as a one-entry map holding their text.
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Day, A::Error> {
                let (_, text): (String, String) = map
                    .next_entry()?
                    .ok_or_else(|| serde::de::Error::custom("empty date"))?;
                self.visit_str(&text)
            }
        }
        d.deserialize_any(V)
    }
}
