//! Trip-level output of the synthetic city: TLC yellow 2023+ schema parquet files, one per month
//! (`yellow_tripdata_YYYY-MM.parquet`), so ingestion can be tested and benchmarked at scale.
//! The hourly panel the trips come from is returned too: aggregating the files must give it back.

use std::fs::File;
use std::path::{Path, PathBuf};

use chrono::Datelike;
use polars::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::error::{DataError, Result};
use crate::panel::Panel;
use crate::synth::{self, Archetype, SynthConfig};
use crate::time::{self, Frequency};

pub struct WrittenTrips {
    pub files: Vec<PathBuf>,
    pub trips: u64,
    /// The hourly pickups per zone that the files hold.
    pub panel: Panel,
}

/// Generates the hourly city for `cfg` (its frequency is ignored) and writes every pickup.
pub fn write_trips(cfg: &SynthConfig, out_dir: &Path) -> Result<WrittenTrips> {
    let hourly = SynthConfig {
        frequency: Frequency::Hourly,
        ..cfg.clone()
    };
    let panel = synth::generate(&hourly)?;
    let zones = synth::city(cfg.zones)?;
    std::fs::create_dir_all(out_dir).map_err(|source| DataError::Io {
        path: out_dir.to_path_buf(),
        source,
    })?;
    // Drop-off zones follow pickup popularity.
    let mut cumulative = Vec::with_capacity(zones.len());
    let mut acc = 0.0;
    for z in &zones {
        acc += z.share;
        cumulative.push(acc);
    }
    let hours_per_day = 24;
    let days = panel.len() / hours_per_day;
    let mut files = Vec::new();
    let mut writer: Option<(
        String,
        PathBuf,
        polars::io::parquet::write::BatchedWriter<File>,
    )> = None;
    let mut trips = 0u64;
    for day in 0..days {
        let date = panel.grid.datetime(day * hours_per_day).date();
        let month = format!("{:04}-{:02}", date.year(), date.month());
        if writer.as_ref().is_none_or(|(m, _, _)| *m != month) {
            if let Some((_, path, w)) = writer.take() {
                w.finish().map_err(|e| DataError::read(&path, e))?;
                files.push(path);
            }
            let path = out_dir.join(format!("yellow_tripdata_{month}.parquet"));
            let file = File::create(&path).map_err(|source| DataError::Io {
                path: path.clone(),
                source,
            })?;
            let w = ParquetWriter::new(file)
                .with_compression(ParquetCompression::Snappy)
                .batched(&trip_schema())
                .map_err(|e| DataError::read(&path, e))?;
            writer = Some((month, path, w));
        }
        let mut rng = StdRng::seed_from_u64(cfg.seed.wrapping_mul(1_000_003) ^ day as u64);
        let df = day_of_trips(&panel, &zones, &cumulative, day, &mut rng)?;
        trips += df.height() as u64;
        let (_, path, w) = writer.as_mut().expect("writer opened above");
        w.write_batch(&df)
            .map_err(|e| DataError::read(path.as_path(), e))?;
    }
    if let Some((_, path, w)) = writer.take() {
        w.finish().map_err(|e| DataError::read(&path, e))?;
        files.push(path);
    }
    Ok(WrittenTrips {
        files,
        trips,
        panel,
    })
}

fn trip_schema() -> Schema {
    use DataType::*;
    let ts = Datetime(TimeUnit::Microseconds, None);
    [
        ("VendorID", Int32),
        ("tpep_pickup_datetime", ts.clone()),
        ("tpep_dropoff_datetime", ts),
        ("passenger_count", Int64),
        ("trip_distance", Float64),
        ("RatecodeID", Int64),
        ("store_and_fwd_flag", String),
        ("PULocationID", Int32),
        ("DOLocationID", Int32),
        ("payment_type", Int64),
        ("fare_amount", Float64),
        ("extra", Float64),
        ("mta_tax", Float64),
        ("tip_amount", Float64),
        ("tolls_amount", Float64),
        ("improvement_surcharge", Float64),
        ("total_amount", Float64),
        ("congestion_surcharge", Float64),
        ("Airport_fee", Float64),
    ]
    .into_iter()
    .map(|(n, t)| Field::new(n.into(), t))
    .collect()
}

#[derive(Default)]
struct TripColumns {
    vendor: Vec<i32>,
    pickup: Vec<i64>,
    dropoff: Vec<i64>,
    passengers: Vec<i64>,
    distance: Vec<f64>,
    ratecode: Vec<i64>,
    flag: Vec<&'static str>,
    pu: Vec<i32>,
    dolocation: Vec<i32>,
    payment: Vec<i64>,
    fare: Vec<f64>,
    extra: Vec<f64>,
    mta: Vec<f64>,
    tip: Vec<f64>,
    tolls: Vec<f64>,
    improvement: Vec<f64>,
    total: Vec<f64>,
    congestion: Vec<f64>,
    airport: Vec<f64>,
}

