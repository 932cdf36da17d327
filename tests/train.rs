//! `fusecast train`, as a tuning engine drives it: `--set` overrides, epoch by epoch with
//! `--pause-after-epoch` (exported checkpoints, `continue` / `stop` / end of stdin), SIGTERM
//! (exit 143, the last checkpoint intact), `--resume-from` an exported checkpoint equal to an
//! uninterrupted run; and `tune --plan` / `tune --collect` over trials trained that way giving
//! the same best trials as `fusecast tune`.

mod common;

use common::*;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

const CONFIG: &str = "[run]\nname = \"exp\"\n\
[data]\nstart = \"2022-01-01\"\nend = \"2022-06-30\"\n[data.synthetic]\nzones = 10\n\
[clusters]\nmethod = \"kmeans-profile\"\nk = 2\n\
[windows]\nencoder_length = 14\nhorizon = 7\nvalidation_periods = 14\ntest_periods = 14\n\
[model]\nhidden_size = 8\nattention_heads = 2\nhidden_continuous_size = 4\n\
[train]\nbatch_size = 32\nmax_epochs = 4\nbatches_per_epoch = 5\ndevices = [\"cpu\"]\n\
[baselines]\nmodels = [\"seasonal_naive\"]\nselection_windows = 0\n\
[tune]\nmetric = \"val_loss\"\nscope = \"per_cluster\"\nscheduler = \"fifo\"\nmax_concurrent = 2\n\
\"train.learning_rate\" = { grid = [1e-3, 3e-2] }\n\"clusters.k\" = { grid = [2] }\n";

fn setup() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("exp.toml"), CONFIG).unwrap();
    d
}

/// `fusecast --json train exp.toml ARGS`, answering each `paused` event with the next of
/// `answers` (stdin closed when they run out); the events and the exit code.
fn drive(cwd: &Path, args: &[&str], answers: &[&str]) -> (Vec<serde_json::Value>, i32) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fusecast"))
        .current_dir(cwd)
        .args(["--json", "train", "exp.toml"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take();
    let mut answers = answers.iter();
    let mut events = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let event: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        if event["event"] == "paused" {
            match answers.next() {
                Some(&"SIGTERM") => {
                    // SAFETY: kill(2) on our own child's pid.
                    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
                }
                Some(a) => {
                    let s = stdin.as_mut().unwrap();
                    writeln!(s, "{a}").unwrap();
                    s.flush().unwrap();
                }
                None => drop(stdin.take()),
            }
        }
        events.push(event);
    }
    let code = child.wait().unwrap().code().unwrap_or(-1);
    (events, code)
}

fn of_kind<'a>(events: &'a [serde_json::Value], kind: &str) -> Vec<&'a serde_json::Value> {
    events.iter().filter(|e| e["event"] == kind).collect()
}

/// The curve without the clock readings.
fn curve(run: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            for k in ["wall_s", "samples_per_s", "checkpoint"] {
                v.as_object_mut().unwrap().remove(k);
            }
            v
        })
        .collect()
}

