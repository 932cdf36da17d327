//! End-to-end runs of the `fusecast` binary on the shipped configs and real fixtures.

mod common;

use common::*;

use std::process::Command;

#[test]
fn quickstart_writes_a_complete_run_directory() {
    let dir = tempfile::tempdir().unwrap();
    // The shipped quickstart, with training cut to 2 steps to keep the test short.
    let text = std::fs::read_to_string(root().join("configs/quickstart.toml")).unwrap();
    assert!(text.contains("max_epochs = 30") && text.contains("batches_per_epoch = 30"));
    let config = dir.path().join("quickstart.toml");
    let models = "models = [\"seasonal_naive\", \"ets\", \"prophet_additive\"]";
    assert!(text.contains(models));
    let short = text
        .replace("max_epochs = 30", "max_epochs = 1")
        .replace("batches_per_epoch = 30", "batches_per_epoch = 2")
        .replace(models, "models = [\"seasonal_naive\", \"naive\"]");
    std::fs::write(&config, short).unwrap();
    let run_named = |name: &str| {
        fusecast(
            dir.path(),
            &["run", config.to_str().unwrap(), "--name", name],
        )
    };
    let (ok, stdout, stderr) = run_named("t1");
    assert!(ok, "{stderr}");
    assert!(stdout.contains("263 series"), "{stdout}");
    assert!(stdout.contains("trained 1 epochs"), "{stdout}");
    let run = dir.path().join("runs/t1");
    for f in [
        "config.toml",
        "data.json",
        "clusters.csv",
        "panel.parquet",
        "metrics.jsonl",
        "best/model.bpk",
        "baselines/forecasts.csv",
        "baselines/selection.csv",
        "baselines/fits/SeasonalNaive.jsonl",
        "tft/forecasts.csv",
        "eval/report.md",
        "eval/comparison.csv",
        "eval/winners.csv",
        "eval/plots/metrics.png",
    ] {
        assert!(run.join(f).exists(), "{f} missing");
    }
    // Every model is scored on the same 2 windows x 14 days of all 263 series.
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
        assert_eq!((r[1], r[2]), ("263", "7364"), "{comparison}");
        let mase: f64 = r[7].parse().unwrap();
        assert!(mase > 0.05 && mase < 5.0, "{comparison}");
    }
    let tft = std::fs::read_to_string(run.join("tft/forecasts.csv")).unwrap();
    assert_eq!(tft.lines().count(), 1 + 263 * 2 * 14);
    assert!(
        stdout.contains("q-Risk P50") && stdout.contains("TFT"),
        "{stdout}"
    );
    // `evaluate` reloads the best model and the saved baseline forecasts: the same scores.
    let (ok, _, stderr) = fusecast(
        dir.path(),
        &["evaluate", config.to_str().unwrap(), "--name", "t1"],
    );
    assert!(ok, "{stderr}");
    let again = std::fs::read_to_string(run.join("eval/comparison.csv")).unwrap();
    assert_eq!(again, comparison);

    let data: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("data.json")).unwrap()).unwrap();
    assert_eq!(data["series"].as_array().unwrap().len(), 263);
    assert_eq!(data["grid"]["len"], 730);
    let sizes: Vec<u64> = data["clusters"]["sizes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!((sizes.len(), sizes.iter().sum::<u64>()), (2, 263));
    assert_eq!(data["scaler"]["series"].as_array().unwrap().len(), 263);
    assert!(data["covariate_scales"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "weather_tmax"));
    // 730 days - 56 held out = 674 training periods; decoders start at 56 -> 674 - 14 - 56 + 1 each.
    assert_eq!(data["windows"]["train"], 263 * (674 - 14 - 56 + 1));
    let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    let epoch: serde_json::Value = serde_json::from_str(metrics.lines().next().unwrap()).unwrap();
    assert_eq!(
        (
            metrics.lines().count(),
            epoch["epoch"].as_u64(),
            epoch["step"].as_u64()
        ),
        (1, Some(1), Some(2))
    );
    assert!(epoch["val_loss"].as_f64().unwrap().is_finite());
    assert!(epoch["q_risk50"].as_f64().unwrap() > 0.0);
    let clusters = std::fs::read_to_string(run.join("clusters.csv")).unwrap();
    assert_eq!(clusters.lines().count(), 264);
    // The resolved config is a valid config that names every section.
    let resolved = std::fs::read_to_string(run.join("config.toml")).unwrap();
    for section in [
        "[run]",
        "[data]",
        "[data.synthetic]",
        "[features]",
        "[clusters]",
        "[windows]",
        "[model]",
        "[train]",
        "[baselines]",
        "[eval]",
    ] {
        assert!(
            resolved.contains(section),
            "{section} missing from\n{resolved}"
        );
    }
    // Same config, same data: the fingerprint is reproducible.
    let (ok, _, stderr) = run_named("t2");
    assert!(ok, "{stderr}");
    let again: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("runs/t2/data.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(data["fingerprint"], again["fingerprint"]);
}

#[test]
fn unknown_config_keys_fail_with_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("typo.toml");
    std::fs::write(
        &config,
        "[data]\nsource = \"synthetic\"\nfrequncy = \"1d\"\n",
    )
    .unwrap();
    let (ok, _, stderr) = fusecast(dir.path(), &["run", config.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        stderr.contains("typo.toml") && stderr.contains("frequncy") && stderr.contains("line 3"),
        "{stderr}"
    );
    std::fs::write(&config, "[model]\nhidden_size = 32\nattention_heads = 3\n").unwrap();
    let (ok, _, stderr) = fusecast(dir.path(), &["run", config.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        stderr.contains("typo.toml") && stderr.contains("model.attention_heads"),
        "{stderr}"
    );
}

/// Every example config's data stage runs from the repository alone (its fixtures in `data/`).
#[test]
fn every_example_config_prepares() {
    let dir = tempfile::tempdir().unwrap();
    let mut configs: Vec<String> = std::fs::read_dir(root().join("configs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    configs.sort();
    assert!(configs.len() >= 5, "{configs:?}");
    let known = |name: &str| match name {
        "taxi_daily.toml" | "taxi_hourly.toml" => Some(265),
        "flights_daily.toml" => Some(105),
        "quickstart.toml" => Some(263),
        _ => None,
    };
    for config in &configs {
        let config = config.as_str();
        let series: Option<usize> = known(config);
        let out = dir.path().join(format!("{config}.csv"));
        let (ok, stdout, stderr) = fusecast(
            dir.path(),
            &[
                "prepare",
                root().join("configs").join(config).to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
        );
        assert!(ok, "{config}: {stderr}");
        assert!(stdout.contains("wrote"), "{stdout}");
        let text = std::fs::read_to_string(&out).unwrap();
        let ids: std::collections::HashSet<&str> = text
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap())
            .collect();
        assert!(ids.len() > 1, "{config}");
        if let Some(series) = series {
            assert_eq!(ids.len(), series, "{config}");
        }
    }
}

/// A training run killed with SIGKILL mid-way and resumed with `--resume` ends with the same loss
/// curve and the same best model as an uninterrupted run.
#[test]
fn a_killed_run_resumes_to_the_same_result() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("small.toml");
    std::fs::write(
        &config,
        "[data]\nstart = \"2022-01-01\"\nend = \"2022-12-31\"\n[data.synthetic]\nzones = 20\n\
         [features]\nstatic = [\"borough\"]\n[windows]\nencoder_length = 28\nhorizon = 7\n\
         [model]\nhidden_size = 16\nattention_heads = 2\nhidden_continuous_size = 8\n\
         [train]\nbatch_size = 64\nmax_epochs = 5\nbatches_per_epoch = 8\nlearning_rate = 0.01\n\
         [baselines]\nmodels = [\"seasonal_naive\"]\n",
    )
    .unwrap();
    let cfg = config.to_str().unwrap();
    let (ok, _, stderr) = fusecast(dir.path(), &["run", cfg, "--name", "whole"]);
    assert!(ok, "{stderr}");

    let mut child = Command::new(env!("CARGO_BIN_EXE_fusecast"))
        .current_dir(dir.path())
        .args(["--quiet", "run", cfg, "--name", "cut"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let first = dir
        .path()
        .join("runs/cut/checkpoints/epoch-0001/state.json");
    let t0 = std::time::Instant::now();
    while !first.exists() && t0.elapsed().as_secs() < 120 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        status.signal(),
        Some(9),
        "the run ended before the kill: {status:?}"
    );
    assert!(first.exists(), "no checkpoint was written");
    // The kill landed before the last epoch: its checkpoint is not there yet.
    assert!(
        !dir.path().join("runs/cut/checkpoints/epoch-0005").exists(),
        "the run finished before the kill"
    );
    let (ok, _, stderr) = fusecast(dir.path(), &["run", cfg, "--name", "cut", "--resume"]);
    assert!(ok, "{stderr}");

    let curve = |name: &str| -> Vec<(u64, u64, f64, f64)> {
        std::fs::read_to_string(dir.path().join(format!("runs/{name}/metrics.jsonl")))
            .unwrap()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (
                    v["epoch"].as_u64().unwrap(),
                    v["step"].as_u64().unwrap(),
                    v["train_loss"].as_f64().unwrap(),
                    v["val_loss"].as_f64().unwrap(),
                )
            })
            .collect()
    };
    // Epochs from before the kill went through state.json (float text round-trips to an ulp).
    let (a, b) = (curve("cut"), curve("whole"));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!((x.0, x.1), (y.0, y.1));
        assert!(
            (x.2 - y.2).abs() <= 1e-12 * y.2.abs() && (x.3 - y.3).abs() <= 1e-12 * y.3.abs(),
            "{x:?} vs {y:?}"
        );
    }
    assert_eq!(curve("whole").len(), 5);
    // Model files carry fresh parameter ids, so compare the trainer's final state instead (the
    // parameters themselves are compared exactly by fusecast-train's resume test).
    let state = |name: &str| -> serde_json::Value {
        let path = dir
            .path()
            .join(format!("runs/{name}/checkpoints/epoch-0005/state.json"));
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        serde_json::json!([v["best"], v["best_epoch"], v["lr"], v["step"]])
    };
    assert_eq!(state("cut"), state("whole"));

    // A resume with a changed config is refused, naming what changed.
    std::fs::write(
        &config,
        std::fs::read_to_string(&config)
            .unwrap()
            .replace("learning_rate = 0.01", "learning_rate = 0.02"),
    )
    .unwrap();
    let (ok, _, stderr) = fusecast(dir.path(), &["run", cfg, "--name", "cut", "--resume"]);
    assert!(!ok && stderr.contains("train.learning_rate"), "{stderr}");
}

/// Without held-out test periods a run trains and says why there is no backtest; a backtest that
/// would score the TFT on its own training periods is refused before training starts.
#[test]
fn backtests_use_only_held_out_periods() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("small.toml");
    let base =
        "[data]\nstart = \"2022-01-01\"\nend = \"2022-06-30\"\n[data.synthetic]\nzones = 5\n\
         [features]\nstatic = []\n[windows]\nencoder_length = 14\nhorizon = 7\n\
         [model]\nhidden_size = 8\nattention_heads = 1\nhidden_continuous_size = 4\n\
         [train]\nbatch_size = 16\nmax_epochs = 1\nbatches_per_epoch = 1\n";
    std::fs::write(
        &config,
        format!("{base}[baselines]\nmodels = [\"naive\"]\n"),
    )
    .unwrap();
    let cfg = config.to_str().unwrap();
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("horizon = 7\n", "horizon = 7\ntest_periods = 0\n"),
    )
    .unwrap();
    let (ok, stdout, stderr) = fusecast(dir.path(), &["run", cfg, "--name", "a"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("windows.test_periods = 0"), "{stdout}");
    std::fs::write(&config, format!("{base}[eval]\nwindows = 5\n")).unwrap();
    let (ok, _, stderr) = fusecast(dir.path(), &["run", cfg, "--name", "b"]);
    assert!(
        !ok && stderr.contains("windows.test_periods = 28"),
        "{stderr}"
    );
    assert!(!dir.path().join("runs/b/metrics.jsonl").exists());
    // So is per-series selection without room for its validation windows.
    std::fs::write(
        &config,
        format!("{base}[baselines]\nmodels = [\"naive\"]\nselection_windows = 40\n"),
    )
    .unwrap();
    let (ok, _, stderr) = fusecast(dir.path(), &["run", cfg, "--name", "s"]);
    assert!(
        !ok && stderr.contains("baselines.selection_windows = 40"),
        "{stderr}"
    );
    assert!(!dir.path().join("runs/s/metrics.jsonl").exists());
    std::fs::write(&config, format!("{base}[eval]\nwindows = 5\n")).unwrap();
    // Baselines alone may use the whole history.
    let (ok, stdout, stderr) = fusecast(dir.path(), &["baselines", cfg, "--name", "c"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("SeasonalNaive"), "{stdout}");
    let report = std::fs::read_to_string(dir.path().join("runs/c/eval/report.md")).unwrap();
    assert!(report.contains("5 backtest windows"), "{report}");

    // Another tool's forecasts (here SeasonalNaive's rows under another name) are scored alongside
    // by `evaluate` (no trained model in run c: baselines and extras only).
    let saved = std::fs::read_to_string(dir.path().join("runs/c/baselines/forecasts.csv")).unwrap();
    let mut lines = saved.lines();
    let mut extra = format!("{}\n", lines.next().unwrap());
    for l in lines.filter(|l| l.contains(",SeasonalNaive,")) {
        extra.push_str(&l.replace(",SeasonalNaive,", ",External,"));
        extra.push('\n');
    }
    std::fs::write(dir.path().join("extra.csv"), extra).unwrap();
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{text}extra_forecasts = [\"extra.csv\"]\n"),
    )
    .unwrap();
    let (ok, stdout, stderr) = fusecast(dir.path(), &["evaluate", cfg, "--name", "c"]);
    assert!(ok, "{stderr}");
    let comparison =
        std::fs::read_to_string(dir.path().join("runs/c/eval/comparison.csv")).unwrap();
    let row = |model: &str| {
        comparison
            .lines()
            .find(|l| l.starts_with(&format!("{model},")))
            .unwrap_or_else(|| panic!("{model} missing from {comparison}\n{stdout}"))
            .split_once(',')
            .unwrap()
            .1
            .rsplit_once(',')
            .unwrap()
            .0
            .to_string()
    };
    // Same forecasts, same scores (the last column, series won, differs: ties go to the first).
    assert_eq!(row("External"), row("SeasonalNaive"));

    // A table under a name already evaluated is refused, naming the file and the model.
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("[\"extra.csv\"]", "[\"extra.csv\", \"extra.csv\"]"),
    )
    .unwrap();
    let (ok, _, stderr) = fusecast(dir.path(), &["evaluate", cfg, "--name", "c"]);
    assert!(
        !ok && stderr.contains("extra.csv") && stderr.contains("\"External\" is already"),
        "{stderr}"
    );

    // Saved baselines of other models than the configured ones are not reused silently.
    std::fs::write(
        &config,
        format!("{text}[baselines]\nmodels = [\"naive\"]\n"),
    )
    .unwrap();
    let (ok, _, stderr) = fusecast(dir.path(), &["evaluate", cfg, "--name", "c"]);
    assert!(
        !ok && stderr.contains("baselines/forecasts.csv") && stderr.contains("--refit"),
        "{stderr}"
    );
    // Nor is a trained run evaluated on other windows than it was trained with: run a kept no
    // test periods, so a backtest now would score the TFT on periods it trained on.
    std::fs::write(
        &config,
        format!("{base}[baselines]\nmodels = [\"naive\"]\n"),
    )
    .unwrap();
    let (ok, _, stderr) = fusecast(dir.path(), &["evaluate", cfg, "--name", "a"]);
    assert!(
        !ok && stderr.contains("windows.test_periods is 28 in the config but was 0"),
        "{stderr}"
    );
}

