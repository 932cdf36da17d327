//! Gradient clipping by the GLOBAL norm over all parameters (what Lightning, and so PyTorch
//! Forecasting, does): burn's own clipping is per tensor, which changes the update's direction.

use fusecast_model::burn::module::{Module, ModuleVisitor, Param};
use fusecast_model::burn::optim::GradientsParams;
use fusecast_model::burn::tensor::Tensor;

/// The global L2 norm of the gradients of `model`'s parameters.
pub fn global_norm<M: Module>(model: &M, grads: &GradientsParams) -> f64 {
    struct Norm<'a> {
        grads: &'a GradientsParams,
        sum: f64,
    }
    impl ModuleVisitor for Norm<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Some(g) = self.grads.get::<D>(param.id) {
                self.sum += g.square().sum().into_scalar::<f32>() as f64;
            }
        }
    }
    let mut v = Norm { grads, sum: 0.0 };
    model.visit(&mut v);
    v.sum.sqrt()
}

/// Scales all gradients by `max_norm / (norm + 1e-6)` when the global norm exceeds `max_norm`
/// (torch's `clip_grad_norm_`). Returns the norm before clipping.
pub fn clip_global_norm<M: Module>(model: &M, grads: &mut GradientsParams, max_norm: f64) -> f64 {
    let norm = global_norm(model, grads);
    let coef = max_norm / (norm + 1e-6);
    if coef < 1.0 {
        struct Scale<'a> {
            grads: &'a mut GradientsParams,
            coef: f64,
        }
        impl ModuleVisitor for Scale<'_> {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                if let Some(g) = self.grads.remove::<D>(param.id) {
                    self.grads.register(param.id, g * self.coef);
                }
            }
        }
        model.visit(&mut Scale { grads, coef });
    }
    norm
}
