//! The model artifact: everything needed to forecast with a trained model, and nothing of the
//! training data. A folder (a run's `best/`) holding `model.bpk` (the weights) and
//! `artifact.json` (the full model config with its variables, and the fitted features: layout,
//! vocabularies, target scalers, covariate scales, window spec, split, time grid, fingerprint,
//! and the calendar its calendar covariates were made with, so they can be made for the future).

use std::path::{Path, PathBuf};

use fusecast_data::calendar::CalendarSpec;
use fusecast_data::fitted::{FittedFeatures, UnknownCategory};
use fusecast_data::window::WindowDataset;
use fusecast_data::Panel;
use fusecast_model::burn::module::Module;
use fusecast_model::burn::tensor::Device;
use fusecast_model::{Tft, TftConfig};
use fusecast_train::calibration::{ConformalShifts, Refit};
use fusecast_train::checkpoint::Checkpointing;
use fusecast_train::config::Calibration;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::{Error, Result};

pub const ARTIFACT_FILE: &str = "artifact.json";
pub const WEIGHTS_FILE: &str = "model.bpk";
/// Raised whenever the artifact's meaning changes; older artifacts are refused, not misread.
/// 2: the calendar spec (forecasts past the data).
pub const FORMAT: u32 = 2;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelArtifact {
    pub format: u32,
    /// The model config with the data's variables.
    pub model: TftConfig,
    pub features: FittedFeatures,
    /// `None` when the model has no calendar covariates.
    pub calendar: Option<CalendarSpec>,
    /// Conformal shifts applied to every forecast (`train.calibration` `auto`, `conformal` or
    /// `conformal_rolling`, which refits them at each forecast's origin);
    /// fitted after training, so a new best model's artifact starts without them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<ConformalShifts>,
}

impl ModelArtifact {
    pub fn new(model: TftConfig, features: FittedFeatures, calendar: Option<CalendarSpec>) -> Self {
        ModelArtifact {
            format: FORMAT,
            model,
            features,
            calendar,
            calibration: None,
        }
    }

    /// The artifact of a model configured by `c`, trained on `ds`.
    pub fn of(c: &Config, model: TftConfig, ds: &WindowDataset) -> Self {
        let calendar = c.features.calendar.then(|| CalendarSpec::of(&c.features));
        Self::new(model, ds.fitted(), calendar)
    }

    /// The names of the model's static categoricals after `series_id`, in its order.
    pub fn layout_statics(&self) -> Vec<String> {
        self.features.layout.static_categoricals[1..]
            .iter()
            .map(|v| v.name.clone())
            .collect()
    }

    /// The files written beside the weights (for checkpoints that swap the best model in).
    pub fn files(&self) -> Vec<(String, Vec<u8>)> {
        let json = serde_json::to_vec_pretty(self).expect("an artifact serializes");
        vec![(ARTIFACT_FILE.to_string(), json)]
    }

    /// Writes the weights and the artifact into `dir`, swapped in whole (a kill leaves the old
    /// artifact or the new one).
    pub fn save(&self, model: &Tft, dir: &Path) -> Result<()> {
        let swap = Checkpointing {
            dir: dir.to_path_buf(),
            best_dir: dir.to_path_buf(),
            best_files: self.files(),
            keep_last: 1,
            resume: false,
        };
        swap.save_best(model)?;
        Ok(())
    }

