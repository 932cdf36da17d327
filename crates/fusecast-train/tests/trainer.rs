//! Clipping by the global gradient norm.

mod common;

use common::*;

use fusecast_data::scale::TargetTransform;
use fusecast_data::window::{TimeSplit, WindowDataset, WindowSpec};
use fusecast_model::burn::optim::GradientsParams;
use fusecast_model::burn::tensor::Device;
use fusecast_model::Tft;
use fusecast_train::clip::{clip_global_norm, global_norm};
use fusecast_train::inputs::{tft_config, tft_input, tft_target};

#[test]
fn clipping_scales_all_gradients_to_the_global_norm() {
    let p = prepared();
    let ds = dataset(&p);
    let device = Device::flex().autodiff();
    let model = Tft::new(&tft_config(&ds.layout, &hyper()), &device).unwrap();
    let windows: Vec<_> = (0..16)
        .map(|i| {
            ds.windows(fusecast_data::window::Part::Train)
                .unwrap()
                .get(i * 7)
        })
        .collect();
    let batch = ds.batch(&windows);
    let loss = fusecast_model::loss::quantile_loss(
        model
            .forward(tft_input(&batch, &ds.layout, &device))
            .prediction,
        tft_target(&batch, &device),
        &model.config().quantiles,
    );
    let mut grads = GradientsParams::from_grads(loss.backward(), &model);
    let before = global_norm(&model, &grads);
    let w0 = grads.get::<2>(model.output_layer.weight.id).unwrap();
    assert!(before > 0.01, "norm {before}");
    let reported = clip_global_norm(&model, &mut grads, 0.01);
    assert_eq!(reported, before);
    let after = global_norm(&model, &grads);
    assert!((after - 0.01).abs() < 1e-4, "clipped norm {after}");
    // Every tensor is scaled by the same factor: the direction is kept.
    let w1 = grads.get::<2>(model.output_layer.weight.id).unwrap();
    let ratio: f32 = (w1 / w0).mean().into_scalar();
    assert!(
        ((ratio as f64) - 0.01 / before).abs() < 1e-3 * (0.01 / before),
        "{ratio}"
    );
}

#[test]
fn softplus_targets_train_without_overflow() {
    use fusecast_train::trainer::{train, TrainConfig};
    let p = prepared();
    let spec = WindowSpec {
        encoder_length: 21,
        min_encoder_length: 21,
        horizon: 7,
        stride: 1,
    };
    let ds = WindowDataset::new(
        &p.panel,
        spec,
        TimeSplit::from_tail(p.panel.len(), 14, 7).unwrap(),
        TargetTransform::Softplus,
    )
    .unwrap();
    let cfg = TrainConfig {
        batch_size: 32,
        max_epochs: 1,
        batches_per_epoch: Some(3),
        ..TrainConfig::default()
    };
    let t = train(&ds, &hyper(), &cfg, None, |_, _| {}, |_, _| {}).unwrap();
    assert!(t.history[0].val_loss.is_finite() && t.history[0].q_risk50.is_finite());
}
