//! From the data stage's [`FeatureLayout`] and [`Batch`] to the TFT's variables and inputs.
//!
//! Column order: `x_cat` = static categoricals (series id, zone attributes, cluster), then the
//! known categoricals (calendar); `x_cont` = static reals (target centre and scale), known reals
//! (day of year, relative time), observed reals (the scaled target, weather). Observed reals are
//! zero over the forecast window: the model never reads them there.

use fusecast_data::window::{Batch, FeatureLayout};
use fusecast_model::burn::tensor::{Device, Int, Tensor, TensorData};
use fusecast_model::{Categorical, TftConfig, TftInput};

/// The model config for a layout: the hyper-parameters of `hyper`, the variables of `layout`.
pub fn tft_config(layout: &FeatureLayout, hyper: &TftConfig) -> TftConfig {
    let mut cfg = hyper.clone();
    let statics: Vec<Categorical> = layout
        .static_categoricals
        .iter()
        .map(|v| Categorical {
            name: v.name.clone(),
            cardinality: v.len(),
            embedding_size: None,
        })
        .collect();
    let known: Vec<Categorical> = layout
        .known_categoricals
        .iter()
        .map(|(name, cardinality)| Categorical {
            name: name.clone(),
            cardinality: *cardinality,
            embedding_size: None,
        })
        .collect();
    cfg.static_categoricals = statics.iter().map(|c| c.name.clone()).collect();
    cfg.encoder_categoricals = known.iter().map(|c| c.name.clone()).collect();
    cfg.decoder_categoricals = cfg.encoder_categoricals.clone();
    cfg.categoricals = statics.into_iter().chain(known).collect();
    cfg.static_reals = layout.static_reals.clone();
    cfg.decoder_reals = layout.known_reals.clone();
    cfg.encoder_reals = layout
        .known_reals
        .iter()
        .chain(&layout.observed_reals)
        .cloned()
        .collect();
    cfg.reals = layout
        .static_reals
        .iter()
        .chain(&cfg.encoder_reals)
        .cloned()
        .collect();
    cfg
}

/// One batch in the model's layout. The encoder is cut to the longest encoder in the batch (the
/// model reads the encoder span from the lengths, as PF's collate does).
pub fn tft_input(batch: &Batch, layout: &FeatureLayout, device: &Device) -> TftInput {
    let (b, padded, h) = (batch.size, batch.encoder_length, batch.horizon);
    let e = batch
        .encoder_lengths
        .iter()
        .copied()
        .max()
        .unwrap_or(padded);
    let t = e + h;
    let n_sc = layout.static_categoricals.len();
    let n_kc = layout.known_categoricals.len();
    let n_sr = layout.static_reals.len();
    let n_kr = layout.known_reals.len();
    let n_or = layout.observed_reals.len();
    let n_cat = n_sc + n_kc;
    let n_cont = n_sr + n_kr + n_or;
    let mut x_cat = Vec::with_capacity(b * t * n_cat);
    let mut x_cont = Vec::with_capacity(b * t * n_cont);
    for i in 0..b {
        let statics_cat = &batch.static_categoricals[i * n_sc..(i + 1) * n_sc];
        let statics_real = &batch.static_reals[i * n_sr..(i + 1) * n_sr];
        for step in 0..t {
            x_cat.extend_from_slice(statics_cat);
            x_cont.extend_from_slice(statics_real);
            if step < e {
                let row = i * padded + step;
                x_cat.extend_from_slice(&batch.encoder_categoricals[row * n_kc..(row + 1) * n_kc]);
                x_cont.extend_from_slice(
                    &batch.encoder_reals[row * (n_kr + n_or)..(row + 1) * (n_kr + n_or)],
                );
            } else {
                let row = i * h + step - e;
                x_cat.extend_from_slice(&batch.decoder_categoricals[row * n_kc..(row + 1) * n_kc]);
                x_cont.extend_from_slice(&batch.decoder_reals[row * n_kr..(row + 1) * n_kr]);
                x_cont.extend(std::iter::repeat_n(0.0, n_or));
            }
        }
    }
    TftInput {
        x_cat: Tensor::<3, Int>::from_data(TensorData::new(x_cat, [b, t, n_cat]), device),
        x_cont: Tensor::from_data(TensorData::new(x_cont, [b, t, n_cont]), device),
        encoder_lengths: batch.encoder_lengths.clone(),
    }
}

/// The batch's scaled targets `[B, horizon]`.
pub fn tft_target(batch: &Batch, device: &Device) -> Tensor<2> {
    Tensor::from_data(
        TensorData::new(batch.target.clone(), [batch.size, batch.horizon]),
        device,
    )
}