/// `--json` puts only JSON lines on stdout, one event each, ending with the scores and the
/// report; a run directory whose model predates artifacts is refused with how to retrain.
#[test]
fn json_output_is_pure_json_lines_and_old_run_dirs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("small.toml");
    std::fs::write(
        &config,
        "[data]\nstart = \"2022-01-01\"\nend = \"2022-08-31\"\n[data.synthetic]\nzones = 10\n\
         [windows]\nencoder_length = 21\nhorizon = 7\nvalidation_periods = 14\ntest_periods = 14\n\
         [model]\nhidden_size = 8\nattention_heads = 2\nhidden_continuous_size = 4\n\
         [train]\nbatch_size = 32\nmax_epochs = 1\nbatches_per_epoch = 2\n\
         [baselines]\nmodels = [\"seasonal_naive\"]\nselection_windows = 0\n",
    )
    .unwrap();
    let cfg = config.to_str().unwrap();
    let (ok, stdout, stderr) = fusecast(dir.path(), &["run", cfg, "--name", "j", "--json"]);
    assert!(ok, "{stderr}");
    let events: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    for k in [
        "data_ready",
        "windows",
        "epoch",
        "trained",
        "scores",
        "report_written",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    let scores = events.iter().find(|e| e["event"] == "scores").unwrap();
    let models: Vec<&str> = scores["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["model"].as_str().unwrap())
        .collect();
    assert_eq!(models, ["SeasonalNaive", "TFT"]);
    assert!(scores["models"][1]["mase"].as_f64().unwrap() > 0.0);
    let epoch = events.iter().find(|e| e["event"] == "epoch").unwrap();
    assert_eq!(epoch["epoch"], 1);
    assert!(epoch["val_loss"].as_f64().unwrap().is_finite());

    // A failure with --json is an error event on stdout too.
    let (ok, stdout, _) = fusecast(dir.path(), &["evaluate", "missing.toml", "--json"]);
    assert!(!ok);
    let last: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(last["event"], "error");

    // A model saved before artifacts: weights only.
    std::fs::remove_file(dir.path().join("runs/j/best/artifact.json")).unwrap();
    let (ok, _, stderr) = fusecast(dir.path(), &["evaluate", cfg, "--name", "j"]);
    assert!(
        !ok && stderr.contains("older fusecast") && stderr.contains("fusecast run"),
        "{stderr}"
    );
}
