//! Time per training step (forward + backward + Adam) of the reference-size TFT on the CPU
//! backend, and its FLOP count: hidden 32, 4 heads, hidden_continuous 16, encoder 56, horizon 14,
//! batch 128, 7 quantiles, 10 inputs (the anchor's size).
//!
//!     cargo build --release --workspace --examples && target/release/examples/step_time [STEPS]

use std::time::Instant;

use fusecast_model::burn::optim::{AdamConfig, GradientsParams};
use fusecast_model::burn::tensor::{Device, Int, Tensor, TensorData};
use fusecast_model::flops::forward_flops;
use fusecast_model::loss::quantile_loss;
use fusecast_model::{Categorical, Tft, TftConfig, TftInput};

fn main() {
    let steps: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let (b, e, h) = (128, 56, 14);
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let cat = |name: &str, cardinality| Categorical {
        name: name.into(),
        cardinality,
        embedding_size: None,
    };
    let cfg = TftConfig {
        hidden_size: 32,
        attention_heads: 4,
        hidden_continuous_size: 16,
        dropout: 0.1,
        categoricals: vec![
            cat("series", 256),
            cat("cluster", 4),
            cat("day_of_week", 7),
            cat("month", 12),
        ],
        reals: s(&[
            "target_center",
            "target_scale",
            "day_of_year",
            "relative_time_idx",
            "target",
            "weather",
        ]),
        static_categoricals: s(&["series", "cluster"]),
        static_reals: s(&["target_center", "target_scale"]),
        encoder_categoricals: s(&["day_of_week", "month"]),
        encoder_reals: s(&["day_of_year", "relative_time_idx", "target", "weather"]),
        decoder_categoricals: s(&["day_of_week", "month"]),
        decoder_reals: s(&["day_of_year", "relative_time_idx"]),
        ..TftConfig::default()
    };
    let device = Device::flex().autodiff();
    device.seed(42);
    let mut model = Tft::new(&cfg, &device).expect("valid config");
    let t = e + h;
    let cats: Vec<i64> = (0..b * t)
        .flat_map(|i| {
            [
                (i / t % 256) as i64,
                (i / t % 4) as i64,
                (i % 7) as i64,
                (i / 30 % 12) as i64,
            ]
        })
        .collect();
    let cont: Vec<f32> = (0..b * t * 6)
        .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
        .collect();
    let target: Vec<f32> = (0..b * h)
        .map(|i| ((i * 31) % 100) as f32 / 50.0 - 1.0)
        .collect();
    let input = || TftInput {
        x_cat: Tensor::<3, Int>::from_data(TensorData::new(cats.clone(), [b, t, 4]), &device),
        x_cont: Tensor::from_data(TensorData::new(cont.clone(), [b, t, 6]), &device),
        encoder_lengths: vec![e; b],
    };
    let mut optim = AdamConfig::new().init();
    let mut times = Vec::new();
    // Forward (with the loss), backward (with the gradient collection), Adam, per step.
    let mut split = [Vec::new(), Vec::new(), Vec::new()];
    for step in 0..steps + 2 {
        let t0 = Instant::now();
        let out = model.forward(input());
        let loss = quantile_loss(
            out.prediction,
            Tensor::from_data(TensorData::new(target.clone(), [b, h]), &device),
            &cfg.quantiles,
        );
        let t1 = Instant::now();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let t2 = Instant::now();
        model = optim.step(3e-3, model, grads);
        let _: f32 = model.output_layer.weight.val().sum().into_scalar();
        if step >= 2 {
            times.push(t0.elapsed().as_secs_f64());
            split[0].push((t1 - t0).as_secs_f64());
            split[1].push((t2 - t1).as_secs_f64());
            split[2].push(t2.elapsed().as_secs_f64());
        }
    }
    for s in split.iter_mut() {
        s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let median = times[times.len() / 2];
    let fwd = forward_flops(&cfg, b, e, h);
    println!(
        "reference TFT: {} parameters, {} kernels (FUSECAST_KERNELS=composed for the other)",
        fusecast_model::burn::module::Module::num_params(&model),
        if fusecast_model::kernels::fused_on(&device) {
            "fused"
        } else {
            "composed"
        }
    );
    println!(
        "forward FLOPs per batch: {:.1} M; training step ~3x = {:.1} M",
        fwd as f64 / 1e6,
        3.0 * fwd as f64 / 1e6
    );
    println!(
        "median step time over {steps} steps: {:.1} ms ({:.0} samples/s, {:.2} GFLOP/s)",
        median * 1e3,
        b as f64 / median,
        3.0 * fwd as f64 / median / 1e9
    );
    println!(
        "median forward {:.1} ms, backward {:.1} ms, Adam {:.1} ms",
        split[0][steps / 2] * 1e3,
        split[1][steps / 2] * 1e3,
        split[2][steps / 2] * 1e3
    );
}
