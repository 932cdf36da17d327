//! The Temporal Fusion Transformer (Lim et al. 2019) wired as PyTorch Forecasting wires it.
//!
//! Inputs follow PF's layout so that any dataset maps onto them: `x_cat [B, T, n_cat]` and
//! `x_cont [B, T, n_cont]` over `T = encoder + horizon` steps, statics read at step 0, the encoder
//! right-padded to the longest encoder of the batch.

use burn::module::{Module, Param};
use burn::nn::{Embedding, EmbeddingConfig, Linear, LinearConfig};
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

use crate::attention::InterpretableAttention;
use crate::config::{ConfigError, TftConfig};
use crate::grn::{Grn, GrnDims, StepContext};
use crate::layers::{AddNorm, GateAddNorm, Glu};
use crate::lstm::Lstm;
use crate::vsn::{Vsn, VsnInputs};

/// Column indices of each variable role, resolved once from the config.
#[derive(Clone, Debug, Default)]
pub struct Roles {
    pub static_cats: Vec<usize>,
    pub static_reals: Vec<usize>,
    pub encoder_cats: Vec<usize>,
    pub encoder_reals: Vec<usize>,
    pub decoder_cats: Vec<usize>,
    pub decoder_reals: Vec<usize>,
}

#[derive(Module, Debug)]
pub struct Tft {
    pub embeddings: Vec<Embedding>,
    /// Every real's `Linear(1, hidden_continuous)`, as `[n_reals, hc]` weight and bias.
    pub prescale_weight: Param<Tensor<2>>,
    pub prescale_bias: Param<Tensor<2>>,
    pub static_vsn: Option<Vsn>,
    pub encoder_vsn: Vsn,
    pub decoder_vsn: Vsn,
    pub static_context_variable_selection: Grn,
    pub static_context_initial_hidden: Grn,
    pub static_context_initial_cell: Grn,
    pub static_context_enrichment: Grn,
    pub lstm_encoder: Lstm,
    pub lstm_decoder: Lstm,
    /// Shared by encoder and decoder, as in PF.
    pub post_lstm_gate: Glu,
    pub post_lstm_add_norm: AddNorm,
    pub static_enrichment: Grn,
    pub attention: InterpretableAttention,
    pub post_attention_gate_norm: GateAddNorm,
    pub pos_wise_ff: Grn,
    pub pre_output_gate_norm: GateAddNorm,
    pub output_layer: Linear,
    #[module(skip)]
    pub config: TftConfig,
    #[module(skip)]
    pub roles: Roles,
}

/// One batch in PF's layout.
#[derive(Clone, Debug)]
pub struct TftInput {
    pub x_cat: Tensor<3, Int>,
    pub x_cont: Tensor<3>,
    /// Valid encoder steps per sample; the encoder part of the batch is `max` of these long.
    pub encoder_lengths: Vec<usize>,
}

/// Predictions with the interpretation computed on the way (not recomputed afterwards).
#[derive(Clone, Debug)]
pub struct TftOutput {
    /// `[B, horizon, n_quantiles]` in the scaled target space.
    pub prediction: Tensor<3>,
    /// `[B, horizon, heads, encoder + horizon]`.
    pub attention: Tensor<4>,
    /// `[B, n_static]`, `[B, encoder, n_encoder_vars]`, `[B, horizon, n_decoder_vars]`.
    pub static_weights: Tensor<2>,
    pub encoder_weights: Tensor<3>,
    pub decoder_weights: Tensor<3>,
}

fn grn(
    d_in: usize,
    hidden: usize,
    d_out: usize,
    context: Option<usize>,
    dropout: f64,
    device: &Device,
) -> Grn {
    Grn::new(
        GrnDims {
            groups: 1,
            d_in,
            hidden,
            d_out,
            context,
        },
        dropout,
        device,
    )
}

