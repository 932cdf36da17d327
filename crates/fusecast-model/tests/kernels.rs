//! The fused CPU kernels against the composed tensor code they replace: same outputs and same
//! gradients for every input and parameter, module by module and through the whole TFT.
//! (`properties.rs` checks the fused gradients against finite differences as well, since the
//! flex backend takes the fused path by default.)

mod common;

use common::{tiny_config, RawBatch, B, H};
use std::sync::{Mutex, MutexGuard};

use fusecast_model::burn::module::{Module, ModuleVisitor, Param};
use fusecast_model::burn::optim::GradientsParams;
use fusecast_model::burn::tensor::{Device, Distribution, Tensor, TensorData};
use fusecast_model::grn::{Grn, GrnDims, StepContext};
use fusecast_model::kernels::fast_math::with_baseline;
use fusecast_model::kernels::{self, fused_on, with_composed};
use fusecast_model::layers::{elu1, grouped_linear, AddNorm, GateAddNorm, GroupedLayerNorm};
use fusecast_model::lstm::Lstm;
use fusecast_model::Tft;

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_to_vec().unwrap()
}

fn max_abs(v: &[f32]) -> f32 {
    v.iter().fold(0f32, |m, x| m.max(x.abs()))
}

/// Asserts `a` and `b` agree element by element to `tol` relative, with an absolute floor of
/// `tol / 10` of `scale` (the largest magnitude among the values compared together) for
/// elements near zero, where the two summation orders differ by rounding of larger terms.
fn assert_close(a: &[f32], b: &[f32], tol: f32, scale: f32, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol * x.abs().max(y.abs()) + tol * 1e-1 * scale,
            "{what}[{i}]: fused {x} vs composed {y} (scale {scale})"
        );
    }
}

/// A loss that weights every output element differently, so that no gradient is symmetric.
fn weighted_sum<const D: usize>(y: Tensor<D>, seed: u64) -> Tensor<1> {
    let n = y.shape().num_elements();
    let w: Vec<f32> = (0..n)
        .map(|i| (((i as u64 + 1) * (seed * 2 + 7919)) % 1000) as f32 / 500.0 - 1.0)
        .collect();
    let w = Tensor::<1>::from_data(TensorData::new(w, [n]), &y.device());
    (y.reshape([n]) * w).sum()
}

/// Runs `f` fused and composed, returning for each the output values and the gradients of
/// every parameter of `module` and of each tensor in `inputs`.
fn both<M: Module + Clone, const D: usize>(
    module: &M,
    inputs: &[Tensor<3>],
    f: impl Fn(&M, &[Tensor<3>]) -> Tensor<D>,
) -> [(Vec<f32>, Vec<Vec<f32>>); 2] {
    let run = || {
        let xs: Vec<Tensor<3>> = inputs.iter().map(|x| x.clone().require_grad()).collect();
        let y = f(module, &xs);
        let out = values(y.clone());
        let grads = weighted_sum(y, 3).backward();
        let mut gs: Vec<Vec<f32>> = xs
            .iter()
            .map(|x| values(x.grad(&grads).expect("input gradient")))
            .collect();
        let grads = GradientsParams::from_grads(grads, module);
        let mut params = Vec::new();
        module.visit(&mut Collect {
            grads: &grads,
            out: &mut params,
        });
        gs.extend(params);
        (out, gs)
    };
    let device = inputs[0].device();
    assert!(fused_on(&device), "the flex device takes the fused kernels");
    let fused = run();
    let composed = with_composed(|| {
        assert!(!fused_on(&device));
        run()
    });
    [fused, composed]
}

/// Every parameter's gradient, in visiting order.
struct Collect<'a> {
    grads: &'a GradientsParams,
    out: &'a mut Vec<Vec<f32>>,
}

impl ModuleVisitor for Collect<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.get::<D>(param.id) {
            self.out.push(values(g));
        }
    }
}

