//! `fusecast run` and `fusecast predict` end to end on a ragged real long table: the shipped
//! nycflights13 panel (`data/panels/flights_daily_top20.csv`, 20 destinations x 365 days of
//! 2013) with ATL starting 2013-03-01, BOS ending 2013-10-31, PBI starting 2013-12-01 (too late
//! for a training window) and LAX missing 2013-06-10..12 (`fill_missing = "drop"`).

mod common;

use common::*;

use std::collections::BTreeMap;
use std::path::Path;

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

/// The cut table (the fixture's rows are each series' 365 days in order).
fn write_ragged(path: &Path) {
    let text = std::fs::read_to_string(root().join("data/panels/flights_daily_top20.csv")).unwrap();
    let mut out = String::from("unique_id,ds,y\n");
    let (mut series, mut day) = (String::new(), 0usize);
    for line in text.lines().skip(1) {
        let id = line.split(',').next().unwrap();
        if id != series {
            (series, day) = (id.to_string(), 0);
        } else {
            day += 1;
        }
        if kept(id, day) {
            out.push_str(line);
            out.push('\n');
        }
    }
    std::fs::write(path, out).unwrap();
}

const CONFIG: &str = r#"
[run]
name = "ragged"

[windows]
encoder_length = 28
min_encoder_length = 14
horizon = 7
validation_periods = 28
test_periods = 28

[model]
hidden_size = 8
attention_heads = 2
hidden_continuous_size = 4

[train]
max_epochs = 1
batches_per_epoch = 2
batch_size = 32
devices = ["cpu"]

[baselines]
models = ["seasonal_naive", "naive"]
fit_budget_s = 0.0

[eval]
windows = 2
step = 7
"#;

/// The rows of a forecast CSV: `(model, series, cutoff, timestamp) -> (mean, note_kind)`.
fn forecasts(path: &Path) -> BTreeMap<(String, String, String, String), (f64, String)> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let kind = header.iter().position(|h| *h == "note_kind").unwrap();
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                (f[3].into(), f[0].into(), f[1].into(), f[2].into()),
                (f[4].parse().unwrap(), f[kind].to_string()),
            )
        })
        .collect()
}

#[test]
fn a_ragged_table_trains_backtests_and_forecasts_from_each_series_end() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_ragged(&d.join("ragged.csv"));
    std::fs::write(
        d.join("ragged.toml"),
        CONFIG.to_string() + &daily_table("ragged.csv"),
    )
    .unwrap();
    let (ok, stdout, stderr) = fusecast(d, &["run", "ragged.toml", "--json"]);
    assert!(ok, "{stderr}");
    // PBI is reported and left out of the TFT.
    let warning = stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|e| e["event"] == "warning")
        .unwrap_or_else(|| panic!("no warning in {stdout}"));
    let message = warning["message"].as_str().unwrap();
    assert!(
        message.contains("1 of 20 series")
            && message.contains("\"PBI\"")
            && message.contains("left out of the TFT"),
        "{message}"
    );
    let run = d.join("runs/ragged");
    let data: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("data.json")).unwrap()).unwrap();
    assert_eq!(data["left_out_of_tft"], serde_json::json!(["PBI"]));
    // Training decoders (train part 0..309): a full series 14..=302 -> 289 windows, ATL (from
    // day 59) 230, BOS (to day 303) 284, LAX 140 + 126 around its gap, PBI none; validation and
    // test 4 windows of 7 per series with actuals there (not BOS, not PBI).
    assert_eq!(data["windows"]["train"], 16 * 289 + 230 + 284 + 140 + 126);
    assert_eq!(data["windows"]["validation"], 18 * 4);
    assert_eq!(data["windows"]["test"], 18 * 4);
    let spans = data["spans"].as_array().unwrap();
    let bos = spans.iter().find(|s| s["series"] == "BOS").unwrap();
    assert!(
        bos["last"].as_str().unwrap().starts_with("2013-10-31"),
        "{bos}"
    );
    assert_eq!(bos["periods"], OCT_31 + 1);
    let lax = spans.iter().find(|s| s["series"] == "LAX").unwrap();
    assert_eq!(
        (lax["periods"].as_u64(), lax["missing"].as_u64()),
        (Some(365), Some(3))
    );

    // Cutoffs 350 and 357; every series but BOS has actuals after both: 19 x 2 windows x 7.
    let comparison = std::fs::read_to_string(run.join("eval/comparison.csv")).unwrap();
    let rows: Vec<Vec<&str>> = comparison
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let models: Vec<&str> = rows.iter().map(|r| r[0]).collect();
    assert_eq!(
        models,
        ["SeasonalNaive", "Naive", "Selected", "TFT"],
        "{comparison}"
    );
    for r in &rows {
        assert_eq!((r[1], r[2]), ("19", "266"), "{comparison}");
    }
    let per_series = std::fs::read_to_string(run.join("eval/per_series.csv")).unwrap();
    for line in per_series.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let want = if f[1] == "BOS" { "0" } else { "14" };
        assert_eq!(f[3], want, "{line}");
    }
    let tft = forecasts(&run.join("tft/forecasts.csv"));
    let baselines = forecasts(&run.join("baselines/forecasts.csv"));
    assert_eq!(tft.len(), 19 * 2 * 7);
    assert!(tft.keys().all(|k| k.1 != "BOS"));
    // The TFT has no model of PBI: its rows are SeasonalNaive's own, marked as fallbacks.
    let mut pbi = 0;
    for ((_, series, cutoff, ts), (mean, kind)) in &tft {
        if series != "PBI" {
            assert_eq!(kind, "", "{series} {cutoff} {ts}");
            continue;
        }
        pbi += 1;
        assert_eq!(kind, "fallback:SeasonalNaive");
        let key = (
            "SeasonalNaive".to_string(),
            series.clone(),
            cutoff.clone(),
            ts.clone(),
        );
        assert_eq!(*mean, baselines[&key].0, "{series} {cutoff} {ts}");
    }
    assert_eq!(pbi, 2 * 7);

    // Past the data: each series from its own last observation; PBI only with --fallback.
    let (ok, _, stderr) = fusecast(d, &["predict", "runs/ragged", "--out", "future.csv"]);
    assert!(!ok && stderr.contains("\"PBI\""), "{stderr}");
    let (ok, _, stderr) = fusecast(
        d,
        &[
            "predict",
            "runs/ragged",
            "--out",
            "future.csv",
            "--fallback",
        ],
    );
    assert!(ok, "{stderr}");
    let future = forecasts(&d.join("future.csv"));
    let days = |id: &str| -> Vec<(String, String, String)> {
        future
            .iter()
            .filter(|(k, _)| k.1 == id)
            .map(|(k, v)| (k.2[..10].to_string(), k.3[..10].to_string(), v.1.clone()))
            .collect()
    };
    let bos = days("BOS");
    assert_eq!(bos.len(), 7);
    assert_eq!(
        bos[0],
        ("2013-10-31".into(), "2013-11-01".into(), String::new())
    );
    assert_eq!(bos[6].1, "2013-11-07");
    let atl = days("ATL");
    assert_eq!(
        (atl[0].0.as_str(), atl[0].1.as_str()),
        ("2013-12-31", "2014-01-01")
    );
    let pbi = days("PBI");
    assert_eq!(pbi.len(), 7);
    assert!(
        pbi.iter().all(|r| r.2 == "fallback:SeasonalNaive"),
        "{pbi:?}"
    );
}
