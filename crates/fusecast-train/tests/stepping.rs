//! The trainer as a scheduler drives it: a trial run to a rung, paused (dropped), continued
//! later with a larger epoch budget ends exactly as an uninterrupted run; what a resume may
//! change (budgets, devices) and what it may not (another cluster assignment); two trainings
//! at once in one process each give the curve they give alone; a kill inside the FIRST epoch
//! resumes (its checkpoint has no best validation loss yet).

mod common;

use common::*;

use fusecast_train::trainer::{train, Control, TrainConfig, TrainError, Trainer};

fn cfg(max_epochs: usize) -> TrainConfig {
    TrainConfig {
        batch_size: 32,
        max_epochs,
        batches_per_epoch: Some(3),
        learning_rate: 1e-2,
        plateau_patience: 1,
        ..TrainConfig::default()
    }
}

#[test]
fn a_paused_trial_continues_with_a_larger_budget_exactly() {
    let p = prepared();
    let ds = dataset(&p);
    let dir = tempfile::tempdir().unwrap();
    let whole = train_plain(&ds, &cfg(4), None).unwrap();

    // A rung at 2 epochs: the trainer stops there, and the process lets go of it.
    let mut t = Trainer::new(
        &ds,
        &hyper(),
        &cfg(2),
        Some(checkpointing(dir.path(), "t", 2, false)),
    )
    .unwrap();
    while !t.is_finished() {
        t.run_epoch(&mut |_, _| {}).unwrap();
    }
    assert_eq!(t.epochs_done(), 2);
    assert!(
        t.run_epoch(&mut |_, _| {}).is_err(),
        "a finished budget runs no epoch"
    );
    drop(t);

    // Later, promoted: resumed with max_epochs = 4 (a budget, not part of the run's identity).
    let mut t = Trainer::new(
        &ds,
        &hyper(),
        &cfg(4),
        Some(checkpointing(dir.path(), "t", 2, true)),
    )
    .unwrap();
    assert_eq!(t.epochs_done(), 2);
    let mut steps = Vec::new();
    while !t.is_finished() {
        t.run_epoch(&mut |s, _| steps.push(s)).unwrap();
    }
    assert_eq!(
        steps,
        (7..=12).collect::<Vec<_>>(),
        "only epochs 3 and 4 ran"
    );
    let continued = t.into_trained();
    assert_same_curve(&continued.history, &whole.history);
    assert_eq!(parameters(&continued.model), parameters(&whole.model));

    // In memory, the same: stop at 2 by the callback, raise the budget, go on.
    let mut t = Trainer::new(&ds, &hyper(), &cfg(2), None).unwrap();
    while !t.is_finished() {
        t.run_epoch(&mut |_, _| {}).unwrap();
    }
    t.set_max_epochs(4);
    while !t.is_finished() {
        t.run_epoch(&mut |_, _| {}).unwrap();
    }
    assert_eq!(
        parameters(&t.into_trained().model),
        parameters(&whole.model)
    );

    // The epoch callback can stop a run after any epoch.
    let stopped = train(
        &ds,
        &hyper(),
        &cfg(4),
        None,
        |m, _| {
            if m.epoch == 1 {
                Control::Stop
            } else {
                Control::Continue
            }
        },
        |_, _| {},
    )
    .unwrap();
    assert_eq!(stopped.history.len(), 1);
}

#[test]
fn a_resume_refuses_another_cluster_assignment_and_allows_other_devices() {
    let p = prepared();
    let ds = dataset(&p);
    let dir = tempfile::tempdir().unwrap();
    train_plain(
        &ds,
        &cfg(1),
        Some(&checkpointing(dir.path(), "c", 2, false)),
    )
    .unwrap();

    // Same k, other assignment: every series moved to the other cluster.
    let mut moved = p.clone();
    let cluster = moved
        .panel
        .statics
        .iter_mut()
        .find(|s| s.name == "cluster")
        .unwrap();
    for v in &mut cluster.values {
        *v = if v == "0" { "1".into() } else { "0".into() };
    }
    let moved_ds = dataset(&moved);
    let err = train_plain(
        &moved_ds,
        &cfg(2),
        Some(&checkpointing(dir.path(), "c", 2, true)),
    )
    .err()
    .unwrap();
    assert!(matches!(err, TrainError::Mismatch { .. }), "{err}");
    assert!(err.to_string().contains("static.cluster"), "{err}");

    // Two replicas instead of one and a larger budget: accepted.
    let two = TrainConfig {
        devices: vec!["cpu".into(), "cpu".into()],
        ..cfg(2)
    };
    let resumed = train_plain(&ds, &two, Some(&checkpointing(dir.path(), "c", 2, true))).unwrap();
    assert_eq!(resumed.history.len(), 2);
}

#[test]
fn concurrent_trainings_each_give_their_own_curve() {
    let p = prepared();
    let ds = dataset(&p);
    let a_cfg = cfg(2);
    let b_cfg = TrainConfig {
        seed: 9,
        learning_rate: 3e-3,
        ..cfg(2)
    };
    let alone_a = train_plain(&ds, &a_cfg, None).unwrap();
    let alone_b = train_plain(&ds, &b_cfg, None).unwrap();
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| train_plain(&ds, &a_cfg, None).unwrap());
        let b = s.spawn(|| train_plain(&ds, &b_cfg, None).unwrap());
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_same_curve(&a.history, &alone_a.history);
    assert_same_curve(&b.history, &alone_b.history);
    assert_eq!(parameters(&a.model), parameters(&alone_a.model));
    assert_eq!(parameters(&b.model), parameters(&alone_b.model));
}

