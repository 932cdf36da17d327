//! Interpretation aggregated over many windows (and so many series): mean variable importances
//! of the static, encoder and decoder selection networks, and mean attention by forecast step
//! and lag. Fed from the weights every forward pass returns; nothing is recomputed.

use serde::{Deserialize, Serialize};

use crate::config::TftConfig;
use crate::tft::TftOutput;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interpretation {
    pub windows: usize,
    /// `(variable, mean weight)`, in the model's variable order; each set sums to 1.
    pub static_importance: Vec<(String, f64)>,
    pub encoder_importance: Vec<(String, f64)>,
    pub decoder_importance: Vec<(String, f64)>,
    /// `attention[step][lag - 1]`: mean weight (over heads and windows) that forecast step `step`
    /// puts on the encoder step `lag` periods before the forecast origin.
    pub attention: Vec<Vec<f64>>,
}

#[derive(Clone, Debug, Default)]
pub struct InterpretationAccumulator {
    windows: usize,
    statics: Vec<f64>,
    encoder: Vec<f64>,
    decoder: Vec<f64>,
    attention: Vec<Vec<f64>>,
    attention_count: Vec<Vec<usize>>,
}

fn values<const D: usize>(t: &burn::tensor::Tensor<D>) -> Vec<f32> {
    t.clone()
        .into_data()
        .try_to_vec::<f32>()
        .expect("float weights")
}

impl InterpretationAccumulator {
    /// Adds one batch's output. Encoder weights count only a sample's valid steps.
    pub fn add(&mut self, out: &TftOutput, encoder_lengths: &[usize]) {
        let [b, e, n_enc] = out.encoder_weights.dims();
        let [_, horizon, n_dec] = out.decoder_weights.dims();
        let n_static = out.static_weights.dims()[1];
        let [_, _, heads, t] = out.attention.dims();
        let grow = |v: &mut Vec<f64>, n: usize| v.resize(v.len().max(n), 0.0);
        grow(&mut self.statics, n_static);
        grow(&mut self.encoder, n_enc);
        grow(&mut self.decoder, n_dec);
        if self.attention.len() < horizon {
            self.attention.resize(horizon, Vec::new());
            self.attention_count.resize(horizon, Vec::new());
        }
        for row in self.attention.iter_mut() {
            grow(row, e);
        }
        for row in self.attention_count.iter_mut() {
            row.resize(row.len().max(e), 0);
        }
        let s = values(&out.static_weights);
        let enc = values(&out.encoder_weights);
        let dec = values(&out.decoder_weights);
        let att = values(&out.attention);
        for i in 0..b {
            for v in 0..n_static {
                self.statics[v] += s[i * n_static + v] as f64;
            }
            let len = encoder_lengths[i].min(e).max(1);
            for step in 0..len {
                for v in 0..n_enc {
                    self.encoder[v] += enc[(i * e + step) * n_enc + v] as f64 / len as f64;
                }
            }
            for step in 0..horizon {
                for v in 0..n_dec {
                    self.decoder[v] +=
                        dec[(i * horizon + step) * n_dec + v] as f64 / horizon as f64;
                }
                for lag in 1..=encoder_lengths[i].min(e) {
                    let pos = encoder_lengths[i] - lag;
                    let mean: f64 = (0..heads)
                        .map(|h| att[((i * horizon + step) * heads + h) * t + pos] as f64)
                        .sum::<f64>()
                        / heads as f64;
                    self.attention[step][lag - 1] += mean;
                    self.attention_count[step][lag - 1] += 1;
                }
            }
        }
        self.windows += b;
    }

    pub fn finish(self, cfg: &TftConfig) -> Interpretation {
        let n = self.windows.max(1) as f64;
        let named = |names: Vec<&String>, sums: &[f64]| -> Vec<(String, f64)> {
            names
                .into_iter()
                .zip(sums)
                .map(|(name, s)| (name.clone(), s / n))
                .collect()
        };
        let statics: Vec<&String> = cfg
            .static_categoricals
            .iter()
            .chain(&cfg.static_reals)
            .collect();
        let encoder: Vec<&String> = cfg
            .encoder_categoricals
            .iter()
            .chain(&cfg.encoder_reals)
            .collect();
        let decoder: Vec<&String> = cfg
            .decoder_categoricals
            .iter()
            .chain(&cfg.decoder_reals)
            .collect();
        Interpretation {
            windows: self.windows,
            static_importance: named(statics, &self.statics),
            encoder_importance: named(encoder, &self.encoder),
            decoder_importance: named(decoder, &self.decoder),
            attention: self
                .attention
                .iter()
                .zip(&self.attention_count)
                .map(|(row, counts)| {
                    row.iter()
                        .zip(counts)
                        .map(|(s, c)| if *c == 0 { 0.0 } else { s / *c as f64 })
                        .collect()
                })
                .collect(),
        }
    }
}
