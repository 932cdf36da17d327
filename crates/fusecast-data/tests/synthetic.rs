//! The synthetic city: determinism, calibration, and trip-level files that aggregate back to the
//! exact panel they were drawn from.

use fusecast_data::files;
use fusecast_data::synth::{generate, Shock, SynthConfig};
use fusecast_data::synth_trips::write_trips;
use fusecast_data::time::{weekday_index, Day, Frequency};
use fusecast_data::trips::{aggregate, SeriesKeys, TripOptions, UnknownZones};
use fusecast_data::zones::ZoneLookup;

fn cfg(start: Day, end: Day, frequency: Frequency) -> SynthConfig {
    SynthConfig {
        start,
        end,
        frequency,
        ..SynthConfig::default()
    }
}

#[test]
fn same_seed_same_city_other_seed_other_noise() {
    let c = cfg(
        Day::ymd(2019, 1, 1),
        Day::ymd(2019, 3, 31),
        Frequency::Daily,
    );
    let a = generate(&c).unwrap();
    assert_eq!(a, generate(&c).unwrap());
    let b = generate(&SynthConfig { seed: 8, ..c }).unwrap();
    assert_ne!(a.target, b.target);
    assert_eq!(a.n_series(), 263);
    assert!(a.target.iter().all(|v| *v >= 0.0 && v.fract() == 0.0));
}

#[test]
fn calibration_matches_the_tlc_facts() {
    let p = generate(&cfg(
        Day::ymd(2019, 1, 1),
        Day::ymd(2019, 12, 31),
        Frequency::Daily,
    ))
    .unwrap();
    let totals: Vec<f64> = (0..p.n_series())
        .map(|s| p.values(s).iter().sum())
        .collect();
    let all: f64 = totals.iter().sum();
    let mut sorted = totals.clone();
    sorted.sort_by(|a, b| b.partial_cmp(a).unwrap());
    let top10 = sorted[..10].iter().sum::<f64>() / all;
    assert!((0.33..0.39).contains(&top10), "top 10 zones carry {top10}");
    let per_day = all / p.len() as f64;
    assert!(
        (95_000.0..120_000.0).contains(&per_day),
        "{per_day} trips per day"
    );
    // Thanksgiving 2019 (Nov 28) well below the Thursdays around it.
    let day = |d: &str| {
        p.grid
            .index_of(fusecast_data::time::date_seconds(
                fusecast_data::time::parse_date(d).unwrap(),
            ))
            .unwrap()
    };
    let city = |t: usize| (0..p.n_series()).map(|s| p.values(s)[t]).sum::<f64>();
    let thanksgiving = city(day("2019-11-28"));
    let normal = (city(day("2019-11-21")) + city(day("2019-12-05"))) / 2.0;
    assert!(thanksgiving < 0.7 * normal, "{thanksgiving} vs {normal}");
    // JFK is quiet on Saturdays compared with Fridays.
    let jfk = p.series_index("132").unwrap();
    let (mut fri, mut sat) = (0.0, 0.0);
    for t in 0..p.len() {
        match weekday_index(p.grid.datetime(t).date()) {
            4 => fri += p.values(jfk)[t],
            5 => sat += p.values(jfk)[t],
            _ => {}
        }
    }
    assert!(sat < 0.8 * fri, "JFK Saturday {sat} vs Friday {fri}");
}

#[test]
fn shock_cuts_demand() {
    let base = cfg(
        Day::ymd(2020, 3, 1),
        Day::ymd(2020, 4, 30),
        Frequency::Daily,
    );
    let shocked = SynthConfig {
        shock: Some(Shock {
            start: Day::ymd(2020, 4, 1),
            end: Day::ymd(2020, 4, 30),
            factor: 0.04,
        }),
        ..base.clone()
    };
    let p = generate(&shocked).unwrap();
    let city = |t: usize| (0..p.n_series()).map(|s| p.values(s)[t]).sum::<f64>();
    let march: f64 = (0..31).map(city).sum::<f64>() / 31.0;
    let april: f64 = (31..61).map(city).sum::<f64>() / 30.0;
    assert!(
        april / march < 0.06 && april / march > 0.02,
        "{}",
        april / march
    );
}

#[test]
fn trip_files_aggregate_back_to_the_panel() {
    let dir = tempfile::tempdir().unwrap();
    let c = SynthConfig {
        trips_per_day: 20_000.0,
        ..cfg(
            Day::ymd(2023, 1, 30),
            Day::ymd(2023, 2, 2),
            Frequency::Hourly,
        )
    };
    let written = write_trips(&c, dir.path()).unwrap();
    assert_eq!(written.files.len(), 2, "January and February files");
    assert_eq!(
        written.trips as f64,
        written.panel.target.iter().sum::<f64>()
    );
    for frequency in [Frequency::Hourly, Frequency::Daily] {
        let opts = TripOptions {
            files: files::expand(&[dir.path().to_string_lossy().to_string()], dir.path()).unwrap(),
            timestamp_column: None,
            location_column: None,
            value_column: None,
            frequency,
            start: Some(c.start.0),
            end: Some(c.end.0),
            keys: SeriesKeys::Zones {
                lookup: ZoneLookup::builtin(),
                only: None,
                unknown: UnknownZones::Error,
            },
            timezone: chrono_tz::America::New_York,
        };
        let agg = aggregate(&opts).unwrap();
        assert_eq!(agg.report.rows, written.trips);
        assert_eq!(agg.report.used, written.trips);
        for (s, id) in written.panel.series.iter().enumerate() {
            let k = agg.keys.iter().position(|x| x == id).unwrap();
            let hourly = written.panel.values(s);
            let expected: Vec<f64> = match frequency {
                Frequency::Hourly => hourly.to_vec(),
                Frequency::Daily => hourly.chunks(24).map(|d| d.iter().sum()).collect(),
            };
            assert_eq!(agg.values[k], expected, "zone {id} {frequency}");
        }
    }
}
