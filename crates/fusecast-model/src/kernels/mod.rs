//! Fused CPU kernels for the TFT's hottest pieces: the LSTM recurrence, GateAddNorm, LayerNorm
//! and ELU, each one operation with a hand-written backward, on burn's flex backend (a burn
//! backend extension). A training step on flex is mostly per-op overhead over many small
//! element-wise ops; these replace ~20 recorded ops per LSTM step and 10-15 per norm with one.
//!
//! Other backends (wgpu, ...) take the composed tensor code, which also serves as the reference
//! the fused kernels are tested against. `FUSECAST_KERNELS=composed` switches the fused kernels
//! off for a whole process (to compare speed); [`with_composed`] does so for one thread.

pub mod fast_math;
mod host;
mod linear;
pub mod lstm_cell;
pub mod norm;

use std::cell::Cell;
use std::sync::{Arc, OnceLock};

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::TensorMetadata;
use burn::backend::{backend_extension, Autodiff, Backend, Dispatch, Flex};
use burn::tensor::{Device, Shape, Tensor};

use host::HostTensor;
use lstm_cell::Dims;
use norm::Groups;

#[backend_extension(Flex, Autodiff)]
pub trait TftKernels: Backend {
    /// `xp [T, B, 4H]`, `w [H, 4H]`, `h0, c0 [B, H]` -> `[2, T, B, H]` (see [`lstm_cell`]).
    fn fused_lstm(
        xp: FloatTensor<Self>,
        w: FloatTensor<Self>,
        h0: FloatTensor<Self>,
        c0: FloatTensor<Self>,
    ) -> FloatTensor<Self>;

    /// `LayerNorm(a * sigmoid(-ng) + skip)` over the last axis of `[V, N, d]`, `gamma`/`beta`
    /// `[V, d]` per group of axis 0.
    fn fused_gate_add_norm(
        a: FloatTensor<Self>,
        ng: FloatTensor<Self>,
        skip: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
    ) -> FloatTensor<Self>;

    /// LayerNorm over the last axis of `[A, B, d]`, groups (rows of `gamma`/`beta`) along axis
    /// `group_axis` (0 or 1).
    fn fused_layer_norm(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        group_axis: usize,
    ) -> FloatTensor<Self>;

    /// ELU with alpha 1.
    fn fused_elu(x: FloatTensor<Self>) -> FloatTensor<Self>;

    /// `x [V, N, K] @ w [V, K, M] + b [V, M]` per group of axis 0.
    fn fused_linear(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        b: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

thread_local! {
    static COMPOSED_HERE: Cell<bool> = const { Cell::new(false) };
}

fn composed_everywhere() -> bool {
    static COMPOSED: OnceLock<bool> = OnceLock::new();
    *COMPOSED.get_or_init(|| {
        std::env::var("FUSECAST_KERNELS").is_ok_and(|v| v.eq_ignore_ascii_case("composed"))
    })
}

/// Runs `f` with the fused kernels off on this thread (the composed reference instead).
pub fn with_composed<T>(f: impl FnOnce() -> T) -> T {
    fast_math::with_flag(&COMPOSED_HERE, f)
}

/// Whether tensors on `device` take the fused kernels.
pub fn fused_on(device: &Device) -> bool {
    !composed_everywhere() && !COMPOSED_HERE.with(|c| c.get()) && *device == Device::flex()
}

/// See [`TftKernels::fused_lstm`]; the caller checks [`fused_on`].
pub fn lstm(xp: Tensor<3>, w: Tensor<2>, h0: Tensor<2>, c0: Tensor<2>) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as TftKernels>::fused_lstm(
        xp.into_dispatch(),
        w.into_dispatch(),
        h0.into_dispatch(),
        c0.into_dispatch(),
    ))
}

/// See [`TftKernels::fused_gate_add_norm`]; the caller checks [`fused_on`].
pub fn gate_add_norm(
    a: Tensor<3>,
    ng: Tensor<3>,
    skip: Tensor<3>,
    gamma: Tensor<2>,
    beta: Tensor<2>,
) -> Tensor<3> {
    Tensor::from_dispatch(<Dispatch as TftKernels>::fused_gate_add_norm(
        a.into_dispatch(),
        ng.into_dispatch(),
        skip.into_dispatch(),
        gamma.into_dispatch(),
        beta.into_dispatch(),
    ))
}

/// See [`TftKernels::fused_layer_norm`]; the caller checks [`fused_on`].
pub fn layer_norm(x: Tensor<3>, gamma: Tensor<2>, beta: Tensor<2>, group_axis: usize) -> Tensor<3> {
    Tensor::from_dispatch(<Dispatch as TftKernels>::fused_layer_norm(
        x.into_dispatch(),
        gamma.into_dispatch(),
        beta.into_dispatch(),
        group_axis,
    ))
}

