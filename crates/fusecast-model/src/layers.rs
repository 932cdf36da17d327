//! Building blocks shared by every TFT block. They work on grouped tensors `[V, N, d]` (variable
//! axis outermost): V independent variables with their own weights, computed by one batched
//! matmul instead of V small ones (per-op overhead, not FLOPs, dominates a TFT step on CPU), with
//! no transposition around it. A plain layer is V = 1 (`[1, N, d]`).

use burn::module::{Initializer, Module, Param};
use burn::nn::{Dropout, DropoutConfig};
use burn::tensor::activation::sigmoid;
use burn::tensor::module::linear;
use burn::tensor::{Device, Distribution, Tensor, TensorData};

use crate::kernels;

/// V linear maps `d_in -> d_out`: weight `[V, d_in, d_out]`, bias `[V, d_out]`.
#[derive(Module, Debug)]
pub struct GroupedLinear {
    pub weight: Param<Tensor<3>>,
    pub bias: Option<Param<Tensor<2>>>,
}

impl GroupedLinear {
    pub fn new(groups: usize, d_in: usize, d_out: usize, bias: bool, device: &Device) -> Self {
        // PyTorch's nn.Linear default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
        let bound = 1.0 / (d_in as f64).sqrt();
        let init = Initializer::Uniform {
            min: -bound,
            max: bound,
        };
        GroupedLinear {
            weight: init.init([groups, d_in, d_out], device),
            bias: bias.then(|| init.init([groups, d_out], device)),
        }
    }

    pub fn from_tensors(weight: Tensor<3>, bias: Option<Tensor<2>>) -> Self {
        GroupedLinear {
            weight: Param::from_tensor(weight),
            bias: bias.map(Param::from_tensor),
        }
    }

    pub fn dims(&self) -> [usize; 3] {
        self.weight.val().dims()
    }

    /// `[V, N, d_in] -> [V, N, d_out]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        grouped_linear(x, self.weight.val(), self.bias.as_ref().map(|b| b.val()))
    }
}

/// `x [V, N, d_in]` through V maps `weight [V, d_in, d_out]` (+ `bias [V, d_out]`): one batched
/// matmul. One group is burn's fused `linear` (matmul and bias in one autodiff node).
pub fn grouped_linear(x: Tensor<3>, weight: Tensor<3>, bias: Option<Tensor<2>>) -> Tensor<3> {
    let [v, d_in, d_out] = weight.dims();
    let [_, n, _] = x.dims();
    if !x.is_autodiff() && kernels::fused_on(&x.device()) {
        let bias = bias.unwrap_or_else(|| Tensor::zeros([v, d_out], &x.device()));
        return kernels::linear(x, weight, bias);
    }
    if v == 1 {
        return linear(
            x.reshape([n, d_in]),
            weight.reshape([d_in, d_out]),
            bias.map(|b| b.reshape([d_out])),
        )
        .reshape([1, n, d_out]);
    }
    let y = x.matmul(weight);
    match bias {
        Some(b) => y + b.unsqueeze_dim::<3>(1),
        None => y,
    }
}

/// ELU with alpha 1 (burn's `elu` without its `* alpha`, one autodiff node fewer; same values).
pub fn elu1<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if kernels::fused_on(&x.device()) {
        return kernels::elu(x);
    }
    let mask = x.clone().lower_equal_scalar(0);
    let negative = x.clone().exp().sub_scalar(1);
    x.mask_where(mask, negative)
}

/// Layer normalization over the last dimension with per-group scale and shift `[V, d]`.
#[derive(Module, Debug)]
pub struct GroupedLayerNorm {
    pub gamma: Param<Tensor<2>>,
    pub beta: Param<Tensor<2>>,
}

/// PyTorch's LayerNorm epsilon.
const LN_EPS: f64 = 1e-5;

impl GroupedLayerNorm {
    pub fn new(groups: usize, d: usize, device: &Device) -> Self {
        GroupedLayerNorm {
            gamma: Initializer::Ones.init([groups, d], device),
            beta: Initializer::Zeros.init([groups, d], device),
        }
    }

    /// `[V, N, d]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        self.forward_along(x, 0)
    }

    /// Normalizes over the last axis; `group_axis` (0 or 1) holds the V groups.
    pub fn forward_along(&self, x: Tensor<3>, group_axis: usize) -> Tensor<3> {
        if kernels::fused_on(&x.device()) {
            return kernels::layer_norm(x, self.gamma.val(), self.beta.val(), group_axis);
        }
        let mean = x.clone().mean_dim(2);
        let centered = x - mean;
        let var = centered.clone().square().mean_dim(2);
        let normed = centered / (var + LN_EPS).sqrt();
        let other = 1 - group_axis;
        normed * self.gamma.val().unsqueeze_dim::<3>(other)
            + self.beta.val().unsqueeze_dim::<3>(other)
    }
}

