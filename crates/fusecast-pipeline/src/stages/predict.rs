//! Forecasts of a trained TFT at given cutoffs, as the shared forecast table.

use fusecast_data::window::WindowDataset;
use fusecast_data::Forecast;
use fusecast_model::burn::tensor::Device;
use fusecast_model::Tft;

use crate::error::Result;
use crate::run_dir::RunDir;

/// The TFT's forecasts at `cutoffs`, on the original scale (clamped at 0 for count data).
pub fn predict(
    model: &Tft,
    ds: &WindowDataset,
    cutoffs: &[usize],
    batch_size: usize,
) -> Result<Forecast> {
    let mut f =
        fusecast_train::predict::forecast_at(model, ds, cutoffs, batch_size, &Device::flex())?;
    if ds.panel.is_non_negative() {
        f.clamp_below(0.0);
    }
    Ok(f)
}

/// [`predict`], written to the run directory's `tft/forecasts.csv`.
pub fn tft_forecasts(
    dir: &RunDir,
    model: &Tft,
    ds: &WindowDataset,
    cutoffs: &[usize],
    batch_size: usize,
) -> Result<Forecast> {
    let f = predict(model, ds, cutoffs, batch_size)?;
    let path = dir.tft_forecasts();
    RunDir::create_parent(&path)?;
    f.write_csv(ds.panel, &path)?;
    Ok(f)
}