/// See [`TftKernels::fused_linear`]; the caller checks [`fused_on`]. Meant for inference:
/// under autodiff it is burn's matmul and add.
pub fn linear(x: Tensor<3>, w: Tensor<3>, b: Tensor<2>) -> Tensor<3> {
    Tensor::from_dispatch(<Dispatch as TftKernels>::fused_linear(
        x.into_dispatch(),
        w.into_dispatch(),
        b.into_dispatch(),
    ))
}

/// See [`TftKernels::fused_elu`]; the caller checks [`fused_on`].
pub fn elu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    Tensor::from_dispatch(<Dispatch as TftKernels>::fused_elu(x.into_dispatch()))
}

fn lstm_dims(xp: &HostTensor, w: &HostTensor, h0: &HostTensor, c0: &HostTensor) -> Dims {
    let d = xp.dims();
    assert!(
        d.len() == 3 && d[2].is_multiple_of(4) && d[0] > 0,
        "fused LSTM: xp must be [T > 0, B, 4H], got {d:?}"
    );
    let (b, h) = (d[1], d[2] / 4);
    assert!(
        w.dims() == [h, 4 * h] && h0.dims() == [b, h] && c0.dims() == [b, h],
        "fused LSTM: for xp {d:?}, w must be [{h}, {}] and h0, c0 [{b}, {h}]; got {:?}, {:?}, {:?}",
        4 * h,
        w.dims(),
        h0.dims(),
        c0.dims()
    );
    Dims { t: d[0], b, h }
}

fn groups_of(x: &HostTensor, group_axis: usize) -> (usize, Groups) {
    let d = x.dims();
    assert!(
        d.len() == 3 && group_axis < 2,
        "fused norm: x must be [A, B, d] with groups on axis 0 or 1, got {d:?} / {group_axis}"
    );
    (
        d[2],
        Groups {
            b: d[1],
            axis: group_axis,
        },
    )
}

/// The LSTM's output and what its backward keeps.
fn lstm_forward(
    xp: HostTensor,
    w: HostTensor,
    h0: HostTensor,
    c0: HostTensor,
) -> (FlexTensor, LstmState) {
    let dims = lstm_dims(&xp, &w, &h0, &c0);
    let saved = lstm_cell::forward(xp.data(), &w, h0.data(), c0.data(), &dims);
    let out = HostTensor::new(saved.out, [2, dims.t, dims.b, dims.h]);
    let state = LstmState {
        gates: Arc::new(saved.gates),
        out: out.clone(),
        w,
        h0,
        c0,
        dims,
    };
    (out.into_flex(), state)
}

fn check_gate_shapes(a: &HostTensor, ng: &HostTensor, skip: &HostTensor) {
    assert!(
        ng.dims() == a.dims() && skip.dims() == a.dims(),
        "fused gate-add-norm: a, ng and skip must have one shape, got {:?}, {:?}, {:?}",
        a.dims(),
        ng.dims(),
        skip.dims()
    );
}

/// GateAddNorm's output and what its backward keeps.
fn gate_add_norm_forward(
    a: HostTensor,
    ng: &HostTensor,
    skip: &HostTensor,
    gamma: HostTensor,
    beta: &HostTensor,
) -> (FlexTensor, NormState) {
    let n = a.data().len();
    check_gate_shapes(&a, ng, skip);
    let mut sig = vec![0f32; n];
    let mut u = vec![0f32; n];
    norm::gate_add(a.data(), ng.data(), skip.data(), &mut sig, &mut u);
    let u = HostTensor::new(u, a.dims());
    let (out, mut state) = layer_norm_forward(&u, gamma, beta, 0);
    state.gate = Some((a, Arc::new(sig)));
    (out, state)
}

/// The row length and groups of a layer norm of `x`, its `gamma` and `beta` checked against them.
fn norm_groups(
    x: &HostTensor,
    gamma: &HostTensor,
    beta: &HostTensor,
    group_axis: usize,
) -> (usize, Groups) {
    let (d, groups) = groups_of(x, group_axis);
    let expected = [x.dims()[group_axis], d];
    assert!(
        gamma.dims() == expected && beta.dims() == expected,
        "fused norm: gamma and beta must be {expected:?} for x {:?} (groups on axis {group_axis}), got {:?} and {:?}",
        x.dims(),
        gamma.dims(),
        beta.dims()
    );
    (d, groups)
}

/// Inference's layer norm, written over `x` (see [`HostTensor::data_mut`]).
fn layer_norm_in_place(
    mut x: HostTensor,
    gamma: &HostTensor,
    beta: &HostTensor,
    group_axis: usize,
) -> FlexTensor {
    let (d, groups) = norm_groups(&x, gamma, beta, group_axis);
    norm::normalize_in_place(x.data_mut(), gamma.data(), beta.data(), d, groups);
    x.into_flex()
}