/// PF's `TimeDistributedInterpolation` (linear, align_corners) is a fixed linear map: this is its
/// `[d_in, d_out]` matrix, so a resample is one matmul.
pub fn interpolation_matrix(d_in: usize, d_out: usize, device: &Device) -> Tensor<2> {
    let m = interpolation_values(d_in, d_out);
    Tensor::from_data(TensorData::new(m, [d_in, d_out]), device)
}

/// The values of [`interpolation_matrix`], row-major (the identity when `d_in == d_out`).
pub fn interpolation_values(d_in: usize, d_out: usize) -> Vec<f32> {
    let mut m = vec![0f32; d_in * d_out];
    for j in 0..d_out {
        let pos = if d_out == 1 {
            0.0
        } else {
            j as f64 * (d_in - 1) as f64 / (d_out - 1) as f64
        };
        let lo = (pos.floor() as usize).min(d_in - 1);
        let hi = (lo + 1).min(d_in - 1);
        let frac = (pos - lo as f64) as f32;
        m[lo * d_out + j] += 1.0 - frac;
        if hi != lo {
            m[hi * d_out + j] += frac;
        }
    }
    m
}

/// `[A, B, d_in] -> [A, B, d_out]` by linear interpolation along features.
pub fn resample(x: Tensor<3>, d_out: usize) -> Tensor<3> {
    let [a, b, d_in] = x.dims();
    if d_in == d_out {
        return x;
    }
    let m = interpolation_matrix(d_in, d_out, &x.device());
    x.reshape([a * b, d_in]).matmul(m).reshape([a, b, d_out])
}

thread_local! {
    /// The dropout stream of this thread while [`with_dropout_seed`] runs.
    static DROPOUT_STREAM: std::cell::Cell<Option<u64>> = const { std::cell::Cell::new(None) };
}

/// Runs `f` with this thread's dropout masks drawn from a stream seeded by `seed` instead of the
/// device RNG. burn's device RNG is shared by the whole process: two trainings running at once
/// (concurrent tuner trials) would interleave their draws and neither would reproduce alone.
pub fn with_dropout_seed<T>(seed: u64, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<u64>);
    impl Drop for Restore {
        fn drop(&mut self) {
            DROPOUT_STREAM.with(|s| s.set(self.0));
        }
    }
    let _restore = Restore(DROPOUT_STREAM.with(|s| s.replace(Some(seed))));
    f()
}

/// The next mask seed: from the thread's stream inside [`with_dropout_seed`], else the device RNG.
fn next_mask_seed(device: &Device) -> u64 {
    if let Some(state) = DROPOUT_STREAM.with(|s| s.get()) {
        let next = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        DROPOUT_STREAM.with(|s| s.set(Some(next)));
        let mut z = next;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        return z ^ (z >> 31);
    }
    let seed: Vec<f32> = Tensor::<1>::random([2], Distribution::Uniform(0.0, 1.0), device)
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("f32 seed");
    ((seed[0].to_bits() as u64) << 32) | seed[1].to_bits() as u64
}

/// Dropout as burn's `Dropout` (same gating: training flag, autodiff device, p > 0), with a
/// cheaper mask: one tensor holding `0` or `1 / keep`, drawn by a SplitMix64 stream seeded from
/// [`next_mask_seed`], one product instead of burn's Bernoulli sampler and two products. Each
/// draw is 16 bits (four per SplitMix64 output): the keep probability is
/// `round(keep * 65536) / 65536` (within 1e-5 of `1 - p`) and the scale is its exact inverse, so
/// the mask's mean is exactly 1.
pub fn dropout<const D: usize>(d: &Dropout, x: Tensor<D>) -> Tensor<D> {
    if !d.training.is_enabled() || !x.device().is_autodiff() || d.prob == 0.0 {
        return x;
    }
    let device = x.device();
    let seed = next_mask_seed(&device);
    let shape = x.shape();
    let mask = dropout_mask(shape.num_elements(), 1.0 - d.prob, seed);
    x * Tensor::<D>::from_data(TensorData::new(mask, shape), &device)
}

/// `n` values, each `1 / keep'` with probability `keep'` (keep rounded to 16 bits), else 0.
fn dropout_mask(n: usize, keep: f64, mut state: u64) -> Vec<f32> {
    let threshold = ((keep * 65536.0).round() as u64).clamp(1, 65536);
    let scale = (65536.0 / threshold as f64) as f32;
    let mut mask = vec![0f32; n];
    for quad in mask.chunks_mut(4) {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        for (k, v) in quad.iter_mut().enumerate() {
            *v = if (z >> (16 * k)) & 0xFFFF < threshold {
                scale
            } else {
                0.0
            };
        }
    }
    mask
}

