//! Variable selection: each variable through its own network to the hidden width, a softmax
//! over variables from a GRN on all of them (with static context), the weighted sum.

use burn::module::Module;
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor};

use crate::grn::{Grn, GrnDims};
use crate::layers::ResampleNorm;

#[derive(Module, Debug)]
pub struct Vsn {
    /// One per categorical variable: its embedding resampled and normed to the hidden width.
    pub categorical: Vec<ResampleNorm>,
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
            categorical: embedding_sizes
                .iter()
                .map(|_| ResampleNorm::new(1, hidden, device))
                .collect(),
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
        let mut outputs: Vec<Tensor<3>> = self
            .categorical
            .iter()
            .zip(&inputs.categorical)
            .map(|(norm, e)| norm.forward(e.clone().unsqueeze_dim(1)))
            .collect();
        if let (Some(grn), Some(r)) = (&self.reals, &inputs.reals) {
            outputs.push(grn.forward(r.clone(), None));
        }
        let per_var = Tensor::cat(outputs, 1);
        let [n, v, hidden] = per_var.dims();
        let Some(flattened) = &self.flattened else {
            let device = per_var.device();
            return (per_var.reshape([n, hidden]), Tensor::ones([n, 1], &device));
        };
        let mut flat: Vec<Tensor<2>> = inputs.categorical;
        if let Some(r) = inputs.reals {
            let [_, vr, hc] = r.dims();
            flat.push(r.reshape([n, vr * hc]));
        }
        let flat = Tensor::cat(flat, 1).unsqueeze_dim::<3>(1);
        let weights = softmax(flattened.forward(flat, context).reshape([n, v]), 1);
        let selected = (per_var * weights.clone().unsqueeze_dim::<3>(2))
            .sum_dim(1)
            .reshape([n, hidden]);
        (selected, weights)
    }
}
