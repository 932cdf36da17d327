//! Bad input gets an error naming the file, the column or key and an example row; nothing panics.

mod common;

use std::path::{Path, PathBuf};

use common::{fixture, zone_options};
use fusecast_data::files::DataFile;
use fusecast_data::polars::prelude::*;
use fusecast_data::scale::TargetTransform;
use fusecast_data::table::{read_table, FillMissing, TableOptions};
use fusecast_data::time::Frequency;
use fusecast_data::trips::{aggregate, UnknownZones};
use fusecast_data::window::{TimeSplit, WindowDataset, WindowSpec};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn table(path: &Path) -> TableOptions {
    TableOptions {
        timezone: chrono_tz::America::New_York,
        ..TableOptions::new(
            vec![DataFile::new(path).unwrap()],
            "store",
            "date",
            "sales",
            Frequency::Daily,
        )
    }
}

fn table_error(text: &str, tweak: impl FnOnce(&mut TableOptions)) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "sales.csv", text);
    let mut opts = table(&path);
    tweak(&mut opts);
    let err = read_table(&opts).unwrap_err().to_string();
    assert!(
        err.contains("sales.csv"),
        "error does not name the file: {err}"
    );
    err
}

#[test]
fn a_good_table_reads_with_covariates_and_statics() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "sales.csv",
        "store,date,sales,price,region\na,2024-01-01,3,1.5,east\nb,2024-01-01,4,2.0,west\na,2024-01-02,5,,east\nb,2024-01-02,6,2.5,west\n",
    );
    let mut opts = table(&path);
    opts.known_reals = vec!["price".into()];
    opts.static_columns = vec!["region".into()];
    let p = read_table(&opts).unwrap();
    assert_eq!(p.series, ["a", "b"]);
    assert_eq!(p.len(), 2);
    assert_eq!(p.values(0), [3.0, 5.0]);
    assert_eq!(p.values(1), [4.0, 6.0]);
    let price = p.covariate("price").unwrap();
    // The missing price of a on day 2 is carried forward.
    assert_eq!(
        (0..2).map(|t| price.value(0, t, 2)).collect::<Vec<_>>(),
        [1.5, 1.5]
    );
    assert_eq!(p.static_values("region").unwrap(), ["east", "west"]);
}

#[test]
fn missing_column_names_the_column_and_lists_the_others() {
    let err = table_error("store,day,sales\na,2024-01-01,3\n", |_| {});
    assert!(
        err.contains("`date`") && err.contains("store, day, sales"),
        "{err}"
    );
}

#[test]
fn unparseable_timestamp_names_the_row_and_value() {
    let err = table_error("store,date,sales\na,2024-01-01,3\na,01/02/2024,4\n", |_| {});
    assert!(
        err.contains("row 2") && err.contains("01/02/2024") && err.contains("`date`"),
        "{err}"
    );
}

#[test]
fn negative_counts_are_refused_unless_allowed() {
    let text = "store,date,sales\na,2024-01-01,3\na,2024-01-02,-4\na,2024-01-03,-1\n";
    let err = table_error(text, |_| {});
    assert!(
        err.contains("row 2") && err.contains("-4") && err.contains("2 negative rows"),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let mut opts = table(&write(dir.path(), "sales.csv", text));
    opts.allow_negative = true;
    assert_eq!(read_table(&opts).unwrap().values(0), [3.0, -4.0, -1.0]);
}

#[test]
fn duplicate_rows_name_both_rows() {
    let err = table_error(
        "store,date,sales\na,2024-01-01,3\nb,2024-01-01,3\na,2024-01-01,4\n",
        |_| {},
    );
    assert!(
        err.contains("rows 1 and 3") && err.contains("\"a\"") && err.contains("2024-01-01"),
        "{err}"
    );
}

#[test]
fn gaps_are_errors_or_zeros() {
    let text = "store,date,sales\na,2024-01-01,3\na,2024-01-03,4\nb,2024-01-01,1\nb,2024-01-02,1\nb,2024-01-03,1\n";
    let err = table_error(text, |_| {});
    assert!(
        err.contains("\"a\"") && err.contains("2024-01-02") && err.contains("fill_missing"),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let mut opts = table(&write(dir.path(), "sales.csv", text));
    opts.fill_missing = FillMissing::Zero;
    assert_eq!(read_table(&opts).unwrap().values(0), [3.0, 0.0, 4.0]);
}

#[test]
fn off_grid_timestamps_and_bad_numbers_are_named() {
    let err = table_error("store,date,sales\na,2024-01-01 10:30:00,3\n", |_| {});
    assert!(err.contains("row 1") && err.contains("1d"), "{err}");
    let err = table_error(
        "store,date,sales\na,2024-01-01,3\na,2024-01-02,lots\n",
        |_| {},
    );
    assert!(
        err.contains("row 2") && err.contains("lots") && err.contains("`sales`"),
        "{err}"
    );
}

#[test]
fn series_too_short_for_the_windows() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("store,date,sales\n");
    for d in 1..=20 {
        text.push_str(&format!("a,2024-01-{d:02},{d}\n"));
    }
    let panel = read_table(&table(&write(dir.path(), "sales.csv", &text))).unwrap();
    let spec = WindowSpec {
        encoder_length: 14,
        min_encoder_length: 14,
        horizon: 7,
        stride: 1,
    };
    let split = TimeSplit::from_tail(20, 0, 0).unwrap();
    let err = WindowDataset::new(&panel, spec, split, TargetTransform::Log1p)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("\"a\"") && err.contains("20 periods") && err.contains("needs 21"),
        "{err}"
    );
}

