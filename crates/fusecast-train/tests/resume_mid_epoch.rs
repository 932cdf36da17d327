//! Mid-epoch checkpoints (`train.checkpoint_every_steps`): a run interrupted inside an epoch
//! resumes from the last step checkpoint, skips the batches already done, and ends with exactly
//! the parameters and loss curve of an uninterrupted run. Alone in its test binary (burn's device
//! RNG draws the initial weights).

mod common;

use common::*;

use fusecast_train::trainer::{train, TrainConfig};

#[test]
fn a_run_killed_inside_an_epoch_resumes_from_its_step_checkpoint() {
    let p = prepared();
    let ds = dataset(&p);
    let cfg = TrainConfig {
        batch_size: 32,
        max_epochs: 3,
        batches_per_epoch: Some(4),
        learning_rate: 1e-2,
        checkpoint_every_steps: Some(3),
        ..TrainConfig::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let ck = |name: &str, resume| checkpointing(dir.path(), name, 3, resume);
    let whole = train_plain(&ds, &cfg, Some(&ck("whole", false))).unwrap();

    // Killed at step 7 (epoch 2, third batch): the last checkpoint is step 6, inside epoch 2.
    train_killed_at(&ds, &cfg, &ck("cut", false), 7);
    let mid = dir.path().join("cut/epoch-0002-step-00000006/state.json");
    assert!(mid.exists(), "no mid-epoch checkpoint");
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&mid).unwrap()).unwrap();
    assert_eq!(
        (
            state["epoch"].as_u64(),
            state["partial"]["batches"].as_u64()
        ),
        (Some(1), Some(2))
    );

    // A resume may change how often checkpoints are written (it changes nothing computed).
    let resumed_cfg = TrainConfig {
        checkpoint_every_steps: Some(5),
        ..cfg.clone()
    };
    let mut steps = Vec::new();
    let resumed = train(
        &ds,
        &hyper(),
        &resumed_cfg,
        Some(&ck("cut", true)),
        |_, _| {},
        |step, _| steps.push(step),
    )
    .unwrap();
    // Only the steps after the checkpoint ran again.
    assert_eq!(steps, (7..=12).collect::<Vec<_>>());
    assert_eq!(parameters(&resumed.model), parameters(&whole.model));
    assert_eq!(resumed.history.len(), 3);
    assert_same_curve(&resumed.history, &whole.history);

    // Zero is no frequency: refused, naming the key.
    let zero = TrainConfig {
        checkpoint_every_steps: Some(0),
        ..cfg.clone()
    };
    let err = train_plain(&ds, &zero, Some(&ck("zero", false)))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("train.checkpoint_every_steps"), "{err}");
}
