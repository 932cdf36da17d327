//! What makes it the TFT: selection weights are distributions, the forecast is causal, the
//! future target is never read, padding is invisible, gradients are right, and it learns.

mod common;

use common::*;
use fusecast_model::burn::module::{Module, Param};
use fusecast_model::burn::optim::{AdamConfig, GradientsParams};
use fusecast_model::burn::tensor::{Device, Tensor, TensorData};
use fusecast_model::loss::quantile_loss;
use fusecast_model::Tft;

/// The same weights on every run.
fn model(dropout: f64, device: &Device) -> Tft {
    deterministic(Tft::new(&tiny_config(dropout), device).unwrap(), 42)
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn selection_weights_sum_to_one() {
    let device = Device::flex();
    let m = model(0.1, &device);
    let out = m.forward(RawBatch::random(1, B, vec![6, 4, 5, 6]).input(&device));
    for (w, groups) in [
        (
            values(out.static_weights.clone()),
            out.static_weights.dims()[1],
        ),
        (
            values(out.encoder_weights.clone()),
            out.encoder_weights.dims()[2],
        ),
        (
            values(out.decoder_weights.clone()),
            out.decoder_weights.dims()[2],
        ),
    ] {
        assert!(groups >= 2);
        for row in w.chunks(groups) {
            let s: f32 = row.iter().sum();
            assert!((s - 1.0).abs() < 1e-5, "weights sum to {s}");
            assert!(row.iter().all(|x| *x >= 0.0));
        }
    }
    assert_eq!(out.attention.dims(), [B, H, 2, E + H]);
}

#[test]
fn later_known_inputs_never_change_earlier_steps() {
    let device = Device::flex();
    let m = model(0.1, &device);
    let base = RawBatch::random(2, B, vec![6, 6, 3, 5]);
    let reference = values(m.forward(base.input(&device)).prediction);
    let q = 7;
    for k in 0..H {
        let mut changed = RawBatch::random(2, B, vec![6, 6, 3, 5]);
        for s in 0..B {
            *changed.cont_mut(s, E + k, KNOWN_REAL) += 5.0;
            changed.cat[(s * changed.t + E + k) * 2 + DOW] =
                6 - changed.cat[(s * changed.t + E + k) * 2 + DOW];
        }
        let out = values(m.forward(changed.input(&device)).prediction);
        for s in 0..B {
            for step in 0..H {
                let a = &reference[(s * H + step) * q..(s * H + step + 1) * q];
                let b = &out[(s * H + step) * q..(s * H + step + 1) * q];
                if step < k {
                    assert_eq!(a, b, "step {step} changed when step {k}'s inputs changed");
                } else if step == k {
                    assert!(
                        max_abs_diff(a, b) > 1e-6,
                        "step {k} ignores its own known inputs"
                    );
                }
            }
        }
    }
}

#[test]
fn the_target_inside_the_forecast_window_is_never_read() {
    let device = Device::flex();
    let m = model(0.1, &device);
    let base = RawBatch::random(3, B, vec![6, 6, 6, 6]);
    let reference = values(m.forward(base.input(&device)).prediction);
    let mut hidden = RawBatch::random(3, B, vec![6, 6, 6, 6]);
    for s in 0..B {
        for step in E..E + H {
            *hidden.cont_mut(s, step, TARGET) = f32::NAN;
            *hidden.cont_mut(s, step, 4) = f32::NAN; // the observed real too
        }
    }
    let out = values(m.forward(hidden.input(&device)).prediction);
    assert!(out.iter().all(|v| v.is_finite()));
    assert_eq!(reference, out);
}

#[test]
fn padded_encoder_steps_change_nothing() {
    let device = Device::flex();
    let m = model(0.1, &device);
    // Sample 1 has 3 valid encoder steps in a batch padded to 6.
    let mut padded = RawBatch::random(4, 2, vec![6, 3]);
    let together = m.forward(padded.input(&device));
    // Garbage in the padding: nothing may move.
    for step in 3..6 {
        for col in 0..5 {
            *padded.cont_mut(1, step, col) = 1e3 * (step + col) as f32;
        }
    }
    let garbage = values(m.forward(padded.input(&device)).prediction);
    let with_pad = values(together.prediction.clone());
    assert!(max_abs_diff(&with_pad, &garbage) < 1e-5);
    // The same sample alone, with no padding at all.
    let t_alone = 3 + H;
    let mut alone = RawBatch::random(0, 1, vec![3]);
    for step in 0..t_alone {
        let src = if step < 3 { step } else { step + 3 };
        for col in 0..5 {
            *alone.cont_mut(0, step, col) = *padded.cont_mut(1, src, col);
        }
        for c in 0..2 {
            alone.cat[step * 2 + c] = padded.cat[(padded.t + src) * 2 + c];
        }
    }
    let single = m.forward(alone.input(&device));
    let a = values(single.prediction);
    let q = 7;
    let b = &with_pad[H * q..2 * H * q];
    assert!(
        max_abs_diff(&a, b) < 1e-5,
        "padding changed the forecast: {}",
        max_abs_diff(&a, b)
    );
    // Attention on padded steps is zero.
    let att = values(together.attention);
    let t = 6 + H;
    for i in 0..H {
        for head in 0..2 {
            for j in 3..6 {
                assert!(att[((H + i) * 2 + head) * t + j] < 1e-6);
            }
        }
    }
}

/// Central finite differences against autodiff through the whole network. f32 on the flex backend: with h = 1e-2 the
/// truncation error of a smooth loss is O(h^2) ~ 1e-4 relative and the rounding error
/// ~ 1e-7 / h = 1e-5, so 2e-2 relative (plus 2e-4 absolute) is a tight bound that still fails on
/// any wrong or missing gradient path.
#[test]
fn gradients_match_finite_differences() {
    let device = Device::flex().autodiff();
    let m = model(0.0, &device);
    let batch = RawBatch::random(5, B, vec![6, 4, 6, 5]);
    let target: Vec<f32> = noise(9, B * H);
    let target_t = || Tensor::<2>::from_data(TensorData::new(target.clone(), [B, H]), &device);
    let q = m.config().quantiles.clone();
    // A smooth loss: the pinball loss has kinks where a finite difference straddling one is
    // meaningless; its own gradient is simple and checked against its definition in loss.rs.
    let loss_of = |m: &Tft, x: Tensor<3>| {
        let mut input = batch.input(&device);
        input.x_cont = x;
        let pred = m.forward(input).prediction;
        let n_q = q.len();
        (pred - target_t().unsqueeze_dim::<3>(2).repeat_dim(2, n_q))
            .square()
            .mean()
            .reshape([1])
    };
    // With respect to inputs (the whole network in the chain).
    let x = batch.input(&device).x_cont.require_grad();
    let grads = loss_of(&m, x.clone()).backward();
    let gx = values(x.grad(&grads).unwrap());
    let check = |analytic: f32, plus: f32, minus: f32, h: f32, what: &str| {
        let numeric = (plus - minus) / (2.0 * h);
        assert!(
            (analytic - numeric).abs() <= 2e-2 * numeric.abs().max(analytic.abs()) + 2e-4,
            "{what}: autodiff {analytic} vs finite difference {numeric}"
        );
    };
    let h = 1e-2f32;
    let mut checked = 0;
    for idx in [
        (0usize, 2usize, 1usize),
        (1, 3, 3),
        (2, 5, 4),
        (3, 0, 0),
        (0, E + 1, 1),
        (2, E, 2),
    ] {
        let flat = (idx.0 * (E + H) + idx.1) * 5 + idx.2;
        let mut plus = batch.cont.clone();
        plus[flat] += h;
        let mut minus = batch.cont.clone();
        minus[flat] -= h;
        let lp: f32 = loss_of(
            &m,
            Tensor::from_data(TensorData::new(plus, [B, E + H, 5]), &device),
        )
        .into_scalar();
        let lm: f32 = loss_of(
            &m,
            Tensor::from_data(TensorData::new(minus, [B, E + H, 5]), &device),
        )
        .into_scalar();
        check(gx[flat], lp, lm, h, &format!("input {idx:?}"));
        checked += (gx[flat].abs() > 1e-4) as usize;
    }
    assert!(
        checked >= 3,
        "too few inputs with a gradient to check: {gx:?}"
    );

    // With respect to parameters deep in the network: output layer, attention query, LSTM.
    let base_loss = |m: &Tft| loss_of(m, batch.input(&device).x_cont);
    let grads = base_loss(&m).backward();
    type Get = fn(&Tft) -> Param<Tensor<2>>;
    type Set = fn(&mut Tft, Param<Tensor<2>>);
    let params: [(&str, Get, Set); 3] = [
        (
            "output_layer",
            |m| m.output_layer.weight.clone(),
            |m, p| m.output_layer.weight = p,
        ),
        (
            "attention.query",
            |m| m.attention.query.weight.clone(),
            |m, p| m.attention.query.weight = p,
        ),
        (
            "lstm_encoder.hidden",
            |m| m.lstm_encoder.layers[0].hidden.weight.clone(),
            |m, p| m.lstm_encoder.layers[0].hidden.weight = p,
        ),
    ];
    for (name, get, set) in params {
        let w = get(&m).val();
        let dims = w.dims();
        let g = values(w.grad(&grads).unwrap());
        let base: Vec<f32> = values(w.clone());
        let pick = (0..g.len())
            .max_by(|a, b| g[*a].abs().partial_cmp(&g[*b].abs()).unwrap())
            .unwrap();
        let shifted = |delta: f32| {
            let mut v = base.clone();
            v[pick] += delta;
            let mut m2 = m.clone();
            set(
                &mut m2,
                Param::from_tensor(Tensor::from_data(TensorData::new(v, dims), &device)),
            );
            base_loss(&m2).into_scalar::<f32>()
        };
        let (lp, lm) = (shifted(h), shifted(-h));
        check(g[pick], lp, lm, h, name);
    }
}

#[test]
fn overfits_a_small_set_of_windows() {
    let device = Device::flex().autodiff();
    let mut m = model(0.0, &device);
    let batch = RawBatch::random(6, 32, (0..32).map(|i| 3 + i % 4).collect());
    let target: Vec<f32> = noise(11, 32 * H).iter().map(|v| v * 2.0).collect();
    let q = m.config().quantiles.clone();
    let mut optim = AdamConfig::new().init();
    let mut first = None;
    let mut last = f32::MAX;
    for _ in 0..400 {
        let out = m.forward(batch.input(&device));
        let loss = quantile_loss(
            out.prediction,
            Tensor::from_data(TensorData::new(target.clone(), [32, H]), &device),
            &q,
        );
        last = loss.clone().into_scalar();
        first.get_or_insert(last);
        let grads = GradientsParams::from_grads(loss.backward(), &m);
        m = optim.step(1e-2, m, grads);
    }
    let first = first.unwrap();
    assert!(last < 0.05 * first, "loss went from {first} to {last}");
    let _ = m.num_params();
}

#[test]
fn interpretation_aggregates_to_distributions() {
    use fusecast_model::interpret::InterpretationAccumulator;
    let device = Device::flex();
    let m = model(0.1, &device);
    let mut acc = InterpretationAccumulator::default();
    for seed in 0..3 {
        let lengths = vec![6, 4, 5, 6];
        let out = m.forward(RawBatch::random(20 + seed, B, lengths.clone()).input(&device));
        acc.add(&out, &lengths);
    }
    let it = acc.finish(m.config());
    assert_eq!(it.windows, 3 * B);
    for (set, n) in [
        (&it.static_importance, 2),
        (&it.encoder_importance, 5),
        (&it.decoder_importance, 3),
    ] {
        assert_eq!(set.len(), n);
        let total: f64 = set.iter().map(|(_, w)| w).sum();
        assert!((total - 1.0).abs() < 1e-5, "importances sum to {total}");
    }
    assert_eq!(it.encoder_importance[0].0, "dow");
    assert_eq!(it.attention.len(), H);
    // Step 0 attends only to the encoder: its weights over all lags sum to 1 for full encoders.
    assert!(it.attention[0].iter().all(|w| (0.0..=1.0).contains(w)));
    assert!(it.attention[0].iter().sum::<f64>() > 0.99);
}
