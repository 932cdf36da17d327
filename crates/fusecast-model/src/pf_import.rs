//! Loading a PyTorch Forecasting TFT's weights (its `state_dict` saved as safetensors) into
//! our model: PF checkpoints keep working, and the parity test proves the two are one model.

use std::collections::HashMap;

use burn::module::Param;
use burn::nn::{Embedding, Linear};
use burn::tensor::{Device, Tensor, TensorData};

use crate::config::TftConfig;
use crate::grn::Grn;
use crate::layers::{AddNorm, GateAddNorm, Glu, GroupedLayerNorm, GroupedLinear, ResampleNorm};
use crate::lstm::Lstm;
use crate::tft::Tft;
use crate::vsn::Vsn;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("reading safetensors: {0}")]
    Format(String),
    #[error("state_dict has no `{0}`")]
    Missing(String),
    #[error("`{key}` has shape {got:?}, the model expects {expected:?}")]
    Shape {
        key: String,
        got: Vec<usize>,
        expected: Vec<usize>,
    },
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
}

/// A PyTorch `state_dict` as float32 arrays.
pub struct StateDict {
    tensors: HashMap<String, (Vec<usize>, Vec<f32>)>,
}

impl StateDict {
    pub fn from_safetensors(bytes: &[u8]) -> Result<Self, ImportError> {
        let st = safetensors::SafeTensors::deserialize(bytes)
            .map_err(|e| ImportError::Format(e.to_string()))?;
        let mut tensors = HashMap::new();
        for (name, view) in st.tensors() {
            let data: Vec<f32> = match view.dtype() {
                safetensors::Dtype::F32 => view
                    .data()
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
                other => {
                    return Err(ImportError::Format(format!(
                        "`{name}` is {other:?}, expected F32"
                    )))
                }
            };
            tensors.insert(name, (view.shape().to_vec(), data));
        }
        Ok(StateDict { tensors })
    }

    pub fn get(&self, key: &str) -> Result<&(Vec<usize>, Vec<f32>), ImportError> {
        self.tensors
            .get(key)
            .ok_or_else(|| ImportError::Missing(key.to_string()))
    }

    pub fn contains(&self, key: &str) -> bool {
        self.tensors.contains_key(key)
    }
}

struct Loader<'a> {
    sd: &'a StateDict,
    device: &'a Device,
}

fn transpose(data: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; data.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = data[r * cols + c];
        }
    }
    out
}

