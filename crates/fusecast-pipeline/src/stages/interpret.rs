//! The TFT's interpretation over the backtest windows (the windows its forecasts are scored
//! on): mean variable importances and attention by lag, saved as the run's
//! `interpretation.json` for the report.

use fusecast_data::window::{Window, WindowDataset};
use fusecast_model::burn::tensor::Device;
use fusecast_model::interpret::{Interpretation, InterpretationAccumulator};
use fusecast_model::Tft;
use fusecast_train::inputs::tft_input;

use crate::error::{Error, Result};
use crate::run_dir::RunDir;

/// The interpretation of `model` over every series at every cutoff, the same windows
/// [`crate::stages::predict::predict`] forecasts.
pub fn interpret(
    model: &Tft,
    ds: &WindowDataset,
    cutoffs: &[usize],
    batch_size: usize,
) -> Result<Interpretation> {
    let h = ds.spec.horizon;
    if let Some(c) = cutoffs.iter().find(|&&c| c + h >= ds.panel.len()) {
        return Err(Error::Invalid(format!(
            "interpretation: cutoff {c} leaves no {h} steps ahead in {} periods",
            ds.panel.len()
        )));
    }
    // The windows the TFT itself forecasts: on a ragged panel, not its fallback rows.
    let windows: Vec<Window> = (0..ds.panel.n_series())
        .flat_map(|s| cutoffs.iter().map(move |&c| (s, c)))
        .filter(|&(s, c)| ds.panel.has_window(s, c, h))
        .filter_map(|(s, c)| ds.window_at(s, c).ok())
        .collect();
    let device = Device::flex();
    let mut acc = InterpretationAccumulator::default();
    for chunk in windows.chunks(batch_size.max(1)) {
        let input = tft_input(&ds.batch(chunk), &ds.layout, &device);
        let lengths = input.encoder_lengths.clone();
        acc.add(&model.forward(input), &lengths);
    }
    Ok(acc.finish(model.config()))
}

/// [`interpret`], written to the run directory's `interpretation.json`.
pub fn save_interpretation(
    dir: &RunDir,
    model: &Tft,
    ds: &WindowDataset,
    cutoffs: &[usize],
    batch_size: usize,
) -> Result<Interpretation> {
    let i = interpret(model, ds, cutoffs, batch_size)?;
    let json = serde_json::to_string_pretty(&i).expect("an interpretation serializes");
    RunDir::write_atomic(&dir.interpretation_json(), json.as_bytes())?;
    Ok(i)
}
