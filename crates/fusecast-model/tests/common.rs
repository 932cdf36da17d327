//! A tiny TFT and random batches in PF's layout, shared by the model tests.
#![allow(dead_code)]

use fusecast_model::burn::tensor::{Device, Int, Tensor, TensorData};
use fusecast_model::{Categorical, TftConfig, TftInput};

pub const B: usize = 4;
pub const E: usize = 6;
pub const H: usize = 3;
/// Column of the target in `x_cont`.
pub const TARGET: usize = 3;
/// Column of the known real in `x_cont`, and of day-of-week in `x_cat`.
pub const KNOWN_REAL: usize = 1;
pub const DOW: usize = 1;

pub fn tiny_config(dropout: f64) -> TftConfig {
    let cat = |name: &str, cardinality| Categorical {
        name: name.into(),
        cardinality,
        embedding_size: None,
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    TftConfig {
        hidden_size: 8,
        attention_heads: 2,
        dropout,
        hidden_continuous_size: 4,
        lstm_layers: 1,
        categoricals: vec![cat("series", 5), cat("dow", 7)],
        reals: s(&["static_r", "known_r", "relative_time", "target", "obs_r"]),
        static_categoricals: s(&["series"]),
        static_reals: s(&["static_r"]),
        encoder_categoricals: s(&["dow"]),
        encoder_reals: s(&["known_r", "relative_time", "target", "obs_r"]),
        decoder_categoricals: s(&["dow"]),
        decoder_reals: s(&["known_r", "relative_time"]),
        ..TftConfig::default()
    }
}

/// Deterministic pseudo-random numbers in [-1, 1).
pub fn noise(seed: u64, n: usize) -> Vec<f32> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ((x >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) as f32
        })
        .collect()
}

pub struct RawBatch {
    pub cat: Vec<i64>,
    pub cont: Vec<f32>,
    pub lengths: Vec<usize>,
    pub b: usize,
    pub t: usize,
}

impl RawBatch {
    pub fn random(seed: u64, b: usize, lengths: Vec<usize>) -> Self {
        let e = *lengths.iter().max().unwrap();
        let t = e + H;
        let mut cat = Vec::with_capacity(b * t * 2);
        for s in 0..b {
            for step in 0..t {
                cat.push((s % 5) as i64);
                cat.push(((s + step) % 7) as i64);
            }
        }
        RawBatch {
            cat,
            cont: noise(seed, b * t * 5),
            lengths,
            b,
            t,
        }
    }

    pub fn cont_mut(&mut self, sample: usize, step: usize, col: usize) -> &mut f32 {
        &mut self.cont[(sample * self.t + step) * 5 + col]
    }

    pub fn input(&self, device: &Device) -> TftInput {
        TftInput {
            x_cat: Tensor::<3, Int>::from_data(
                TensorData::new(self.cat.clone(), [self.b, self.t, 2]),
                device,
            ),
            x_cont: Tensor::from_data(
                TensorData::new(self.cont.clone(), [self.b, self.t, 5]),
                device,
            ),
            encoder_lengths: self.lengths.clone(),
        }
    }
}

pub fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

/// Replaces every parameter with deterministic values at the scale of a fresh initialisation
/// (weights U(-1, 1) * sqrt(3 / fan_in), norms' scales ~1, shifts and biases ~0.1): the
/// backend's RNG is shared by tests running in parallel, so seeding it does not make one test's
/// model reproducible.
pub fn deterministic<M: fusecast_model::burn::module::Module>(model: M, seed: u64) -> M {
    use fusecast_model::burn::module::{ModuleMapper, Param};
    struct Fill {
        seed: u64,
        path: Vec<String>,
    }
    impl ModuleMapper for Fill {
        fn enter_module(&mut self, name: &str, _container: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _name: &str, _container: &str) {
            self.path.pop();
        }
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            self.seed += 1;
            let t = param.val();
            let (shape, device) = (t.shape(), t.device());
            let dims: Vec<usize> = t.dims().to_vec();
            let name = self.path.last().map(String::as_str).unwrap_or("");
            let u = noise(self.seed, shape.num_elements());
            let values: Vec<f32> = match name {
                "gamma" => u.iter().map(|v| 1.0 + 0.1 * v).collect(),
                "beta" | "bias" | "mask" => u.iter().map(|v| 0.1 * v).collect(),
                _ => {
                    let fan_in = if dims.len() >= 2 {
                        dims[dims.len() - 2]
                    } else {
                        1
                    };
                    let scale = (3.0f32 / fan_in as f32).sqrt();
                    u.iter().map(|v| v * scale).collect()
                }
            };
            Param::from_tensor(Tensor::from_data(TensorData::new(values, shape), &device))
        }
    }
    model.map(&mut Fill {
        seed,
        path: Vec::new(),
    })
}