impl Loader<'_> {
    fn raw(&self, key: &str, expected: &[usize]) -> Result<Vec<f32>, ImportError> {
        let (shape, data) = self.sd.get(key)?;
        if shape != expected {
            return Err(ImportError::Shape {
                key: key.to_string(),
                got: shape.clone(),
                expected: expected.to_vec(),
            });
        }
        Ok(data.clone())
    }

    fn tensor<const D: usize>(&self, data: Vec<f32>, shape: [usize; D]) -> Tensor<D> {
        Tensor::from_data(TensorData::new(data, shape), self.device)
    }

    /// A torch Linear `[out, in]` as our `[in, out]`.
    fn linear_weight(&self, key: &str, d_in: usize, d_out: usize) -> Result<Vec<f32>, ImportError> {
        self.matrix(&format!("{key}.weight"), d_in, d_out)
    }

    /// The torch matrix stored under exactly `key`, `[out, in]`, as `[in, out]`.
    fn matrix(&self, key: &str, d_in: usize, d_out: usize) -> Result<Vec<f32>, ImportError> {
        Ok(transpose(&self.raw(key, &[d_out, d_in])?, d_out, d_in))
    }

    fn linear(&self, l: &mut Linear, key: &str) -> Result<(), ImportError> {
        let [d_in, d_out] = l.weight.val().dims();
        l.weight =
            Param::from_tensor(self.tensor(self.linear_weight(key, d_in, d_out)?, [d_in, d_out]));
        if l.bias.is_some() {
            l.bias = Some(Param::from_tensor(
                self.tensor(self.raw(&format!("{key}.bias"), &[d_out])?, [d_out]),
            ));
        }
        Ok(())
    }

    /// One torch Linear per group, stacked.
    fn grouped(&self, g: &mut GroupedLinear, keys: &[String]) -> Result<(), ImportError> {
        let [v, d_in, d_out] = g.dims();
        let mut w = Vec::with_capacity(v * d_in * d_out);
        let mut b = Vec::with_capacity(v * d_out);
        for key in keys {
            w.extend(self.linear_weight(key, d_in, d_out)?);
            if g.bias.is_some() {
                b.extend(self.raw(&format!("{key}.bias"), &[d_out])?);
            }
        }
        let bias = g.bias.is_some().then(|| self.tensor(b, [v, d_out]));
        *g = GroupedLinear::from_tensors(self.tensor(w, [v, d_in, d_out]), bias);
        Ok(())
    }

    fn layer_norm(&self, n: &mut GroupedLayerNorm, keys: &[String]) -> Result<(), ImportError> {
        let [v, d] = n.gamma.val().dims();
        let mut g = Vec::new();
        let mut b = Vec::new();
        for key in keys {
            g.extend(self.raw(&format!("{key}.weight"), &[d])?);
            b.extend(self.raw(&format!("{key}.bias"), &[d])?);
        }
        n.gamma = Param::from_tensor(self.tensor(g, [v, d]));
        n.beta = Param::from_tensor(self.tensor(b, [v, d]));
        Ok(())
    }

    fn mask(&self, keys: &[String], d: usize) -> Result<Tensor<2>, ImportError> {
        let mut m = Vec::new();
        for key in keys {
            m.extend(self.raw(&format!("{key}.mask"), &[d])?);
        }
        Ok(self.tensor(m, [keys.len(), d]))
    }

    fn resample_norm(&self, r: &mut ResampleNorm, keys: &[String]) -> Result<(), ImportError> {
        let d = r.mask.val().dims()[1];
        r.mask = Param::from_tensor(self.mask(keys, d)?);
        self.layer_norm(&mut r.norm, &suffix(keys, "norm"))
    }

    fn add_norm(&self, a: &mut AddNorm, keys: &[String]) -> Result<(), ImportError> {
        if let Some(m) = &a.mask {
            let d = m.val().dims()[1];
            a.mask = Some(Param::from_tensor(self.mask(keys, d)?));
        }
        self.layer_norm(&mut a.norm, &suffix(keys, "norm"))
    }

    fn glu(&self, g: &mut Glu, keys: &[String]) -> Result<(), ImportError> {
        self.grouped(&mut g.fc, &suffix(keys, "fc"))
    }

    fn gate_add_norm(&self, g: &mut GateAddNorm, keys: &[String]) -> Result<(), ImportError> {
        self.glu(&mut g.glu, &suffix(keys, "glu"))?;
        self.add_norm(&mut g.add_norm, &suffix(keys, "add_norm"))
    }

    fn grn(&self, g: &mut Grn, keys: &[String]) -> Result<(), ImportError> {
        self.grouped(&mut g.fc1, &suffix(keys, "fc1"))?;
        if let Some(c) = &mut g.context {
            self.grouped(c, &suffix(keys, "context"))?;
        }
        self.grouped(&mut g.fc2, &suffix(keys, "fc2"))?;
        self.gate_add_norm(&mut g.gate_norm, &suffix(keys, "gate_norm"))?;
        if let Some(r) = &mut g.resample_norm {
            self.resample_norm(r, &suffix(keys, "resample_norm"))?;
        }
        Ok(())
    }

    fn vsn(
        &self,
        v: &mut Vsn,
        key: &str,
        cats: &[String],
        reals: &[String],
    ) -> Result<(), ImportError> {
        let single = |name: &String| format!("{key}.single_variable_grns.{name}");
        if let Some(norm) = &mut v.categorical {
            self.resample_norm(norm, &cats.iter().map(single).collect::<Vec<_>>())?;
        }
        if let Some(g) = &mut v.reals {
            self.grn(g, &reals.iter().map(single).collect::<Vec<_>>())?;
        }
        if let Some(f) = &mut v.flattened {
            self.grn(f, &[format!("{key}.flattened_grn")])?;
        }
        Ok(())
    }

    fn lstm(&self, l: &mut Lstm, key: &str) -> Result<(), ImportError> {
        for (i, layer) in l.layers.iter_mut().enumerate() {
            let [d_in, four_h] = layer.input.weight.val().dims();
            let h = four_h / 4;
            layer.input.weight = Param::from_tensor(self.tensor(
                self.matrix(&format!("{key}.weight_ih_l{i}"), d_in, four_h)?,
                [d_in, four_h],
            ));
            layer.hidden.weight = Param::from_tensor(self.tensor(
                self.matrix(&format!("{key}.weight_hh_l{i}"), h, four_h)?,
                [h, four_h],
            ));
            layer.input.bias = Some(Param::from_tensor(self.tensor(
                self.raw(&format!("{key}.bias_ih_l{i}"), &[four_h])?,
                [four_h],
            )));
            layer.hidden.bias = Some(Param::from_tensor(self.tensor(
                self.raw(&format!("{key}.bias_hh_l{i}"), &[four_h])?,
                [four_h],
            )));
        }
        Ok(())
    }
}

