//! The gated residual network: `LayerNorm(residual + GLU(fc2(ELU(fc1(x) + context))))`, with the
//! residual resampled (and normed) when the input and output widths differ.

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use crate::layers::{elu1, GateAddNorm, GroupedLinear, ResampleNorm};

#[derive(Module, Debug)]
pub struct Grn {
    pub fc1: GroupedLinear,
    /// Context projection (no bias), added after fc1.
    pub context: Option<GroupedLinear>,
    pub fc2: GroupedLinear,
    pub gate_norm: GateAddNorm,
    pub resample_norm: Option<ResampleNorm>,
}

/// A static context `[B, c]` for rows laid out sample-major, `steps` rows per sample (row
/// `b * steps + t`). Its projection is computed once per sample and broadcast over the steps:
/// the same values as projecting a context repeated on every row, without the repetition.
#[derive(Clone, Debug)]
pub struct StepContext {
    pub context: Tensor<2>,
    pub steps: usize,
}

pub struct GrnDims {
    pub groups: usize,
    pub d_in: usize,
    pub hidden: usize,
    pub d_out: usize,
    pub context: Option<usize>,
}

impl Grn {
    pub fn new(d: GrnDims, dropout: f64, device: &Device) -> Self {
        Grn {
            fc1: GroupedLinear::new(d.groups, d.d_in, d.hidden, true, device),
            context: d
                .context
                .map(|c| GroupedLinear::new(d.groups, c, d.hidden, false, device)),
            fc2: GroupedLinear::new(d.groups, d.hidden, d.hidden, true, device),
            gate_norm: GateAddNorm::new(d.groups, d.hidden, d.d_out, dropout, device),
            resample_norm: (d.d_in != d.d_out)
                .then(|| ResampleNorm::new(d.groups, d.d_out, device)),
        }
    }

    /// `x: [V, N, d_in]` with `N = B * steps`, optional context (shared by the groups) ->
    /// `[V, N, d_out]`.
    pub fn forward(&self, x: Tensor<3>, context: Option<StepContext>) -> Tensor<3> {
        let residual = match &self.resample_norm {
            Some(r) => r.forward(x.clone()),
            None => x.clone(),
        };
        let mut h = self.fc1.forward(x);
        if let (Some(proj), Some(c)) = (&self.context, context) {
            let [v, n, hidden] = h.dims();
            let b = c.context.dims()[0];
            let projected = proj
                .forward(c.context.unsqueeze_dim::<3>(0))
                .reshape([1, b, 1, hidden]);
            h = (h.reshape([v, b, c.steps, hidden]) + projected).reshape([v, n, hidden]);
        }
        let h = self.fc2.forward(elu1(h));
        self.gate_norm.forward(h, residual)
    }
}