impl Tft {
    pub fn new(config: &TftConfig, device: &Device) -> Result<Self, ConfigError> {
        config.validate()?;
        let c = config;
        let h = c.hidden_size;
        let hc = c.hidden_continuous_size;
        let cat = |n: &String| c.categorical_index(n).expect("validated");
        let real = |n: &String| c.real_index(n).expect("validated");
        let roles = Roles {
            static_cats: c.static_categoricals.iter().map(cat).collect(),
            static_reals: c.static_reals.iter().map(real).collect(),
            encoder_cats: c.encoder_categoricals.iter().map(cat).collect(),
            encoder_reals: c.encoder_reals.iter().map(real).collect(),
            decoder_cats: c.decoder_categoricals.iter().map(cat).collect(),
            decoder_reals: c.decoder_reals.iter().map(real).collect(),
        };
        let emb_sizes: Vec<usize> = c.categoricals.iter().map(|k| c.embedding_size(k)).collect();
        let sizes = |idx: &[usize]| idx.iter().map(|i| emb_sizes[*i]).collect::<Vec<_>>();
        let bound = 1.0;
        let init = burn::module::Initializer::Uniform {
            min: -bound,
            max: bound,
        };
        let has_static = !roles.static_cats.is_empty() || !roles.static_reals.is_empty();
        Ok(Tft {
            embeddings: c
                .categoricals
                .iter()
                .zip(&emb_sizes)
                .map(|(k, d)| EmbeddingConfig::new(k.cardinality, *d).init(device))
                .collect(),
            prescale_weight: init.init([c.reals.len().max(1), hc], device),
            prescale_bias: init.init([c.reals.len().max(1), hc], device),
            static_vsn: has_static.then(|| {
                Vsn::new(
                    &sizes(&roles.static_cats),
                    roles.static_reals.len(),
                    hc,
                    h,
                    None,
                    c.dropout,
                    device,
                )
            }),
            encoder_vsn: Vsn::new(
                &sizes(&roles.encoder_cats),
                roles.encoder_reals.len(),
                hc,
                h,
                Some(h),
                c.dropout,
                device,
            ),
            decoder_vsn: Vsn::new(
                &sizes(&roles.decoder_cats),
                roles.decoder_reals.len(),
                hc,
                h,
                Some(h),
                c.dropout,
                device,
            ),
            static_context_variable_selection: grn(h, h, h, None, c.dropout, device),
            static_context_initial_hidden: grn(h, h, h, None, c.dropout, device),
            static_context_initial_cell: grn(h, h, h, None, c.dropout, device),
            static_context_enrichment: grn(h, h, h, None, c.dropout, device),
            lstm_encoder: Lstm::new(h, h, c.lstm_layers, device),
            lstm_decoder: Lstm::new(h, h, c.lstm_layers, device),
            post_lstm_gate: Glu::new(1, h, h, c.dropout, device),
            post_lstm_add_norm: AddNorm::new(1, h, false, device),
            static_enrichment: grn(h, h, h, Some(h), c.dropout, device),
            attention: InterpretableAttention::new(h, c.attention_heads, c.dropout, device),
            post_attention_gate_norm: GateAddNorm::new(1, h, h, c.dropout, device),
            pos_wise_ff: grn(h, h, h, None, c.dropout, device),
            // PF: no dropout this late.
            pre_output_gate_norm: GateAddNorm::new(1, h, h, 0.0, device),
            output_layer: LinearConfig::new(h, c.quantiles.len()).init(device),
            config: c.clone(),
            roles,
        })
    }

    pub fn config(&self) -> &TftConfig {
        &self.config
    }