#[test]
fn paused_epochs_export_checkpoints_and_resume_from_one_equals_an_uninterrupted_run() {
    let d = setup();
    let p = d.path();
    let set = |name: &str| vec!["--set".to_string(), format!("run.name={name}")];
    let args = |name: &str, extra: &[&str]| -> Vec<String> {
        let mut a = set(name);
        a.extend(["--set", "clusters.select=0"].map(String::from));
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let strs = |v: &[String]| {
        v.iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("\u{1}")
    };
    let run = |a: Vec<String>, answers: &[&str]| {
        let joined = strs(&a);
        let a: Vec<&str> = joined.split('\u{1}').collect();
        drive(p, &a, answers)
    };

    // Uninterrupted, epoch by epoch.
    let (events, code) = run(
        args("whole", &["--pause-after-epoch", "ex-whole"]),
        &["continue"; 4],
    );
    assert_eq!(code, 0, "{events:?}");
    let paused = of_kind(&events, "paused");
    assert_eq!(paused.len(), 4);
    for (i, e) in paused.iter().enumerate() {
        assert_eq!(e["epoch"], i + 1);
        assert_eq!(
            e["last"],
            i == 3,
            "only the budget's last epoch is the last"
        );
        let exported = p.join(e["checkpoint"].as_str().unwrap());
        assert!(exported
            .join(format!("checkpoints/epoch-{:04}/state.json", i + 1))
            .exists());
        assert!(exported.join("best/artifact.json").exists());
        assert_eq!(
            std::fs::read_to_string(exported.join("metrics.jsonl"))
                .unwrap()
                .lines()
                .count(),
            i + 1
        );
    }
    assert_eq!(of_kind(&events, "trained")[0]["epochs"], 4);

    // `stop` after epoch 3 ends the run with its best model; the export of epoch 2 resumes.
    let (events, code) = run(
        args("cut", &["--pause-after-epoch", "ex-cut"]),
        &["continue", "continue", "stop"],
    );
    assert_eq!(code, 0);
    assert_eq!(of_kind(&events, "trained")[0]["epochs"], 3);
    assert!(p.join("runs/cut/best/artifact.json").exists());
    let (events, code) = run(
        args(
            "cut",
            &[
                "--resume-from",
                "ex-cut/epoch-0002",
                "--pause-after-epoch",
                "ex-cut2",
            ],
        ),
        &["continue", "continue"],
    );
    assert_eq!(code, 0, "{events:?}");
    assert_eq!(
        of_kind(&events, "paused")[0]["epoch"],
        3,
        "resumed after epoch 2"
    );
    assert_eq!(curve(&p.join("runs/cut")), curve(&p.join("runs/whole")));

    // SIGTERM while paused: exit 143, `interrupted`, and --resume continues exactly.
    let (events, code) = run(
        args("term", &["--pause-after-epoch", "ex-term"]),
        &["continue", "SIGTERM"],
    );
    assert_eq!(code, 143, "{events:?}");
    assert_eq!(of_kind(&events, "interrupted")[0]["signal"], "SIGTERM");
    assert!(of_kind(&events, "trained").is_empty());
    let (events, code) = run(args("term", &["--resume"]), &[]);
    assert_eq!(code, 0, "{events:?}");
    assert_eq!(curve(&p.join("runs/term")), curve(&p.join("runs/whole")));

    // A run started again exports over its earlier exports.
    let (events, code) = run(
        args("whole", &["--pause-after-epoch", "ex-whole"]),
        &["stop"],
    );
    assert_eq!(code, 0, "{events:?}");

    // The end of stdin stops a paused run (a bridge that died) cleanly.
    let (events, code) = run(args("eof", &["--pause-after-epoch", "ex-eof"]), &[]);
    assert_eq!(code, 0);
    assert_eq!(of_kind(&events, "trained")[0]["epochs"], 1);

    // A checkpoint folder that is not an export is refused, naming it.
    std::fs::create_dir_all(p.join("not-an-export")).unwrap();
    let (ok, _, err) = fusecast(
        p,
        &[
            "train",
            "exp.toml",
            "--set",
            "run.name=x",
            "--resume-from",
            "not-an-export",
        ],
    );
    assert!(!ok);
    assert!(err.contains("not-an-export"), "{err}");
}

#[test]
fn set_overrides_are_checked_like_the_file() {
    let d = setup();
    let p = d.path();
    let (ok, _, err) = fusecast(p, &["train", "exp.toml", "--set", "train.learning_rat=0.1"]);
    assert!(!ok);
    assert!(
        err.contains("learning_rat") && err.contains("--set"),
        "{err}"
    );
    let (ok, _, err) = fusecast(p, &["train", "exp.toml", "--set", "train.learning_rate"]);
    assert!(!ok);
    assert!(err.contains("KEY=VALUE"), "{err}");
    let (ok, _, err) = fusecast(p, &["train", "exp.toml", "--set", "train.learning_rate=-1"]);
    assert!(!ok);
    assert!(err.contains("train.learning_rate"), "{err}");
    let (ok, _, err) = fusecast(p, &["train", "exp.toml", "--set", "run.name.x=1"]);
    assert!(!ok);
    assert!(err.contains("run.name"), "{err}");
    // A string value needs no quotes; a list is TOML.
    let (ok, _, err) = fusecast(
        p,
        &[
            "train",
            "exp.toml",
            "--set",
            "run.name=short",
            "--set",
            "train.max_epochs=1",
            "--set",
            "train.devices=[\"cpu\"]",
        ],
    );
    assert!(ok, "{err}");
    let saved = std::fs::read_to_string(p.join("runs/short/config.toml")).unwrap();
    assert!(saved.contains("max_epochs = 1"), "{saved}");
}

#[test]
fn trials_trained_outside_the_tuner_collect_to_the_tuners_results() {
    let d = setup();
    let p = d.path();
    let (ok, plan, err) = fusecast(p, &["tune", "exp.toml", "--plan"]);
    assert!(ok, "{err}");
    let plan: serde_json::Value = serde_json::from_str(&plan).unwrap();
    assert_eq!(
        plan["assignments"][0]["clusters"],
        serde_json::json!([0, 1])
    );
    assert_eq!(plan["trials"].as_array().unwrap().len(), 4);
    assert_eq!(plan["max_t"], 4);
    // Each planned trial trained by `fusecast train` under another id, as an engine would.
    let trials_dir = p.join(plan["trials_dir"].as_str().unwrap());
    let mut outcomes = Vec::new();
    for t in plan["trials"].as_array().unwrap() {
        let id = format!("ext-{}", t["id"].as_str().unwrap());
        let lr = t["params"]["train.learning_rate"].as_f64().unwrap();
        let c = t["cluster"].as_u64().unwrap();
        let (ok, _, err) = fusecast(
            p,
            &[
                "train",
                "exp.toml",
                "--set",
                &format!("run.output_dir={}", trials_dir.display()),
                "--set",
                &format!("run.name={id}"),
                "--set",
                &format!("train.learning_rate={lr:?}"),
                "--set",
                &format!("clusters.select={c}"),
                "--set",
                "train.monitor=val_loss",
            ],
        );
        assert!(ok, "{err}");
        outcomes.push(serde_json::json!({"id": id, "params": t["params"], "cluster": c, "status": "TERMINATED"}));
    }
    std::fs::write(
        p.join("outcomes.json"),
        serde_json::to_string(&outcomes).unwrap(),
    )
    .unwrap();
    let (ok, _, err) = fusecast(p, &["tune", "exp.toml", "--collect", "outcomes.json"]);
    assert!(ok, "{err}");
    let (ok, _, err) = fusecast(p, &["tune", "exp.toml", "--set", "run.name=builtin"]);
    assert!(ok, "{err}");
    let best = |name: &str| -> Vec<(i64, String, f64)> {
        let doc: toml::Table = toml::from_str(
            &std::fs::read_to_string(p.join(format!("runs/{name}/best.toml"))).unwrap(),
        )
        .unwrap();
        doc["trial"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["cluster"].as_integer().unwrap(),
                    t["params"]["train.learning_rate"].to_string(),
                    t["val_loss"].as_float().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(best("exp"), best("builtin"));
    let rows = std::fs::read_to_string(p.join("runs/exp/trials.csv")).unwrap();
    assert_eq!(rows.lines().count(), 5, "{rows}");
    assert!(
        rows.lines()
            .skip(1)
            .all(|l| l.starts_with("ext-") && l.contains("TERMINATED")),
        "{rows}"
    );
    for f in [
        "experiment.json",
        "tune.md",
        "curves.svg",
        "report.html",
        "eval/report.md",
    ] {
        assert!(p.join("runs/exp").join(f).exists(), "{f}");
    }
    // The experiment predicts like one `fusecast tune` made.
    let (ok, _, err) = fusecast(p, &["predict", "runs/exp", "--out", "f.csv"]);
    assert!(ok, "{err}");
    // A verdict that is not final is refused.
    outcomes[0]["status"] = serde_json::json!("RUNNING");
    std::fs::write(
        p.join("bad.json"),
        serde_json::to_string(&outcomes).unwrap(),
    )
    .unwrap();
    let (ok, _, err) = fusecast(p, &["tune", "exp.toml", "--collect", "bad.json"]);
    assert!(!ok);
    assert!(err.contains("has not ended"), "{err}");
}
