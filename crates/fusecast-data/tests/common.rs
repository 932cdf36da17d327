//! Helpers shared by the integration tests (included with `mod common;`).
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;

use fusecast_data::files::DataFile;
use fusecast_data::time::{parse_date, Frequency};
use fusecast_data::trips::{SeriesKeys, TripOptions, UnknownZones};
use fusecast_data::zones::ZoneLookup;

/// The repository's real fixtures, `data/` at its root (sources and licences in its README).
pub fn fixture(rel: &str) -> PathBuf {
    // Read at run time: a test binary reused from a shared target dir must look in this checkout.
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
        .join("../../data")
        .join(rel)
}

pub fn zone_options(
    paths: &[PathBuf],
    frequency: Frequency,
    start: &str,
    end: &str,
) -> TripOptions {
    TripOptions {
        files: paths.iter().map(|p| DataFile::new(p).unwrap()).collect(),
        timestamp_column: None,
        location_column: None,
        value_column: None,
        frequency,
        start: Some(parse_date(start).unwrap()),
        end: Some(parse_date(end).unwrap()),
        keys: SeriesKeys::Zones {
            lookup: ZoneLookup::builtin(),
            only: None,
            unknown: UnknownZones::Error,
        },
        timezone: chrono_tz::America::New_York,
    }
}

/// Splits a CSV line with a plain loop (quotes respected), independent of the crate's reader.
pub fn fields(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    for c in line.trim_end().chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(String::new()),
            _ => out.last_mut().unwrap().push(c),
        }
    }
    out
}

/// Counts rows per (location, period key) straight from a CSV's text.
pub fn count_csv(
    text: &str,
    location: &str,
    key: impl Fn(&HashMap<&str, usize>, &[String]) -> Option<String>,
) -> (HashMap<(String, String), u64>, u64) {
    let mut lines = text.lines();
    let header = fields(lines.next().unwrap());
    let idx: HashMap<&str, usize> = header
        .iter()
        .enumerate()
        .map(|(i, h)| (h.as_str(), i))
        .collect();
    let loc = idx[location];
    let mut counts = HashMap::new();
    let mut empty_location = 0;
    for line in lines.filter(|l| !l.is_empty()) {
        let f = fields(line);
        if f[loc].is_empty() {
            empty_location += 1;
            continue;
        }
        if let Some(k) = key(&idx, &f) {
            *counts.entry((f[loc].clone(), k)).or_insert(0) += 1;
        }
    }
    (counts, empty_location)
}