fn suffix(keys: &[String], s: &str) -> Vec<String> {
    keys.iter().map(|k| format!("{k}.{s}")).collect()
}

/// Builds our TFT from a PF `state_dict`. `config` must describe the same variables in PF's
/// order (`x_categoricals`, `x_reals`, and each role's list).
pub fn load_pf(config: &TftConfig, sd: &StateDict, device: &Device) -> Result<Tft, ImportError> {
    let mut m = Tft::new(config, device)?;
    let l = Loader { sd, device };
    for (emb, c) in m.embeddings.iter_mut().zip(&config.categoricals) {
        let d = emb.weight.val().dims()[1];
        let w = l.raw(
            &format!("input_embeddings.embeddings.{}.weight", c.name),
            &[c.cardinality, d],
        )?;
        *emb = Embedding {
            weight: Param::from_tensor(l.tensor(w, [c.cardinality, d])),
        };
    }
    let hc = config.hidden_continuous_size;
    if !config.reals.is_empty() {
        let (mut w, mut b) = (Vec::new(), Vec::new());
        for r in &config.reals {
            w.extend(l.raw(&format!("prescalers.{r}.weight"), &[hc, 1])?);
            b.extend(l.raw(&format!("prescalers.{r}.bias"), &[hc])?);
        }
        m.prescale_weight = Param::from_tensor(l.tensor(w, [config.reals.len(), hc]));
        m.prescale_bias = Param::from_tensor(l.tensor(b, [config.reals.len(), hc]));
    }
    if let Some(v) = &mut m.static_vsn {
        l.vsn(
            v,
            "static_variable_selection",
            &config.static_categoricals,
            &config.static_reals,
        )?;
    }
    l.vsn(
        &mut m.encoder_vsn,
        "encoder_variable_selection",
        &config.encoder_categoricals,
        &config.encoder_reals,
    )?;
    l.vsn(
        &mut m.decoder_vsn,
        "decoder_variable_selection",
        &config.decoder_categoricals,
        &config.decoder_reals,
    )?;
    let one = |k: &str| vec![k.to_string()];
    l.grn(
        &mut m.static_context_variable_selection,
        &one("static_context_variable_selection"),
    )?;
    l.grn(
        &mut m.static_context_initial_hidden,
        &one("static_context_initial_hidden_lstm"),
    )?;
    l.grn(
        &mut m.static_context_initial_cell,
        &one("static_context_initial_cell_lstm"),
    )?;
    l.grn(
        &mut m.static_context_enrichment,
        &one("static_context_enrichment"),
    )?;
    l.lstm(&mut m.lstm_encoder, "lstm_encoder")?;
    l.lstm(&mut m.lstm_decoder, "lstm_decoder")?;
    l.glu(&mut m.post_lstm_gate, &one("post_lstm_gate_encoder"))?;
    l.add_norm(
        &mut m.post_lstm_add_norm,
        &one("post_lstm_add_norm_encoder"),
    )?;
    l.grn(&mut m.static_enrichment, &one("static_enrichment"))?;
    let heads = config.attention_heads;
    let d = config.hidden_size;
    let dk = d / heads;
    // Per-head q/k Linear(d, dk) become column blocks of one Linear(d, heads * dk).
    for (proj, name) in [("q_layers", 0), ("k_layers", 1)] {
        let (mut w, mut b) = (vec![0f32; d * heads * dk], Vec::with_capacity(heads * dk));
        for i in 0..heads {
            let wi = l.linear_weight(&format!("multihead_attn.{proj}.{i}"), d, dk)?;
            for r in 0..d {
                w[r * heads * dk + i * dk..r * heads * dk + (i + 1) * dk]
                    .copy_from_slice(&wi[r * dk..(r + 1) * dk]);
            }
            b.extend(l.raw(&format!("multihead_attn.{proj}.{i}.bias"), &[dk])?);
        }
        let lin = if name == 0 {
            &mut m.attention.query
        } else {
            &mut m.attention.key
        };
        lin.weight = Param::from_tensor(l.tensor(w, [d, heads * dk]));
        lin.bias = Some(Param::from_tensor(l.tensor(b, [heads * dk])));
    }
    l.linear(&mut m.attention.value, "multihead_attn.v_layer")?;
    l.linear(&mut m.attention.output, "multihead_attn.w_h")?;
    l.gate_add_norm(&mut m.post_attention_gate_norm, &one("post_attn_gate_norm"))?;
    l.grn(&mut m.pos_wise_ff, &one("pos_wise_ff"))?;
    l.gate_add_norm(&mut m.pre_output_gate_norm, &one("pre_output_gate_norm"))?;
    l.linear(&mut m.output_layer, "output_layer")?;
    Ok(m)
}
