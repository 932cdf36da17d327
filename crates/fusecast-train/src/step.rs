//! One optimizer step's loss and gradients over a global batch, split across replicas.

use fusecast_data::window::{Window, WindowDataset};
use fusecast_model::burn::module::Module;
use fusecast_model::burn::optim::GradientsParams;
use fusecast_model::burn::tensor::Device;
use fusecast_model::loss::quantile_loss;
use fusecast_model::{with_dropout_seed, Tft};

use crate::inputs::{tft_input, tft_target};

/// Forces the lazy initialization of every parameter.
pub fn initialize<M: Module>(model: &M) {
    struct Touch;
    impl fusecast_model::burn::module::ModuleVisitor for Touch {
        fn visit_float<const D: usize>(
            &mut self,
            param: &fusecast_model::burn::module::Param<fusecast_model::burn::tensor::Tensor<D>>,
        ) {
            let _ = param.val();
        }
    }
    model.visit(&mut Touch);
}

/// The seed of shard `shard`'s dropout masks at a step: a function of the run's seed, the step
/// and the shard only, so a run's masks do not depend on what else runs in the process.
pub fn dropout_seed(seed: u64, step: usize, shard: usize) -> u64 {
    seed.wrapping_mul(1_000_003)
        .wrapping_add(step as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(shard as u64)
}

/// Loss and gradients of one global batch, split across `devices` (one replica thread each) and
/// averaged. The loss is the batch mean either way, so one replica and N replicas take the same
/// step. Dropout masks come from `dropout_seed(seed, step, shard)`.
pub fn shard_step(
    model: &Tft,
    ds: &WindowDataset,
    windows: &[Window],
    devices: &[Device],
    quantiles: &[f64],
    (seed, step): (u64, usize),
) -> (f32, GradientsParams) {
    let main = &devices[0];
    let one = |m: &Tft, ws: &[Window], device: &Device, shard: usize| {
        with_dropout_seed(dropout_seed(seed, step, shard), || {
            let batch = ds.batch(ws);
            let out = m.forward(tft_input(&batch, &ds.layout, device));
            let loss = quantile_loss(out.prediction, tft_target(&batch, device), quantiles);
            let value: f32 = loss.clone().into_scalar();
            (
                value,
                GradientsParams::from_grads(loss.backward(), m).to_device(main, m),
            )
        })
    };
    let parts = crate::parallel::shards(windows.len(), devices.len());
    if parts.len() == 1 {
        return one(model, windows, main, 0);
    }
    let results: Vec<(f32, GradientsParams)> = std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .iter()
            .zip(devices)
            .enumerate()
            .map(|(shard, (r, device))| {
                let replica = model.clone().fork(device);
                let ws = &windows[r.clone()];
                scope.spawn(move || one(&replica, ws, device, shard))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("replica thread"))
            .collect()
    });
    let weights: Vec<f64> = parts
        .iter()
        .map(|r| r.len() as f64 / windows.len() as f64)
        .collect();
    let value = results
        .iter()
        .zip(&weights)
        .map(|((v, _), w)| *v as f64 * w)
        .sum::<f64>() as f32;
    let grads = results.into_iter().map(|(_, g)| g).collect();
    (
        value,
        crate::parallel::weighted_average(model, grads, &weights),
    )
}

/// The distinct series of a batch, for error messages (the first 20).
pub fn series_of(ds: &WindowDataset, windows: &[Window]) -> String {
    let mut ids: Vec<&str> = windows
        .iter()
        .map(|w| ds.panel.series[w.series].as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let more = ids.len().saturating_sub(20);
    let mut text = ids.into_iter().take(20).collect::<Vec<_>>().join(", ");
    if more > 0 {
        text.push_str(&format!(" and {more} more"));
    }
    text
}
