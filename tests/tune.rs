//! `fusecast tune` end to end: the reference experiment (learning rates x cluster counts, per
//! cluster, ASHA) completes with its results and backtest; killed with SIGKILL at random
//! moments and resumed, it ends with the same trials, decisions and best trial as an
//! uninterrupted run; a changed search space is refused on resume.

mod common;

use common::*;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const CONFIG: &str = "[data]\nstart = \"2022-01-01\"\nend = \"2022-06-30\"\n[data.synthetic]\nzones = 10\n\
[clusters]\nmethod = \"kmeans-profile\"\n\
[windows]\nencoder_length = 14\nhorizon = 7\nvalidation_periods = 14\ntest_periods = 14\n\
[model]\nhidden_size = 8\nattention_heads = 2\nhidden_continuous_size = 4\n\
[train]\nbatch_size = 32\nmax_epochs = 4\nbatches_per_epoch = 3\n\
[baselines]\nmodels = [\"seasonal_naive\"]\nselection_windows = 0\n\
[tune]\nmetric = \"val_loss\"\nscope = \"per_cluster\"\nscheduler = \"asha\"\ngrace_period = 1\nreduction_factor = 2\nmax_concurrent = 2\n\
\"train.learning_rate\" = { grid = [1e-3, 3e-2, 1e-2, 1e-6] }\n\"clusters.k\" = { grid = [1, 2] }\n";