    /// The artifact in `dir` and its model, on the CPU.
    pub fn load(dir: &Path) -> Result<(ModelArtifact, Tft)> {
        let path = dir.join(ARTIFACT_FILE);
        let weights = dir.join(WEIGHTS_FILE);
        let artifact_error = |path: &Path, message: String| Error::Artifact {
            path: path.to_path_buf(),
            message,
        };
        if !path.exists() {
            let message = if weights.exists() {
                "a model saved by an older fusecast, without its config and fitted features; retrain it with `fusecast run CONFIG` (without --resume)".to_string()
            } else {
                "no trained model here; train one with `fusecast run CONFIG`".to_string()
            };
            return Err(artifact_error(dir, message));
        }
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        let format = serde_json::from_str::<serde_json::Value>(&text)
            .map_err(|e| artifact_error(&path, e.to_string()))?
            .get("format")
            .and_then(|f| f.as_u64());
        if format != Some(FORMAT as u64) {
            return Err(artifact_error(
                &path,
                format!("artifact format {format:?}, this fusecast reads format {FORMAT}; retrain with `fusecast run CONFIG`"),
            ));
        }
        let artifact: ModelArtifact =
            serde_json::from_str(&text).map_err(|e| artifact_error(&path, e.to_string()))?;
        artifact.model.validate()?;
        let model = Tft::new(&artifact.model, &Device::flex())?
            .try_load_file(&weights)
            .map_err(|e| artifact_error(&weights, format!("{e:?}")))?;
        Ok((artifact, model))
    }

    /// [`ModelArtifact::load`], calibrated as `method` asks: without shifts for `none`; for
    /// `conformal`, the saved shifts, or shifts fitted on the validation windows of `panel` and
    /// saved into the artifact when it holds none (every new best model starts without them);
    /// `auto` as `conformal` where the validation part holds enough windows, else as `none`.
    pub fn load_calibrated(
        dir: &Path,
        method: Calibration,
        panel: &Panel,
        batch_size: usize,
    ) -> Result<(ModelArtifact, Tft)> {
        let (mut artifact, model) = Self::load(dir)?;
        let rolls = |c: &ConformalShifts| c.refit != Refit::Never;
        let as_asked = match (&artifact.calibration, method) {
            (None, Calibration::None) => true,
            (Some(c), Calibration::Auto | Calibration::Conformal) => !rolls(c),
            (Some(c), Calibration::ConformalRolling) => rolls(c),
            _ => false,
        };
        if as_asked {
            return Ok((artifact, model));
        }
        artifact.calibration = match method {
            Calibration::None => None,
            Calibration::Auto | Calibration::Conformal | Calibration::ConformalRolling => {
                let (ds, _) = artifact.dataset(panel)?;
                if method == Calibration::Auto && !ConformalShifts::enough_windows(&ds)? {
                    return Ok((artifact, model));
                }
                let shifts = ConformalShifts::fit(&model, &ds, batch_size, &Device::flex())?;
                Some(match method {
                    Calibration::ConformalRolling => shifts.rolling(&ds),
                    _ => shifts,
                })
            }
        };
        artifact.save(&model, dir)?;
        Ok((artifact, model))
    }

    /// What the calibration did, for the user: the validation windows it was fitted on and the
    /// 80% interval's validation coverage before it, or why `auto` left the quantiles as trained.
    pub fn calibration_note(&self, method: Calibration) -> Option<String> {
        let Some(c) = self.calibration.as_ref() else {
            return (method == Calibration::Auto).then(|| format!(
                "calibration: none, the validation part holds fewer than {} windows (lengthen windows.validation_periods for conformal calibration)",
                fusecast_train::calibration::MIN_WINDOWS
            ));
        };
        let raw = c
            .raw_interval(0.1, 0.9)
            .map(|v| {
                format!("; the 10-90% interval held {v:.3} of the validation actuals before it")
            })
            .unwrap_or_default();
        let when = match c.refit {
            Refit::Never => String::new(),
            Refit::Rolling { origins } => format!(
                "; refitted at each forecast origin on the windows of the {origins} latest origins whose actuals are known there"
            ),
        };
        Some(format!(
            "calibration: conformal shifts per quantile level and horizon step fitted on {} validation windows{raw}{when}",
            c.windows
        ))
    }

    /// Windows over `panel` coded and scaled as in training, with the categories the model's
    /// vocabularies do not know.
    pub fn dataset<'a>(
        &self,
        panel: &'a Panel,
    ) -> Result<(WindowDataset<'a>, Vec<UnknownCategory>)> {
        Ok(WindowDataset::from_fitted(panel, &self.features)?)
    }
}

/// The weights' path inside an artifact folder.
pub fn weights_path(dir: &Path) -> PathBuf {
    dir.join(WEIGHTS_FILE)
}