fn compare(result: [(Vec<f32>, Vec<Vec<f32>>); 2], tol: f32, what: &str) {
    let [(yf, gf), (yc, gc)] = result;
    assert_close(&yf, &yc, tol, max_abs(&yc), &format!("{what} output"));
    assert_eq!(gf.len(), gc.len());
    let scale = gc.iter().map(|g| max_abs(g)).fold(0f32, f32::max);
    assert!(scale > 0.0, "{what}: no gradient at all");
    for (k, (a, b)) in gf.iter().zip(&gc).enumerate() {
        assert_close(a, b, tol, scale, &format!("{what} gradient {k}"));
    }
}

/// The flex device seeded, with a lock held for the test's duration: the device RNG is shared
/// by the process, so tests running in parallel would otherwise interleave their draws (and
/// get other inputs and parameters on every run).
fn device() -> (MutexGuard<'static, ()>, Device) {
    static RNG: Mutex<()> = Mutex::new(());
    let lock = RNG.lock().unwrap_or_else(|e| e.into_inner());
    let d = Device::flex().autodiff();
    d.seed(11);
    (lock, d)
}

fn random(shape: [usize; 3], device: &Device) -> Tensor<3> {
    Tensor::random(shape, Distribution::Normal(0.0, 1.0), device)
}

#[test]
fn lstm_matches_composed_with_and_without_padding() {
    let (_rng, device) = device();
    let lstm = Lstm::new(5, 6, 2, &device);
    // (steps, lengths, rows of the initial state: 1 is broadcast over the batch)
    let cases: [(usize, Option<Vec<usize>>, usize); 5] = [
        (7, None, 4),
        (7, Some(vec![7, 3, 5, 1]), 4),
        (7, Some(vec![7, 0, 5, 1]), 4),
        (1, None, 4),
        (7, None, 1),
    ];
    for (t, lengths, rows) in cases {
        let x = random([4, t, 5], &device);
        let h0 = random([1, rows, 6], &device) * 0.5;
        let c0 = random([1, rows, 6], &device) * 0.5;
        let result = both(&lstm, &[x, h0, c0], |m, xs| {
            let state = vec![
                (
                    xs[1].clone().reshape([rows, 6]),
                    xs[2].clone().reshape([rows, 6])
                );
                2
            ];
            let (out, finals) = m.forward(xs[0].clone(), state, lengths.as_deref());
            // Outputs and both layers' final states in one tensor, so all carry gradients.
            let [b, t, h] = out.dims();
            let mut parts = vec![out];
            for (hl, cl) in finals {
                parts.push(hl.reshape([b, 1, h]));
                parts.push(cl.reshape([b, 1, h]));
            }
            Tensor::cat(parts, 1).reshape([b, (t + 4) * h])
        });
        compare(
            result,
            2e-5,
            &format!("lstm T {t}, lengths {lengths:?}, state rows {rows}"),
        );
    }
}

#[test]
fn gate_add_norm_and_trainable_add_norm_match_composed() {
    let (_rng, device) = device();
    let gan = GateAddNorm::new(3, 5, 4, 0.0, &device);
    let x = random([3, 10, 5], &device);
    let skip = random([3, 10, 6], &device);
    let result = both(&gan, &[x, skip], |m, xs| {
        m.forward(xs[0].clone(), xs[1].clone())
    });
    compare(result, 2e-5, "gate add norm");

    let mut add_norm = AddNorm::new(2, 4, true, &device);
    // A non-zero trainable gate, so that its gradient path is exercised with real values.
    add_norm.mask = Some(Param::from_tensor(Tensor::random(
        [2, 4],
        Distribution::Normal(0.0, 1.0),
        &device,
    )));
    let (a, ng, skip) = (
        random([2, 9, 4], &device),
        random([2, 9, 4], &device),
        random([2, 9, 4], &device),
    );
    let result = both(&add_norm, &[a, ng, skip], |m, xs| {
        m.forward_gated(xs[0].clone(), xs[1].clone(), xs[2].clone())
    });
    compare(result, 2e-5, "gated add norm");
}

