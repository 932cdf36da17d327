//! Loss and metrics of a model over one part of the split (validation after every epoch).

use fusecast_data::window::{Part, WindowDataset};
use fusecast_model::burn::tensor::Device;
use fusecast_model::loss::{q_risk, quantile_loss};
use fusecast_model::Tft;

use crate::error::TrainError;
use crate::inputs::{tft_input, tft_target};

/// Validation (or test) loss and metrics of a model over a part of the split.
pub struct Evaluation {
    pub loss: f64,
    pub q_risk50: f64,
    pub q_risk90: f64,
    pub mae: f64,
}

fn nearest(quantiles: &[f64], q: f64) -> usize {
    (0..quantiles.len())
        .min_by(|a, b| {
            (quantiles[*a] - q)
                .abs()
                .total_cmp(&(quantiles[*b] - q).abs())
        })
        .expect("quantiles exist")
}

/// The mean quantile loss (scaled) and q-Risk P50/P90 and MAE (original scale) of `model`.
pub fn evaluate(
    model: &Tft,
    ds: &WindowDataset,
    part: Part,
    batch_size: usize,
    device: &Device,
) -> Result<Evaluation, TrainError> {
    let windows = ds.windows(part)?;
    if windows.is_empty() {
        return Err(TrainError::Invalid(format!(
            "no {part:?} windows: increase the split's periods"
        )));
    }
    let q = &model.config().quantiles;
    let (i50, i90) = (nearest(q, 0.5), nearest(q, 0.9));
    let (mut loss_sum, mut actual, mut p50, mut p90) = (0.0, Vec::new(), Vec::new(), Vec::new());
    let all: Vec<usize> = (0..windows.len()).collect();
    for chunk in all.chunks(batch_size) {
        let ws: Vec<_> = chunk.iter().map(|i| windows.get(*i)).collect();
        let batch = ds.batch(&ws);
        let out = model.forward(tft_input(&batch, &ds.layout, device));
        let pred: Vec<f32> = out
            .prediction
            .clone()
            .into_data()
            .try_to_vec()
            .expect("float output");
        let loss: f32 = quantile_loss(out.prediction, tft_target(&batch, device), q).into_scalar();
        loss_sum += loss as f64 * ws.len() as f64;
        for (i, w) in ws.iter().enumerate() {
            let sc = batch.target_scales[i];
            for k in 0..batch.horizon {
                let row = (i * batch.horizon + k) * q.len();
                actual.push(ds.panel.values(w.series)[w.decoder_start + k]);
                p50.push(ds.scaler.unscale_with(sc, pred[row + i50] as f64));
                p90.push(ds.scaler.unscale_with(sc, pred[row + i90] as f64));
            }
        }
    }
    let mae = actual
        .iter()
        .zip(&p50)
        .map(|(a, p)| (a - p).abs())
        .sum::<f64>()
        / actual.len() as f64;
    Ok(Evaluation {
        loss: loss_sum / windows.len() as f64,
        q_risk50: q_risk(&actual, &p50, 0.5),
        q_risk90: q_risk(&actual, &p90, 0.9),
        mae,
    })
}
