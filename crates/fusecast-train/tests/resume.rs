//! Exact resume: a run interrupted mid-way and resumed from its last checkpoint ends with the same
//! loss curve and parameters as an uninterrupted run; a resume with another config is refused.
//! Alone in its test binary (burn's device RNG draws the initial weights).

mod common;

use common::*;

use fusecast_data::window::{WindowDataset, WindowSpec};
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

    // So is resuming on other windows (they decide the batches and the scaler).
    let shorter = WindowDataset::new(
        &p.panel,
        WindowSpec {
            horizon: 5,
            ..ds.spec
        },
        ds.split,
        ds.scaler.transform,
    )
    .unwrap();
    let err = train_plain(&shorter, &cfg, Some(&ck("cut", true)))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("windows.horizon was 7 and is now 5"), "{err}");

    // A new run (not a resume) in the same folder replaces the old run's checkpoints: left
    // there, their higher steps would count as newer than its own.
    let fresh = TrainConfig {
        max_epochs: 1,
        ..cfg.clone()
    };
    train_plain(&ds, &fresh, Some(&ck("cut", false))).unwrap();
    assert!(dir.path().join("cut/epoch-0001/state.json").exists());
    assert!(!dir.path().join("cut/epoch-0004").exists());
    let again = train_plain(&ds, &fresh, Some(&ck("cut", true))).unwrap();
    assert_eq!(again.history.len(), 1, "the resume continued the old run");
}