/// Gated linear unit: dropout, linear to twice the width, first half * sigmoid(second half).
#[derive(Module, Debug)]
pub struct Glu {
    pub fc: GroupedLinear,
    pub dropout: Dropout,
}

impl Glu {
    pub fn new(groups: usize, d_in: usize, d_out: usize, dropout: f64, device: &Device) -> Self {
        Glu {
            fc: GroupedLinear::new(groups, d_in, 2 * d_out, true, device),
            dropout: DropoutConfig::new(dropout).init(),
        }
    }

    /// The value half and the negated gate half, before the gate is applied (by
    /// [`AddNorm::forward_gated`]): two matmuls on halves of the weight, since slicing the
    /// (small) weight instead of the output spares the backward two output-sized zero tensors.
    /// The gate half is negated on the weights so that `a * sigmoid(g) = a / (1 + exp(-g))`.
    pub fn halves(&self, x: Tensor<3>) -> (Tensor<3>, Tensor<3>) {
        let x = dropout(&self.dropout, x);
        let w = self.fc.weight.val();
        let half = w.dims()[2] / 2;
        let (ba, bb) = match &self.fc.bias {
            Some(b) => {
                let b = b.val();
                (
                    Some(b.clone().narrow(1, 0, half)),
                    Some(b.narrow(1, half, half).neg()),
                )
            }
            None => (None, None),
        };
        let a = grouped_linear(x.clone(), w.clone().narrow(2, 0, half), ba);
        let neg_g = grouped_linear(x, w.narrow(2, half, half).neg(), bb);
        (a, neg_g)
    }
}

/// `LayerNorm(x + skip)`, the skip resampled to x's width and optionally gated by a trainable
/// `sigmoid(mask) * 2` (PF's AddNorm).
#[derive(Module, Debug)]
pub struct AddNorm {
    pub mask: Option<Param<Tensor<2>>>,
    pub norm: GroupedLayerNorm,
}

impl AddNorm {
    pub fn new(groups: usize, d: usize, trainable_add: bool, device: &Device) -> Self {
        AddNorm {
            mask: trainable_add.then(|| Initializer::Zeros.init([groups, d], device)),
            norm: GroupedLayerNorm::new(groups, d, device),
        }
    }

    /// `LayerNorm(a * sigmoid(-neg_g) + skip)`: a GLU's halves (see [`Glu::halves`]) gated,
    /// added and normed, one fused operation on the CPU.
    pub fn forward_gated(&self, a: Tensor<3>, neg_g: Tensor<3>, skip: Tensor<3>) -> Tensor<3> {
        let skip = self.skip(skip, a.dims()[2]);
        if kernels::fused_on(&a.device()) {
            return kernels::gate_add_norm(
                a,
                neg_g,
                skip,
                self.norm.gamma.val(),
                self.norm.beta.val(),
            );
        }
        self.norm.forward(a / (neg_g.exp() + 1.0) + skip)
    }

    fn skip(&self, skip: Tensor<3>, d: usize) -> Tensor<3> {
        let skip = resample(skip, d);
        match &self.mask {
            Some(mask) => skip * (sigmoid(mask.val()) * 2.0).unsqueeze_dim::<3>(1),
            None => skip,
        }
    }
}

/// PF's ResampleNorm: resample to `d_out`, gate with `sigmoid(mask) * 2`, LayerNorm.
#[derive(Module, Debug)]
pub struct ResampleNorm {
    pub mask: Param<Tensor<2>>,
    pub norm: GroupedLayerNorm,
}

impl ResampleNorm {
    pub fn new(groups: usize, d_out: usize, device: &Device) -> Self {
        ResampleNorm {
            mask: Initializer::Zeros.init([groups, d_out], device),
            norm: GroupedLayerNorm::new(groups, d_out, device),
        }
    }