#[test]
fn a_kill_inside_the_first_epoch_resumes() {
    let p = prepared();
    let ds = dataset(&p);
    let dir = tempfile::tempdir().unwrap();
    let c = TrainConfig {
        checkpoint_every_steps: Some(1),
        ..cfg(2)
    };
    let whole = train_plain(&ds, &c, None).unwrap();
    train_killed_at(&ds, &c, &checkpointing(dir.path(), "k", 3, false), 2);
    let state = dir.path().join("k/epoch-0001-step-00000001/state.json");
    assert!(state.exists(), "no first-epoch checkpoint");
    let resumed = train_plain(&ds, &c, Some(&checkpointing(dir.path(), "k", 3, true))).unwrap();
    assert_same_curve(&resumed.history, &whole.history);
    assert_eq!(parameters(&resumed.model), parameters(&whole.model));
}

#[test]
fn errors_are_variants_a_caller_can_act_on() {
    let p = prepared();
    let ds = dataset(&p);
    let bad = TrainConfig {
        learning_rate: -1.0,
        ..cfg(1)
    };
    let err = train_plain(&ds, &bad, None).err().unwrap();
    assert!(
        matches!(&err, TrainError::Config { key, .. } if key == "learning_rate"),
        "{err}"
    );
    // A learning rate that blows the loss up: the loss and the gradient norm in their fields.
    let huge = TrainConfig {
        learning_rate: 1e30,
        grad_clip_norm: None,
        ..cfg(3)
    };
    match train_plain(&ds, &huge, None).err() {
        Some(TrainError::NonFinite {
            loss,
            grad_norm,
            step,
            ..
        }) => {
            assert!(
                !loss.is_finite() || !grad_norm.is_finite(),
                "{loss} {grad_norm}"
            );
            assert!(step >= 1);
        }
        other => panic!("expected NonFinite, got {:?}", other.map(|e| e.to_string())),
    }
    // A checkpoint folder that cannot be created: an I/O error naming the path.
    let file = tempfile::NamedTempFile::new().unwrap();
    let ck = checkpointing(file.path(), "x", 1, false);
    match train_plain(&ds, &cfg(1), Some(&ck)).err() {
        Some(TrainError::Io { path, .. }) => assert!(path.starts_with(file.path())),
        other => panic!("expected Io, got {:?}", other.map(|e| e.to_string())),
    }
}

/// What a kill during a checkpoint write leaves behind: a half-written temp folder, an epoch
/// folder without its state, a best model moved aside but not yet replaced. The resume ignores
/// the debris, takes the best model from where it was moved, and ends as the uninterrupted run.
#[test]
fn a_resume_survives_the_debris_of_a_killed_checkpoint_write() {
    let p = prepared();
    let ds = dataset(&p);
    let dir = tempfile::tempdir().unwrap();
    let whole = train_plain(&ds, &cfg(4), None).unwrap();
    train_plain(
        &ds,
        &cfg(2),
        Some(&checkpointing(dir.path(), "d", 3, false)),
    )
    .unwrap();
    let ck = dir.path().join("d");
    // A temp folder with a truncated model and no state.
    std::fs::create_dir_all(ck.join(".tmp-epoch-0003")).unwrap();
    std::fs::write(ck.join(".tmp-epoch-0003/model.bpk"), b"truncat").unwrap();
    // An epoch folder whose state never landed.
    std::fs::create_dir_all(ck.join("epoch-0003")).unwrap();
    std::fs::write(ck.join("epoch-0003/model.bpk"), b"partial").unwrap();
    // The best model half-swapped: moved aside, the new one not yet renamed in.
    std::fs::create_dir_all(ck.join(".tmp-best")).unwrap();
    std::fs::write(ck.join(".tmp-best/model.bpk"), b"half").unwrap();
    std::fs::rename(ck.join("best"), ck.join(".old-best-best")).unwrap();
    assert!(!ck.join("best").exists());
    // The fallback itself: with the moved-aside best holding epoch 1's weights (not the last
    // epoch's), the resume's best model is those weights.
    let one_dir = dir.path().join("one");
    train_plain(
        &ds,
        &cfg(1),
        Some(&checkpointing(dir.path(), "one", 3, false)),
    )
    .unwrap();
    let aside = ck.join(".old-best-best");
    let real_best = dir.path().join("real-best.bpk");
    std::fs::copy(aside.join("model.bpk"), &real_best).unwrap();
    std::fs::copy(one_dir.join("best/model.bpk"), aside.join("model.bpk")).unwrap();
    let device = fusecast_model::burn::tensor::Device::flex().autodiff();
    let model_cfg = fusecast_train::inputs::tft_config(&ds.layout, &hyper());
    let identity = fusecast_train::checkpoint::RunIdentity::new(&hyper(), &cfg(4), &ds);
    let (last, _, _, best) = checkpointing(dir.path(), "d", 3, true)
        .load_last(&model_cfg, &identity, &device)
        .unwrap()
        .unwrap();
    let epoch_one = train_plain(&ds, &cfg(1), None).unwrap();
    assert_eq!(parameters(&best), parameters(&epoch_one.model));
    assert_ne!(parameters(&best), parameters(&last));
    // Back to the real moved-aside best for the end-to-end check.
    std::fs::copy(&real_best, aside.join("model.bpk")).unwrap();
    let resumed =
        train_plain(&ds, &cfg(4), Some(&checkpointing(dir.path(), "d", 3, true))).unwrap();
    assert_same_curve(&resumed.history, &whole.history);
    assert_eq!(parameters(&resumed.model), parameters(&whole.model));
    assert!(ck.join("best/model.bpk").exists());
}