    pub fn forward(&self, input: TftInput) -> TftOutput {
        let cfg = &self.config;
        let roles = &self.roles;
        let h = cfg.hidden_size;
        let [b, t, _] = input.x_cont.dims();
        let e = input.encoder_lengths.iter().copied().max().unwrap_or(0);
        assert!(e > 0 && e < t, "encoder of {e} steps in a window of {t}");
        let horizon = t - e;
        let device = input.x_cont.device();

        // Each role's reals prescaled from its own columns and steps (`Linear(1, hc)` per real:
        // x * w + b), so nothing is computed for steps a role does not use and no big tensor is
        // sliced (a slice's backward writes a zero tensor of its source's size).
        let reals_at = |idx: &[usize], from: usize, len: usize| -> Option<Tensor<3>> {
            if idx.is_empty() {
                return None;
            }
            let ids: Vec<i64> = idx.iter().map(|i| *i as i64).collect();
            let ids = Tensor::<1, Int>::from_data(TensorData::new(ids, [idx.len()]), &device);
            // [V, B * len, 1]: variable axis outermost, as the grouped layers want it.
            let x = input
                .x_cont
                .clone()
                .narrow(1, from, len)
                .select(2, ids.clone())
                .reshape([b * len, idx.len()])
                .swap_dims(0, 1)
                .unsqueeze_dim::<3>(2);
            let w = self.prescale_weight.val().select(0, ids.clone());
            let bias = self.prescale_bias.val().select(0, ids);
            Some(x * w.unsqueeze_dim::<3>(1) + bias.unsqueeze_dim::<3>(1))
        };
        // Embeddings looked up per role, over the role's steps only.
        let cats_at = |idx: &[usize], from: usize, len: usize| -> Vec<Tensor<2>> {
            idx.iter()
                .map(|i| {
                    let emb = &self.embeddings[*i];
                    let d = emb.weight.val().dims()[1];
                    let ids = input
                        .x_cat
                        .clone()
                        .narrow(1, from, len)
                        .narrow(2, *i, 1)
                        .reshape([b, len]);
                    emb.forward(ids).reshape([b * len, d])
                })
                .collect()
        };

        let (static_embedding, static_weights) = match &self.static_vsn {
            Some(vsn) => vsn.forward(
                VsnInputs {
                    categorical: cats_at(&roles.static_cats, 0, 1),
                    reals: reals_at(&roles.static_reals, 0, 1),
                },
                None,
            ),
            None => (
                Tensor::zeros([b, h], &device),
                Tensor::zeros([b, 0], &device),
            ),
        };
        let static_3d = static_embedding.clone().unsqueeze_dim::<3>(0);
        let expand = |ctx: Tensor<3>, len: usize| StepContext {
            context: ctx.reshape([b, h]),
            steps: len,
        };
        let selection_context = self
            .static_context_variable_selection
            .forward(static_3d.clone(), None);

        let (encoder_embedding, encoder_weights) = self.encoder_vsn.forward(
            VsnInputs {
                categorical: cats_at(&roles.encoder_cats, 0, e),
                reals: reals_at(&roles.encoder_reals, 0, e),
            },
            Some(expand(selection_context.clone(), e)),
        );
        let (decoder_embedding, decoder_weights) = self.decoder_vsn.forward(
            VsnInputs {
                categorical: cats_at(&roles.decoder_cats, e, horizon),
                reals: reals_at(&roles.decoder_reals, e, horizon),
            },
            Some(expand(selection_context, horizon)),
        );
        let encoder_embedding = encoder_embedding.reshape([b, e, h]);
        let decoder_embedding = decoder_embedding.reshape([b, horizon, h]);

        let h0 = self
            .static_context_initial_hidden
            .forward(static_3d.clone(), None)
            .reshape([b, h]);
        let c0 = self
            .static_context_initial_cell
            .forward(static_3d.clone(), None)
            .reshape([b, h]);
        let state = vec![(h0, c0); cfg.lstm_layers];
        let (encoder_out, final_state) = self.lstm_encoder.forward(
            encoder_embedding.clone(),
            state,
            Some(&input.encoder_lengths),
        );
        let (decoder_out, _) =
            self.lstm_decoder
                .forward(decoder_embedding.clone(), final_state, None);

        let gate = |out: Tensor<3>, skip: Tensor<3>, len: usize| {
            let (a, neg_g) = self.post_lstm_gate.halves(out.reshape([1, b * len, h]));
            self.post_lstm_add_norm
                .forward_gated(a, neg_g, skip.reshape([1, b * len, h]))
                .reshape([b, len, h])
        };
        let lstm_encoder = gate(encoder_out, encoder_embedding, e);
        let lstm_decoder = gate(decoder_out, decoder_embedding, horizon);
        let lstm_output = Tensor::cat(vec![lstm_encoder, lstm_decoder.clone()], 1);

        let enrichment = self.static_context_enrichment.forward(static_3d, None);
        let attention_input = self
            .static_enrichment
            .forward(
                lstm_output.reshape([1, b * t, h]),
                Some(expand(enrichment, t)),
            )
            .reshape([b, t, h]);
        let queries = attention_input.clone().narrow(1, e, horizon);
        let mask = attention_mask(&input.encoder_lengths, e, horizon, &device);
        let (attended, attention) = self
            .attention
            .forward(queries.clone(), attention_input, mask);

        let flat = |x: Tensor<3>| x.reshape([1, b * horizon, h]);
        let x = self
            .post_attention_gate_norm
            .forward(flat(attended), flat(queries));
        let x = self.pos_wise_ff.forward(x, None);
        let x = self.pre_output_gate_norm.forward(x, flat(lstm_decoder));
        let mut prediction = self.output_layer.forward(x.reshape([b, horizon, h]));
        if cfg.sort_quantiles {
            prediction = prediction.sort(2);
        }
        let n_enc = encoder_weights.dims()[1];
        let n_dec = decoder_weights.dims()[1];
        TftOutput {
            prediction,
            attention,
            static_weights,
            encoder_weights: encoder_weights.reshape([b, e, n_enc]),
            decoder_weights: decoder_weights.reshape([b, horizon, n_dec]),
        }
    }
}

/// `[B, horizon, encoder + horizon]`, true where decoder step i may not look: encoder padding
/// (steps at or past the sample's length) and decoder steps j >= i (PF's causal mask, which also
/// hides a step from itself).
pub fn attention_mask(
    encoder_lengths: &[usize],
    encoder: usize,
    horizon: usize,
    device: &Device,
) -> Tensor<3, Bool> {
    let t = encoder + horizon;
    let mut m = Vec::with_capacity(encoder_lengths.len() * horizon * t);
    for len in encoder_lengths {
        for i in 0..horizon {
            for j in 0..t {
                m.push(if j < encoder {
                    j >= *len
                } else {
                    j - encoder >= i
                });
            }
        }
    }
    Tensor::from_data(
        TensorData::new(m, [encoder_lengths.len(), horizon, t]),
        device,
    )
}
