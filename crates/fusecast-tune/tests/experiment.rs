//! An experiment as a library call: a trial whose loss diverges ends as ERROR with its message
//! and the others go on; the space is checked before any trial runs (an impossible cluster
//! count, a hidden size the heads do not divide), each error naming the key and the value.

use fusecast_pipeline::events::{Silent, TrialStatus};
use fusecast_pipeline::{Config, LoadedConfig};

fn loaded(dir: &std::path::Path, tune: &str) -> LoadedConfig {
    let text = format!(
        "[run]\noutput_dir = \"{}\"\nname = \"exp\"\n[data]\nstart = \"2022-01-01\"\nend = \"2022-05-31\"\n[data.synthetic]\nzones = 6\n\
         [windows]\nencoder_length = 14\nhorizon = 7\nvalidation_periods = 14\ntest_periods = 0\n\
         [model]\nhidden_size = 8\nattention_heads = 2\nhidden_continuous_size = 4\n\
         [train]\nbatch_size = 32\nmax_epochs = 2\nbatches_per_epoch = 2\ngrad_clip_norm = 1e30\n\
         [baselines]\nmodels = []\n[tune]\nscheduler = \"fifo\"\nmax_concurrent = 2\n{tune}",
        dir.display()
    );
    LoadedConfig {
        config: Config::parse(&text).unwrap(),
        path: "exp.toml".into(),
        base: ".".into(),
    }
}

#[test]
fn a_diverging_trial_errors_alone() {
    let dir = tempfile::tempdir().unwrap();
    let l = loaded(
        dir.path(),
        "scope = \"global\"\n\"train.learning_rate\" = { grid = [1e-2, 1e30] }\n",
    );
    let tuned = fusecast_tune::tune(&l, false, &Silent).unwrap();
    assert_eq!(tuned.states[0].status, TrialStatus::Terminated);
    assert_eq!(tuned.states[0].history.len(), 2);
    assert_eq!(tuned.states[1].status, TrialStatus::Error);
    let msg = tuned.states[1].message.clone().unwrap();
    assert!(msg.contains("loss became"), "{msg}");
    let best = tuned.best.unwrap();
    assert_eq!(best.trials, vec![0]);
    let csv = std::fs::read_to_string(tuned.dir.trials_csv()).unwrap();
    assert!(
        csv.contains("ERROR") && csv.contains("loss became"),
        "{csv}"
    );
}

#[test]
fn the_space_is_checked_before_any_trial() {
    let dir = tempfile::tempdir().unwrap();
    let err = |tune: &str| {
        fusecast_tune::tune(&loaded(dir.path(), tune), false, &Silent)
            .err()
            .unwrap()
            .to_string()
    };
    let e = err("scope = \"global\"\n\"model.hidden_size\" = { grid = [8, 9] }\n");
    assert!(e.contains("model.hidden_size") && e.contains("9"), "{e}");
    let e = err("scope = \"per_cluster\"\n\"clusters.method\" = { grid = [\"kmeans-profile\"] }\n\"clusters.k\" = { grid = [2, 50] }\n");
    assert!(e.contains("clusters.k") && e.contains("50"), "{e}");
    let e = err("\"train.learning_rate\" = { grid = [-1.0] }\n");
    assert!(e.contains("train.learning_rate") && e.contains("-1"), "{e}");
    let e = err("\"train.learnin_rate\" = { grid = [1.0] }\n");
    assert!(e.contains("learnin_rate"), "{e}");
    assert!(!dir.path().join("exp/trials").exists(), "no trial ran");
}