/// LayerNorm's output and what its backward keeps.
fn layer_norm_forward(
    x: &HostTensor,
    gamma: HostTensor,
    beta: &HostTensor,
    group_axis: usize,
) -> (FlexTensor, NormState) {
    let (d, groups) = norm_groups(x, &gamma, beta, group_axis);
    let (y, saved) = norm::layer_norm(x.data(), gamma.data(), beta.data(), d, groups);
    let state = NormState {
        saved: Arc::new(saved),
        gamma,
        groups,
        dims: x.dims(),
        gate: None,
    };
    (HostTensor::new(y, x.dims()).into_flex(), state)
}

fn elu_forward(x: &HostTensor) -> HostTensor {
    let mut y = vec![0f32; x.data().len()];
    norm::elu(x.data(), &mut y);
    HostTensor::new(y, x.dims())
}

/// Inference: the same values as the training forward (tested), computed in place where the
/// input's buffer is free and keeping nothing for a backward; the LSTM's forward drops its state.
impl TftKernels for Flex {
    fn fused_lstm(
        xp: FloatTensor<Self>,
        w: FloatTensor<Self>,
        h0: FloatTensor<Self>,
        c0: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let f = HostTensor::from_flex;
        lstm_forward(f(xp), f(w), f(h0), f(c0)).0
    }

    fn fused_gate_add_norm(
        a: FloatTensor<Self>,
        ng: FloatTensor<Self>,
        skip: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let f = HostTensor::from_flex;
        let (mut a, ng, skip) = (f(a), f(ng), f(skip));
        check_gate_shapes(&a, &ng, &skip);
        norm::gate_add_in_place(a.data_mut(), ng.data(), skip.data());
        layer_norm_in_place(a, &f(gamma), &f(beta), 0)
    }

    fn fused_layer_norm(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        group_axis: usize,
    ) -> FloatTensor<Self> {
        let f = HostTensor::from_flex;
        layer_norm_in_place(f(x), &f(gamma), &f(beta), group_axis)
    }

    fn fused_elu(x: FloatTensor<Self>) -> FloatTensor<Self> {
        let mut x = HostTensor::from_flex(x);
        norm::elu_in_place(x.data_mut());
        x.into_flex()
    }

    fn fused_linear(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        b: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let f = HostTensor::from_flex;
        linear::grouped_linear(&f(x), &f(w), &f(b)).into_flex()
    }
}

/// Registers `$value` (a [`HostTensor`], evaluated only then) as the gradient of `$parent` when
/// that input needs one.
macro_rules! register {
    ($grads:expr, $parent:expr, $value:expr) => {
        if let Some(node) = $parent {
            $grads.register::<Flex>(node.id, $value.into_flex());
        }
    };
}

#[derive(Debug)]
struct LstmBackward;

#[derive(Clone, Debug)]
struct LstmState {
    gates: Arc<Vec<f32>>,
    out: HostTensor,
    w: HostTensor,
    h0: HostTensor,
    c0: HostTensor,
    dims: Dims,
}

impl Backward<Flex, 4> for LstmBackward {
    type State = LstmState;

    fn backward(self, ops: Ops<LstmState, 4>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = HostTensor::from_flex(grads.consume::<Flex>(&ops.node));
        let s = ops.state;
        let d = s.dims;
        let g = lstm_cell::backward(
            grad.data(),
            &s.gates,
            s.out.data(),
            &s.w,
            s.h0.data(),
            s.c0.data(),
            &d,
        );
        let [xp, w, h0, c0] = &ops.parents;
        register!(grads, xp, g.xp);
        register!(grads, w, g.w);
        register!(grads, h0, g.h0);
        register!(grads, c0, HostTensor::new(g.c0, [d.b, d.h]));
    }
}

#[derive(Debug)]
struct GateAddNormBackward;

#[derive(Clone, Debug)]
struct NormState {
    saved: Arc<norm::NormSaved>,
    gamma: HostTensor,
    groups: Groups,
    dims: Vec<usize>,
    /// The gate's first half and its sigmoid, for GateAddNorm.
    gate: Option<(HostTensor, Arc<Vec<f32>>)>,
}

impl NormState {
    /// `(du, dgamma, dbeta)`.
    fn backward(&self, dy: &HostTensor) -> (Vec<f32>, HostTensor, HostTensor) {
        let (du, dg, db) =
            norm::layer_norm_backward(dy.data(), &self.saved, self.gamma.data(), self.groups);
        let gd = self.gamma.dims();
        (du, HostTensor::new(dg, gd.clone()), HostTensor::new(db, gd))
    }
}

impl Backward<Flex, 5> for GateAddNormBackward {
    type State = NormState;

