//! Real NYC TLC files from data/tlc (the repository's fixtures), every schema, against counts computed here by plain
//! loops over the raw files.

mod common;

use std::collections::HashMap;

use common::{count_csv, fixture, zone_options};
use fusecast_data::files::DataFile;
use fusecast_data::polars::prelude::*;
use fusecast_data::time::{format_timestamp, Frequency};
use fusecast_data::trips::{aggregate, detect_columns, Aggregated, TripSchema};

fn as_map(agg: &Aggregated, key_len: usize) -> HashMap<(String, String), u64> {
    let mut m = HashMap::new();
    for (s, key) in agg.keys.iter().enumerate() {
        for (t, v) in agg.values[s].iter().enumerate() {
            if *v > 0.0 {
                let ts = format_timestamp(agg.grid.timestamp(t));
                let ts = format!("{ts} 00:00:00");
                m.insert((key.clone(), ts[..key_len].to_string()), *v as u64);
            }
        }
    }
    m
}

#[test]
fn yellow_csv_daily_and_hourly_match_a_plain_count() {
    let path = fixture("tlc/yellow_tripdata_2020-04_sample1000.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    for (freq, key_len) in [(Frequency::Daily, 10), (Frequency::Hourly, 13)] {
        let agg = aggregate(&zone_options(
            std::slice::from_ref(&path),
            freq,
            "2020-04-01",
            "2020-04-30",
        ))
        .unwrap();
        let (expected, _) = count_csv(&text, "PULocationID", |idx, f| {
            Some(f[idx["tpep_pickup_datetime"]][..key_len].to_string())
        });
        assert_eq!(as_map(&agg, key_len), expected, "{freq}");
        assert_eq!(agg.report.rows, 1000);
        assert_eq!(agg.report.used, 1000);
        // Every zone of the lookup has a series, with or without trips.
        assert_eq!(agg.keys.len(), 265);
        assert_eq!(
            agg.grid.len,
            if freq == Frequency::Daily { 30 } else { 720 }
        );
        assert_eq!(agg.report.files[0].schema, TripSchema::Yellow);
    }
}

#[test]
fn trips_outside_the_range_are_dropped_and_counted() {
    let path = fixture("tlc/yellow_tripdata_2020-04_sample1000.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let agg = aggregate(&zone_options(
        &[path],
        Frequency::Daily,
        "2020-04-10",
        "2020-04-19",
    ))
    .unwrap();
    let (all, _) = count_csv(&text, "PULocationID", |idx, f| {
        Some(f[idx["tpep_pickup_datetime"]][..10].to_string())
    });
    let inside: u64 = all
        .iter()
        .filter(|((_, d), _)| d.as_str() >= "2020-04-10" && d.as_str() <= "2020-04-19")
        .map(|(_, n)| n)
        .sum();
    assert_eq!(agg.report.used, inside);
    assert_eq!(agg.report.filtered_out, 1000 - inside);
    assert_eq!(agg.values.iter().flatten().sum::<f64>() as u64, inside);
}

#[test]
fn fhv_counts_rows_without_a_zone() {
    let path = fixture("tlc/fhv_tripdata_2020-04_sample1000.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let agg = aggregate(&zone_options(
        &[path],
        Frequency::Daily,
        "2020-04-01",
        "2020-04-30",
    ))
    .unwrap();
    let (expected, empty) = count_csv(&text, "PUlocationID", |idx, f| {
        Some(f[idx["pickup_datetime"]][..10].to_string())
    });
    assert_eq!(agg.report.files[0].schema, TripSchema::Fhv);
    assert_eq!(agg.report.null_location, empty);
    assert!(empty > 300, "the fixture has {empty} trips without a zone");
    assert_eq!(as_map(&agg, 10), expected);
}