    /// The gate is folded into the interpolation weights (`resample(x) * g == x @ (M * g)`), one
    /// matmul and no product over the output.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let d_out = self.mask.val().dims()[1];
        let d_in = x.dims()[2];
        let gate = self.gate();
        let y = if d_in == d_out {
            x * gate.unsqueeze_dim::<3>(1)
        } else {
            let m = interpolation_matrix(d_in, d_out, &x.device());
            grouped_linear(
                x,
                m.unsqueeze_dim::<3>(0) * gate.unsqueeze_dim::<3>(1),
                None,
            )
        };
        self.norm.forward(y)
    }

    /// `sigmoid(mask) * 2`, `[V, d_out]`.
    pub fn gate(&self) -> Tensor<2> {
        sigmoid(self.mask.val()) * 2.0
    }

    /// V inputs of different widths, given side by side as `x [N, sum(widths)]`, each resampled
    /// to `d_out`, gated and normed: one matmul with a block interpolation matrix
    /// `[sum(widths), V * d_out]` (gates folded in) and one grouped LayerNorm. Returns
    /// `[N, V, d_out]` (groups on axis 1: the matmul's natural layout).
    pub fn forward_concatenated(&self, x: Tensor<2>, widths: &[usize]) -> Tensor<3> {
        let [v, d_out] = self.mask.val().dims();
        let n = x.dims()[0];
        let total: usize = widths.iter().sum();
        let cols = v * d_out;
        let mut m = vec![0f32; total * cols];
        let mut row = 0;
        for (g, d_in) in widths.iter().enumerate() {
            let block = interpolation_values(*d_in, d_out);
            for i in 0..*d_in {
                let dst = (row + i) * cols + g * d_out;
                m[dst..dst + d_out].copy_from_slice(&block[i * d_out..(i + 1) * d_out]);
            }
            row += d_in;
        }
        let m = Tensor::<2>::from_data(TensorData::new(m, [total, cols]), &x.device());
        let w = m * self.gate().reshape([1, cols]);
        self.norm
            .forward_along(linear(x, w, None).reshape([n, v, d_out]), 1)
    }
}

/// GLU then AddNorm (PF's GateAddNorm).
#[derive(Module, Debug)]
pub struct GateAddNorm {
    pub glu: Glu,
    pub add_norm: AddNorm,
}

impl GateAddNorm {
    pub fn new(groups: usize, d_in: usize, d_out: usize, dropout: f64, device: &Device) -> Self {
        GateAddNorm {
            glu: Glu::new(groups, d_in, d_out, dropout, device),
            add_norm: AddNorm::new(groups, d_out, false, device),
        }
    }

    pub fn forward(&self, x: Tensor<3>, skip: Tensor<3>) -> Tensor<3> {
        let (a, neg_g) = self.glu.halves(x);
        self.add_norm.forward_gated(a, neg_g, skip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolation_matches_align_corners() {
        let device = Device::flex();
        // 3 -> 5 with align_corners: positions 0, .5, 1, 1.5, 2.
        let m = interpolation_matrix(3, 5, &device);
        let x = Tensor::<2>::from_data(TensorData::new(vec![1f32, 3.0, 7.0], [1, 3]), &device);
        let y: Vec<f32> = x.matmul(m).into_data().try_to_vec().unwrap();
        assert_eq!(y, vec![1.0, 2.0, 3.0, 5.0, 7.0]);
        let down: Vec<f32> = Tensor::<2>::from_data(
            TensorData::new(vec![1f32, 2.0, 3.0, 4.0, 5.0], [1, 5]),
            &device,
        )
        .matmul(interpolation_matrix(5, 2, &device))
        .into_data()
        .try_to_vec()
        .unwrap();
        assert_eq!(down, vec![1.0, 5.0]);
    }

    #[test]
    fn dropout_mask_keeps_the_right_share_with_mean_one() {
        let m = dropout_mask(200_001, 0.9, 42);
        let kept = m.iter().filter(|v| **v > 0.0).count() as f64 / m.len() as f64;
        let mean = m.iter().map(|v| *v as f64).sum::<f64>() / m.len() as f64;
        assert!((kept - 0.9).abs() < 0.003, "{kept}");
        assert!((mean - 1.0).abs() < 0.004, "{mean}");
        assert_ne!(m, dropout_mask(200_001, 0.9, 43));
    }

    #[test]
    fn grouped_linear_equals_separate_linears() {
        let device = Device::flex();
        let g = GroupedLinear::new(3, 4, 2, true, &device);
        let x = Tensor::<3>::random([3, 5, 4], burn::tensor::Distribution::Default, &device);
        let y = g.forward(x.clone());
        for v in 0..3 {
            let w = g.weight.val().narrow(0, v, 1).reshape([4, 2]);
            let b = g.bias.as_ref().unwrap().val().narrow(0, v, 1);
            let xv = x.clone().narrow(0, v, 1).reshape([5, 4]);
            let expect = xv.matmul(w) + b;
            let got = y.clone().narrow(0, v, 1).reshape([5, 2]);
            let diff: f32 = (expect - got).abs().max().into_scalar();
            assert!(diff < 1e-6);
        }
    }
}
