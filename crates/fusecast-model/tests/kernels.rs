//! The fused CPU kernels against the composed tensor code they replace: same outputs and same
//! gradients for every input and parameter, module by module and through the whole TFT.
//! (`properties.rs` checks the fused gradients against finite differences as well, since the
//! flex backend takes the fused path by default.)

mod common;

use common::{tiny_config, RawBatch, B, H};
use fusecast_model::burn::module::{Module, ModuleVisitor, Param};
use fusecast_model::burn::optim::GradientsParams;
use fusecast_model::burn::tensor::{Device, Distribution, Tensor, TensorData};
use fusecast_model::grn::{Grn, GrnDims, StepContext};
use fusecast_model::kernels::{fused_on, with_composed};
use fusecast_model::layers::{elu1, AddNorm, GateAddNorm, GroupedLayerNorm};
use fusecast_model::lstm::Lstm;
use fusecast_model::Tft;

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_to_vec().unwrap()
}

/// Asserts `a` and `b` agree to `tol` relative to the larger magnitude (plus `tol` absolute).
fn assert_close(a: &[f32], b: &[f32], tol: f32, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    let scale = a.iter().chain(b).fold(0f32, |m, v| m.max(v.abs())).max(1.0);
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol * scale,
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
    assert_close(&yf, &yc, tol, &format!("{what} output"));
    assert_eq!(gf.len(), gc.len());
    for (k, (a, b)) in gf.iter().zip(&gc).enumerate() {
        assert_close(a, b, tol, &format!("{what} gradient {k}"));
    }
}

fn device() -> Device {
    let d = Device::flex().autodiff();
    d.seed(11);
    d
}

fn random(shape: [usize; 3], device: &Device) -> Tensor<3> {
    Tensor::random(shape, Distribution::Normal(0.0, 1.0), device)
}

#[test]
fn lstm_matches_composed_with_and_without_padding() {
    let device = device();
    let lstm = Lstm::new(5, 6, 2, &device);
    let x = random([4, 7, 5], &device);
    let h0 = Tensor::<2>::random([4, 6], Distribution::Normal(0.0, 0.5), &device);
    let c0 = Tensor::<2>::random([4, 6], Distribution::Normal(0.0, 0.5), &device);
    for lengths in [None, Some(vec![7, 3, 5, 1])] {
        let result = both(&lstm, std::slice::from_ref(&x), |m, xs| {
            let state = vec![(h0.clone(), c0.clone()); 2];
            let (out, finals) = m.forward(xs[0].clone(), state, lengths.as_deref());
            // Outputs and both final states in one tensor, so all three carry gradients.
            let [b, t, h] = out.dims();
            let (hl, cl) = finals[1].clone();
            Tensor::cat(vec![out, hl.reshape([b, 1, h]), cl.reshape([b, 1, h])], 1)
                .reshape([b, (t + 2) * h])
        });
        compare(result, 2e-5, &format!("lstm lengths {lengths:?}"));
    }
}

#[test]
fn gate_add_norm_and_trainable_add_norm_match_composed() {
    let device = device();
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
    let device = device();
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
    let device = device();
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

#[test]
fn whole_tft_matches_composed() {
    let device = device();
    let m = Tft::new(&tiny_config(0.0), &device).expect("valid config");
    let batch = RawBatch::random(5, B, vec![6, 4, 6, 5]);
    let x = batch.input(&device).x_cont;
    let result = both(&m, &[x], |m, xs| {
        let mut input = batch.input(&device);
        input.x_cont = xs[0].clone();
        m.forward(input).prediction
    });
    assert_eq!(result[0].0.len(), B * H * 7);
    compare(result, 5e-5, "tft");
}

/// Inference runs on the plain flex device (no autodiff): the kernels' forward-only path.
#[test]
fn inference_without_autodiff_matches_composed() {
    let device = Device::flex();
    device.seed(5);
    let m = Tft::new(&tiny_config(0.1), &device).expect("valid config");
    let batch = RawBatch::random(8, B, vec![6, 2, 5, 6]);
    let predict = || values(m.forward(batch.input(&device)).prediction);
    assert!(fused_on(&device));
    let fused = predict();
    let composed = with_composed(predict);
    assert_close(&fused, &composed, 5e-5, "inference");
}