#[test]
fn fhvhv_is_detected_and_counted() {
    let path = fixture("tlc/fhvhv_tripdata_2020-04_sample1000.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let agg = aggregate(&zone_options(
        &[path],
        Frequency::Hourly,
        "2020-04-01",
        "2020-04-30",
    ))
    .unwrap();
    assert_eq!(agg.report.files[0].schema, TripSchema::Fhvhv);
    let (expected, _) = count_csv(&text, "PULocationID", |idx, f| {
        Some(f[idx["pickup_datetime"]][..13].to_string())
    });
    assert_eq!(as_map(&agg, 13), expected);
}

/// The green parquet read eagerly in full, then counted by a plain loop with chrono.
fn green_reference(hourly: bool) -> HashMap<(String, String), u64> {
    let file = std::fs::File::open(fixture("tlc/green_tripdata_2020-04.parquet")).unwrap();
    let df = ParquetReader::new(file).finish().unwrap();
    let ts = df
        .column("lpep_pickup_datetime")
        .unwrap()
        .as_materialized_series()
        .clone();
    let ts = ts
        .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
        .unwrap()
        .cast(&DataType::Int64)
        .unwrap();
    let loc = df
        .column("PULocationID")
        .unwrap()
        .cast(&DataType::Int64)
        .unwrap();
    let mut m = HashMap::new();
    for (t, z) in ts.i64().unwrap().iter().zip(loc.i64().unwrap().iter()) {
        let dt = chrono::DateTime::from_timestamp_micros(t.unwrap())
            .unwrap()
            .naive_utc();
        if dt.format("%Y-%m").to_string() != "2020-04" {
            continue;
        }
        let key = if hourly {
            dt.format("%Y-%m-%d %H").to_string()
        } else {
            dt.format("%Y-%m-%d").to_string()
        };
        *m.entry((z.unwrap().to_string(), key)).or_insert(0) += 1;
    }
    m
}

#[test]
fn green_parquet_matches_an_eager_reference_count() {
    let path = fixture("tlc/green_tripdata_2020-04.parquet");
    for (freq, key_len, hourly) in [(Frequency::Daily, 10, false), (Frequency::Hourly, 13, true)] {
        let agg = aggregate(&zone_options(
            std::slice::from_ref(&path),
            freq,
            "2020-04-01",
            "2020-04-30",
        ))
        .unwrap();
        assert_eq!(agg.report.files[0].schema, TripSchema::Green);
        assert_eq!(agg.report.rows, 35_644);
        let expected = green_reference(hourly);
        let inside: u64 = expected.values().sum();
        assert_eq!(agg.report.used, inside);
        // The real file holds a few trips stamped outside April; they are dropped, and counted.
        assert_eq!(agg.report.filtered_out, 35_644 - inside);
        assert_eq!(as_map(&agg, key_len), expected);
    }
}

/// The old Ray-example layout `year/month/data.parquet` with `pickup_at`/`pickup_location_id`,
/// and the id column as int32, int64 or double: all give the same panel.
#[test]
fn ray_layout_and_id_types_agree() {
    let path = fixture("tlc/yellow_tripdata_2020-04_sample1000.csv");
    let expected = aggregate(&zone_options(
        std::slice::from_ref(&path),
        Frequency::Daily,
        "2020-04-01",
        "2020-04-30",
    ))
    .unwrap();
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .map_parse_options(|o| o.with_try_parse_dates(true))
        .try_into_reader_with_file_path(Some(path))
        .unwrap()
        .finish()
        .unwrap();
    let ts = df
        .column("tpep_pickup_datetime")
        .unwrap()
        .clone()
        .with_name("pickup_at".into());
    let ids = df.column("PULocationID").unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (i, dtype) in [DataType::Int32, DataType::Int64, DataType::Float64]
        .into_iter()
        .enumerate()
    {
        let part = dir.path().join(format!("layout{i}/2020/04"));
        std::fs::create_dir_all(&part).unwrap();
        let mut out = DataFrame::new_infer_height(vec![
            ts.clone(),
            ids.cast(&dtype)
                .unwrap()
                .with_name("pickup_location_id".into()),
        ])
        .unwrap();
        ParquetWriter::new(std::fs::File::create(part.join("data.parquet")).unwrap())
            .finish(&mut out)
            .unwrap();
        let files = fusecast_data::files::expand(&[format!("layout{i}")], dir.path()).unwrap();
        assert_eq!(files.len(), 1);
        let mut opts = zone_options(&[], Frequency::Daily, "2020-04-01", "2020-04-30");
        opts.files = files;
        let agg = aggregate(&opts).unwrap();
        assert_eq!(agg.report.files[0].schema, TripSchema::RayLegacy);
        assert_eq!(agg.values, expected.values, "{dtype}");
    }
}