#[test]
fn unknown_zone_ids_name_file_row_and_zone() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write(
        dir.path(),
        "yellow.csv",
        "tpep_pickup_datetime,PULocationID\n2020-04-01 10:00:00,132\n2020-04-01 11:00:00,999\n2020-04-01 12:00:00,998\n",
    );
    let err = aggregate(&zone_options(
        std::slice::from_ref(&csv),
        Frequency::Daily,
        "2020-04-01",
        "2020-04-01",
    ))
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("yellow.csv")
            && err.contains("row 2")
            && err.contains("999")
            && err.contains("2 rows"),
        "{err}"
    );
    let mut opts = zone_options(&[csv], Frequency::Daily, "2020-04-01", "2020-04-01");
    if let fusecast_data::trips::SeriesKeys::Zones { unknown, .. } = &mut opts.keys {
        *unknown = UnknownZones::Drop;
    }
    let agg = aggregate(&opts).unwrap();
    assert_eq!((agg.report.used, agg.report.unknown_zone), (1, 2));

    // The same in parquet, where rows are filtered before the check: the row is still the file's.
    let mut df = df!(
        "tpep_pickup_datetime" => [1_585_735_200_000_000i64, 1_585_738_800_000_000, 1_585_742_400_000_000],
        "PULocationID" => [132i32, 132, 777],
    )
    .unwrap();
    df.apply("tpep_pickup_datetime", |c| {
        c.cast(&DataType::Datetime(TimeUnit::Microseconds, None))
            .unwrap()
    })
    .unwrap();
    let pq = dir.path().join("yellow.parquet");
    ParquetWriter::new(std::fs::File::create(&pq).unwrap())
        .finish(&mut df)
        .unwrap();
    let err = aggregate(&zone_options(
        &[pq],
        Frequency::Daily,
        "2020-04-01",
        "2020-04-01",
    ))
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("yellow.parquet") && err.contains("row 3") && err.contains("777"),
        "{err}"
    );
}

#[test]
fn empty_after_filtering_says_what_was_filtered() {
    let path = fixture("tlc/yellow_tripdata_2020-04_sample1000.csv");
    let err = aggregate(&zone_options(
        &[path],
        Frequency::Daily,
        "2021-01-01",
        "2021-01-31",
    ))
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("no data left") && err.contains("1000 rows") && err.contains("2021-01-01"),
        "{err}"
    );
}

#[test]
fn bad_paths_and_timestamps_in_trip_files() {
    let dir = tempfile::tempdir().unwrap();
    let err = fusecast_data::files::expand(&["nothing_here_*.parquet".into()], dir.path())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("nothing_here_*.parquet") && err.contains("data.paths"),
        "{err}"
    );
    let csv = write(
        dir.path(),
        "trips.csv",
        "tpep_pickup_datetime,PULocationID\n2020-04-01 10:00:00,132\nnot a time,132\n",
    );
    let err = aggregate(&zone_options(
        &[csv],
        Frequency::Daily,
        "2020-04-01",
        "2020-04-01",
    ))
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("trips.csv") && err.contains("row 2") && err.contains("not a time"),
        "{err}"
    );
    let csv = write(
        dir.path(),
        "bad_zone.csv",
        "tpep_pickup_datetime,PULocationID\n2020-04-01 10:00:00,JFK\n",
    );
    let err = aggregate(&zone_options(
        &[csv],
        Frequency::Daily,
        "2020-04-01",
        "2020-04-01",
    ))
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("bad_zone.csv") && err.contains("row 1") && err.contains("JFK"),
        "{err}"
    );
}