fn day_of_trips(
    panel: &Panel,
    zones: &[synth::SynthZone],
    cumulative: &[f64],
    day: usize,
    rng: &mut StdRng,
) -> Result<DataFrame> {
    let mut c = TripColumns::default();
    for (s, zone) in zones.iter().enumerate() {
        let airport = zone.archetype == Archetype::Airport;
        for hour in 0..24 {
            let t = day * 24 + hour;
            let n = panel.values(s)[t] as usize;
            let hour_start = panel.grid.timestamp(t);
            for _ in 0..n {
                let pickup = hour_start + rng.random_range(0..3600);
                let u: f64 = rng.random::<f64>() * cumulative[cumulative.len() - 1];
                let dest = zones[cumulative.partition_point(|x| *x < u).min(zones.len() - 1)].id;
                // Log-normal trip lengths: ~2 miles in town, ~17 from the airports.
                let median = if airport { 16.5 } else { 1.9 };
                let distance = (median * (0.6 * gaussian(rng)).exp() * 100.0).round() / 100.0;
                let minutes = (distance * 4.2 + 3.0) * (0.25 * gaussian(rng)).exp();
                let fare = ((3.0 + 2.5 * distance + 0.35 * minutes) * 100.0).round() / 100.0;
                let card = rng.random::<f64>() < 0.78;
                let tip = if card {
                    (fare * rng.random_range(0.12..0.28) * 100.0).round() / 100.0
                } else {
                    0.0
                };
                let tolls = if airport && rng.random::<f64>() < 0.3 {
                    6.94
                } else {
                    0.0
                };
                let airport_fee = if airport { 1.75 } else { 0.0 };
                let extra = if (16..20).contains(&hour) { 2.5 } else { 1.0 };
                let congestion = 2.5;
                c.vendor.push(if rng.random::<f64>() < 0.7 { 2 } else { 1 });
                c.pickup.push(pickup * 1_000_000);
                c.dropoff
                    .push((pickup + (minutes * 60.0) as i64) * 1_000_000);
                c.passengers
                    .push(1 + (rng.random::<f64>().powi(3) * 4.0) as i64);
                c.distance.push(distance);
                c.ratecode
                    .push(if airport && dest != zone.id && rng.random::<f64>() < 0.5 {
                        2
                    } else {
                        1
                    });
                c.flag.push("N");
                c.pu.push(zone.id as i32);
                c.dolocation.push(dest as i32);
                c.payment.push(if card { 1 } else { 2 });
                c.fare.push(fare);
                c.extra.push(extra);
                c.mta.push(0.5);
                c.tip.push(tip);
                c.tolls.push(tolls);
                c.improvement.push(1.0);
                c.total.push(
                    ((fare + extra + 0.5 + tip + tolls + 1.0 + congestion + airport_fee) * 100.0)
                        .round()
                        / 100.0,
                );
                c.congestion.push(congestion);
                c.airport.push(airport_fee);
            }
        }
    }
    let ts = |name: &str, v: Vec<i64>| -> PolarsResult<Column> {
        Ok(Series::new(name.into(), v)
            .cast(&DataType::Datetime(TimeUnit::Microseconds, None))?
            .into())
    };
    let build = || -> PolarsResult<DataFrame> {
        DataFrame::new_infer_height(vec![
            Series::new("VendorID".into(), c.vendor).into(),
            ts("tpep_pickup_datetime", c.pickup)?,
            ts("tpep_dropoff_datetime", c.dropoff)?,
            Series::new("passenger_count".into(), c.passengers).into(),
            Series::new("trip_distance".into(), c.distance).into(),
            Series::new("RatecodeID".into(), c.ratecode).into(),
            Series::new("store_and_fwd_flag".into(), c.flag).into(),
            Series::new("PULocationID".into(), c.pu).into(),
            Series::new("DOLocationID".into(), c.dolocation).into(),
            Series::new("payment_type".into(), c.payment).into(),
            Series::new("fare_amount".into(), c.fare).into(),
            Series::new("extra".into(), c.extra).into(),
            Series::new("mta_tax".into(), c.mta).into(),
            Series::new("tip_amount".into(), c.tip).into(),
            Series::new("tolls_amount".into(), c.tolls).into(),
            Series::new("improvement_surcharge".into(), c.improvement).into(),
            Series::new("total_amount".into(), c.total).into(),
            Series::new("congestion_surcharge".into(), c.congestion).into(),
            Series::new("Airport_fee".into(), c.airport).into(),
        ])
    };
    build().map_err(|e| {
        DataError::Invalid(format!(
            "building trips of day {}: {e}",
            time::format_timestamp(panel.grid.timestamp(day * 24))
        ))
    })
}

fn gaussian(rng: &mut StdRng) -> f64 {
    use rand_distr::Distribution;
    rand_distr::StandardNormal.sample(rng)
}
