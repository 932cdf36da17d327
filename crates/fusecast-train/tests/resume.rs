//! Exact resume: a run interrupted mid-way and resumed from its last checkpoint ends with the same
//! loss curve and parameters as an uninterrupted run; a resume with another config is refused.
//! Alone in its test binary (burn's device RNG draws the initial weights).

mod common;

use common::*;

use fusecast_train::trainer::TrainConfig;

#[test]
fn an_interrupted_run_resumes_exactly() {
    let params = |m: &fusecast_model::Tft| parameters(m);
    let p = prepared();
    let ds = dataset(&p);
    let cfg = TrainConfig {
        batch_size: 32,
        max_epochs: 4,
        batches_per_epoch: Some(4),
        learning_rate: 1e-2,
        plateau_patience: 1,
        ..TrainConfig::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let ck = |name: &str, resume| checkpointing(dir.path(), name, 2, resume);
    let whole = train_plain(&ds, &cfg, Some(&ck("whole", false))).unwrap();
    assert_eq!(whole.history.len(), 4);

    // Killed during epoch 3 (after epoch 2's checkpoint).
    train_killed_at(&ds, &cfg, &ck("cut", false), 10);
    assert!(dir.path().join("cut/epoch-0002/state.json").exists());
    assert!(!dir.path().join("cut/epoch-0003").exists());
    let resumed = train_plain(&ds, &cfg, Some(&ck("cut", true))).unwrap();
    assert_same_curve(&resumed.history, &whole.history);
    assert_eq!(resumed.best_epoch, whole.best_epoch);
    assert_eq!(params(&resumed.model), params(&whole.model));
    // Only the last two checkpoints are kept.
    assert!(
        !dir.path().join("cut/epoch-0001").exists() && dir.path().join("cut/epoch-0004").exists()
    );

    // Resuming with another learning rate is refused, naming the key.
    let other = TrainConfig {
        learning_rate: 3e-3,
        ..cfg.clone()
    };
    let err = train_plain(&ds, &other, Some(&ck("cut", true)))
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("train.learning_rate") && err.contains("0.01"),
        "{err}"
    );
}