#[test]
fn sums_a_value_column() {
    let path = fixture("tlc/yellow_tripdata_2020-04_sample1000.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut opts = zone_options(&[path], Frequency::Daily, "2020-04-01", "2020-04-30");
    opts.value_column = Some("total_amount".into());
    let agg = aggregate(&opts).unwrap();
    let mut lines = text.lines();
    let header = common::fields(lines.next().unwrap());
    let col = header.iter().position(|h| h == "total_amount").unwrap();
    let total: f64 = lines
        .map(|l| common::fields(l)[col].parse::<f64>().unwrap())
        .sum();
    let ours: f64 = agg.values.iter().flatten().sum();
    assert!((ours - total).abs() < 1e-6, "{ours} vs {total}");
}

#[test]
fn detects_every_schema_from_its_columns() {
    let f = DataFile::new("x.parquet").unwrap();
    let schema = |cols: &[&str]| -> Schema {
        cols.iter()
            .map(|c| Field::new((*c).into(), DataType::Int64))
            .collect()
    };
    let cases = [
        (
            vec!["VendorID", "tpep_pickup_datetime", "PULocationID"],
            TripSchema::Yellow,
            "PULocationID",
        ),
        (
            vec!["lpep_pickup_datetime", "PULocationID"],
            TripSchema::Green,
            "PULocationID",
        ),
        (
            vec!["dispatching_base_num", "pickup_datetime", "PUlocationID"],
            TripSchema::Fhv,
            "PUlocationID",
        ),
        (
            vec!["hvfhs_license_num", "pickup_datetime", "PULocationID"],
            TripSchema::Fhvhv,
            "PULocationID",
        ),
        (
            vec!["pickup_at", "dropoff_at", "pickup_location_id"],
            TripSchema::RayLegacy,
            "pickup_location_id",
        ),
    ];
    for (cols, kind, loc) in cases {
        let c = detect_columns(&f, &schema(&cols), None, None).unwrap();
        assert_eq!((c.schema, c.location.as_str()), (kind, loc));
    }
    let c = detect_columns(&f, &schema(&["when", "where"]), Some("when"), Some("where")).unwrap();
    assert_eq!(c.schema, TripSchema::Custom);
    let err = detect_columns(
        &f,
        &schema(&["vendor_id", "pickup_datetime2", "pickup_longitude"]),
        None,
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("coordinates") && err.contains("x.parquet"),
        "{err}"
    );
    let err = detect_columns(&f, &schema(&["a", "b"]), None, None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("timestamp_column") && err.contains("a, b"),
        "{err}"
    );
}

#[test]
fn a_zone_list_keeps_only_those_zones() {
    let path = fixture("tlc/green_tripdata_2020-04.parquet");
    let mut opts = zone_options(&[path], Frequency::Daily, "2020-04-01", "2020-04-30");
    if let fusecast_data::trips::SeriesKeys::Zones { only, .. } = &mut opts.keys {
        *only = Some(vec![138, 74, 75]);
    }
    let agg = aggregate(&opts).unwrap();
    assert_eq!(agg.keys, ["74", "75", "138"]);
    let expected: HashMap<_, _> = green_reference(false)
        .into_iter()
        .filter(|((z, _), _)| ["74", "75", "138"].contains(&z.as_str()))
        .collect();
    assert_eq!(as_map(&agg, 10), expected);
    assert_eq!(agg.report.used, expected.values().sum::<u64>());
    assert_eq!(agg.report.filtered_out, 35_644 - agg.report.used);
}