    fn backward(self, ops: Ops<NormState, 5>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy = HostTensor::from_flex(grads.consume::<Flex>(&ops.node));
        let s = ops.state;
        let (du, dgamma, dbeta) = s.backward(&dy);
        let (a, sig) = s.gate.as_ref().expect("gate-add-norm keeps its gate");
        let mut da = vec![0f32; du.len()];
        let mut dng = vec![0f32; du.len()];
        norm::gate_add_backward(&du, a.data(), sig, &mut da, &mut dng);
        let [pa, png, pskip, pgamma, pbeta] = &ops.parents;
        register!(grads, pa, HostTensor::new(da, s.dims.clone()));
        register!(grads, png, HostTensor::new(dng, s.dims.clone()));
        register!(grads, pskip, HostTensor::new(du, s.dims.clone()));
        register!(grads, pgamma, dgamma);
        register!(grads, pbeta, dbeta);
    }
}

#[derive(Debug)]
struct LayerNormBackward;

impl Backward<Flex, 3> for LayerNormBackward {
    type State = NormState;

    fn backward(self, ops: Ops<NormState, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy = HostTensor::from_flex(grads.consume::<Flex>(&ops.node));
        let s = ops.state;
        let (du, dgamma, dbeta) = s.backward(&dy);
        let [px, pgamma, pbeta] = &ops.parents;
        register!(grads, px, HostTensor::new(du, s.dims.clone()));
        register!(grads, pgamma, dgamma);
        register!(grads, pbeta, dbeta);
    }
}

#[derive(Debug)]
struct EluBackward;

impl Backward<Flex, 1> for EluBackward {
    type State = HostTensor;

    fn backward(self, ops: Ops<HostTensor, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy = HostTensor::from_flex(grads.consume::<Flex>(&ops.node));
        let y = ops.state;
        let [px] = &ops.parents;
        register!(grads, px, {
            let mut dx = vec![0f32; dy.data().len()];
            norm::elu_backward(dy.data(), y.data(), &mut dx);
            HostTensor::new(dx, y.dims())
        });
    }
}

fn host(t: &FloatTensor<Autodiff<Flex>>) -> HostTensor {
    HostTensor::from_flex(t.primitive().clone())
}

/// Records the operation with its backward state, or bare when no input needs a gradient.
fn finish<BO, S, C, const N: usize>(
    prep: OpsKind<BO, Flex, S, C, N>,
    (out, state): (FlexTensor, S),
) -> FloatTensor<Autodiff<Flex, C>>
where
    BO: Backward<Flex, N, State = S>,
    S: Clone + Send + std::fmt::Debug + 'static,
    C: CheckpointStrategy,
{
    match prep {
        OpsKind::Tracked(prep) => prep.finish(state, out),
        OpsKind::UnTracked(prep) => prep.finish(out),
    }
}

impl<C: CheckpointStrategy> TftKernels for Autodiff<Flex, C> {
    fn fused_lstm(
        xp: FloatTensor<Self>,
        w: FloatTensor<Self>,
        h0: FloatTensor<Self>,
        c0: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let prep = LstmBackward
            .prepare::<C>([xp.node(), w.node(), h0.node(), c0.node()])
            .compute_bound()
            .stateful();
        finish(
            prep,
            lstm_forward(host(&xp), host(&w), host(&h0), host(&c0)),
        )
    }

    fn fused_gate_add_norm(
        a: FloatTensor<Self>,
        ng: FloatTensor<Self>,
        skip: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let prep = GateAddNormBackward
            .prepare::<C>([a.node(), ng.node(), skip.node(), gamma.node(), beta.node()])
            .compute_bound()
            .stateful();
        let forward = gate_add_norm_forward(
            host(&a),
            &host(&ng),
            &host(&skip),
            host(&gamma),
            &host(&beta),
        );
        finish(prep, forward)
    }

    fn fused_layer_norm(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        group_axis: usize,
    ) -> FloatTensor<Self> {
        let prep = LayerNormBackward
            .prepare::<C>([x.node(), gamma.node(), beta.node()])
            .compute_bound()
            .stateful();
        finish(
            prep,
            layer_norm_forward(&host(&x), host(&gamma), &host(&beta), group_axis),
        )
    }

    fn fused_elu(x: FloatTensor<Self>) -> FloatTensor<Self> {
        let prep = EluBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful();
        let y = elu_forward(&host(&x));
        finish(prep, (y.clone().into_flex(), y))
    }

    /// Training keeps burn's recorded matmul and add (their backward is burn's).
    fn fused_linear(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        b: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let shape = b.shape();
        let b = Self::float_reshape(b, Shape::new([shape[0], 1, shape[1]]));
        Self::float_add(Self::float_matmul(x, w), b)
    }
}
