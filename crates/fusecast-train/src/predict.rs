//! The TFT's forecasts at given cutoffs, as the shared [`Forecast`] table, so the evaluation scores
//! it on exactly the windows the baselines are scored on.

use fusecast_data::window::{Batch, FeatureLayout, Window, WindowDataset};
use fusecast_data::{Forecast, ForecastRow};
use fusecast_model::burn::tensor::Device;
use fusecast_model::interpret::{Interpretation, InterpretationAccumulator};
use fusecast_model::tft::TftOutput;
use fusecast_model::Tft;

use crate::calibration::{ConformalShifts, Refit};
use crate::error::TrainError;
use crate::inputs::tft_input;

/// Forecasts every series from every cutoff (index of the last observed step), calibrated by
/// `calibration` when given: the encoder holds up to `encoder_length` steps ending at the
/// cutoff, the decoder the next `horizon` steps' known inputs. Quantiles are back on the original scale. Only the pairs a backtest scores
/// ([`Panel::has_window`](fusecast_data::Panel::has_window)) that the model can forecast
/// ([`WindowDataset::window_at`]) get a row: on a ragged panel the caller fills the others.
pub fn forecast_at(
    model: &Tft,
    calibration: Option<&ConformalShifts>,
    ds: &WindowDataset,
    cutoffs: &[usize],
    batch_size: usize,
    device: &Device,
) -> Result<Forecast, TrainError> {
    let h = ds.spec.horizon;
    let mut windows = Vec::new();
    for s in 0..ds.panel.n_series() {
        for &c in cutoffs {
            check_cutoff(ds, c)?;
            if !ds.panel.has_window(s, c, h) {
                continue;
            }
            if let Ok(w) = ds.window_at(s, c) {
                windows.push(w);
            }
        }
    }
    let Some(cal) = calibration.filter(|c| c.refit != Refit::Never) else {
        return Ok(
            forecast_windows(model, calibration, ds, &windows, batch_size, device, false)?.0,
        );
    };
    // Shifts refitted at each cutoff: each cutoff's windows are forecast with its own.
    let mut distinct = cutoffs.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    let mut out = Forecast::new("TFT", h, &model.config().quantiles);
    for c in distinct {
        let at: Vec<Window> = windows
            .iter()
            .filter(|w| w.decoder_start == c + 1)
            .copied()
            .collect();
        let shifts = cal.at_cutoff(model, ds, c, batch_size, device)?;
        let f = forecast_windows(model, Some(&shifts), ds, &at, batch_size, device, false)?.0;
        for row in f.rows {
            out.push(row)
                .map_err(|e| TrainError::Invalid(e.to_string()))?;
        }
    }
    out.rows.sort_by_key(|r| (r.series, r.cutoff));
    Ok(out)
}

fn check_cutoff(ds: &WindowDataset, c: usize) -> Result<(), TrainError> {
    let h = ds.spec.horizon;
    let len = ds.panel.len();
    let min_encoder = ds.spec.min_encoder_length.max(1);
    if c + h >= len || c + 1 < min_encoder {
        return Err(TrainError::Invalid(format!(
            "cutoff {c} cannot hold an encoder of at least {min_encoder} steps and {h} steps ahead in {len} periods"
        )));
    }
    Ok(())
}

/// The window that forecasts series `s` from cutoff `c` (the last observed step): the encoder
/// holds up to `encoder_length` observed steps ending at `c`.
pub fn cutoff_window(ds: &WindowDataset, s: usize, c: usize) -> Result<Window, TrainError> {
    check_cutoff(ds, c)?;
    ds.window_at(s, c).map_err(TrainError::Invalid)
}

/// Forecasts of the given windows, with each window's interpretation when `interpret`.
pub fn forecast_windows(
    model: &Tft,
    calibration: Option<&ConformalShifts>,
    ds: &WindowDataset,
    windows: &[Window],
    batch_size: usize,
    device: &Device,
    interpret: bool,
) -> Result<(Forecast, Vec<Interpretation>), TrainError> {
    let h = ds.spec.horizon;
    let levels = model.config().quantiles.clone();
    let mut out = Forecast::new("TFT", h, &levels);
    let mut interpretations = Vec::new();
    for chunk in windows.chunks(batch_size.max(1)) {
        let batch = ds.batch(chunk);
        let (pred, mut each) = forward(model, &batch, &ds.layout, device, interpret)?;
        interpretations.append(&mut each);
        for (i, w) in chunk.iter().enumerate() {
            let sc = batch.target_scales[i];
            out.push(unscaled_row(&levels, h, &pred, i, w, calibration, |v| {
                ds.scaler.unscale_with(sc, v)
            }))
            .map_err(|e| TrainError::Invalid(e.to_string()))?;
        }
    }
    Ok((out, interpretations))
}

/// One forward pass: the scaled quantile predictions, `[size, horizon, levels]` row-major, and
/// each sample's interpretation when `interpret`.
pub fn forward(
    model: &Tft,
    batch: &Batch,
    layout: &FeatureLayout,
    device: &Device,
    interpret: bool,
) -> Result<(Vec<f32>, Vec<Interpretation>), TrainError> {
    let out = model.forward(tft_input(batch, layout, device));
    let mut each = Vec::new();
    if interpret {
        for i in 0..batch.size {
            let one = TftOutput {
                prediction: out.prediction.clone().narrow(0, i, 1),
                attention: out.attention.clone().narrow(0, i, 1),
                static_weights: out.static_weights.clone().narrow(0, i, 1),
                encoder_weights: out.encoder_weights.clone().narrow(0, i, 1),
                decoder_weights: out.decoder_weights.clone().narrow(0, i, 1),
            };
            let mut acc = InterpretationAccumulator::default();
            acc.add(&one, &batch.encoder_lengths[i..i + 1]);
            each.push(acc.finish(model.config()));
        }
    }
    let pred = out
        .prediction
        .into_data()
        .try_to_vec()
        .map_err(|e| TrainError::Invalid(format!("reading predictions: {e:?}")))?;
    Ok((pred, each))
}

/// Sample `i` of a forward pass's predictions as a forecast row on the original scale, shifted
/// by `calibration` when given (every forecast of a model goes through here, so none misses
/// it); the point forecast is the median quantile (the TFT has no mean output), interpolated
/// when 0.5 is not among the model's quantiles.
pub fn unscaled_row(
    levels: &[f64],
    h: usize,
    pred: &[f32],
    i: usize,
    w: &Window,
    calibration: Option<&ConformalShifts>,
    unscale: impl Fn(f64) -> f64,
) -> ForecastRow {
    let mut quantiles = vec![Vec::with_capacity(h); levels.len()];
    let mut step = vec![0.0; levels.len()];
    for k in 0..h {
        let row = (i * h + k) * levels.len();
        for (q, v) in step.iter_mut().enumerate() {
            *v = pred[row + q] as f64;
        }
        if let Some(c) = calibration {
            c.apply(k, &mut step);
        }
        for (path, &v) in quantiles.iter_mut().zip(&step) {
            path.push(unscale(v));
        }
    }
    let mean = (0..h).map(|k| median(levels, &quantiles, k)).collect();
    ForecastRow {
        series: w.series,
        cutoff: w.decoder_start - 1,
        mean,
        quantiles,
        note: None,
    }
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
