//! The TFT's forecasts at given cutoffs, as the shared [`Forecast`] table, so the evaluation scores
//! it on exactly the windows the baselines are scored on.

use fusecast_data::window::{Window, WindowDataset};
use fusecast_data::{Forecast, ForecastRow};
use fusecast_model::burn::tensor::Device;
use fusecast_model::Tft;

use crate::error::TrainError;
use crate::inputs::tft_input;

/// Forecasts every series from every cutoff (index of the last observed step): the encoder holds
/// up to `encoder_length` steps ending at the cutoff, the decoder the next `horizon` steps' known
/// inputs. Quantiles are back on the original scale; the point forecast is the median quantile
/// (the TFT has no mean output), interpolated when 0.5 is not among the model's quantiles.
pub fn forecast_at(
    model: &Tft,
    ds: &WindowDataset,
    cutoffs: &[usize],
    batch_size: usize,
    device: &Device,
) -> Result<Forecast, TrainError> {
    let h = ds.spec.horizon;
    let levels = model.config().quantiles.clone();
    let len = ds.panel.len();
    let min_encoder = ds.spec.min_encoder_length.max(1);
    if let Some(c) = cutoffs
        .iter()
        .find(|&&c| c + h >= len || c + 1 < min_encoder)
    {
        return Err(TrainError::Invalid(format!(
            "cutoff {c} cannot hold an encoder of at least {min_encoder} steps and {h} steps ahead in {len} periods"
        )));
    }
    let mut windows = Vec::new();
    for s in 0..ds.panel.n_series() {
        for &c in cutoffs {
            windows.push(Window {
                series: s,
                decoder_start: c + 1,
                encoder_length: ds.spec.encoder_length.min(c + 1),
            });
        }
    }
    let mut out = Forecast::new("TFT", h, &levels);
    for chunk in windows.chunks(batch_size.max(1)) {
        let batch = ds.batch(chunk);
        let pred: Vec<f32> = model
            .forward(tft_input(&batch, &ds.layout, device))
            .prediction
            .into_data()
            .try_to_vec()
            .map_err(|e| TrainError::Invalid(format!("reading predictions: {e:?}")))?;
        for (i, w) in chunk.iter().enumerate() {
            let mut quantiles = vec![Vec::with_capacity(h); levels.len()];
            for k in 0..h {
                let row = (i * h + k) * levels.len();
                for (q, path) in quantiles.iter_mut().enumerate() {
                    path.push(ds.scaler.unscale(w.series, pred[row + q] as f64));
                }
            }
            let mean = (0..h).map(|k| median(&levels, &quantiles, k)).collect();
            out.push(ForecastRow {
                series: w.series,
                cutoff: w.decoder_start - 1,
                mean,
                quantiles,
                note: None,
            })
            .map_err(|e| TrainError::Invalid(e.to_string()))?;
        }
    }
    Ok(out)
}

/// The 0.5 quantile at step `k`, linearly interpolated between the nearest levels around it.
fn median(levels: &[f64], quantiles: &[Vec<f64>], k: usize) -> f64 {
    let above = levels.iter().position(|&l| l >= 0.5);
    match above {
        Some(j) if (levels[j] - 0.5).abs() < 1e-9 || j == 0 => quantiles[j][k],
        Some(j) => {
            let (l0, l1) = (levels[j - 1], levels[j]);
            let w = (0.5 - l0) / (l1 - l0);
            quantiles[j - 1][k] * (1.0 - w) + quantiles[j][k] * w
        }
        None => quantiles[levels.len() - 1][k],
    }
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_is_the_middle_quantile_or_interpolated() {
        let q = vec![vec![1.0], vec![3.0], vec![7.0]];
        assert_eq!(median(&[0.1, 0.5, 0.9], &q, 0), 3.0);
        assert_eq!(median(&[0.1, 0.4, 0.6], &q, 0), 5.0);
        assert_eq!(median(&[0.6, 0.7, 0.9], &q, 0), 1.0);
    }
}
