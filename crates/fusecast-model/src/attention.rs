//! Interpretable multi-head attention (TFT): per-head queries and keys, ONE value projection
//! shared by the heads, head outputs averaged, so the averaged weights explain the output.

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::activation::softmax;
use burn::tensor::module::linear;
use burn::tensor::{Bool, Device, Tensor};

use crate::layers::dropout;

#[derive(Module, Debug)]
pub struct InterpretableAttention {
    /// All heads' query and key projections fused: `[d, heads * d_head]`.
    pub query: Linear,
    pub key: Linear,
    /// Shared value projection `[d, d_head]`.
    pub value: Linear,
    /// Output projection `[d_head, d]`, no bias.
    pub output: Linear,
    pub dropout: Dropout,
    pub heads: usize,
}

/// Masked scores: large negative rather than -inf, so that a row can never become NaN.
const MASKED: f32 = -1e9;

impl InterpretableAttention {
    pub fn new(d: usize, heads: usize, dropout: f64, device: &Device) -> Self {
        let d_head = d / heads;
        InterpretableAttention {
            query: LinearConfig::new(d, heads * d_head).init(device),
            key: LinearConfig::new(d, heads * d_head).init(device),
            value: LinearConfig::new(d, d_head).init(device),
            output: LinearConfig::new(d_head, d).with_bias(false).init(device),
            dropout: DropoutConfig::new(dropout).init(),
            heads,
        }
    }

    /// `q: [B, Tq, d]`, `kv: [B, Tk, d]`, `mask: [B, Tq, Tk]` (true = may not attend).
    /// Returns `[B, Tq, d]` and the weights `[B, Tq, heads, Tk]`.
    pub fn forward(
        &self,
        q: Tensor<3>,
        kv: Tensor<3>,
        mask: Tensor<3, Bool>,
    ) -> (Tensor<3>, Tensor<4>) {
        let [b, tq, _] = q.dims();
        let tk = kv.dims()[1];
        let d_head = self.value.weight.val().dims()[1];
        let h = self.heads;
        // The 1/sqrt(d_head) of the scores applied to the (small) query weights instead.
        let scale = 1.0 / (d_head as f64).sqrt();
        let qs = linear(
            q,
            self.query.weight.val() * scale,
            self.query.bias.as_ref().map(|b| b.val() * scale),
        )
        .reshape([b, tq, h, d_head])
        .swap_dims(1, 2);
        let ks = self
            .key
            .forward(kv.clone())
            .reshape([b, tk, h, d_head])
            .swap_dims(1, 2);
        let scores = qs.matmul(ks.swap_dims(2, 3));
        let mask = mask.unsqueeze_dim::<4>(1).expand([b, h, tq, tk]);
        let weights = softmax(scores.mask_fill(mask, MASKED), 3);
        // V is shared by the heads: all heads' weights times V in one matmul per sample.
        let vs = self.value.forward(kv);
        let heads = weights
            .clone()
            .reshape([b, h * tq, tk])
            .matmul(vs)
            .reshape([b, h, tq, d_head]);
        let heads = dropout(&self.dropout, heads);
        let mean = heads.mean_dim(1).reshape([b, tq, d_head]);
        let out = dropout(&self.dropout, self.output.forward(mean));
        (out, weights.swap_dims(1, 2))
    }
}