#[test]
fn layer_norm_matches_composed_on_both_group_axes() {
    let (_rng, device) = device();
    let mut norm = GroupedLayerNorm::new(3, 8, &device);
    norm.gamma = Param::from_tensor(Tensor::random(
        [3, 8],
        Distribution::Normal(1.0, 0.5),
        &device,
    ));
    norm.beta = Param::from_tensor(Tensor::random(
        [3, 8],
        Distribution::Normal(0.0, 0.5),
        &device,
    ));
    let x = random([3, 11, 8], &device);
    compare(
        both(&norm, &[x], |m, xs| m.forward_along(xs[0].clone(), 0)),
        2e-5,
        "layer norm, groups on axis 0",
    );
    let x = random([11, 3, 8], &device) * 3.0 + 1.0;
    compare(
        both(&norm, &[x], |m, xs| m.forward_along(xs[0].clone(), 1)),
        2e-5,
        "layer norm, groups on axis 1",
    );
}

#[test]
fn elu_and_grn_match_composed() {
    let (_rng, device) = device();
    let grn = Grn::new(
        GrnDims {
            groups: 1,
            d_in: 3,
            hidden: 5,
            d_out: 5,
            context: Some(4),
        },
        0.0,
        &device,
    );
    let x = random([1, 12, 3], &device);
    let ctx = random([1, 3, 4], &device);
    let result = both(&grn, &[x.clone(), ctx], |m, xs| {
        let context = StepContext {
            context: xs[1].clone().reshape([3, 4]),
            steps: 4,
        };
        elu1(m.forward(xs[0].clone(), Some(context)))
    });
    compare(result, 2e-5, "grn + elu");
}

/// The tiny TFT on a random batch (encoder lengths `lengths`), fused and composed, with the
/// gradients of every parameter and of the continuous inputs.
fn tft_both(seed: u64, lengths: Vec<usize>) -> [(Vec<f32>, Vec<Vec<f32>>); 2] {
    let (_rng, device) = device();
    let m = Tft::new(&tiny_config(0.0), &device).expect("valid config");
    let batch = RawBatch::random(seed, B, lengths);
    let x = batch.input(&device).x_cont;
    both(&m, &[x], |m, xs| {
        let mut input = batch.input(&device);
        input.x_cont = xs[0].clone();
        m.forward(input).prediction
    })
}

#[test]
fn whole_tft_matches_composed() {
    let result = tft_both(5, vec![6, 4, 6, 5]);
    assert_eq!(result[0].0.len(), B * H * 7);
    compare(result, 5e-5, "tft");
}

/// The kernels' baseline (non-AVX2) copies, which AVX2 machines never pick on their own.
#[test]
fn baseline_kernels_match_composed() {
    let result = with_baseline(|| tft_both(6, vec![6, 3, 6, 5]));
    compare(result, 5e-5, "tft, baseline kernels");
}

/// Inference runs on the plain flex device (no autodiff): the kernels' forward-only path.
#[test]
fn inference_without_autodiff_matches_composed() {
    let (_rng, _) = device();
    let device = Device::flex();
    device.seed(5);
    let m = Tft::new(&tiny_config(0.1), &device).expect("valid config");
    let batch = RawBatch::random(8, B, vec![6, 2, 5, 6]);
    let predict = || values(m.forward(batch.input(&device)).prediction);
    assert!(fused_on(&device));
    let fused = predict();
    let composed = with_composed(predict);
    assert_close(&fused, &composed, 5e-5, max_abs(&composed), "inference");
}

