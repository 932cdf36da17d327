//! The trainer learns and repeats itself exactly. Alone in its test binary: burn draws
//! initial weights and dropout masks from the device's RNG, which tests running in parallel in
//! one process would share.

mod common;

use common::*;

use fusecast_train::trainer::TrainConfig;

#[test]
fn learns_and_repeats_itself_exactly() {
    let p = prepared();
    let ds = dataset(&p);
    let cfg = TrainConfig {
        batch_size: 64,
        max_epochs: 3,
        batches_per_epoch: Some(12),
        learning_rate: 1e-2,
        ..TrainConfig::default()
    };
    let run = || train_plain(&ds, &cfg, None).unwrap();
    let a = run();
    let b = run();
    let curve = |t: &fusecast_train::trainer::Trained| {
        t.history
            .iter()
            .map(|m| (m.train_loss, m.val_loss))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        curve(&a),
        curve(&b),
        "same seed, same data: same loss curve"
    );
    assert_eq!(a.history.len(), 3);
    let first = &a.history[0];
    let last = a.history.last().unwrap();
    assert!(
        last.val_loss < first.val_loss,
        "validation loss {} -> {}",
        first.val_loss,
        last.val_loss
    );
    assert!(
        last.q_risk50 > 0.0 && last.q_risk50 < 0.5,
        "P50 q-Risk {}",
        last.q_risk50
    );
    let c = train_plain(
        &ds,
        &TrainConfig {
            seed: 7,
            ..cfg.clone()
        },
        None,
    )
    .unwrap();
    assert_ne!(curve(&a), curve(&c), "another seed, another run");
}
