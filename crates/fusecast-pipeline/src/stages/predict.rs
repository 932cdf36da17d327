//! Forecasts of a trained TFT at given cutoffs, as the shared forecast table.

use fusecast_baselines::runner::{backtest_pairs, fit_or_fall_back};
use fusecast_baselines::{Fitted, ModelSpec, SeriesInput};
use fusecast_data::window::WindowDataset;
use fusecast_data::{Forecast, ForecastRow, RowNote};
use fusecast_model::burn::tensor::Device;
use fusecast_model::Tft;
use fusecast_train::calibration::ConformalShifts;

use crate::error::Result;
use crate::run_dir::RunDir;

/// The TFT's forecasts at `cutoffs`, on the original scale (clamped at 0 for count data). Every
/// (series, cutoff) pair the backtest scores gets a row, as every baseline's table has: a pair
/// the TFT cannot forecast (a series left out of training, or too few observations since a
/// missing stretch) gets a SeasonalNaive forecast marked as a fallback, so the comparison shows
/// it instead of scoring the TFT on fewer windows.
pub fn predict(
    model: &Tft,
    calibration: Option<&ConformalShifts>,
    ds: &WindowDataset,
    cutoffs: &[usize],
    batch_size: usize,
) -> Result<Forecast> {
    let mut f = fusecast_train::predict::forecast_at(
        model,
        calibration,
        ds,
        cutoffs,
        batch_size,
        &Device::flex(),
    )?;
    let panel = ds.panel;
    let h = f.horizon;
    let mut have: Vec<(usize, usize)> = f.rows.iter().map(|r| (r.series, r.cutoff)).collect();
    have.sort_unstable();
    let mut added = false;
    for (s, c) in backtest_pairs(panel, cutoffs, h) {
        if have.binary_search(&(s, c)).is_ok() {
            continue;
        }
        let reason = ds
            .window_at(s, c)
            .err()
            .unwrap_or_else(|| "the TFT gave no forecast".to_string());
        let (first, y) = panel.history(s, c).expect("backtest pairs are observed");
        let freq = panel.grid.frequency;
        let input = SeriesInput {
            y,
            period: freq.season_length(),
            seasonal_periods: vec![freq.season_length()],
            start: panel.grid.timestamp(first),
            step_seconds: freq.step_seconds(),
            holidays: &[],
            deadline: None,
        };
        let (fit, note) = fit_or_fall_back(&ModelSpec::SeasonalNaive, &input);
        let p = fit.forecast(h, &f.levels);
        let (to, why) = match note {
            Some(n) => match &n.kind {
                fusecast_data::RowNoteKind::Fallback { to } => {
                    (to.clone(), format!("{reason}; {}", n.reason))
                }
                _ => ("SeasonalNaive".to_string(), format!("{reason}; {n}")),
            },
            None => ("SeasonalNaive".to_string(), reason),
        };
        f.push(ForecastRow {
            series: s,
            cutoff: c,
            mean: p.mean,
            quantiles: p.quantiles,
            note: Some(RowNote::fallback(&to, why)),
        })?;
        added = true;
    }
    if added {
        f.rows.sort_by_key(|r| (r.series, r.cutoff));
    }
    if ds.panel.is_non_negative() {
        f.clamp_below(0.0);
    }
    Ok(f)
}

/// [`predict`], written to the run directory's `tft/forecasts.csv`.
pub fn tft_forecasts(
    dir: &RunDir,
    model: &Tft,
    calibration: Option<&ConformalShifts>,
    ds: &WindowDataset,
    cutoffs: &[usize],
    batch_size: usize,
) -> Result<Forecast> {
    let f = predict(model, calibration, ds, cutoffs, batch_size)?;
    let path = dir.tft_forecasts();
    RunDir::create_parent(&path)?;
    f.write_csv(ds.panel, &path)?;
    Ok(f)
}