/// The inference kernels compute in place: on the plain flex device they give the training
/// forward's values bit for bit, and an input still held elsewhere is left as it was.
#[test]
fn in_place_inference_kernels_equal_the_training_forward_and_spare_shared_inputs() {
    let (_rng, train) = device();
    let infer = Device::flex();
    let data = |seed: u64, shape: [usize; 3]| {
        let n = shape.iter().product::<usize>();
        let v: Vec<f32> = (0..n)
            .map(|i| ((i as u64 * 7919 + seed * 104_729) % 1000) as f32 / 250.0 - 2.0)
            .collect();
        TensorData::new(v, shape)
    };
    let on = |d: &Device, t: &TensorData| Tensor::<3>::from_data(t.clone(), d);
    let params = |d: &Device| {
        let g = data(3, [1, 3, 12]);
        let b = data(4, [1, 3, 12]);
        (on(d, &g).reshape([3, 12]), on(d, &b).reshape([3, 12]))
    };
    let (a, ng, skip) = (
        data(5, [3, 7, 12]),
        data(6, [3, 7, 12]),
        data(7, [3, 7, 12]),
    );
    for axis in [0, 1] {
        let shape = if axis == 0 { [3, 7, 12] } else { [7, 3, 12] };
        let x = data(8, shape);
        let (gt, bt) = params(&train);
        let (gi, bi) = params(&infer);
        let want = values(kernels::layer_norm(on(&train, &x), gt, bt, axis));
        let kept = on(&infer, &x);
        let got = values(kernels::layer_norm(kept.clone(), gi, bi, axis));
        assert_eq!(got, want, "layer norm, groups on axis {axis}");
        assert_eq!(
            values(kept),
            values(on(&infer, &x)),
            "a shared input was overwritten"
        );
    }
    let (gt, bt) = params(&train);
    let want = values(kernels::gate_add_norm(
        on(&train, &a),
        on(&train, &ng),
        on(&train, &skip),
        gt,
        bt,
    ));
    let (gi, bi) = params(&infer);
    let kept = on(&infer, &a);
    let got = values(kernels::gate_add_norm(
        kept.clone(),
        on(&infer, &ng),
        on(&infer, &skip),
        gi,
        bi,
    ));
    assert_eq!(got, want, "gate add norm");
    assert_eq!(
        values(kept),
        values(on(&infer, &a)),
        "a shared gate input was overwritten"
    );
    // A unique input is the output's buffer: the values must still be ELU's.
    let want = values(kernels::elu(on(&train, &a)));
    assert_eq!(values(kernels::elu(on(&infer, &a))), want, "elu");
    assert!(want.iter().any(|v| *v < 0.0) && want.iter().any(|v| *v > 0.0));
}

/// Inference's direct gemm linear map against burn's matmul and bias add: one and several
/// groups, a single row (a batch of one window's statics) and many, with and without a bias.
#[test]
fn inference_linear_matches_burns_matmul() {
    let (_rng, train) = device();
    // Under autodiff the kernel is burn's recorded matmul and add (what training would take).
    let x = Tensor::<3>::random([3, 5, 4], Distribution::Normal(0.0, 1.0), &train);
    let w = Tensor::<3>::random([3, 4, 2], Distribution::Normal(0.0, 1.0), &train);
    let b = Tensor::<2>::random([3, 2], Distribution::Normal(0.0, 1.0), &train);
    let want = values(x.clone().matmul(w.clone()) + b.clone().unsqueeze_dim::<3>(1));
    assert_eq!(
        values(kernels::linear(x, w, b)),
        want,
        "linear under autodiff"
    );
    let device = Device::flex();
    device.seed(9);
    for (v, n, k, m) in [(1, 1, 5, 4), (1, 33, 16, 32), (3, 1, 4, 6), (3, 70, 32, 64)] {
        let x = Tensor::<3>::random([v, n, k], Distribution::Normal(0.0, 1.0), &device);
        let w = Tensor::<3>::random([v, k, m], Distribution::Normal(0.0, 1.0), &device);
        let b = Tensor::<2>::random([v, m], Distribution::Normal(0.0, 1.0), &device);
        for bias in [Some(b), None] {
            let run = || grouped_linear(x.clone(), w.clone(), bias.clone());
            let fused = values(run());
            let composed = values(with_composed(run));
            assert_close(
                &fused,
                &composed,
                1e-6,
                max_abs(&composed),
                &format!("linear v {v} n {n} k {k} m {m}, bias {}", bias.is_some()),
            );
        }
    }
}
