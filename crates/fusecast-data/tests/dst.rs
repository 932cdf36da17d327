//! Hourly long tables in a time zone with daylight saving, on New York's real 2023 boundaries:
//! the hour the spring-forward skips (2023-03-12 02:00) is not a gap (filled with the mean of
//! the hours around it), the hour the fall-back repeats (2023-11-05 01:00) is not a duplicate
//! (its two real hours add up). Without the time zone the same tables are refused.

use std::path::Path;

use fusecast_data::files::DataFile;
use fusecast_data::table::{read_table, TableOptions};
use fusecast_data::time::{parse_date, Frequency};

/// Hourly rows for series a and b over `days` (y = 100 * series + hour of the table), with
/// `skip` left out and `repeat` written twice (the second time with y + 1000).
fn csv(days: &[&str], skip: Option<&str>, repeat: Option<&str>) -> String {
    let mut out = String::from("sensor,time,y\n");
    for (s, name) in ["a", "b"].iter().enumerate() {
        let mut k = 0;
        for d in days {
            for h in 0..24 {
                let ts = format!("{d}T{h:02}:00:00");
                if Some(ts.as_str()) != skip {
                    out.push_str(&format!("{name},{ts},{}\n", 100 * s + k));
                }
                if Some(ts.as_str()) == repeat {
                    out.push_str(&format!("{name},{ts},{}\n", 100 * s + k + 1000));
                }
                k += 1;
            }
        }
    }
    out
}

fn read(
    dir: &Path,
    text: &str,
    days: &[&str],
    tz: chrono_tz::Tz,
) -> Result<fusecast_data::Panel, String> {
    let path = dir.join("sensors.csv");
    std::fs::write(&path, text).unwrap();
    let opts = TableOptions {
        timezone: tz,
        start: Some(parse_date(days[0]).unwrap()),
        end: Some(parse_date(days[days.len() - 1]).unwrap()),
        ..TableOptions::new(
            vec![DataFile::new(&path).unwrap()],
            "sensor",
            "time",
            "y",
            Frequency::Hourly,
        )
    };
    read_table(&opts).map_err(|e| e.to_string())
}

#[test]
fn the_skipped_spring_hour_is_not_a_gap_and_the_repeated_autumn_hour_not_a_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let ny = chrono_tz::America::New_York;

    let spring = ["2023-03-11", "2023-03-12", "2023-03-13"];
    let text = csv(&spring, Some("2023-03-12T02:00:00"), None);
    let p = read(dir.path(), &text, &spring, ny).unwrap();
    assert_eq!(p.len(), 72, "the wall-clock grid keeps every hour");
    for (s, base) in [(0usize, 0.0), (1, 100.0)] {
        let v = p.values(s);
        let at = 24 + 2; // 2023-03-12 02:00
        assert_eq!(v[at], (v[at - 1] + v[at + 1]) / 2.0, "series {s}");
        assert_eq!(v[at - 1], base + 25.0);
        assert_eq!(v[at + 1], base + 27.0);
    }
    let err = read(dir.path(), &text, &spring, chrono_tz::UTC).unwrap_err();
    assert!(err.contains("2023-03-12 02:00"), "{err}");

    let autumn = ["2023-11-04", "2023-11-05", "2023-11-06"];
    let text = csv(&autumn, None, Some("2023-11-05T01:00:00"));
    let p = read(dir.path(), &text, &autumn, ny).unwrap();
    let at = 24 + 1; // 2023-11-05 01:00, lived twice
    assert_eq!(p.values(0)[at], 25.0 + 1025.0);
    assert_eq!(p.values(1)[at], 125.0 + 1125.0);
    assert_eq!(p.values(0)[at + 1], 26.0);
    let err = read(dir.path(), &text, &autumn, chrono_tz::UTC).unwrap_err();
    assert!(
        err.to_lowercase().contains("duplicate") || err.contains("twice"),
        "{err}"
    );
}