/// trials.csv without the timing columns (wall time and set-up differ run to run).
fn decisions(dir: &Path, name: &str) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join(format!("runs/{name}/trials.csv"))).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let drop: Vec<usize> = header
        .iter()
        .enumerate()
        .filter(|(_, h)| ["wall_s", "setup_s", "run_dir"].contains(h))
        .map(|(i, _)| i)
        .collect();
    text.lines()
        .map(|l| {
            fusecast_data_split(l)
                .into_iter()
                .enumerate()
                .filter(|(i, _)| !drop.contains(i))
                .map(|(_, c)| c)
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect()
}

/// A CSV line's fields (quoted fields hold commas: the group column).
fn fusecast_data_split(line: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted) = (Vec::new(), String::new(), false);
    for ch in line.chars() {
        match ch {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Runs the experiment `name` under `cfg`, killing it with SIGKILL once the log has grown by
/// each of `steps` results past what the runs before reached, resuming after each kill; returns
/// how many kills landed before the experiment finished. The caller resumes it to the end.
fn kill_and_resume(dir: &Path, cfg: &str, name: &str, steps: &[usize]) -> usize {
    let log = dir.join(format!("runs/{name}/log.jsonl"));
    let lines = || std::fs::read_to_string(&log).map_or(0, |t| t.lines().count());
    let mut kills = 0;
    let mut reached = 0;
    for step in steps {
        let mut args = vec!["--quiet", "tune", cfg, "--name", name];
        if kills > 0 {
            args.push("--resume");
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_fusecast"))
            .current_dir(dir)
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let t0 = std::time::Instant::now();
        while lines() < reached + step
            && child.try_wait().unwrap().is_none()
            && t0.elapsed().as_secs() < 120
        {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            let status = child.wait().unwrap();
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(status.signal(), Some(9));
            kills += 1;
        }
        reached = reached.max(lines());
    }
    kills
}

#[test]
fn the_reference_experiment_runs_and_resumes_exactly_after_kills() {
    let dir = tempfile::tempdir().unwrap();
    let cfg: PathBuf = dir.path().join("tune.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    let cfg = cfg.to_str().unwrap();
    let (ok, stdout, stderr) = fusecast(dir.path(), &["tune", cfg, "--name", "whole"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("best: clusters.k="), "{stdout}");
    let exp = dir.path().join("runs/whole");
    for f in [
        "trials.csv",
        "best.toml",
        "tune.md",
        "curves.svg",
        "log.jsonl",
        "eval/report.md",
        "eval/comparison.csv",
    ] {
        assert!(exp.join(f).exists(), "{f} missing");
    }
    let whole = decisions(dir.path(), "whole");
    // 4 learning rates x (1 + 2 clusters) = 12 trials. A cluster's trials compete with each
    // other only, and 1e-6 barely moves from the initial model: ASHA stops it.
    assert_eq!(whole.len(), 13, "{whole:?}");
    assert!(
        whole.iter().any(|l| l.contains(",STOPPED,")),
        "ASHA stopped no trial: {whole:#?}"
    );
    let best_col = fusecast_data_split(&whole[0])
        .iter()
        .position(|h| h == "best")
        .unwrap();
    let marked: Vec<String> = whole[1..]
        .iter()
        .map(|l| fusecast_data_split(l))
        .filter(|f| f[best_col] == "true")
        .map(|f| f[0].clone())
        .collect();
    assert!(!marked.is_empty(), "no trial marked best");
    // Every trial is an ordinary run directory.
    assert!(exp.join("trials/t000-c0/best/artifact.json").exists());
    assert!(exp.join("trials/t003-c1/config.toml").exists());
    let comparison = std::fs::read_to_string(exp.join("eval/comparison.csv")).unwrap();
    for m in [
        "SeasonalNaive",
        "TFT per-cluster [clusters.k=1]",
        "TFT per-cluster [clusters.k=2]",
    ] {
        assert!(comparison.contains(m), "{m} missing from {comparison}");
    }
    // best.toml names the same trials trials.csv marks best.
    let best = std::fs::read_to_string(exp.join("best.toml")).unwrap();
    for l in &whole[1..] {
        let id = l.split(',').next().unwrap().to_string();
        assert_eq!(
            best.contains(&format!("id = \"{id}\"")),
            marked.contains(&id),
            "{id}: {best}"
        );
    }
    let (ok, table, _) = fusecast(dir.path(), &["tune", "--status", exp.to_str().unwrap()]);
    assert!(
        ok && table.contains("t000-c0") && table.contains("TERMINATED"),
        "{table}"
    );

    // Killed with SIGKILL at several moments (each a few results further than the last one
    // reached: a resume replays the earlier ones in milliseconds), resumed each time.
    let kills = kill_and_resume(dir.path(), cfg, "cut", &[2, 4, 3, 5]);
    assert!(
        kills >= 3,
        "the experiment finished before the kills landed ({kills} kills)"
    );
    let (ok, _, stderr) = fusecast(dir.path(), &["tune", cfg, "--name", "cut", "--resume"]);
    assert!(ok, "{stderr}");
    assert_eq!(decisions(dir.path(), "cut"), whole);
    // No epoch was trained twice: across the kills, each (trial, epoch) was trained at most once
    // and read back from its checkpoint afterwards; some were read back.
    let log = std::fs::read_to_string(dir.path().join("runs/cut/log.jsonl")).unwrap();
    let (mut trained, mut replayed) = (Vec::new(), 0);
    for l in log.lines().filter(|l| l.contains("\"result\"")) {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        let key = (
            v["trial"].as_str().unwrap().to_string(),
            v["epoch"].as_u64().unwrap(),
        );
        match v["replayed"].as_bool().unwrap() {
            true => replayed += 1,
            false => {
                assert!(!trained.contains(&key), "{key:?} trained twice");
                trained.push(key);
            }
        }
    }
    assert!(
        replayed > 0 && !trained.is_empty(),
        "{replayed} replayed, {} trained",
        trained.len()
    );

    // A resume with another search space is refused, naming what changed.
    std::fs::write(
        dir.path().join("tune.toml"),
        CONFIG.replace("grid = [1, 2]", "grid = [1, 3]"),
    )
    .unwrap();
    let (ok, _, stderr) = fusecast(dir.path(), &["tune", cfg, "--name", "cut", "--resume"]);
    assert!(
        !ok && stderr.contains("search space") && stderr.contains("clusters.k"),
        "{stderr}"
    );
}

/// ASHA with promotions on the reference experiment (4 learning rates x k in {1, 2}: three
/// contests of four trials; rungs at epochs 1 and 2, max_t 4): in every contest the best trial
/// at each rung is promoted and one reaches max_t, the others stop at a rung; far fewer
/// trial-epochs run than FIFO's 48; and killed and resumed it decides as an uninterrupted run.
#[test]
fn promotion_asha_advances_the_top_of_each_rung_and_resumes_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let cfg: PathBuf = dir.path().join("tune.toml");
    std::fs::write(
        &cfg,
        CONFIG.replace("scheduler = \"asha\"", "scheduler = \"asha_promotion\""),
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap();
    let (ok, _, stderr) = fusecast(dir.path(), &["tune", cfg, "--name", "whole"]);
    assert!(ok, "{stderr}");
    let whole = decisions(dir.path(), "whole");
    let header = fusecast_data_split(&whole[0]);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<Vec<String>> = whole[1..].iter().map(|l| fusecast_data_split(l)).collect();
    assert_eq!(rows.len(), 12, "{whole:#?}");
    let epochs_of = |id: &str| -> usize {
        let r = rows.iter().find(|r| r[0] == id).unwrap();
        r[col("epochs")].parse().unwrap()
    };
    // Each trial's metric at each epoch, from the experiment's log.
    let log = std::fs::read_to_string(dir.path().join("runs/whole/log.jsonl")).unwrap();
    let metric = |id: &str, epoch: u64| -> f64 {
        log.lines()
            .filter(|l| l.contains("\"result\""))
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .find(|v| v["trial"] == id && v["epoch"] == epoch)
            .map(|v| v["metric"].as_f64().unwrap())
            .unwrap()
    };
    let mut contests: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r[col("group")].clone(), r[col("cluster")].clone()))
        .collect();
    contests.sort();
    contests.dedup();
    assert_eq!(contests.len(), 3, "{contests:?}");
    let mut total = 0;
    for (group, cluster) in &contests {
        let members: Vec<&Vec<String>> = rows
            .iter()
            .filter(|r| &r[col("group")] == group && &r[col("cluster")] == cluster)
            .collect();
        assert_eq!(members.len(), 4);
        total += members.iter().map(|r| epochs_of(&r[0])).sum::<usize>();
        for rung in [1u64, 2] {
            let at: Vec<&str> = members
                .iter()
                .map(|r| r[0].as_str())
                .filter(|id| epochs_of(id) >= rung as usize)
                .collect();
            let best = at
                .iter()
                .min_by(|a, b| metric(a, rung).total_cmp(&metric(b, rung)))
                .unwrap();
            assert!(
                epochs_of(best) > rung as usize,
                "{group} cluster {cluster}: {best}, the best at epoch {rung}, was not promoted"
            );
        }
        let terminated: Vec<&&Vec<String>> = members
            .iter()
            .filter(|r| r[col("status")] == "TERMINATED")
            .collect();
        assert!(
            !terminated.is_empty() && terminated.iter().all(|r| epochs_of(&r[0]) == 4),
            "{group} cluster {cluster}: {members:#?}"
        );
        for r in &members {
            if r[col("status")] == "STOPPED" {
                assert!(
                    [1, 2].contains(&epochs_of(&r[0])),
                    "{r:?} stopped off a rung"
                );
            }
        }
    }
    // Per contest: 4 trials at rung 1, at most 3 promoted (the asynchronous top half of 2, 3,
    // then 4 recorded), at most 2 of those promoted from rung 2, each for 2 more epochs.
    assert!(
        total <= 3 * (4 + 3 + 2 * 2),
        "{total} trial-epochs (FIFO runs 48)"
    );

    let kills = kill_and_resume(dir.path(), cfg, "cut", &[3, 6]);
    assert!(kills >= 1, "the experiment finished before a kill landed");
    let (ok, _, stderr) = fusecast(dir.path(), &["tune", cfg, "--name", "cut", "--resume"]);
    assert!(ok, "{stderr}");
    assert_eq!(decisions(dir.path(), "cut"), whole);
}

/// `fusecast predict` on an experiment forecasts each series with its own cluster's model from
/// the winning assignment, the same values as predicting from that trial's folder alone.
#[test]
fn predict_on_an_experiment_uses_each_clusters_best_model() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // k = 2 only, so the winner has one model per cluster.
    let config = CONFIG.replace("{ grid = [1, 2] }", "{ grid = [2] }");
    std::fs::write(
        d.join("exp.toml"),
        config.replace("max_epochs = 4", "max_epochs = 2"),
    )
    .unwrap();
    let (ok, _, stderr) = fusecast(d, &["tune", "exp.toml", "--name", "exp"]);
    assert!(ok, "{stderr}");
    let best = std::fs::read_to_string(d.join("runs/exp/best.toml")).unwrap();
    let doc: toml::Table = toml::from_str(&best).unwrap();
    let trials = doc["trial"].as_array().unwrap();
    assert_eq!(trials.len(), 2, "{best}");
    let (ok, _, stderr) = fusecast(d, &["predict", "runs/exp", "--out", "all.csv"]);
    assert!(ok, "{stderr}");
    let all = std::fs::read_to_string(d.join("all.csv")).unwrap();
    assert_eq!(all.lines().count(), 1 + 10 * 7, "every series once");
    let mut seen = 0;
    for t in trials {
        let id = t["id"].as_str().unwrap();
        let out = format!("{id}.csv");
        let trial = format!("runs/exp/trials/{id}");
        let (ok, _, stderr) = fusecast(d, &["predict", &trial, "--out", &out]);
        assert!(ok, "{stderr}");
        for line in std::fs::read_to_string(d.join(&out))
            .unwrap()
            .lines()
            .skip(1)
        {
            assert!(
                all.lines().any(|l| l == line),
                "{id}: {line} not in the experiment's forecast"
            );
            seen += 1;
        }
    }
    assert_eq!(seen, 10 * 7);
    let (ok, _, stderr) = fusecast(d, &["predict", "runs/exp", "--series", "nowhere"]);
    assert!(!ok && stderr.contains("\"nowhere\""), "{stderr}");
}
