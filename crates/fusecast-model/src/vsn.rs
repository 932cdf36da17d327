//! Variable selection: each variable through its own network to the hidden width, a softmax
//! over variables from a GRN on all of them (with static context), the weighted sum.

use burn::module::Module;
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor};

use crate::grn::{Grn, GrnDims, StepContext};
use crate::layers::ResampleNorm;

#[derive(Module, Debug)]
pub struct Vsn {
    /// All categorical variables as one group: each embedding resampled and normed to the
    /// hidden width (PF's per-variable ResampleNorms, their masks and norms stacked in order).
    pub categorical: Option<ResampleNorm>,
    /// All real variables as one grouped GRN: `hidden_continuous -> hidden`.
    pub reals: Option<Grn>,
    /// Selection weights, present when there is more than one variable.
    pub flattened: Option<Grn>,
}

pub struct VsnInputs {
    /// `[N, embedding_size]` per categorical variable.
    pub categorical: Vec<Tensor<2>>,
    /// `[n_reals, N, hidden_continuous]` prescaled reals (variable axis outermost).
    pub reals: Option<Tensor<3>>,
}

impl Vsn {
    pub fn new(
        embedding_sizes: &[usize],
        n_reals: usize,
        hidden_continuous: usize,
        hidden: usize,
        context: Option<usize>,
        dropout: f64,
        device: &Device,
    ) -> Self {
        let n_vars = embedding_sizes.len() + n_reals;
        let total = embedding_sizes.iter().sum::<usize>() + n_reals * hidden_continuous;
        Vsn {
            categorical: (!embedding_sizes.is_empty())
                .then(|| ResampleNorm::new(embedding_sizes.len(), hidden, device)),
            reals: (n_reals > 0).then(|| {
                Grn::new(
                    GrnDims {
                        groups: n_reals,
                        d_in: hidden_continuous,
                        hidden: hidden_continuous.min(hidden),
                        d_out: hidden,
                        context: None,
                    },
                    dropout,
                    device,
                )
            }),
            flattened: (n_vars > 1).then(|| {
                Grn::new(
                    GrnDims {
                        groups: 1,
                        d_in: total,
                        hidden: hidden.min(n_vars),
                        d_out: n_vars,
                        context,
                    },
                    dropout,
                    device,
                )
            }),
        }
    }

    fn hidden(&self) -> usize {
        match (&self.categorical, &self.reals) {
            (Some(c), _) => c.mask.val().dims()[1],
            (None, Some(r)) => r.gate_norm.add_norm.norm.gamma.val().dims()[1],
            (None, None) => unreachable!("a VSN has a variable"),
        }
    }

    /// Returns the selected embedding `[N, hidden]` and the weights `[N, n_vars]` (cats first).
    pub fn forward(
        &self,
        inputs: VsnInputs,
        context: Option<StepContext>,
    ) -> (Tensor<2>, Tensor<2>) {
        let widths: Vec<usize> = inputs.categorical.iter().map(|e| e.dims()[1]).collect();
        let cats = (!inputs.categorical.is_empty()).then(|| Tensor::cat(inputs.categorical, 1));
        let cat_out = match (&self.categorical, &cats) {
            (Some(norm), Some(c)) => Some(norm.forward_concatenated(c.clone(), &widths)),
            _ => None,
        };
        let real_out = match (&self.reals, &inputs.reals) {
            (Some(grn), Some(r)) => Some(grn.forward(r.clone(), None)),
            _ => None,
        };
        let Some(flattened) = &self.flattened else {
            // One variable: `[N, 1, H]` or `[1, N, H]`, the same memory.
            let single = cat_out.or(real_out).expect("a VSN has a variable");
            let hidden = single.dims()[2];
            let n = single.dims().iter().product::<usize>() / hidden;
            let device = single.device();
            return (single.reshape([n, hidden]), Tensor::ones([n, 1], &device));
        };
        let mut flat: Vec<Tensor<2>> = cats.into_iter().collect();
        let n = match (&flat.first(), &inputs.reals) {
            (Some(c), _) => c.dims()[0],
            (None, Some(r)) => r.dims()[1],
            (None, None) => unreachable!("a VSN has a variable"),
        };
        if let Some(r) = inputs.reals {
            let [vr, _, hc] = r.dims();
            flat.push(r.swap_dims(0, 1).reshape([n, vr * hc]));
        }
        let flat = if flat.len() == 1 {
            flat.pop().expect("one part")
        } else {
            Tensor::cat(flat, 1)
        };
        let n_vars = widths.len() + real_out.as_ref().map_or(0, |r| r.dims()[0]);
        let weights = softmax(
            flattened
                .forward(flat.unsqueeze_dim::<3>(0), context)
                .reshape([n, n_vars]),
            1,
        );
        // The weighted sum per part (no concatenation of the per-variable outputs): cats are
        // `[N, Vc, H]`, reals `[Vr, N, H]`.
        let hidden = self.hidden();
        let weighted_cats = |out: Tensor<3>| {
            let v = out.dims()[1];
            (out * weights.clone().narrow(1, 0, v).unsqueeze_dim::<3>(2))
                .sum_dim(1)
                .reshape([n, hidden])
        };
        let weighted_reals = |out: Tensor<3>| {
            let v = out.dims()[0];
            let w = weights
                .clone()
                .narrow(1, widths.len(), v)
                .swap_dims(0, 1)
                .unsqueeze_dim::<3>(2);
            (out * w).sum_dim(0).reshape([n, hidden])
        };
        let selected = match (cat_out, real_out) {
            (Some(c), Some(r)) => weighted_cats(c) + weighted_reals(r),
            (Some(c), None) => weighted_cats(c),
            (None, Some(r)) => weighted_reals(r),
            (None, None) => unreachable!("a VSN has a variable"),
        };
        (selected, weights)
    }
}
