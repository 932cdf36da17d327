//! Variable selection: each variable through its own network to the hidden width, a softmax
//! over variables from a GRN on all of them (with static context), the weighted sum.

use burn::module::Module;
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor};

use crate::grn::{Grn, GrnDims};
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
    /// `[N, n_reals, hidden_continuous]` prescaled reals.
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

    /// Returns the selected embedding `[N, hidden]` and the weights `[N, n_vars]` (cats first).
    pub fn forward(&self, inputs: VsnInputs, context: Option<Tensor<3>>) -> (Tensor<2>, Tensor<2>) {
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
            let single = cat_out.or(real_out).expect("a VSN has a variable");
            let [n, _, hidden] = single.dims();
            let device = single.device();
            return (single.reshape([n, hidden]), Tensor::ones([n, 1], &device));
        };
        let mut flat: Vec<Tensor<2>> = cats.into_iter().collect();
        let n = match (&flat.first(), &inputs.reals) {
            (Some(c), _) => c.dims()[0],
            (None, Some(r)) => r.dims()[0],
            (None, None) => unreachable!("a VSN has a variable"),
        };
        if let Some(r) = inputs.reals {
            let [_, vr, hc] = r.dims();
            flat.push(r.reshape([n, vr * hc]));
        }
        let flat = if flat.len() == 1 {
            flat.pop().expect("one part")
        } else {
            Tensor::cat(flat, 1)
        };
        let n_vars = widths.len() + real_out.as_ref().map_or(0, |r| r.dims()[1]);
        let weights = softmax(
            flattened
                .forward(flat.unsqueeze_dim::<3>(1), context)
                .reshape([n, n_vars]),
            1,
        );
        // The weighted sum per part (no concatenation of the per-variable outputs).
        let weighted = |out: Tensor<3>, from: usize| {
            let [_, v, hidden] = out.dims();
            (out * weights.clone().narrow(1, from, v).unsqueeze_dim::<3>(2))
                .sum_dim(1)
                .reshape([n, hidden])
        };
        let selected = match (cat_out, real_out) {
            (Some(c), Some(r)) => weighted(c, 0) + weighted(r, widths.len()),
            (Some(c), None) => weighted(c, 0),
            (None, Some(r)) => weighted(r, 0),
            (None, None) => unreachable!("a VSN has a variable"),
        };
        (selected, weights)
    }
}
