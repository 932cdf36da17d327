//! Data parallelism: a global batch split across replicas, each shard's gradients computed on
//! its own thread, averaged (weighted by shard size, so the result is the gradient of the whole
//! batch's mean loss) into one set before one optimizer step. burn's `multi` strategy SUMS shard
//! gradients and its DDP needs NCCL, so the all-reduce is ours.

use fusecast_model::burn::module::{Module, ModuleVisitor, Param};
use fusecast_model::burn::optim::GradientsParams;
use fusecast_model::burn::tensor::Tensor;

/// `Σ weights[i] * grads[i]` for every parameter of `model` (the replicas share parameter ids).
pub fn weighted_average<M: Module>(
    model: &M,
    grads: Vec<GradientsParams>,
    weights: &[f64],
) -> GradientsParams {
    struct Average<'a> {
        parts: &'a [GradientsParams],
        weights: &'a [f64],
        out: GradientsParams,
    }
    impl ModuleVisitor for Average<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let mut sum: Option<Tensor<D>> = None;
            for (g, w) in self.parts.iter().zip(self.weights) {
                if let Some(t) = g.get::<D>(param.id) {
                    let t = t * *w;
                    sum = Some(match sum {
                        Some(s) => s + t,
                        None => t,
                    });
                }
            }
            if let Some(s) = sum {
                self.out.register(param.id, s);
            }
        }
    }
    let mut avg = Average {
        parts: &grads,
        weights,
        out: GradientsParams::new(),
    };
    model.visit(&mut avg);
    avg.out
}

/// Splits `n` items into `parts` contiguous shards as equal as possible (none empty).
pub fn shards(n: usize, parts: usize) -> Vec<std::ops::Range<usize>> {
    let parts = parts.clamp(1, n.max(1));
    let base = n / parts;
    let extra = n % parts;
    let mut start = 0;
    (0..parts)
        .map(|i| {
            let len = base + (i < extra) as usize;
            let r = start..start + len;
            start += len;
            r
        })
        .collect()
}
