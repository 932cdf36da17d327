//! Data parallel equals single device: 2 replicas with a global batch B end with the same
//! parameters and validation loss as 1 replica with batch B. Alone in its test binary (burn's
//! device RNG draws the initial weights).

mod common;

use common::*;

use fusecast_data::prepare::Prepared;
use fusecast_model::burn::tensor::Device;
use fusecast_model::TftConfig;
use fusecast_train::trainer::{train, TrainConfig};

#[test]
fn two_replicas_take_the_same_steps_as_one() {
    let p = prepared();
    let ds = dataset(&p);
    let hyper = TftConfig {
        dropout: 0.0,
        ..hyper()
    };
    let run_on = |devices: Vec<String>| {
        let cfg = TrainConfig {
            // 50 windows: 25 + 25 on two replicas, 17 + 17 + 16 on three (uneven shards).
            batch_size: 50,
            max_epochs: 1,
            batches_per_epoch: Some(3),
            learning_rate: 1e-2,
            devices,
            ..TrainConfig::default()
        };
        let t = train(&ds, &hyper, &cfg, None, |_, _| {}, |_, _| {}).unwrap();
        (
            parameters(&t.model),
            t.history[0].val_loss,
            t.history[0].train_loss,
        )
    };
    let run = |replicas: usize| run_on(vec!["cpu".to_string(); replicas]);
    averaged_shard_gradients_equal_the_full_batch_gradient(&p);
    let (one, val1, train1) = run(1);

    let (two, val2, train2) = run(2);
    assert_eq!(one.len(), two.len());

    // Relative to the parameters' scale: f32 rounding differs between one batch and two
    // half-batches summed, and Adam normalizes tiny gradients up, so near-zero parameters carry
    // rounding-level absolute differences (~1e-8) that an element-wise relative error inflates.
    let scale = one.iter().fold(0.0f32, |m, v| m.max(v.abs())) as f64;
    let worst = one
        .iter()
        .zip(&two)
        .map(|(a, b)| (a - b).abs() as f64)
        .fold(0.0, f64::max)
        / scale;
    let l2 = (one
        .iter()
        .zip(&two)
        .map(|(a, b)| ((a - b) as f64).powi(2))
        .sum::<f64>()
        / one.iter().map(|a| (*a as f64).powi(2)).sum::<f64>())
    .sqrt();
    assert!(
        worst < 1e-5 && l2 < 1e-5,
        "parameters differ: max {worst:.2e} of the largest parameter, L2 relative {l2:.2e}"
    );
    assert!(
        (val1 - val2).abs() < 1e-5 * val1.abs(),
        "validation loss {val1} vs {val2}"
    );
    assert!(
        (train1 - train2).abs() < 1e-5 * train1.abs(),
        "training loss {train1} vs {train2}"
    );
    // Three replicas (uneven work per thread is fine: shards are weighted by size) agree too.
    let (three, _, _) = run(3);
    let worst3 = one
        .iter()
        .zip(&three)
        .map(|(a, b)| (a - b).abs() as f64)
        .fold(0.0, f64::max)
        / scale;
    assert!(worst3 < 1e-5, "3 replicas differ by {worst3:.2e}");

    // A CPU replica and a wgpu replica (lavapipe on CI) together: same steps, to GPU rounding.
    if cfg!(feature = "gpu") && std::env::var_os("FUSECAST_REQUIRE_WGPU").is_some() {
        let (mixed, val_mixed, _) = run_on(vec!["cpu".into(), "wgpu".into()]);
        let worst_mixed = one
            .iter()
            .zip(&mixed)
            .map(|(a, b)| (a - b).abs() as f64)
            .fold(0.0, f64::max)
            / scale;
        assert!(worst_mixed < 1e-4, "cpu + wgpu differ by {worst_mixed:.2e}");
        assert!((val1 - val_mixed).abs() < 1e-4 * val1.abs());
    }
}

/// The all-reduce itself: shard gradients averaged by size equal the full batch's gradient, before
/// and after an optimizer step. (In the same test as above: one test per binary keeps burn's
/// device RNG, which draws the initial weights, free of races.)
fn averaged_shard_gradients_equal_the_full_batch_gradient(p: &Prepared) {
    use fusecast_data::window::Part;
    use fusecast_model::burn::module::Module;
    use fusecast_model::Tft;
    use fusecast_train::inputs::tft_config;
    use fusecast_train::trainer::shard_step;
    let ds = dataset(p);
    let hyper = TftConfig {
        dropout: 0.0,
        ..hyper()
    };
    let device = Device::flex().autodiff();
    let model = Tft::new(&tft_config(&ds.layout, &hyper), &device)
        .unwrap()
        .materialize();
    let train = ds.windows(Part::Train).unwrap();
    // 25 windows: uneven shards on 2 (13 + 12) and 3 (9 + 8 + 8) replicas.
    let ws: Vec<_> = (0..25).map(|i| train.get(i * 5)).collect();
    let (l1, g1) = shard_step(
        &model,
        &ds,
        &ws,
        std::slice::from_ref(&device),
        &hyper.quantiles,
        (1, 1),
    );
    let grad = |g: &fusecast_model::burn::optim::GradientsParams, id| -> Vec<f32> {
        g.get::<2>(id).unwrap().into_data().try_to_vec().unwrap()
    };
    let id = model.output_layer.weight.id;
    let a = grad(&g1, id);
    for replicas in [2, 3] {
        let (l2, g2) = shard_step(
            &model,
            &ds,
            &ws,
            &vec![device.clone(); replicas],
            &hyper.quantiles,
            (1, 1),
        );
        let b = grad(&g2, id);
        assert!(
            (l1 - l2).abs() < 1e-5,
            "{replicas} replicas: loss {l1} vs {l2}"
        );
        let worst = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max);
        assert!(
            worst < 1e-6,
            "{replicas} replicas: gradient differs by {worst}"
        );
    }
    // After an optimizer step, every parameter's gradient still agrees, value for value.
    let mut optim = fusecast_model::burn::optim::AdamConfig::new().init();
    let stepped = optim.step(1e-2, model, g1);
    let (_, g1) = shard_step(
        &stepped,
        &ds,
        &ws,
        std::slice::from_ref(&device),
        &hyper.quantiles,
        (1, 1),
    );
    let (_, g3) = shard_step(
        &stepped,
        &ds,
        &ws,
        &[device.clone(), device.clone(), device.clone()],
        &hyper.quantiles,
        (1, 1),
    );
    assert_eq!(g1.len(), g3.len());
    let id = stepped.output_layer.weight.id;
    let (a, b) = (grad(&g1, id), grad(&g3, id));
    let scale = a.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let worst = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max);
    assert!(
        scale > 0.0 && worst < 1e-5 * scale.max(1.0),
        "after a step: {worst} of {scale}"
    );
}
